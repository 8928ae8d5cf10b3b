//! `sendMessage`'s input, parsed: whom (or which conversation) it is for,
//! and a valid body.

use async_graphql::{ID, InputObject};
use uuid::Uuid;

use super::body::MessageBody;
use crate::{
    error::{AppError, AppResult},
    graphql::ids::{NodeType, decode_as},
};
use domain::kernel::actor::Actor;

pub const CONVERSATION_NOT_FOUND: &str = "Conversation not found";
pub const USER_NOT_FOUND: &str = "User not found";
pub const PROPERTY_NOT_FOUND: &str = "Property not found (input.propertyId)";

#[derive(InputObject)]
pub struct SendMessageInput {
    /// Start or continue the conversation with this user.
    pub recipient_id: Option<ID>,
    /// Continue this conversation.
    pub conversation_id: Option<ID>,
    /// With recipientId: the listing it is about.
    pub property_id: Option<ID>,
    pub body: String,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The conversation of the sender and this user about this listing (or
    /// about none), started if need be.
    Recipient {
        user_id: Uuid,
        property_id: Option<Uuid>,
    },
    /// An existing conversation.
    Conversation(Uuid),
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub target: Target,
    pub body: MessageBody,
}

impl NewMessage {
    /// Checks the shape of the input for `actor`: exactly one of
    /// recipientId / conversationId, propertyId only with recipientId, not
    /// to themself, a valid body. Ids that name nothing are NOT_FOUND.
    pub fn parse(actor: Actor, input: SendMessageInput) -> AppResult<Self> {
        let target = match (&input.recipient_id, &input.conversation_id) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input(
                    "input.conversationId",
                    "give either recipientId or conversationId, not both",
                ));
            }
            (None, None) => {
                return Err(AppError::bad_input(
                    "input.recipientId",
                    "give recipientId (to start or continue a conversation with a user) or conversationId",
                ));
            }
            (None, Some(_)) if input.property_id.is_some() => {
                return Err(AppError::bad_input(
                    "input.propertyId",
                    "may only be given with recipientId",
                ));
            }
            (Some(recipient), None) => {
                let user_id = decode_as(NodeType::User, recipient)
                    .ok_or_else(|| AppError::NotFound(USER_NOT_FOUND.into()))?;
                if user_id == actor.user_id {
                    return Err(AppError::bad_input(
                        "input.recipientId",
                        "must be another user: you cannot message yourself",
                    ));
                }
                let property_id = input
                    .property_id
                    .as_ref()
                    .map(|p| {
                        decode_as(NodeType::Property, p)
                            .ok_or_else(|| AppError::NotFound(PROPERTY_NOT_FOUND.into()))
                    })
                    .transpose()?;
                Target::Recipient {
                    user_id,
                    property_id,
                }
            }
            (None, Some(conversation)) => Target::Conversation(
                decode_as(NodeType::Conversation, conversation)
                    .ok_or_else(|| AppError::NotFound(CONVERSATION_NOT_FOUND.into()))?,
            ),
        };
        let body = MessageBody::parse(&input.body)?;
        Ok(Self { target, body })
    }
}
