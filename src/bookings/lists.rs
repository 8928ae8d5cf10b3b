//! Lists of bookings, newest check-in first: a guest's, a host's, and
//! those of a page of listings at once.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{service::BookingService, types::BookingStatus};
use crate::{
    error::AppResult,
    graphql::connection::{Position, decode_cursor, encode_cursor, page_size, stored_date},
};
use domain::infra::db::Placeholders;
use entity::booking::{Column as B, Entity as Bookings, Model};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    check_in: NaiveDate,
    id: Uuid,
}

impl Cursor {
    fn of(row: &Model) -> Self {
        Self {
            check_in: row.check_in,
            id: row.id,
        }
    }
}

impl Position for Cursor {
    fn is_stored(&self) -> bool {
        stored_date(&self.check_in)
    }
}

/// Whose bookings.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Guest(Uuid),
    Host(Uuid),
}

#[derive(Debug, Clone, Default)]
pub struct BookingPage {
    pub rows: Vec<(String, Model)>,
    pub has_next: bool,
    pub has_previous: bool,
    pub total: Option<i64>,
}

fn base(owner: Owner, status: Option<BookingStatus>) -> Select<Bookings> {
    let q = match owner {
        Owner::Guest(id) => Bookings::find().filter(B::GuestId.eq(id)),
        Owner::Host(id) => Bookings::find().filter(B::HostId.eq(id)),
    };
    match status {
        Some(s) => q.filter(B::Status.eq(entity::booking::BookingStatus::from(s))),
        None => q,
    }
}

/// One page of one listing's bookings, as asked for: what
/// `ListingBookingsLoader` batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingPageKey {
    pub listing: Uuid,
    pub status: Option<BookingStatus>,
    pub limit: u64,
    pub after: Option<Cursor>,
    pub total: bool,
}

impl ListingPageKey {
    /// Checks `first` and `after`.
    pub fn parse(
        listing: Uuid,
        status: Option<BookingStatus>,
        first: Option<i32>,
        after: Option<&str>,
        total: bool,
    ) -> AppResult<Self> {
        Ok(Self {
            listing,
            status,
            limit: page_size(first, 20)?,
            after: after
                .map(|c| decode_cursor::<Cursor>("after", c))
                .transpose()?,
            total,
        })
    }
}

/// A page of rows (up to `limit + 1` read) as clients get it.
fn page_of(mut rows: Vec<Model>, limit: u64, after: bool, total: Option<i64>) -> BookingPage {
    let has_next = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    BookingPage {
        rows: rows
            .into_iter()
            .map(|r| (encode_cursor(&Cursor::of(&r)), r))
            .collect(),
        has_next,
        has_previous: after,
        total,
    }
}

/// The pages of every listing in `listings` that share status, limit and
/// cursor: one statement for the rows of all of them (each listing's first
/// `limit + 1`, newest check-in first), and one for their counts when asked.
pub async fn listing_pages(
    conn: &impl ConnectionTrait,
    listings: &[Uuid],
    status: Option<BookingStatus>,
    limit: u64,
    after: Option<Cursor>,
    total: bool,
) -> Result<HashMap<Uuid, BookingPage>, DbErr> {
    let mut p = Placeholders::new(conn.get_database_backend());
    let ids: Vec<String> = listings.iter().map(|id| p.bind(*id)).collect();
    let mut filter = format!("property_id IN ({})", ids.join(", "));
    if let Some(status) = status {
        let stored = entity::booking::BookingStatus::from(status).to_value();
        filter = format!("{filter} AND status = {}", p.bind(stored));
    }
    if let Some(c) = after {
        // Placeholders in the order they appear (SQLite's are positional).
        let (at1, at2, id) = (p.bind(c.check_in), p.bind(c.check_in), p.bind(c.id));
        filter = format!("{filter} AND (check_in < {at1} OR (check_in = {at2} AND id < {id}))");
    }
    let take = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT ranked.* FROM (SELECT bookings.*, ROW_NUMBER() OVER \
         (PARTITION BY property_id ORDER BY check_in DESC, id DESC) AS page_row \
         FROM bookings WHERE {filter}) ranked WHERE page_row <= {take} \
         ORDER BY ranked.property_id, page_row"
    );
    let mut rows: HashMap<Uuid, Vec<Model>> = listings.iter().map(|id| (*id, Vec::new())).collect();
    for found in conn.query_all_raw(p.statement(sql)).await? {
        let row = Model::from_query_result(&found, "")?;
        rows.entry(row.property_id).or_default().push(row);
    }
    let totals: HashMap<Uuid, i64> = if total {
        let mut count = Bookings::find()
            .select_only()
            .column(B::PropertyId)
            .column_as(Expr::col(B::Id).count(), "n")
            .filter(B::PropertyId.is_in(listings.iter().copied()))
            .group_by(B::PropertyId);
        if let Some(status) = status {
            count = count.filter(B::Status.eq(entity::booking::BookingStatus::from(status)));
        }
        count
            .into_tuple::<(Uuid, i64)>()
            .all(conn)
            .await?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|(listing, rows)| {
            let total = total.then(|| totals.get(&listing).copied().unwrap_or(0));
            (listing, page_of(rows, limit, after.is_some(), total))
        })
        .collect())
}

impl BookingService {
    pub async fn page(
        &self,
        owner: Owner,
        status: Option<BookingStatus>,
        first: Option<i32>,
        after: Option<String>,
        want_total: bool,
    ) -> AppResult<BookingPage> {
        let limit = page_size(first, 20)?;
        let cursor = after
            .as_deref()
            .map(|c| decode_cursor::<Cursor>("after", c))
            .transpose()?;
        let total = if want_total {
            Some(i64::try_from(base(owner, status).count(&self.db).await?).unwrap_or(i64::MAX))
        } else {
            None
        };
        let mut q = base(owner, status);
        if let Some(c) = &cursor {
            q = q.filter(
                Expr::tuple([Expr::col(B::CheckIn), Expr::col(B::Id)])
                    .lt(Expr::tuple([Expr::val(c.check_in), Expr::val(c.id)])),
            );
        }
        let rows = q
            .order_by_desc(B::CheckIn)
            .order_by_desc(B::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        Ok(page_of(rows, limit, cursor.is_some(), total))
    }
}
