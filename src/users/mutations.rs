use async_graphql::{Context, InputObject, MaybeUndefined, Object};

use super::{service::ProfilePatch, types::User};
use crate::{auth::viewer::ViewerExt, error::GraphqlResult as _, graphql::ServicesExt};

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub first_name: MaybeUndefined<String>,
    pub last_name: MaybeUndefined<String>,
    pub phone_number: MaybeUndefined<String>,
    pub bio: MaybeUndefined<String>,
    pub avatar_url: MaybeUndefined<String>,
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
        let patch = ProfilePatch::parse(input)
            .map_err(|e| e.under("input"))
            .extend()?;
        ctx.services()?
            .users
            .update_profile(viewer.user_id, patch)
            .await
            .extend()
    }

    /// Turns a GUEST into a HOST.
    async fn become_host(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let viewer = ctx.require_viewer().extend()?;
        ctx.services()?
            .users
            .become_host(viewer.user_id)
            .await
            .extend()
    }
}
