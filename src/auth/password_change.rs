//! `changePassword`: a new password, and every other session ended.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use super::{
    service::{AuthService, EndReason},
    viewer::Viewer,
};
use crate::error::{AppError, AppResult};
use domain::{infra::db::begin_write, users::fields::NewPassword};

impl AuthService {
    /// Field paths in errors are relative to the input (`currentPassword`).
    pub async fn change_password(
        &self,
        viewer: Viewer,
        current: String,
        new: String,
    ) -> AppResult<()> {
        let new = NewPassword::parse("newPassword", &new)?;
        let user = entity::user::Entity::find_by_id(viewer.user_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::Unauthenticated(super::service::SESSION_ENDED.into()))?;
        // Guessing the current password through this mutation counts
        // against the same lockout as logging in.
        if let Err(locked) = self.throttle.reserve(&user.email).await {
            return Err(AppError::RateLimited {
                message: format!(
                    "Too many wrong passwords; try again in {} seconds",
                    locked.retry_after_secs
                ),
                retry_after_secs: locked.retry_after_secs,
            });
        }
        if !self
            .passwords
            .verify(current.clone(), user.password_hash.clone())
            .await?
        {
            return Err(AppError::bad_input(
                "currentPassword",
                "is not the current password",
            ));
        }
        self.throttle.clear(&user.email).await;
        let new = new.into_string();
        if new == current {
            return Err(AppError::bad_input(
                "newPassword",
                "must differ from the current password",
            ));
        }
        let hash = self.passwords.hash(new).await?;

        // Updating the user row first locks it (PostgreSQL) or the database
        // (SQLite): a login that checked the old password has committed its
        // session by now, and one still to come will see the new hash (see
        // `login`). So the list of sessions to end is complete.
        let txn = begin_write(&self.db).await?;
        entity::user::Entity::update_many()
            .col_expr(entity::user::Column::PasswordHash, Expr::value(hash))
            .col_expr(entity::user::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(entity::user::Column::Id.eq(viewer.user_id))
            .exec(&txn)
            .await?;
        let others: Vec<Uuid> = entity::session::Entity::find()
            .select_only()
            .column(entity::session::Column::Id)
            .filter(entity::session::Column::UserId.eq(viewer.user_id))
            .filter(entity::session::Column::Id.ne(viewer.session_id))
            .filter(entity::session::Column::RevokedAt.is_null())
            .filter(entity::session::Column::ExpiresAt.gt(Utc::now()))
            .into_tuple()
            .all(&txn)
            .await?;
        self.end_sessions(&txn, &others, EndReason::PasswordChanged)
            .await?;
        txn.commit().await?;
        tracing::info!(user_id = %viewer.user_id, ended = others.len(), "password changed");
        Ok(())
    }
}
