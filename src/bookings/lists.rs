//! Lists of bookings, newest check-in first: a guest's, a host's, a
//! listing's.

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{service::BookingService, types::BookingStatus};
use crate::{
    error::AppResult,
    graphql::connection::{decode_cursor, encode_cursor, page_size},
};
use entity::booking::{Column as B, Entity as Bookings, Model};

#[derive(Serialize, Deserialize)]
struct Cursor {
    check_in: NaiveDate,
    id: Uuid,
}

/// Whose bookings.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Guest(Uuid),
    Host(Uuid),
    Listing(Uuid),
}

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
        Owner::Listing(id) => Bookings::find().filter(B::PropertyId.eq(id)),
    };
    match status {
        Some(s) => q.filter(B::Status.eq(entity::booking::BookingStatus::from(s))),
        None => q,
    }
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
        let mut rows = q
            .order_by_desc(B::CheckIn)
            .order_by_desc(B::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(BookingPage {
            rows: rows
                .into_iter()
                .map(|r| {
                    (
                        encode_cursor(&Cursor {
                            check_in: r.check_in,
                            id: r.id,
                        }),
                        r,
                    )
                })
                .collect(),
            has_next,
            has_previous: cursor.is_some(),
            total,
        })
    }
}
