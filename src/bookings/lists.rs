//! Lists of bookings, newest check-in first: a guest's, a host's, and
//! those of a page of listings at once.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    Select, Value,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{service::BookingService, types::BookingStatus};
use crate::error::AppResult;
use domain::kernel::page::{self, Direction, Key, Page, Sort, Window, stored_date};
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

impl Key for Cursor {
    fn is_stored(&self) -> bool {
        stored_date(&self.check_in)
    }

    fn values(&self) -> Vec<Value> {
        vec![self.check_in.into(), self.id.into()]
    }
}

/// Newest check-in first.
fn sort() -> Sort {
    Sort::new([(B::CheckIn, Direction::Desc)], B::Id)
}

/// Whose bookings.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Guest(Uuid),
    Host(Uuid),
}

fn of_status(q: Select<Bookings>, status: Option<BookingStatus>) -> Select<Bookings> {
    match status {
        Some(s) => q.filter(B::Status.eq(entity::booking::BookingStatus::from(s))),
        None => q,
    }
}

fn base(owner: Owner, status: Option<BookingStatus>) -> Select<Bookings> {
    let q = match owner {
        Owner::Guest(id) => Bookings::find().filter(B::GuestId.eq(id)),
        Owner::Host(id) => Bookings::find().filter(B::HostId.eq(id)),
    };
    of_status(q, status)
}

/// One page of one listing's bookings, as asked for: what
/// `ListingBookingsLoader` batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingPageKey {
    pub listing: Uuid,
    pub status: Option<BookingStatus>,
    pub window: Window<Cursor>,
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
            window: Window::forwards(first, 20, after)?,
            total,
        })
    }
}

/// The pages of every listing in `listings` that share status and
/// window: one statement for the rows of all of them, and one for their
/// counts when asked.
pub async fn listing_pages(
    conn: &impl ConnectionTrait,
    listings: &[Uuid],
    status: Option<BookingStatus>,
    window: Window<Cursor>,
    total: bool,
) -> Result<HashMap<Uuid, Page<Model>>, DbErr> {
    let of_listings = || Bookings::find().filter(B::PropertyId.is_in(listings.iter().copied()));
    let statement = window.per_parent(of_status(of_listings(), status), &sort(), B::PropertyId);
    let mut rows: HashMap<Uuid, Vec<Model>> = listings.iter().map(|id| (*id, Vec::new())).collect();
    for found in conn.query_all(&statement).await? {
        let row = Model::from_query_result(&found, "")?;
        rows.entry(row.property_id).or_default().push(row);
    }
    let totals: HashMap<Uuid, i64> = if total {
        of_status(of_listings(), status)
            .select_only()
            .column(B::PropertyId)
            .column_as(Expr::col(B::Id).count(), "n")
            .group_by(B::PropertyId)
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
            (listing, window.page(rows, Cursor::of).with_total(total))
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
    ) -> AppResult<Page<Model>> {
        let window = Window::forwards(first, 20, after.as_deref())?;
        let total = page::total(base(owner, status), &self.db, want_total).await?;
        let rows = window
            .select(base(owner, status), &sort())
            .all(&self.db)
            .await?;
        Ok(window.page(rows, Cursor::of).with_total(total))
    }
}
