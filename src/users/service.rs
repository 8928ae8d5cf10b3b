//! Profile rules: who a user is and what they may change about themself.

use async_graphql::MaybeUndefined;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::{
    fields::{Email, PersonName, PhoneNumber, parse_avatar_url, parse_bio},
    mutations::UpdateProfileInput,
    types::User,
};
use crate::error::{AppError, AppResult};
use domain::kernel::actor::Role;

/// A validated profile change: `None` leaves a field as it is; for the
/// optional fields `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProfilePatch {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub phone_number: Option<Option<PhoneNumber>>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
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

impl ProfilePatch {
    pub fn parse(input: UpdateProfileInput) -> AppResult<Self> {
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

#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
}

impl UserService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn row(&self, id: Uuid) -> AppResult<entity::user::Model> {
        entity::user::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::NotFound("User not found".into()))
    }

    pub async fn update_profile(&self, user_id: Uuid, patch: ProfilePatch) -> AppResult<User> {
        let mut user = self.row(user_id).await?.into_active_model();
        if let Some(v) = patch.first_name {
            user.first_name = Set(v.into_string());
        }
        if let Some(v) = patch.last_name {
            user.last_name = Set(v.into_string());
        }
        if let Some(v) = patch.phone_number {
            user.phone_number = Set(v.map(PhoneNumber::into_string));
        }
        if let Some(v) = patch.bio {
            user.bio = Set(v);
        }
        if let Some(v) = patch.avatar_url {
            user.avatar_url = Set(v);
        }
        user.updated_at = Set(Utc::now());
        Ok(user.update(&self.db).await?.into())
    }

    /// A guest becomes a host. Hosts and admins already may host, so for them
    /// nothing changes: calling it twice is harmless.
    pub async fn become_host(&self, user_id: Uuid) -> AppResult<User> {
        let row = self.row(user_id).await?;
        if row.role != entity::user::Role::Guest {
            return Ok(row.into());
        }
        self.set_role_of(row, Role::Host).await
    }

    /// Operators' tool (`roost user set-role`): any role, found by email.
    pub async fn set_role(&self, email: &str, role: Role) -> AppResult<User> {
        let email = Email::parse("email", email)?;
        let row = entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("No user has the email {}", email.as_str()))
            })?;
        self.set_role_of(row, role).await
    }

    async fn set_role_of(&self, row: entity::user::Model, role: Role) -> AppResult<User> {
        let mut user = row.into_active_model();
        user.role = Set(role.into());
        user.updated_at = Set(Utc::now());
        Ok(user.update(&self.db).await?.into())
    }
}
