//! Messaging between guests and hosts: conversations (two users, optionally
//! about one listing) and their messages, readable only by the participants.

pub mod body;
pub mod inputs;
pub mod lists;
pub mod loaders;
pub mod mutations;
pub mod queries;
pub mod resolvers;
pub mod service;
pub mod types;
pub mod window;

pub use loaders::install;
pub use mutations::MessagingMutation;
pub use queries::MessagingQuery;
pub use service::MessagingService;
pub use types::{Conversation, Message};

crate::connection_types!(ConversationConnection, ConversationEdge, Conversation);
crate::connection_types!(MessageConnection, MessageEdge, Message);
