//! A user's conversations, most recently updated first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::service::MessagingService;
use crate::error::AppResult;
use domain::kernel::page::{self, Direction, Key, Page, Sort, Window, stored_instant};
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

impl Key for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.updated_at)
    }

    fn values(&self) -> Vec<Value> {
        vec![self.updated_at.into(), self.id.into()]
    }
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
    ) -> AppResult<Page<Model>> {
        let window = Window::forwards(first, 20, after.as_deref())?;
        let mine = || Participants::find().filter(P::UserId.eq(user_id));
        let total = page::total(mine(), self.db(), want_total).await?;
        let sort = Sort::new([(P::UpdatedAt, Direction::Desc)], P::ConversationId);
        let ids: Vec<(Uuid, DateTime<Utc>)> = window
            .select(mine(), &sort)
            .select_only()
            .column(P::ConversationId)
            .column(P::UpdatedAt)
            .into_tuple()
            .all(self.db())
            .await?;
        let page = window.page(ids, |(id, updated_at)| Cursor {
            updated_at: *updated_at,
            id: *id,
        });
        let mut rows: HashMap<Uuid, Model> = if page.items.is_empty() {
            HashMap::new()
        } else {
            Conversations::find()
                .filter(C::Id.is_in(page.nodes().map(|(id, _)| *id)))
                .all(self.db())
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect()
        };
        Ok(page
            .filter_map(|(id, _)| rows.remove(&id))
            .with_total(total))
    }
}
