//! The signed-in user and their current role, loaded once per operation.
//!
//! Roles change (`becomeHost`, an operator's `set-role`), so they are read
//! from the database, not from the token; the per-operation cache makes that
//! one query however many fields ask. Every field waiting for it resumes at
//! the same moment (a shared future), so the loads they start next still
//! fall into one batch.

use std::sync::{Arc, OnceLock};

use async_graphql::Context;
use domain::kernel::actor::Actor;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use sea_orm::EntityTrait;

use super::viewer::ViewerExt;
use crate::{
    error::{AppError, GraphqlError as _},
    graphql::ServicesExt,
    users::User,
};

type Lookup = Shared<BoxFuture<'static, Result<Option<User>, Arc<sea_orm::DbErr>>>>;

/// Put in every operation's data by `pipeline::RequestScope`.
#[derive(Default)]
pub struct ViewerCache(OnceLock<Lookup>);

/// The viewer's own user row, loaded at most once per operation.
pub async fn viewer_user(ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
    let Some(viewer) = ctx.viewer() else {
        return Ok(None);
    };
    let db = ctx.services()?.properties.db().clone();
    let start = move || {
        async move {
            entity::user::Entity::find_by_id(viewer.user_id)
                .one(&db)
                .await
                .map(|row| row.map(User::from))
                .map_err(Arc::new)
        }
        .boxed()
        .shared()
    };
    let lookup = match ctx.data_opt::<ViewerCache>() {
        Some(cache) => cache.0.get_or_init(start).clone(),
        None => start(),
    };
    lookup.await.map_err(|e| AppError::from(e).extend())
}

/// The signed-in actor, or `None` when anonymous.
pub async fn actor(ctx: &Context<'_>) -> async_graphql::Result<Option<Actor>> {
    Ok(viewer_user(ctx).await?.map(|u| Actor {
        user_id: u.id,
        role: u.role,
    }))
}

/// The signed-in actor, or UNAUTHENTICATED.
pub async fn require_actor(ctx: &Context<'_>) -> async_graphql::Result<Actor> {
    ctx.require_viewer().map_err(|e| e.extend())?;
    actor(ctx)
        .await?
        .ok_or_else(|| AppError::Unauthenticated(super::service::SESSION_ENDED.into()).extend())
}
