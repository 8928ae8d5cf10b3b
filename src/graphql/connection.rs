//! Relay cursor connections (RULES.md section 10): opaque cursors, `nodes`
//! equal to the edges' nodes, exact `totalCount`.

use async_graphql::SimpleObject;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AppError, AppResult};

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;

#[derive(SimpleObject, Debug, Clone, Default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page info of a page whose edges have `cursors`, in order.
    pub fn of<'a>(
        has_next_page: bool,
        has_previous_page: bool,
        mut cursors: impl DoubleEndedIterator<Item = &'a str> + Clone,
    ) -> Self {
        Self {
            has_next_page,
            has_previous_page,
            start_cursor: cursors.clone().next().map(str::to_owned),
            end_cursor: cursors.next_back().map(str::to_owned),
        }
    }
}

/// `first` checked against 1..=100; the error names the argument.
pub fn page_size(first: Option<i32>, default: i32) -> AppResult<u64> {
    let first = first.unwrap_or(default);
    if (1..=MAX_PAGE).contains(&first) {
        Ok(u64::try_from(first).unwrap_or(1))
    } else {
        Err(AppError::bad_input(
            "first",
            format!("must be between 1 and {MAX_PAGE}"),
        ))
    }
}

/// Cursors are base64url JSON of whatever a listing sorts by; clients must
/// treat them as opaque.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// What a cursor holds: the position of a row in a list, as the list's
/// statement compares it with the rows it reads.
pub trait Position: DeserializeOwned {
    /// Whether each of its values is one the database stores. A cursor is
    /// only base64 JSON: re-encoded with the year -5000, it decodes, and
    /// PostgreSQL then refuses the statement ("date/timestamp out of
    /// range") where SQLite compares it as text.
    fn is_stored(&self) -> bool;
}

/// The instants and dates rows hold: years 1 to 9999, as the API writes
/// them (`Date` is read as YYYY-MM-DD).
const STORED_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Whether the database stores `at` (see [`Position::is_stored`]).
pub fn stored_instant(at: &DateTime<Utc>) -> bool {
    STORED_YEARS.contains(&at.year())
}

/// Whether the database stores `date` (see [`Position::is_stored`]).
pub fn stored_date(date: &NaiveDate) -> bool {
    STORED_YEARS.contains(&date.year())
}

/// Reads a cursor back; a cursor that is not one of ours (or belongs to
/// another ordering), or whose values no row can hold, is bad input on
/// `field`.
pub fn decode_cursor<T: Position>(field: &str, cursor: &str) -> AppResult<T> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok())
        .filter(Position::is_stored)
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                "is not a cursor of this list; pass an endCursor from the same query",
            )
        })
}

/// Declares the GraphQL connection and edge types of one node type.
#[macro_export]
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty) => {
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[async_graphql::Object]
        impl $edge {
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            async fn node(&self) -> &$node {
                &self.node
            }
        }

        pub struct $connection {
            pub edges: Vec<$edge>,
            pub page_info: $crate::graphql::connection::PageInfo,
            /// Counted only when the query asks for it.
            pub total_count: Option<i64>,
        }

        #[async_graphql::Object]
        impl $connection {
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }

            async fn page_info(&self) -> &$crate::graphql::connection::PageInfo {
                &self.page_info
            }

            async fn total_count(&self) -> i64 {
                self.total_count.unwrap_or_default()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct At {
        at: DateTime<Utc>,
        day: NaiveDate,
    }

    impl Position for At {
        fn is_stored(&self) -> bool {
            stored_instant(&self.at) && stored_date(&self.day)
        }
    }

    fn forged(json: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    #[test]
    fn a_cursor_whose_values_no_row_holds_is_bad_input() {
        let ok = |at: &str, day: &str| {
            decode_cursor::<At>(
                "after",
                &forged(serde_json::json!({ "at": at, "day": day })),
            )
            .is_ok()
        };
        assert!(ok("2027-03-10T14:00:00Z", "2027-03-10"));
        assert!(ok("0001-01-01T00:00:00Z", "9999-12-31"));
        assert!(!ok("-5000-01-01T00:00:00Z", "2027-03-10"));
        assert!(!ok("+20000-01-01T00:00:00Z", "2027-03-10"));
        assert!(!ok("2027-03-10T14:00:00Z", "-5000-01-01"));
        assert!(!ok("2027-03-10T14:00:00Z", "0000-12-31"));
        let e = decode_cursor::<At>(
            "before",
            &forged(serde_json::json!({ "at": 1e300, "day": "2027-03-10" })),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("is not a cursor of this list; pass an endCursor from the same query")
        );
        let at = At {
            at: Utc::now(),
            day: Utc::now().date_naive(),
        };
        assert!(decode_cursor::<At>("after", &encode_cursor(&at)).is_ok());
    }
}
