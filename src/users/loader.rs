//! Batched user lookups: the users that resolvers ask for within one tick are
//! fetched with one query.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, dataloader::Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::types::User;
use crate::error::{AppError, GraphqlError as _};

pub struct UserLoader {
    db: DatabaseConnection,
}

impl UserLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl Loader<Uuid> for UserLoader {
    type Value = User;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, User>, Self::Error> {
        let rows = entity::user::Entity::find()
            .filter(entity::user::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|m| (m.id, User::from(m))).collect())
    }
}

/// Loads one user through the request's loader.
pub async fn load_user(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<User>> {
    crate::graphql::context::loader::<UserLoader>(ctx)?
        .load_one(id)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("loading users: {e}")).extend())
}

/// Whether the signed-in viewer is an admin (false when anonymous).
pub async fn viewer_is_admin(ctx: &Context<'_>) -> async_graphql::Result<bool> {
    Ok(crate::auth::actor::actor(ctx)
        .await?
        .is_some_and(|a| a.is_admin()))
}
