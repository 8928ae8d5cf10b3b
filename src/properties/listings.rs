//! A host's listings, newest first (`User.listings`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::service::PropertyService;
use crate::{
    error::AppResult,
    graphql::connection::{Position, decode_cursor, encode_cursor, page_size, stored_instant},
};

use entity::property::{Column as P, Entity as Properties};

#[derive(Serialize, Deserialize)]
struct Cursor {
    at: DateTime<Utc>,
    id: Uuid,
}

impl Position for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.at)
    }
}

#[derive(Default)]
pub struct ListingsPage {
    pub rows: Vec<(String, entity::property::Model)>,
    pub has_next: bool,
    pub has_previous: bool,
}

impl PropertyService {
    /// `all_statuses`: drafts and unlisted ones too (for the host and admins).
    pub async fn listings(
        &self,
        host_id: Uuid,
        all_statuses: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<ListingsPage> {
        let limit = page_size(first, 20)?;
        let cursor = after
            .as_deref()
            .map(|c| decode_cursor::<Cursor>("after", c))
            .transpose()?;
        let mut query = Properties::find()
            .filter(P::HostId.eq(host_id))
            .filter(P::DeletedAt.is_null());
        if !all_statuses {
            query = query.filter(P::Status.eq(entity::property::ListingStatus::Listed));
        }
        if let Some(c) = &cursor {
            query = query.filter(
                Expr::tuple([Expr::col(P::CreatedAt), Expr::col(P::Id)])
                    .lt(Expr::tuple([Expr::val(c.at), Expr::val(c.id)])),
            );
        }
        let mut rows = query
            .order_by_desc(P::CreatedAt)
            .order_by_desc(P::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(ListingsPage {
            rows: rows
                .into_iter()
                .map(|r| {
                    (
                        encode_cursor(&Cursor {
                            at: r.created_at,
                            id: r.id,
                        }),
                        r,
                    )
                })
                .collect(),
            has_next,
            has_previous: cursor.is_some(),
        })
    }
}
