use async_graphql::{Context, ID, Object};

use super::{
    ConversationConnection,
    loaders::{MessageLoader, ParticipantsLoader},
    types::Conversation,
};
use crate::graphql::context::loader;
use crate::graphql::context::wants_total;
use crate::{
    auth::actor::{actor, require_actor},
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        connection::primed,
        ids::{NodeType, decode_as},
    },
    properties::loaders::PropertyLoader,
    users::UserLoader,
};

#[derive(Default)]
pub struct MessagingQuery;

/// Loads what a page of conversations will ask for (participants and
/// their users, last messages, listings) in one batch each.
pub async fn prime(
    ctx: &Context<'_>,
    rows: &[entity::conversation::Model],
) -> async_graphql::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let db_error =
        |e: std::sync::Arc<sea_orm::DbErr>| crate::error::GraphqlError::extend(&AppError::from(e));
    let participants = loader::<ParticipantsLoader>(ctx)?.load_many(rows.iter().map(|r| r.id));
    let last =
        loader::<MessageLoader>(ctx)?.load_many(rows.iter().filter_map(|r| r.last_message_id));
    let listings =
        loader::<PropertyLoader>(ctx)?.load_many(rows.iter().filter_map(|r| r.property_id));
    let (participants, last, listings) = futures_util::join!(participants, last, listings);
    let participants = participants.map_err(db_error)?;
    last.map_err(db_error)?;
    listings.map_err(db_error)?;
    // The senders of the last messages are participants too.
    loader::<UserLoader>(ctx)?
        .load_many(participants.values().flatten().map(|p| p.user_id))
        .await
        .map_err(db_error)?;
    Ok(())
}

#[Object]
impl MessagingQuery {
    /// The viewer's conversations, most recently updated first.
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConversationConnection> {
        let viewer = require_actor(ctx).await?;
        let page = ctx
            .services()?
            .messaging
            .page(viewer.user_id, first, after, wants_total(ctx))
            .await
            .extend()?;
        primed(page, async |rows| prime(ctx, rows).await).await
    }

    /// Only its participants; null for anyone else.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Conversation>> {
        let Some(id) = decode_as(NodeType::Conversation, &id) else {
            return Ok(None);
        };
        let viewer = actor(ctx).await?;
        Ok(ctx
            .services()?
            .messaging
            .visible(viewer, id)
            .await
            .extend()?
            .map(Conversation::from))
    }
}
