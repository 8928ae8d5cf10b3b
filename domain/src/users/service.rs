//! Profile rules: who a user is and what they may change about themself.
//! Users are answered as their rows; the API decides what of a row it shows.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::fields::{Email, PersonName, PhoneNumber};
use crate::kernel::{
    actor::Role,
    error::{AppError, AppResult},
};

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

    pub async fn update_profile(
        &self,
        user_id: Uuid,
        patch: ProfilePatch,
    ) -> AppResult<entity::user::Model> {
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
        Ok(user.update(&self.db).await?)
    }

    /// A guest becomes a host. Hosts and admins already may host, so for them
    /// nothing changes: calling it twice is harmless.
    pub async fn become_host(&self, user_id: Uuid) -> AppResult<entity::user::Model> {
        let row = self.row(user_id).await?;
        if row.role != entity::user::Role::Guest {
            return Ok(row);
        }
        self.set_role_of(row, Role::Host).await
    }

    /// Operators' tool (`roost user set-role`): any role, found by email.
    pub async fn set_role(&self, email: &str, role: Role) -> AppResult<entity::user::Model> {
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

    async fn set_role_of(
        &self,
        row: entity::user::Model,
        role: Role,
    ) -> AppResult<entity::user::Model> {
        let mut user = row.into_active_model();
        user.role = Set(role.into());
        user.updated_at = Set(Utc::now());
        Ok(user.update(&self.db).await?)
    }
}
