//! Which messages of a conversation a `messages(first, after, last,
//! before)` selection asks for. Messages run oldest to newest by
//! (sent_at, id); `last`/`before` page backwards from the newest.

use chrono::{DateTime, Utc};
use sea_orm::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppResult;

use domain::kernel::page::{self, Direction, Key, Sort, stored_instant};
use entity::message::{Column as M, Model};

/// Messages in a page when neither `first` nor `last` is given: the newest 20.
pub const DEFAULT_PAGE: i32 = 20;

/// A position in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "s")]
    pub sent_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Position {
    pub fn of(row: &Model) -> Self {
        Self {
            sent_at: row.sent_at,
            id: row.id,
        }
    }
}

impl Key for Position {
    fn is_stored(&self) -> bool {
        stored_instant(&self.sent_at)
    }

    fn values(&self) -> Vec<Value> {
        vec![self.sent_at.into(), self.id.into()]
    }
}

/// A page of one conversation's messages, as asked.
pub type Window = page::Window<Position>;

/// Checks the four arguments (see [`page::Window::parse`]).
pub fn parse(
    first: Option<i32>,
    after: Option<&str>,
    last: Option<i32>,
    before: Option<&str>,
) -> AppResult<Window> {
    Window::parse(first, after, last, before, DEFAULT_PAGE)
}

/// Oldest first.
pub fn sort() -> Sort {
    Sort::new([(M::SentAt, Direction::Asc)], M::Id)
}
