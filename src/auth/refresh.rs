//! `refreshSession` and `logout`: what a refresh token can do.
//!
//! A refresh token is single-use. Exchanging it sets `used_at` with a
//! conditional UPDATE, so of two concurrent exchanges only one wins. A token
//! presented after it was used means two parties hold it (the client and a
//! thief): the whole session ends, and both must sign in again.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{
    service::{AuthService, EndReason, SESSION_ENDED, SessionTokens},
    tokens::hash_refresh_token,
};
use crate::{
    error::{AppError, AppResult},
    users::User,
};
use domain::infra::db::begin_write;

const INVALID: &str = "The refresh token is invalid";
const REUSED: &str =
    "This refresh token was already used, so the session has been ended for safety; sign in again";

/// A refresh token found with its session.
struct Found {
    token: entity::refresh_token::Model,
    session: entity::session::Model,
}

impl AuthService {
    async fn find_refresh_token(&self, token: &str) -> AppResult<Option<Found>> {
        let row = entity::refresh_token::Entity::find()
            .filter(entity::refresh_token::Column::TokenHash.eq(hash_refresh_token(token.trim())))
            .find_also_related(entity::session::Entity)
            .one(&self.db)
            .await?;
        Ok(match row {
            Some((token, Some(session))) => Some(Found { token, session }),
            _ => None,
        })
    }

    async fn end_for_reuse(&self, session_id: uuid::Uuid) -> AppResult<AppError> {
        self.end_sessions(&self.db, &[session_id], EndReason::RefreshTokenReuse)
            .await?;
        tracing::warn!(%session_id, "refresh token reused; session ended");
        metrics::counter!("roost_refresh_token_reuse_total").increment(1);
        Ok(AppError::Unauthenticated(REUSED.into()))
    }

    pub async fn refresh(&self, token: &str) -> AppResult<SessionTokens> {
        let Some(Found { token, session }) = self.find_refresh_token(token).await? else {
            return Err(AppError::Unauthenticated(INVALID.into()));
        };
        let now = Utc::now();
        if session.revoked_at.is_some() || session.expires_at <= now {
            return Err(AppError::Unauthenticated(SESSION_ENDED.into()));
        }
        if token.used_at.is_some() {
            return Err(self.end_for_reuse(session.id).await?);
        }
        if token.expires_at <= now {
            return Err(AppError::Unauthenticated(
                "The refresh token has expired; sign in again".into(),
            ));
        }
        let user = entity::user::Entity::find_by_id(session.user_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::Unauthenticated(SESSION_ENDED.into()))?;

        let txn = begin_write(&self.db).await?;
        let claimed = entity::refresh_token::Entity::update_many()
            .col_expr(entity::refresh_token::Column::UsedAt, Expr::value(now))
            .filter(entity::refresh_token::Column::Id.eq(token.id))
            .filter(entity::refresh_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed != 1 {
            // Someone exchanged it between our read and this write.
            txn.rollback().await?;
            return Err(self.end_for_reuse(session.id).await?);
        }
        let refresh_token = self.add_refresh_token(&txn, session.id, now).await?;
        let refresh_expires_at = now + self.refresh_ttl;
        entity::session::Entity::update_many()
            .col_expr(entity::session::Column::RefreshedAt, Expr::value(now))
            .col_expr(
                entity::session::Column::ExpiresAt,
                Expr::value(refresh_expires_at),
            )
            .filter(entity::session::Column::Id.eq(session.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(SessionTokens {
            access: self.access.issue(user.id, session.id)?,
            refresh_token,
            refresh_expires_at,
            user: User::from(user),
        })
    }

    /// Ends the session the token belongs to. True when a live session was
    /// ended; false when the token is unknown or its session already ended,
    /// so that logging out twice is harmless.
    pub async fn logout(&self, token: &str) -> AppResult<bool> {
        let Some(Found { session, .. }) = self.find_refresh_token(token).await? else {
            return Ok(false);
        };
        if session.revoked_at.is_some() || session.expires_at <= Utc::now() {
            return Ok(false);
        }
        self.end_sessions(&self.db, &[session.id], EndReason::Logout)
            .await?;
        Ok(true)
    }
}
