//! Batched lookups of reviews: the pages of every listing (or author) of a
//! list in one statement, a stay's review, how many reviews authors wrote.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::dataloader::Loader;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::lists::{PageKey, ReviewPage, pages};
use crate::graphql::context::cached;
use entity::review::{Column as R, Entity as Reviews, Model};

type Rows<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

/// Pages of reviews, those of a whole list of owners in one statement.
pub struct ReviewPageLoader(pub DatabaseConnection);

impl Loader<PageKey> for ReviewPageLoader {
    type Value = ReviewPage;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[PageKey]) -> Rows<PageKey, Self::Value> {
        let mut groups: HashMap<_, Vec<&PageKey>> = HashMap::new();
        for key in keys {
            groups.entry(key.group()).or_default().push(key);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((_, order, window, authors), keys) in groups {
            let owners: Vec<_> = keys.iter().map(|k| k.owner).collect();
            let found = pages(&self.0, &owners, order, window, authors).await?;
            for (key, (_, page)) in keys.into_iter().zip(found) {
                out.insert(key.clone(), page);
            }
        }
        Ok(out)
    }
}

/// The review of each stay, keyed by booking.
pub struct ReviewOfBookingLoader(pub DatabaseConnection);

impl Loader<Uuid> for ReviewOfBookingLoader {
    type Value = Option<Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = Reviews::find()
            .filter(R::BookingId.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        let mut out: HashMap<Uuid, Option<Model>> = keys.iter().map(|k| (*k, None)).collect();
        for row in rows {
            out.insert(row.booking_id, Some(row));
        }
        Ok(out)
    }
}

/// Reviews by id.
pub struct ReviewLoader(pub DatabaseConnection);

impl Loader<Uuid> for ReviewLoader {
    type Value = Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, Self::Value> {
        let rows = Reviews::find()
            .filter(R::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// How many reviews each author wrote.
pub struct WrittenCountLoader(pub DatabaseConnection);

#[derive(FromQueryResult)]
struct AuthorCount {
    author_id: Uuid,
    n: i64,
}

impl Loader<Uuid> for WrittenCountLoader {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Rows<Uuid, i64> {
        let authors: HashSet<Uuid> = keys.iter().copied().collect();
        let counts: HashMap<Uuid, i64> = Reviews::find()
            .select_only()
            .column(R::AuthorId)
            .column_as(Expr::col(R::Id).count(), "n")
            .filter(R::AuthorId.is_in(authors))
            .filter(Expr::cust(super::lists::LISTED))
            .group_by(R::AuthorId)
            .into_model::<AuthorCount>()
            .all(&self.0)
            .await?
            .into_iter()
            .map(|c| (c.author_id, c.n))
            .collect();
        Ok(keys
            .iter()
            .map(|k| (*k, counts.get(k).copied().unwrap_or(0)))
            .collect())
    }
}

/// Puts this operation's review loaders in its data.
pub fn install(data: &mut async_graphql::Data, db: &DatabaseConnection, keep: bool) {
    data.insert(cached(ReviewPageLoader(db.clone()), keep));
    data.insert(cached(ReviewOfBookingLoader(db.clone()), keep));
    data.insert(cached(ReviewLoader(db.clone()), keep));
    data.insert(cached(WrittenCountLoader(db.clone()), keep));
}
