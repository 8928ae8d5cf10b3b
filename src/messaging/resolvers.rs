//! How `Conversation` and `Message` resolve their fields: through the
//! operation's loaders, so a page of conversations costs a fixed number of
//! statements.

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::{
    MessageConnection,
    loaders::{
        ConversationLoader, MessageCountLoader, MessageLoader, MessagesLoader, ParticipantsLoader,
    },
    types::{Conversation, Message},
    window::{self, Position},
};
use crate::graphql::context::loader;
use crate::{
    auth::actor::actor,
    error::{AppError, GraphqlResult as _},
    graphql::{connection::connection, scalars::DateTime},
    properties::{Property, queries::visible_property},
    users::{User, UserLoader, loader::load_user},
};

fn db_error(e: std::sync::Arc<sea_orm::DbErr>) -> async_graphql::Error {
    crate::error::GraphqlError::extend(&AppError::from(e))
}

/// The participants of a conversation, from the operation's loader.
pub async fn participants(
    ctx: &Context<'_>,
    conversation_id: Uuid,
) -> async_graphql::Result<Vec<entity::conversation_participant::Model>> {
    Ok(loader::<ParticipantsLoader>(ctx)?
        .load_one(conversation_id)
        .await
        .map_err(db_error)?
        .unwrap_or_default())
}

#[Object]
impl Conversation {
    pub async fn id(&self) -> ID {
        self.global_id()
    }

    /// The listing the conversation is about, if any.
    async fn property(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Property>> {
        match self.row.property_id {
            Some(id) => visible_property(ctx, id).await,
            None => Ok(None),
        }
    }

    async fn participants(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let ids: Vec<Uuid> = participants(ctx, self.row.id)
            .await?
            .iter()
            .map(|p| p.user_id)
            .collect();
        let users = loader::<UserLoader>(ctx)?
            .load_many(ids.iter().copied())
            .await
            .map_err(db_error)?;
        Ok(ids.iter().filter_map(|id| users.get(id).cloned()).collect())
    }

    async fn last_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
        let Some(id) = self.row.last_message_id else {
            return Ok(None);
        };
        Ok(loader::<MessageLoader>(ctx)?
            .load_one(id)
            .await
            .map_err(db_error)?
            .map(Message::from))
    }

    /// Messages to the viewer not yet read.
    async fn unread_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let viewer = actor(ctx).await?.map(|a| a.user_id);
        Ok(participants(ctx, self.row.id)
            .await?
            .iter()
            .find(|p| Some(p.user_id) == viewer)
            .map_or(0, |p| p.unread_count))
    }

    /// Newest last; page backwards with last/before.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MessageConnection> {
        let window = window::parse(first, after.as_deref(), last, before.as_deref()).extend()?;
        let want_total = crate::graphql::context::wants_total(ctx);
        let rows = loader::<MessagesLoader>(ctx)?.load_one((self.row.id, window));
        let total = async {
            if want_total {
                loader::<MessageCountLoader>(ctx)?
                    .load_one(self.row.id)
                    .await
                    .map_err(db_error)
            } else {
                Ok(None)
            }
        };
        let (rows, total) = futures_util::join!(rows, total);
        let rows = rows.map_err(db_error)?.unwrap_or_default();
        Ok(connection(
            window.page(rows, Position::of).with_total(total?),
        ))
    }

    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
}

#[Object]
impl Message {
    pub async fn id(&self) -> ID {
        self.global_id()
    }

    async fn conversation(&self, ctx: &Context<'_>) -> async_graphql::Result<Conversation> {
        loader::<ConversationLoader>(ctx)?
            .load_one(self.row.conversation_id)
            .await
            .map_err(db_error)?
            .map(Conversation::from)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("message without a conversation")))
            .extend()
    }

    async fn sender(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, self.row.sender_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("message without a sender")))
            .extend()
    }

    async fn body(&self) -> &str {
        &self.row.body
    }

    async fn sent_at(&self) -> DateTime {
        self.row.sent_at.into()
    }

    async fn read_at(&self) -> Option<DateTime> {
        self.row.read_at.map(Into::into)
    }
}
