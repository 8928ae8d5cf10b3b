//! Pages of reviews: a listing's (NEWEST, HIGHEST, LOWEST) and an author's
//! (newest first). One statement fetches a page for every parent of a list
//! at once: `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY ...)`, which
//! PostgreSQL and SQLite both run.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, IdenStatic, Iterable};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::ReviewOrder;
use crate::{
    error::AppResult,
    graphql::connection::{Position, decode_cursor, encode_cursor, page_size, stored_instant},
};
use domain::infra::db::Placeholders;
use entity::review::Model;

/// An author's reviews show where their listing is public (a listing's own
/// reviews show wherever the listing does).
pub const LISTED: &str = "EXISTS (SELECT 1 FROM properties p WHERE p.id = reviews.property_id \
     AND p.status = 'LISTED' AND p.deleted_at IS NULL)";

/// Whose reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Listing(Uuid),
    Author(Uuid),
}

impl Owner {
    fn id(self) -> Uuid {
        match self {
            Self::Listing(id) | Self::Author(id) => id,
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Listing(_) => "property_id",
            Self::Author(_) => "author_id",
        }
    }
}

/// A position in a list: the sort key of the last review seen, and the
/// order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    o: ReviewOrder,
    r: i32,
    at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    pub fn of(order: ReviewOrder, row: &Model) -> Self {
        Self {
            o: order,
            r: row.rating,
            at: row.created_at,
            id: row.id,
        }
    }

    pub fn encode(&self) -> String {
        encode_cursor(self)
    }
}

impl Position for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.at)
    }
}

/// One page of one owner's reviews, as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub owner: Owner,
    pub order: ReviewOrder,
    pub limit: u64,
    pub after: Option<Cursor>,
    /// Whether the reviews' authors are wanted too (fetched in the same
    /// statement).
    pub authors: bool,
}

impl PageKey {
    /// Checks `first` and `after` (a cursor of the same order).
    pub fn parse(
        owner: Owner,
        order: ReviewOrder,
        first: Option<i32>,
        default: i32,
        after: Option<&str>,
    ) -> AppResult<Self> {
        let limit = page_size(first, default)?;
        let after = after
            .map(|c| {
                decode_cursor::<Cursor>("after", c).and_then(|c| {
                    if c.o == order {
                        Ok(c)
                    } else {
                        Err(crate::error::AppError::bad_input(
                            "after",
                            "is a cursor of another order; pass an endCursor from the same query",
                        ))
                    }
                })
            })
            .transpose()?;
        Ok(Self {
            owner,
            order,
            limit,
            after,
            authors: false,
        })
    }

    /// What the keys of one statement share.
    pub fn group(&self) -> (bool, ReviewOrder, u64, Option<Cursor>, bool) {
        (
            matches!(self.owner, Owner::Listing(_)),
            self.order,
            self.limit,
            self.after.clone(),
            self.authors,
        )
    }
}

/// One owner's page: its reviews and, when asked for, their authors.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub rows: Vec<Model>,
    pub authors: Vec<entity::user::Model>,
}

/// Up to `limit + 1` reviews of each owner in `owners` (which share order,
/// limit and cursor), in one statement, with their authors when `authors`;
/// by owner, in page order.
pub async fn pages(
    conn: &impl ConnectionTrait,
    owners: &[Owner],
    order: ReviewOrder,
    limit: u64,
    after: Option<&Cursor>,
    authors: bool,
) -> Result<Vec<(Uuid, Page)>, DbErr> {
    let Some(first) = owners.first() else {
        return Ok(Vec::new());
    };
    let mut p = Placeholders::new(conn.get_database_backend());
    let column = first.column();
    let ids: Vec<String> = owners.iter().map(|o| p.bind(o.id())).collect();
    let sort = match order {
        ReviewOrder::Newest => "created_at DESC, id DESC",
        ReviewOrder::Highest => "rating DESC, created_at DESC, id DESC",
        ReviewOrder::Lowest => "rating ASC, created_at DESC, id DESC",
    };
    let mut filter = format!("{column} IN ({})", ids.join(", "));
    if let Owner::Author(_) = first {
        filter = format!("{filter} AND {LISTED}");
    }
    if let Some(c) = after {
        // Placeholders are bound in the order they appear in the text
        // (SQLite's `?` are positional).
        let rating = match order {
            ReviewOrder::Newest => None,
            ReviewOrder::Highest => Some("<"),
            ReviewOrder::Lowest => Some(">"),
        }
        .map(|beyond| (beyond, p.bind(c.r), p.bind(c.r)));
        let (at1, at2, id) = (p.bind(c.at), p.bind(c.at), p.bind(c.id));
        let newer = format!("(created_at < {at1} OR (created_at = {at2} AND id < {id}))");
        let cond = match rating {
            None => newer,
            Some((beyond, r1, r2)) => {
                format!("(rating {beyond} {r1} OR (rating = {r2} AND {newer}))")
            }
        };
        filter = format!("{filter} AND {cond}");
    }
    let take = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    // The authors' columns come first (read by position), prefixed with
    // `u_` (no clash with the review's own `id`, `created_at`...).
    let (author_columns, author_join) = if authors {
        let columns: Vec<String> = entity::user::Column::iter()
            .filter(|c| entity::user::PUBLIC.contains(*c as usize))
            .map(|c| format!("u.{0} AS u_{0}, ", c.as_str()))
            .collect();
        (columns.concat(), " JOIN users u ON u.id = ranked.author_id")
    } else {
        (String::new(), "")
    };
    let sql = format!(
        "SELECT {author_columns}ranked.* FROM (SELECT reviews.*, ROW_NUMBER() OVER (PARTITION BY {column} ORDER BY {sort}) AS page_row \
         FROM reviews WHERE {filter}) ranked{author_join} WHERE page_row <= {take} ORDER BY ranked.{column}, page_row"
    );
    let rows = conn.query_all_raw(p.statement(sql)).await?;
    let mut out: Vec<(Uuid, Page)> = owners.iter().map(|o| (o.id(), Page::default())).collect();
    for found in rows {
        let row = Model::from_query_result(&found, "")?;
        let owner = match first {
            Owner::Listing(_) => row.property_id,
            Owner::Author(_) => row.author_id,
        };
        if let Some((_, page)) = out.iter_mut().find(|(id, _)| *id == owner) {
            if authors {
                page.authors.push(entity::user::Model::some_at(
                    &found,
                    0,
                    entity::user::PUBLIC,
                )?);
            }
            page.rows.push(row);
        }
    }
    Ok(out)
}
