//! Messaging between guests and hosts: conversations (two users, optionally
//! about one listing) and their messages, readable only by the participants.
//!
//! How it behaves, where the contract leaves room:
//! - `sendMessage` takes exactly one of `recipientId` (start or continue the
//!   conversation of the two users about `propertyId`, or about nothing) and
//!   `conversationId`; the listing must be one the sender may see. Bodies
//!   are trimmed, then 1 to 5,000 characters.
//! - Anyone but a participant gets `null` from `conversation` and `node`,
//!   and NOT_FOUND from the mutations.
//! - `Conversation.messages` runs oldest to newest by (sentAt, id). With
//!   `last`/`before` it gives the newest page first (still oldest first
//!   within the page); with `first`/`after` it pages forwards. With none of
//!   them it gives the newest 20. `first` with `last`, or `before` with
//!   `first`/`after`, is BAD_USER_INPUT.
//! - `unreadCount` is a per-participant counter kept in the transactions
//!   that send and read; `markConversationRead` sets `readAt` on the
//!   messages to the viewer and zeroes it.
//! - Each message records a MESSAGE_RECEIVED notification for the recipient
//!   and publishes `MessageSent` once committed.

pub mod body;
pub mod inputs;
pub mod lists;
pub mod loaders;
pub mod mutations;
pub mod queries;
pub mod resolvers;
pub mod service;
pub mod subscriptions;
pub mod types;
pub mod window;

pub use loaders::install;
pub use mutations::MessagingMutation;
pub use queries::MessagingQuery;
pub use service::MessagingService;
pub use subscriptions::MessagingSubscription;
pub use types::{Conversation, Message};

crate::connection_types!(ConversationConnection, ConversationEdge, Conversation);
crate::connection_types!(MessageConnection, MessageEdge, Message);
