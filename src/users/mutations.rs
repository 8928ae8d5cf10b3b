use async_graphql::{Context, InputObject, MaybeUndefined, Object};

use super::types::User;
use crate::{
    auth::viewer::ViewerExt,
    error::{AppError, AppResult, GraphqlResult as _},
    graphql::ServicesExt,
};
use domain::users::{
    ProfilePatch,
    fields::{PersonName, PhoneNumber, parse_avatar_url, parse_bio},
};

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub first_name: MaybeUndefined<String>,
    pub last_name: MaybeUndefined<String>,
    pub phone_number: MaybeUndefined<String>,
    pub bio: MaybeUndefined<String>,
    pub avatar_url: MaybeUndefined<String>,
}

fn required_name(field: &str, value: MaybeUndefined<String>) -> AppResult<Option<PersonName>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(AppError::bad_input(
            field,
            "cannot be null; leave it out to keep it",
        )),
        MaybeUndefined::Value(v) => PersonName::parse(field, &v).map(Some),
    }
}

fn optional<T>(
    value: MaybeUndefined<String>,
    parse: impl FnOnce(&str) -> AppResult<Option<T>>,
) -> AppResult<Option<Option<T>>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(&v).map(Some),
    }
}

impl TryFrom<UpdateProfileInput> for ProfilePatch {
    type Error = AppError;

    /// Field paths are relative to the input object.
    fn try_from(input: UpdateProfileInput) -> AppResult<Self> {
        Ok(Self {
            first_name: required_name("firstName", input.first_name)?,
            last_name: required_name("lastName", input.last_name)?,
            phone_number: optional(input.phone_number, |v| {
                if v.trim().is_empty() {
                    Ok(None)
                } else {
                    PhoneNumber::parse("phoneNumber", v).map(Some)
                }
            })?,
            bio: optional(input.bio, |v| parse_bio("bio", v))?,
            avatar_url: optional(input.avatar_url, |v| parse_avatar_url("avatarUrl", v))?,
        })
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<User> {
        let viewer = ctx.require_viewer().extend()?;
        let patch = ProfilePatch::try_from(input)
            .map_err(|e| e.under("input"))
            .extend()?;
        ctx.services()?
            .users
            .update_profile(viewer.user_id, patch)
            .await
            .map(User::from)
            .extend()
    }

    /// Turns a GUEST into a HOST.
    async fn become_host(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let viewer = ctx.require_viewer().extend()?;
        ctx.services()?
            .users
            .become_host(viewer.user_id)
            .await
            .map(User::from)
            .extend()
    }
}
