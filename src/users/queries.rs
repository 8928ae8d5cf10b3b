use async_graphql::{Context, ID, Object};

use super::{loader::load_user, types::User};
use crate::{
    auth::viewer::ViewerExt,
    graphql::ids::{NodeType, decode_as},
};

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match ctx.viewer() {
            Some(v) => load_user(ctx, v.user_id).await,
            None => Ok(None),
        }
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        match decode_as(NodeType::User, &id) {
            Some(uuid) => load_user(ctx, uuid).await,
            None => Ok(None),
        }
    }
}
