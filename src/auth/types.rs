//! GraphQL types of the session mutations.

use async_graphql::{InputObject, SimpleObject};

use super::service::SessionTokens;
use crate::{
    graphql::scalars::DateTime,
    users::{RoleValue, User},
};

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Short-lived JWT; send it as `Authorization: Bearer <token>`.
    access_token: String,
    access_token_expires_at: DateTime,
    /// Single-use: refreshSession returns a new one and retires this one.
    refresh_token: String,
    /// When this refresh token stops working unless exchanged before.
    refresh_token_expires_at: DateTime,
    user: User,
}

impl From<SessionTokens> for AuthPayload {
    fn from(t: SessionTokens) -> Self {
        Self {
            access_token: t.access.token,
            access_token_expires_at: t.access.expires_at.into(),
            refresh_token: t.refresh_token,
            refresh_token_expires_at: t.refresh_expires_at.into(),
            user: User {
                shown_to_self: true,
                ..t.user
            },
        }
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    /// GUEST (default) or HOST. ADMIN cannot be chosen.
    pub role: Option<RoleValue>,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}
