//! `register`: a new account and its first session, in one transaction.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set, SqlErr};
use uuid::Uuid;

use super::{
    service::{AuthService, SessionTokens},
    types::RegisterInput,
    viewer::ClientInfo,
};
use crate::{
    error::{AppError, AppResult},
    users::User,
};
use domain::{
    infra::db::begin_write,
    kernel::actor::Role,
    users::fields::{Email, NewPassword, PersonName, PhoneNumber},
};

/// A registration whose every field is valid.
pub struct Registration {
    email: Email,
    password: NewPassword,
    first_name: PersonName,
    last_name: PersonName,
    phone_number: Option<PhoneNumber>,
    role: Role,
}

impl Registration {
    /// Field paths are relative to the input object (`email`, `role`).
    pub fn parse(f: RegisterInput) -> AppResult<Self> {
        let role = match f.role.map(Role::from).unwrap_or(Role::Guest) {
            Role::Admin => {
                return Err(AppError::bad_input(
                    "role",
                    "must be GUEST or HOST; ADMIN cannot be chosen",
                ));
            }
            role => role,
        };
        Ok(Self {
            email: Email::parse("email", &f.email)?,
            password: NewPassword::parse("password", &f.password)?,
            first_name: PersonName::parse("firstName", &f.first_name)?,
            last_name: PersonName::parse("lastName", &f.last_name)?,
            phone_number: f
                .phone_number
                .filter(|p| !p.trim().is_empty())
                .map(|p| PhoneNumber::parse("phoneNumber", &p))
                .transpose()?,
            role,
        })
    }
}

impl AuthService {
    pub async fn register(
        &self,
        registration: Registration,
        client: &ClientInfo,
    ) -> AppResult<SessionTokens> {
        let password_hash = self
            .passwords
            .hash(registration.password.into_string())
            .await?;
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let inserted = entity::user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(registration.email.into_string()),
            password_hash: Set(password_hash),
            first_name: Set(registration.first_name.into_string()),
            last_name: Set(registration.last_name.into_string()),
            phone_number: Set(registration.phone_number.map(PhoneNumber::into_string)),
            role: Set(registration.role.into()),
            bio: Set(None),
            avatar_url: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        let user = match inserted {
            Ok(user) => User::from(user),
            // The unique index decides between two registrations racing
            // for one email.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(AppError::Conflict(
                    "An account with this email already exists".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let tokens = self.start_session(&txn, user, client).await?;
        txn.commit().await?;
        tracing::info!(user_id = %tokens.user.id, "user registered");
        Ok(tokens)
    }
}
