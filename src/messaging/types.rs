//! The messaging types as clients see them.

use async_graphql::ID;

use crate::graphql::ids::{self, NodeType};

/// A conversation, as the resolvers hold it; only ever made for one of
/// its participants.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub row: entity::conversation::Model,
}

impl From<entity::conversation::Model> for Conversation {
    fn from(row: entity::conversation::Model) -> Self {
        Self { row }
    }
}

impl Conversation {
    pub fn global_id(&self) -> ID {
        ids::encode(NodeType::Conversation, self.row.id)
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub row: entity::message::Model,
}

impl From<entity::message::Model> for Message {
    fn from(row: entity::message::Model) -> Self {
        Self { row }
    }
}

impl Message {
    pub fn global_id(&self) -> ID {
        ids::encode(NodeType::Message, self.row.id)
    }
}
