//! Sessions: starting them, checking them on every request, ending them.
//! The actions clients call live beside this file, one per file.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use domain::{
    config::AuthConfig,
    infra::{
        events::{Event, EventBus},
        redis::Redis,
    },
};

use super::{
    login_throttle::LoginThrottle,
    passwords::Passwords,
    session_store::{SessionState, SessionStore},
    tokens::{AccessTokens, IssuedAccessToken, new_refresh_token},
    viewer::{ClientInfo, Credentials, Viewer},
};
use crate::{error::AppResult, users::User};

pub const SESSION_ENDED: &str = "The session has ended; sign in again";

/// Why a session ended, as recorded in `sessions.revoked_reason`.
#[derive(Debug, Clone, Copy)]
pub enum EndReason {
    Logout,
    RefreshTokenReuse,
    PasswordChanged,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::RefreshTokenReuse => "refresh_token_reuse",
            Self::PasswordChanged => "password_changed",
        }
    }
}

/// What a successful register, login or refresh hands the client.
pub struct SessionTokens {
    pub access: IssuedAccessToken,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Clone)]
pub struct AuthService {
    pub(super) db: DatabaseConnection,
    pub(super) passwords: Passwords,
    pub(super) access: AccessTokens,
    pub(super) store: SessionStore,
    pub(super) throttle: LoginThrottle,
    pub(super) access_ttl: Duration,
    pub(super) refresh_ttl: Duration,
    /// Ended sessions are announced on it, so their sockets close.
    pub(super) bus: EventBus,
}

