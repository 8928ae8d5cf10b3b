//! A user's conversations, most recently updated first.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::service::MessagingService;
use crate::{
    error::AppResult,
    graphql::connection::{Position, decode_cursor, encode_cursor, page_size, stored_instant},
};
use entity::{
    conversation::{Column as C, Entity as Conversations, Model},
    conversation_participant::{Column as P, Entity as Participants},
};

#[derive(Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "u")]
    updated_at: DateTime<Utc>,
    #[serde(rename = "i")]
    id: Uuid,
}

impl Position for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.updated_at)
    }
}

pub struct ConversationPage {
    pub rows: Vec<(String, Model)>,
    pub has_next: bool,
    pub has_previous: bool,
    pub total: Option<i64>,
}

impl MessagingService {
    /// The conversations `user_id` takes part in, ordered by (updatedAt,
    /// id) descending; read off the participants' copy of updated_at.
    pub async fn page(
        &self,
        user_id: Uuid,
        first: Option<i32>,
        after: Option<String>,
        want_total: bool,
    ) -> AppResult<ConversationPage> {
        let limit = page_size(first, 20)?;
        let cursor = after
            .as_deref()
            .map(|c| decode_cursor::<Cursor>("after", c))
            .transpose()?;
        let mine = || Participants::find().filter(P::UserId.eq(user_id));
        let total = if want_total {
            Some(i64::try_from(mine().count(self.db()).await?).unwrap_or(i64::MAX))
        } else {
            None
        };
        let mut q = mine();
        if let Some(c) = &cursor {
            q = q.filter(
                Expr::tuple([Expr::col(P::UpdatedAt), Expr::col(P::ConversationId)])
                    .lt(Expr::tuple([Expr::val(c.updated_at), Expr::val(c.id)])),
            );
        }
        let mut ids: Vec<(Uuid, DateTime<Utc>)> = q
            .select_only()
            .column(P::ConversationId)
            .column(P::UpdatedAt)
            .order_by_desc(P::UpdatedAt)
            .order_by_desc(P::ConversationId)
            .limit(limit + 1)
            .into_tuple()
            .all(self.db())
            .await?;
        let has_next = ids.len() as u64 > limit;
        ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut rows: std::collections::HashMap<Uuid, Model> = if ids.is_empty() {
            Default::default()
        } else {
            Conversations::find()
                .filter(C::Id.is_in(ids.iter().map(|(id, _)| *id)))
                .all(self.db())
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect()
        };
        Ok(ConversationPage {
            rows: ids
                .into_iter()
                .filter_map(|(id, updated_at)| {
                    let row = rows.remove(&id)?;
                    Some((encode_cursor(&Cursor { updated_at, id }), row))
                })
                .collect(),
            has_next,
            has_previous: cursor.is_some(),
            total,
        })
    }
}
