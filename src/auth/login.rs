//! `login`: email and password for a new session.

use sea_orm::{EntityTrait, QuerySelect};

use super::{
    service::{AuthService, SessionTokens},
    viewer::ClientInfo,
};
use crate::error::{AppError, AppResult};
use domain::{infra::db::begin_write, users::fields::PASSWORD_MAX};

/// One message for an unknown email and a wrong password, so the answer
/// does not tell which emails have accounts.
pub const BAD_CREDENTIALS: &str = "The email or password is incorrect";

impl AuthService {
    pub async fn login(
        &self,
        email: &str,
        password: String,
        client: &ClientInfo,
    ) -> AppResult<SessionTokens> {
        let email = email.trim().to_lowercase();
        if let Err(locked) = self.throttle.reserve(&email).await {
            metrics::counter!("roost_login_lockouts_total").increment(1);
            return Err(AppError::RateLimited {
                message: format!(
                    "Too many failed logins for this email; try again in {} seconds",
                    locked.retry_after_secs
                ),
                retry_after_secs: locked.retry_after_secs,
            });
        }
        let user = self.user_by_email(&email).await?;
        // A password longer than any we accept cannot match; checking it
        // would only spend time on it.
        let matches = match &user {
            _ if password.chars().count() > PASSWORD_MAX => false,
            Some(user) => {
                self.passwords
                    .verify(password, user.password_hash.clone())
                    .await?
            }
            None => self.passwords.verify_decoy(password).await?,
        };
        let user = match user {
            Some(user) if matches => user,
            _ => {
                metrics::counter!("roost_login_failures_total").increment(1);
                return Err(AppError::Unauthenticated(BAD_CREDENTIALS.into()));
            }
        };
        self.throttle.clear(&email).await;
        let txn = begin_write(&self.db).await?;
        // Re-read the hash under a shared row lock: a password change that
        // committed since we verified wins, and one still running waits for
        // this session to commit, then ends it with the others.
        let current_hash: Option<String> = entity::user::Entity::find_by_id(user.id)
            .select_only()
            .column(entity::user::Column::PasswordHash)
            .lock_shared()
            .into_tuple()
            .one(&txn)
            .await?;
        if current_hash.as_deref() != Some(user.password_hash.as_str()) {
            return Err(AppError::Unauthenticated(BAD_CREDENTIALS.into()));
        }
        let tokens = self.start_session(&txn, user.into(), client).await?;
        txn.commit().await?;
        Ok(tokens)
    }
}
