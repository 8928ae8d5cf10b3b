//! The review types as clients see them.

use async_graphql::{Enum, ID};
use serde::{Deserialize, Serialize};

use crate::graphql::ids::{self, NodeType};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewOrder {
    /// Newest first.
    Newest,
    /// Best overall rating first, then newest.
    Highest,
    /// Worst overall rating first, then newest.
    Lowest,
}

/// A review as the resolvers hold it.
#[derive(Debug, Clone)]
pub struct Review {
    pub row: entity::review::Model,
}

impl From<entity::review::Model> for Review {
    fn from(row: entity::review::Model) -> Self {
        Self { row }
    }
}

impl Review {
    pub fn global_id(&self) -> ID {
        ids::encode(NodeType::Review, self.row.id)
    }
}

/// A mean rounded to two places; none of nothing.
pub fn mean(sum: i64, count: i32) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let sum = sum as f64;
    (count > 0).then(|| (sum / f64::from(count) * 100.0).round() / 100.0)
}
