//! A user's notifications as a list: newest first, the unread count, and
//! marking them read.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::AppResult,
    graphql::connection::{
        MAX_PAGE, Position, decode_cursor, encode_cursor, page_size, stored_instant,
    },
};
use entity::notification::{Column as N, Entity as Notifications, Model};

#[derive(Serialize, Deserialize)]
struct Cursor {
    created_at: DateTime<Utc>,
    id: Uuid,
}

impl Position for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.created_at)
    }
}

pub struct NotificationPage {
    pub rows: Vec<(String, Model)>,
    pub has_next: bool,
    pub has_previous: bool,
    pub total: Option<i64>,
}

/// Which of a user's notifications `markNotificationsRead` marks.
pub enum Marked {
    All,
    These(Vec<Uuid>),
}

/// Most ids one `markNotificationsRead` takes.
pub const MAX_MARKED: usize = MAX_PAGE as usize;

#[derive(Clone)]
pub struct NotificationService {
    db: DatabaseConnection,
}

fn base(user_id: Uuid, unread_only: bool) -> Select<Notifications> {
    let q = Notifications::find().filter(N::UserId.eq(user_id));
    if unread_only {
        q.filter(N::ReadAt.is_null())
    } else {
        q
    }
}

impl NotificationService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// One page of `user_id`'s notifications, newest first.
    pub async fn page(
        &self,
        user_id: Uuid,
        unread_only: bool,
        first: Option<i32>,
        after: Option<String>,
        want_total: bool,
    ) -> AppResult<NotificationPage> {
        let limit = page_size(first, 20)?;
        let cursor = after
            .as_deref()
            .map(|c| decode_cursor::<Cursor>("after", c))
            .transpose()?;
        let total = if want_total {
            Some(
                i64::try_from(base(user_id, unread_only).count(&self.db).await?)
                    .unwrap_or(i64::MAX),
            )
        } else {
            None
        };
        let mut q = base(user_id, unread_only);
        if let Some(c) = &cursor {
            q = q.filter(
                Expr::tuple([Expr::col(N::CreatedAt), Expr::col(N::Id)])
                    .lt(Expr::tuple([Expr::val(c.created_at), Expr::val(c.id)])),
            );
        }
        let mut rows = q
            .order_by_desc(N::CreatedAt)
            .order_by_desc(N::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(NotificationPage {
            rows: rows
                .into_iter()
                .map(|r| {
                    let cursor = encode_cursor(&Cursor {
                        created_at: r.created_at,
                        id: r.id,
                    });
                    (cursor, r)
                })
                .collect(),
            has_next,
            has_previous: cursor.is_some(),
            total,
        })
    }

    pub async fn unread_count(&self, user_id: Uuid) -> AppResult<i64> {
        let n = base(user_id, true).count(&self.db).await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// One of `user_id`'s notifications; `None` for anyone else's.
    pub async fn own(&self, user_id: Uuid, id: Uuid) -> AppResult<Option<Model>> {
        Ok(Notifications::find_by_id(id)
            .filter(N::UserId.eq(user_id))
            .one(&self.db)
            .await?)
    }

    /// Marks unread notifications of `user_id` read, in one statement; ids
    /// of other users' notifications change nothing. Returns how many
    /// changed.
    pub async fn mark_read(&self, user_id: Uuid, which: Marked) -> AppResult<i64> {
        let mut q = Notifications::update_many()
            .col_expr(N::ReadAt, Expr::val(Utc::now()))
            .filter(N::UserId.eq(user_id))
            .filter(N::ReadAt.is_null());
        if let Marked::These(ids) = which {
            if ids.is_empty() {
                return Ok(0);
            }
            q = q.filter(N::Id.is_in(ids));
        }
        let changed = q.exec(&self.db).await?.rows_affected;
        Ok(i64::try_from(changed).unwrap_or(i64::MAX))
    }
}
