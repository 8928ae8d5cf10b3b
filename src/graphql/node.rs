//! `node(id)`: Relay object identification.

use async_graphql::{Context, ID, Interface, Object};

use super::ids::{NodeType, decode};
use crate::users::{User, loader::load_user};

/// Relay object identification. Every ID is opaque: clients must not parse it.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, when it exists and the viewer may see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        Ok(match decode(&id) {
            Some((NodeType::User, uuid)) => load_user(ctx, uuid).await?.map(Node::User),
            None => None,
        })
    }
}