impl AuthService {
    pub async fn new(
        db: DatabaseConnection,
        redis: Option<Redis>,
        config: &AuthConfig,
        bus: EventBus,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            passwords: Passwords::new(config.argon2_memory_kib, config.argon2_iterations).await?,
            access: AccessTokens::new(&config.jwt_secret, config.access_token_ttl),
            store: SessionStore::new(redis.clone()),
            throttle: LoginThrottle::new(
                redis,
                config.login_max_failures,
                config.login_failure_window,
            ),
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            bus,
            db,
        })
    }

    /// Reads an `Authorization` header value. A token that does not verify,
    /// or whose session has ended, gives `Rejected`, never `Anonymous`.
    /// Errors only when the database cannot be read.
    pub async fn authenticate(&self, authorization: Option<&str>) -> AppResult<Credentials> {
        let Some(header) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
            return Ok(Credentials::Anonymous);
        };
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Ok(Credentials::Rejected(
                    "The Authorization header must be `Bearer <accessToken>`".into(),
                ));
            }
        };
        let claims = match self.access.verify(token) {
            Ok(claims) => claims,
            Err(e) => return Ok(Credentials::Rejected(e.message().into())),
        };
        let live = match self.session_state(claims.session_id).await? {
            SessionState::Live { user_id } => user_id == claims.user_id,
            SessionState::Ended => false,
        };
        Ok(if live {
            Credentials::Viewer(Viewer {
                user_id: claims.user_id,
                session_id: claims.session_id,
                token_expires_at: claims.expires_at,
            })
        } else {
            Credentials::Rejected(SESSION_ENDED.into())
        })
    }

    /// The session's state from the store; on a miss (or with Redis down
    /// or untrusted), from the database, then cached for as long as an
    /// access token lives.
    async fn session_state(&self, session_id: Uuid) -> AppResult<SessionState> {
        self.resync_sessions();
        if let Some(state) = self.store.get(session_id).await {
            return Ok(state);
        }
        let row = entity::session::Entity::find_by_id(session_id)
            .one(&self.db)
            .await?;
        let state = match row {
            Some(s) if s.revoked_at.is_none() && s.expires_at > Utc::now() => {
                SessionState::Live { user_id: s.user_id }
            }
            _ => SessionState::Ended,
        };
        self.store.fill(session_id, state, self.access_ttl).await;
        Ok(state)
    }

    /// Once Redis answers again after an outage (or after an ending could
    /// not be written to it), writes again, in the background, every ending
    /// recent enough to be hidden by a "live" entry cached before it: those
    /// this instance could not write, and those the database records for
    /// the last access-token lifetime (from any instance). They are
    /// announced too, so their sockets close wherever they are. Until this
    /// is done, sessions are read from the database.
    pub(super) fn resync_sessions(&self) {
        let Some(resync) = self.store.begin_resync() else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            // A minute more, for clocks of instances that differ.
            let since = Utc::now() - this.access_ttl - chrono::Duration::minutes(1);
            let recent: Result<Vec<Uuid>, _> = entity::session::Entity::find()
                .select_only()
                .column(entity::session::Column::Id)
                .filter(entity::session::Column::RevokedAt.gt(since))
                .into_tuple()
                .all(&this.db)
                .await;
            let mut ids = match recent {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read recent session endings; will try again");
                    return;
                }
            };
            ids.extend_from_slice(resync.pending());
            ids.sort_unstable();
            ids.dedup();
            if resync.finish(&ids, this.access_ttl).await {
                for chunk in ids.chunks(1000) {
                    this.bus
                        .publish(Event::SessionsEnded {
                            session_ids: chunk.to_vec(),
                        })
                        .await;
                }
                tracing::info!(
                    sessions = ids.len(),
                    "session endings written to Redis again"
                );
            }
        });
    }

    /// Records a new session and its first refresh token (inside the
    /// caller's transaction), and signs its first access token.
    pub(super) async fn start_session(
        &self,
        conn: &impl ConnectionTrait,
        user: User,
        client: &ClientInfo,
    ) -> AppResult<SessionTokens> {
        let now = Utc::now();
        let session_id = Uuid::now_v7();
        let refresh_expires_at = now + self.refresh_ttl;
        entity::session::ActiveModel {
            id: Set(session_id),
            user_id: Set(user.id),
            created_at: Set(now),
            refreshed_at: Set(now),
            expires_at: Set(refresh_expires_at),
            revoked_at: Set(None),
            revoked_reason: Set(None),
            user_agent: Set(client.user_agent.as_deref().map(|s| truncate(s, 512))),
            ip_address: Set(client.ip.as_deref().map(|s| truncate(s, 64))),
        }
        .insert(conn)
        .await?;
        let refresh_token = self.add_refresh_token(conn, session_id, now).await?;
        Ok(SessionTokens {
            access: self.access.issue(user.id, session_id)?,
            refresh_token,
            refresh_expires_at,
            user,
        })
    }

    pub(super) async fn add_refresh_token(
        &self,
        conn: &impl ConnectionTrait,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        let fresh = new_refresh_token();
        entity::refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            session_id: Set(session_id),
            token_hash: Set(fresh.hash),
            created_at: Set(now),
            expires_at: Set(now + self.refresh_ttl),
            used_at: Set(None),
        }
        .insert(conn)
        .await?;
        Ok(fresh.token)
    }

    /// Ends sessions everywhere at once. The store is told first: should the
    /// database write then fail, the sessions are refused rather than left
    /// working, and the caller sees an error and may retry. With Redis
    /// down, the database's record alone ends them (see
    /// [`AuthService::resync_sessions`]).
    pub(super) async fn end_sessions(
        &self,
        conn: &impl ConnectionTrait,
        ids: &[Uuid],
        reason: EndReason,
    ) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.store.end(ids, self.access_ttl).await;
        entity::session::Entity::update_many()
            .col_expr(entity::session::Column::RevokedAt, Expr::value(Utc::now()))
            .col_expr(
                entity::session::Column::RevokedReason,
                Expr::value(reason.as_str()),
            )
            .filter(entity::session::Column::Id.is_in(ids.iter().copied()))
            .filter(entity::session::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        self.bus
            .publish(Event::SessionsEnded {
                session_ids: ids.to_vec(),
            })
            .await;
        tracing::info!(
            sessions = ids.len(),
            reason = reason.as_str(),
            "sessions ended"
        );
        Ok(())
    }

    pub(super) async fn user_by_email(
        &self,
        email: &str,
    ) -> AppResult<Option<entity::user::Model>> {
        Ok(entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(email))
            .one(&self.db)
            .await?)
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}
