//! Which messages of a conversation a `messages(first, after, last,
//! before)` selection asks for. Messages run oldest to newest by
//! (sent_at, id); `last`/`before` page backwards from the newest.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    graphql::connection::{MAX_PAGE, decode_cursor, encode_cursor, stored_instant},
};

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
    pub fn of(row: &entity::message::Model) -> Self {
        Self {
            sent_at: row.sent_at,
            id: row.id,
        }
    }

    pub fn cursor(&self) -> String {
        encode_cursor(self)
    }
}

impl crate::graphql::connection::Position for Position {
    fn is_stored(&self) -> bool {
        stored_instant(&self.sent_at)
    }
}

/// A page of one conversation's messages, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Newest first from `cursor` (last/before), else oldest first (first/after).
    pub backwards: bool,
    pub limit: u64,
    /// Strictly before (backwards) or after (forwards) this position.
    pub cursor: Option<Position>,
}

fn size(field: &str, n: Option<i32>) -> AppResult<u64> {
    let n = n.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&n) {
        Ok(u64::try_from(n).unwrap_or(1))
    } else {
        Err(AppError::bad_input(
            field,
            format!("must be between 1 and {MAX_PAGE}"),
        ))
    }
}

impl Window {
    pub fn parse(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> AppResult<Self> {
        if first.is_some() && last.is_some() {
            return Err(AppError::bad_input(
                "last",
                "cannot be given with first: ask for first/after or for last/before",
            ));
        }
        let forwards = first.is_some() || after.is_some();
        if forwards && before.is_some() {
            return Err(AppError::bad_input(
                "before",
                "goes with last; with first, page on with after",
            ));
        }
        if forwards {
            Ok(Self {
                backwards: false,
                limit: size("first", first)?,
                cursor: after.map(|c| decode_cursor("after", c)).transpose()?,
            })
        } else {
            Ok(Self {
                backwards: true,
                limit: size("last", last)?,
                cursor: before.map(|c| decode_cursor("before", c)).transpose()?,
            })
        }
    }
}
