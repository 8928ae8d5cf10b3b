//! The review rules (docs/API.md, Reviews): the guest of a COMPLETED stay
//! reviews it within 14 days after checkOut, once; the listing's host
//! responds, once. A review, the rating aggregates it changes (the
//! listing's and the host's, by atomic increments) and the host's
//! notification are written in one transaction; the notification is
//! announced once it has committed.

use chrono::{Duration, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, SqlErr,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};
use uuid::Uuid;

use super::{
    inputs::{self, NewReview, RawReview},
    messages,
    types::Review,
};
use crate::{
    bookings::{self, messages::Text},
    error::{AppError, AppResult},
    jobs::Jobs,
    notifications::{self, NewNotification, Recorded, record},
};
use domain::{
    infra::{db::begin_write, events::EventBus},
    kernel::{actor::Actor, stay::today},
};
use entity::booking::BookingStatus;
use entity::property::{Column as P, Entity as Properties};
use entity::review::{ActiveModel, Column as R, Entity as Reviews, Model};

pub const NOT_FOUND: &str = "Review not found";

/// How long after checkOut a stay may be reviewed.
pub const REVIEW_WINDOW_DAYS: i64 = 14;

#[derive(Clone)]
pub struct ReviewService {
    pub(crate) db: DatabaseConnection,
    pub(crate) bus: EventBus,
    pub(crate) jobs: Jobs,
}

fn already_reviewed() -> AppError {
    AppError::Conflict("This stay has already been reviewed".into())
}

/// `column = column + by`.
fn plus(column: P, by: i32) -> SimpleExpr {
    Expr::col(column).add(by)
}

