//! Batched lookups for conversations and messages: whatever a page of
//! conversations asks for (participants, unread counts, last messages,
//! a window of messages each) is fetched with one statement per kind,
//! however long the page.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::dataloader::Loader;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::window::Window;
use crate::graphql::context::cached;

type Rows<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

/// Conversations by id.
pub struct ConversationLoader(pub DatabaseConnection);

impl Loader<Uuid> for ConversationLoader {
    type Value = entity::conversation::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::conversation::Entity::find()
            .filter(entity::conversation::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Messages by id.
pub struct MessageLoader(pub DatabaseConnection);

impl Loader<Uuid> for MessageLoader {
    type Value = entity::message::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = entity::message::Entity::find()
            .filter(entity::message::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// The participants of each conversation, with their unread counts.
pub struct ParticipantsLoader(pub DatabaseConnection);

impl Loader<Uuid> for ParticipantsLoader {
    type Value = Vec<entity::conversation_participant::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        use entity::conversation_participant::{Column as P, Entity};
        let rows = Entity::find()
            .filter(P::ConversationId.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        let mut out: HashMap<Uuid, Vec<_>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            out.entry(row.conversation_id).or_default().push(row);
        }
        // A stable order: by user id.
        for list in out.values_mut() {
            list.sort_by_key(|p| p.user_id);
        }
        Ok(out)
    }
}

/// How many messages each conversation holds.
pub struct MessageCountLoader(pub DatabaseConnection);

#[derive(FromQueryResult)]
struct Count {
    conversation_id: Uuid,
    n: i64,
}

impl Loader<Uuid> for MessageCountLoader {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, i64> {
        use entity::message::{Column as M, Entity};
        let counts: HashMap<Uuid, i64> = Entity::find()
            .select_only()
            .column(M::ConversationId)
            .column_as(Expr::col(M::Id).count(), "n")
            .filter(M::ConversationId.is_in(keys.iter().copied()))
            .group_by(M::ConversationId)
            .into_model::<Count>()
            .all(&self.0)
            .await?
            .into_iter()
            .map(|c| (c.conversation_id, c.n))
            .collect();
        Ok(keys
            .iter()
            .map(|k| (*k, counts.get(k).copied().unwrap_or(0)))
            .collect())
    }
}

/// A window of messages per conversation: keyed by (conversation, window),
/// answered with up to `limit + 1` rows in the window's direction (the
/// extra one tells whether there are more). Conversations asking for the
/// same window share one statement, numbering each conversation's rows
/// with ROW_NUMBER() OVER (PARTITION BY conversation_id ...).
pub struct MessagesLoader(pub DatabaseConnection);

impl Loader<(Uuid, Window)> for MessagesLoader {
    type Value = Vec<entity::message::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Window)]) -> Rows<(Uuid, Window), Self::Value> {
        let windows: HashSet<Window> = keys.iter().map(|k| k.1).collect();
        let mut out = HashMap::with_capacity(keys.len());
        for window in windows {
            let ids: Vec<Uuid> = keys.iter().filter(|k| k.1 == window).map(|k| k.0).collect();
            let rows = self.window(&ids, window).await?;
            let mut by: HashMap<Uuid, Vec<_>> = ids.iter().map(|id| (*id, Vec::new())).collect();
            for row in rows {
                by.entry(row.conversation_id).or_default().push(row);
            }
            out.extend(by.into_iter().map(|(id, rows)| ((id, window), rows)));
        }
        Ok(out)
    }
}

impl MessagesLoader {
    async fn window(
        &self,
        conversations: &[Uuid],
        window: Window,
    ) -> Result<Vec<entity::message::Model>, DbErr> {
        let messages = entity::message::Entity::find()
            .filter(entity::message::Column::ConversationId.is_in(conversations.iter().copied()));
        let statement = window.per_parent(
            messages,
            &super::window::sort(),
            entity::message::Column::ConversationId,
        );
        self.0
            .query_all(&statement)
            .await?
            .iter()
            .map(|row| entity::message::Model::from_query_result(row, ""))
            .collect()
    }
}

/// Puts this operation's messaging loaders in its data.
pub fn install(data: &mut async_graphql::Data, db: &DatabaseConnection, keep: bool) {
    data.insert(cached(ConversationLoader(db.clone()), keep));
    data.insert(cached(MessageLoader(db.clone()), keep));
    data.insert(cached(ParticipantsLoader(db.clone()), keep));
    data.insert(cached(MessageCountLoader(db.clone()), keep));
    data.insert(cached(MessagesLoader(db.clone()), keep));
}
