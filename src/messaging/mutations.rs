use async_graphql::{Context, ID, Object};

use super::{
    inputs::{CONVERSATION_NOT_FOUND, NewMessage, SendMessageInput},
    types::{Conversation, Message},
};
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{NodeType, decode_as},
    },
};

#[derive(Default)]
pub struct MessagingMutation;

#[Object]
impl MessagingMutation {
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> async_graphql::Result<Message> {
        let actor = require_actor(ctx).await?;
        let new = NewMessage::parse(actor, input).extend()?;
        ctx.services()?
            .messaging
            .send(actor, new)
            .await
            .map(Message::from)
            .extend()
    }

    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> async_graphql::Result<Conversation> {
        let actor = require_actor(ctx).await?;
        let id = decode_as(NodeType::Conversation, &conversation_id)
            .ok_or_else(|| AppError::NotFound(CONVERSATION_NOT_FOUND.into()))
            .extend()?;
        ctx.services()?
            .messaging
            .mark_read(actor, id)
            .await
            .map(Conversation::from)
            .extend()
    }
}
