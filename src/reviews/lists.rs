//! Pages of reviews: a listing's (NEWEST, HIGHEST, LOWEST) and an author's
//! (newest first). One statement fetches a page for every parent of a list
//! at once (`page::Window::per_parent`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    JoinType, QueryFilter, Value,
    sea_query::{Alias, Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::ReviewOrder;
use crate::error::AppResult;
use domain::kernel::page::{Direction, Key, Page, RANKED, Sort, Window, stored_instant};
use entity::review::{Column as R, Entity as Reviews, Model};

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

    fn column(self) -> R {
        match self {
            Self::Listing(_) => R::PropertyId,
            Self::Author(_) => R::AuthorId,
        }
    }
}

/// A position in a list: the sort key of the last review seen, and the
/// order it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

impl Key for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.at)
    }

    fn values(&self) -> Vec<Value> {
        match self.o {
            ReviewOrder::Newest => vec![self.at.into(), self.id.into()],
            ReviewOrder::Highest | ReviewOrder::Lowest => {
                vec![self.r.into(), self.at.into(), self.id.into()]
            }
        }
    }
}

/// What each order sorts by; ties are the newest first.
fn sort(order: ReviewOrder) -> Sort {
    let newest = (R::CreatedAt, Direction::Desc);
    match order {
        ReviewOrder::Newest => Sort::new([newest], R::Id),
        ReviewOrder::Highest => Sort::new([(R::Rating, Direction::Desc), newest], R::Id),
        ReviewOrder::Lowest => Sort::new([(R::Rating, Direction::Asc), newest], R::Id),
    }
}

/// One page of one owner's reviews, as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub owner: Owner,
    pub order: ReviewOrder,
    pub window: Window<Cursor>,
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
        let window: Window<Cursor> = Window::forwards(first, default, after)?;
        if window.cursor.is_some_and(|c| c.o != order) {
            return Err(crate::error::AppError::bad_input(
                "after",
                "is a cursor of another order; pass an endCursor from the same query",
            ));
        }
        Ok(Self {
            owner,
            order,
            window,
            authors: false,
        })
    }

    /// What the keys of one statement share.
    pub fn group(&self) -> (bool, ReviewOrder, Window<Cursor>, bool) {
        (
            matches!(self.owner, Owner::Listing(_)),
            self.order,
            self.window,
            self.authors,
        )
    }
}

/// One owner's page: its reviews and, when asked for, their authors.
#[derive(Debug, Clone, Default)]
pub struct ReviewPage {
    pub page: Page<Model>,
    pub authors: Vec<entity::user::Model>,
}

/// The page of each owner in `owners` (which share order and window), in
/// one statement, with their authors when `authors`; by owner.
pub async fn pages(
    conn: &impl ConnectionTrait,
    owners: &[Owner],
    order: ReviewOrder,
    window: Window<Cursor>,
    authors: bool,
) -> Result<Vec<(Uuid, ReviewPage)>, DbErr> {
    let Some(first) = owners.first() else {
        return Ok(Vec::new());
    };
    let parent = first.column();
    let mut reviews = Reviews::find().filter(parent.is_in(owners.iter().map(|o| o.id())));
    if let Owner::Author(_) = first {
        reviews = reviews.filter(Expr::cust(LISTED));
    }
    let mut statement = window.per_parent(reviews, &sort(order), parent);
    // The authors' public columns follow the review's and its page_row
    // (read by position), prefixed with `u_` (no clash with the review's
    // own `id`, `created_at`...).
    let author_at = R::iter().count() + 1;
    if authors {
        let u = Alias::new("u");
        statement.join_as(
            JoinType::InnerJoin,
            entity::user::Entity,
            u.clone(),
            Expr::col((u.clone(), entity::user::Column::Id))
                .equals((Alias::new(RANKED), R::AuthorId)),
        );
        for c in entity::user::Column::iter().filter(|c| entity::user::PUBLIC.contains(*c as usize))
        {
            statement.expr_as(
                Expr::col((u.clone(), c)),
                Alias::new(format!("u_{}", c.as_str())),
            );
        }
    }
    let mut out: Vec<(Uuid, Vec<Model>, Vec<entity::user::Model>)> = owners
        .iter()
        .map(|o| (o.id(), Vec::new(), Vec::new()))
        .collect();
    for found in conn.query_all(&statement).await? {
        let row = Model::from_query_result(&found, "")?;
        let owner = match first {
            Owner::Listing(_) => row.property_id,
            Owner::Author(_) => row.author_id,
        };
        if let Some((_, rows, users)) = out.iter_mut().find(|(id, _, _)| *id == owner) {
            if authors {
                users.push(entity::user::Model::some_at(
                    &found,
                    author_at,
                    entity::user::PUBLIC,
                )?);
            }
            rows.push(row);
        }
    }
    Ok(out
        .into_iter()
        .map(|(owner, rows, authors)| {
            let page = window.page(rows, |r| Cursor::of(order, r));
            (owner, ReviewPage { page, authors })
        })
        .collect())
}
