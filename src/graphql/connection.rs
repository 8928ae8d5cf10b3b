//! Relay cursor connections (RULES.md section 10): opaque cursors, `nodes`
//! equal to the edges' nodes, exact `totalCount`.

use async_graphql::SimpleObject;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
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

/// Reads a cursor back; a cursor that is not one of ours (or belongs to
/// another ordering) is bad input on `field`.
pub fn decode_cursor<T: DeserializeOwned>(field: &str, cursor: &str) -> AppResult<T> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
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