impl ReviewService {
    pub fn new(db: DatabaseConnection, bus: EventBus, jobs: Jobs) -> Self {
        Self { db, bus, jobs }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn get(&self, id: Uuid) -> AppResult<Option<Model>> {
        Ok(Reviews::find_by_id(id).one(&self.db).await?)
    }

    /// Who may comes first (someone who may not see the stay learns nothing
    /// from the input's errors), then the input, then the stay's state.
    pub async fn create(&self, actor: Actor, raw: RawReview) -> AppResult<Review> {
        let booking = Bookings::find_by_id(raw.booking_id)
            .one(&self.db)
            .await?
            .filter(|b| bookings::service::may_see(b, actor))
            .ok_or_else(|| AppError::NotFound(bookings::service::NOT_FOUND.into()))?;
        if booking.guest_id != actor.user_id {
            return Err(AppError::Forbidden(
                "Only the guest of a stay may review it".into(),
            ));
        }
        let new: NewReview = raw.parse()?;
        if booking.status != BookingStatus::Completed {
            return Err(AppError::Conflict(
                "Only a completed stay can be reviewed".into(),
            ));
        }
        if today() > booking.check_out + Duration::days(REVIEW_WINDOW_DAYS) {
            return Err(AppError::Conflict(format!(
                "A stay can be reviewed only within {REVIEW_WINDOW_DAYS} days after check-out"
            )));
        }
        let exists = Reviews::find()
            .select_only()
            .column(R::Id)
            .filter(R::BookingId.eq(booking.id))
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?;
        if exists.is_some() {
            return Err(already_reviewed());
        }

        let now = Utc::now().trunc_subsecs(6);
        let c = new.categories;
        let txn = begin_write(&self.db).await?;
        let inserted = ActiveModel {
            id: Set(Uuid::now_v7()),
            booking_id: Set(booking.id),
            property_id: Set(booking.property_id),
            author_id: Set(actor.user_id),
            host_id: Set(booking.host_id),
            rating: Set(new.rating),
            cleanliness: Set(c.cleanliness),
            accuracy: Set(c.accuracy),
            check_in: Set(c.check_in),
            communication: Set(c.communication),
            location: Set(c.location),
            value: Set(c.value),
            comment: Set(new.comment),
            host_response: Set(None),
            host_responded_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await;
        let row = match inserted {
            Ok(row) => row,
            // The unique index decides between requests racing over one stay.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(already_reviewed());
            }
            Err(e) => return Err(e.into()),
        };
        add_to_aggregates(&txn, &row).await?;
        let listing = listing_title(&txn, row.property_id).await?;
        let author = entity::user::Entity::find_by_id(actor.user_id)
            .select_only()
            .column(entity::user::Column::FirstName)
            .into_tuple::<String>()
            .one(&txn)
            .await?
            .unwrap_or_else(|| "A guest".to_owned());
        let recorded = notify(
            &txn,
            row.host_id,
            row.booking_id,
            messages::review_received(&author, &listing, row.rating),
        )
        .await?;
        match txn.commit().await {
            Ok(()) => {}
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(already_reviewed());
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(review_id = %row.id, booking_id = %row.booking_id, "review written");
        notifications::announce(&self.bus, &self.jobs, [recorded]).await;
        Ok(row.into())
    }

    /// The listing's host answers a review, once. The author is told.
    pub async fn respond(&self, actor: Actor, id: Uuid, response: &str) -> AppResult<Review> {
        let review = self
            .get(id)
            .await?
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
        if review.host_id != actor.user_id {
            return Err(AppError::Forbidden(
                "Only the host of the reviewed listing may respond to a review".into(),
            ));
        }
        let response = inputs::text("input.response", response)?;
        if review.host_response.is_some() {
            return Err(already_responded());
        }
        let now = Utc::now().trunc_subsecs(6);
        let txn = begin_write(&self.db).await?;
        let changed = Reviews::update_many()
            .col_expr(R::HostResponse, Expr::value(response))
            .col_expr(R::HostRespondedAt, Expr::value(now))
            .col_expr(R::UpdatedAt, Expr::value(now))
            .filter(R::Id.eq(review.id))
            .filter(R::HostResponse.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if changed != 1 {
            return Err(already_responded());
        }
        let row = Reviews::find_by_id(review.id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
        let listing = listing_title(&txn, row.property_id).await?;
        let recorded = notify(
            &txn,
            row.author_id,
            row.booking_id,
            messages::response_received(&listing),
        )
        .await?;
        txn.commit().await?;
        notifications::announce(&self.bus, &self.jobs, [recorded]).await;
        Ok(row.into())
    }
}

fn already_responded() -> AppError {
    AppError::Conflict("This review already has a response".into())
}

use entity::booking::Entity as Bookings;

async fn listing_title(conn: &impl ConnectionTrait, property_id: Uuid) -> AppResult<String> {
    Ok(Properties::find_by_id(property_id)
        .select_only()
        .column(P::Title)
        .into_tuple::<String>()
        .one(conn)
        .await?
        .unwrap_or_else(|| "your listing".to_owned()))
}

async fn notify(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    booking_id: Uuid,
    text: Text,
) -> AppResult<Recorded> {
    record(
        conn,
        NewNotification {
            user_id,
            kind: text.kind,
            title: text.title,
            body: text.body,
            booking_id: Some(booking_id),
        },
    )
    .await
}

/// Adds a review to its listing's and its host's rating aggregates, by
/// atomic increments in the caller's transaction (never by rescanning the
/// reviews). Categories count only when rated.
pub async fn add_to_aggregates(conn: &impl ConnectionTrait, review: &Model) -> AppResult<()> {
    let r = review.rating;
    let mut update = Properties::update_many()
        .col_expr(P::RatingSum, plus(P::RatingSum, r))
        .col_expr(P::RatingCount, plus(P::RatingCount, 1))
        .col_expr(
            P::RatingAvg,
            Expr::cust(format!(
                "CAST(rating_sum + {r} AS DOUBLE PRECISION) / (rating_count + 1)"
            )),
        );
    for (value, sum, count) in [
        (review.cleanliness, P::CleanlinessSum, P::CleanlinessCount),
        (review.accuracy, P::AccuracySum, P::AccuracyCount),
        (review.check_in, P::CheckInSum, P::CheckInCount),
        (
            review.communication,
            P::CommunicationSum,
            P::CommunicationCount,
        ),
        (review.location, P::LocationSum, P::LocationCount),
        (review.value, P::ValueSum, P::ValueCount),
    ] {
        if let Some(v) = value {
            update = update
                .col_expr(sum, plus(sum, v))
                .col_expr(count, plus(count, 1));
        }
    }
    update
        .filter(P::Id.eq(review.property_id))
        .exec(conn)
        .await?;
    use entity::user::{Column as U, Entity as Users};
    Users::update_many()
        .col_expr(
            U::HostRatingSum,
            Expr::col(U::HostRatingSum).add(i64::from(r)),
        )
        .col_expr(U::HostRatingCount, Expr::col(U::HostRatingCount).add(1))
        .filter(U::Id.eq(review.host_id))
        .exec(conn)
        .await?;
    Ok(())
}
