//! `messageReceived`.

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt, future};

use super::types::Message;
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{NodeType, decode_as},
    },
    realtime::{self, Topic},
};
use domain::infra::events::Event;

#[derive(Default)]
pub struct MessagingSubscription;

#[Subscription]
impl MessagingSubscription {
    /// New messages to the viewer, optionally in one conversation (its
    /// participants only: anyone else gets FORBIDDEN).
    async fn message_received(
        &self,
        ctx: &Context<'_>,
        conversation_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Message> + use<>> {
        let actor = require_actor(ctx).await?;
        let only = match conversation_id {
            None => None,
            Some(id) => {
                let forbidden =
                    || AppError::Forbidden("Only its participants follow a conversation".into());
                let id = decode_as(NodeType::Conversation, &id)
                    .ok_or_else(forbidden)
                    .extend()?;
                ctx.services()?
                    .messaging
                    .visible(Some(actor), id)
                    .await
                    .extend()?
                    .ok_or_else(forbidden)
                    .extend()?;
                Some(id)
            }
        };
        let events = realtime::open(ctx, "messageReceived", Topic::Messages(actor.user_id))?;
        Ok(events.filter_map(move |event| {
            future::ready(match &*event {
                Event::MessageSent(m) if only.is_none_or(|c| c == m.conversation_id) => {
                    Some(Message::from(entity::message::Model {
                        id: m.message_id,
                        conversation_id: m.conversation_id,
                        sender_id: m.sender_id,
                        body: m.body.clone(),
                        sent_at: m.sent_at,
                        read_at: None,
                    }))
                }
                _ => None,
            })
        }))
    }
}
