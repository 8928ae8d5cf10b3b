//! A user's notifications as a list: newest first, the unread count, and
//! marking them read.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Select, Value,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppResult;

use domain::kernel::page::{self, Direction, Key, MAX_PAGE, Page, Sort, Window, stored_instant};
use entity::notification::{Column as N, Entity as Notifications, Model};

#[derive(Serialize, Deserialize)]
struct Cursor {
    created_at: DateTime<Utc>,
    id: Uuid,
}

impl Key for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.created_at)
    }

    fn values(&self) -> Vec<Value> {
        vec![self.created_at.into(), self.id.into()]
    }
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
    ) -> AppResult<Page<Model>> {
        let window = Window::forwards(first, 20, after.as_deref())?;
        let total = page::total(base(user_id, unread_only), &self.db, want_total).await?;
        let rows = window
            .select(
                base(user_id, unread_only),
                &Sort::new([(N::CreatedAt, Direction::Desc)], N::Id),
            )
            .all(&self.db)
            .await?;
        let cursor = |r: &Model| Cursor {
            created_at: r.created_at,
            id: r.id,
        };
        Ok(window.page(rows, cursor).with_total(total))
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
