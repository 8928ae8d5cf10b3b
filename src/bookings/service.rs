//! The booking rules (docs/API.md, Bookings): making a booking, and every
//! change of its status, each a row of `machine::TABLE` found by
//! `machine::apply` and carried out here, in one transaction that also
//! records the notifications it causes. Once a change has committed, its
//! event is published and the work it leaves (emails, payment settlement)
//! is queued.
//!
//! Changes are optimistic: a status moves only from the status (and
//! version) it was read in, so two requests racing over one booking cannot
//! both move it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    machine::{self, By, Effect, Event, Facts, Step},
    types::Booking,
};
use crate::{
    error::{AppError, AppResult},
    jobs::{Job, Jobs},
    notifications::{self, NewNotification, Recorded, record},
    properties::{PropertyService, types::Property},
};
use domain::{
    config::BookingWindows,
    infra::{
        db::begin_write,
        events::{BookingChanged, Event as BusEvent, EventBus},
    },
    kernel::{
        actor::Actor,
        stay::{StayDates, today},
    },
};
use entity::booking::{ActiveModel, BookingStatus as S, Column as B, Entity as Bookings, Model};

pub const NOT_FOUND: &str = "Booking not found";

#[derive(Clone)]
pub struct BookingService {
    pub(crate) db: DatabaseConnection,
    pub(crate) properties: PropertyService,
    pub(crate) bus: EventBus,
    pub(crate) jobs: Jobs,
    pub(crate) windows: BookingWindows,
}

/// A committed change, and what it leaves to do.
#[derive(Debug, Clone)]
pub struct Change {
    pub booking: Model,
    /// The row of the state machine it made.
    pub step: Step,
    pub event: BookingChanged,
    pub notifications: Vec<Recorded>,
}

/// A stay as asked for.
pub struct NewBooking {
    pub property_id: Uuid,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub guests: i32,
}

/// The overlap constraint (PostgreSQL) or trigger (SQLite) refused a row.
pub fn is_overlap(e: &sea_orm::DbErr) -> bool {
    e.to_string().contains("bookings_no_overlap")
}

pub fn taken() -> AppError {
    AppError::Conflict("Those dates are not available".into())
}

impl BookingService {
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A booking by id, for `actor` if they are its guest, its host or an
    /// admin; `None` otherwise.
    pub async fn visible(&self, actor: Option<Actor>, id: Uuid) -> AppResult<Option<Booking>> {
        let Some(actor) = actor else {
            return Ok(None);
        };
        let row = Bookings::find_by_id(id).one(&self.db).await?;
        Ok(row.filter(|b| may_see(b, actor)).map(Booking::from))
    }

    /// The booking for a change by `actor`: NOT_FOUND unless they may see it.
    pub(crate) async fn seen(&self, actor: Actor, id: Uuid) -> AppResult<Model> {
        Bookings::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|b| may_see(b, actor))
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))
    }

    pub async fn create(&self, actor: Actor, new: NewBooking) -> AppResult<Booking> {
        let property: Property = self
            .properties
            .visible(new.property_id, Some(actor))
            .await?
            .filter(Property::is_public)
            .ok_or_else(|| AppError::NotFound(crate::properties::service::NOT_FOUND.into()))?;
        let step = machine::apply(
            &Facts::new_booking(actor.user_id, property.host_id, new.check_out),
            By::Person(actor),
            Event::Create,
            Utc::now(),
            today(),
        )?;
        check_stay(&property, &new)?;
        // Holds and requests of this listing whose time is up give their
        // nights back now, not at the worker's next sweep.
        self.sweep(
            holds_due().filter(B::PropertyId.eq(property.id)),
            Event::HoldRanOut,
        )
        .await?;
        self.sweep(
            requests_due().filter(B::PropertyId.eq(property.id)),
            Event::AnswerWindowRanOut,
        )
        .await?;

        let txn = begin_write(&self.db).await?;
        // Shared with other bookings, exclusive with a calendar edit or a
        // delete; and the listing must still be listed once locked.
        entity::property::Entity::find_by_id(property.id)
            .select_only()
            .column(entity::property::Column::Id)
            .filter(entity::property::Column::DeletedAt.is_null())
            .filter(entity::property::Column::Status.eq(entity::property::ListingStatus::Listed))
            .lock_shared()
            .into_tuple::<Uuid>()
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(crate::properties::service::NOT_FOUND.into()))?;
        let nights = self
            .properties
            .nights_on(&txn, &property, new.check_in, new.check_out)
            .await?;
        if !nights.iter().all(|n| n.open()) {
            return Err(taken());
        }
        let price = self.properties.price(&property, &nights);
        let now = Utc::now();
        let row = ActiveModel {
            id: Set(Uuid::now_v7()),
            property_id: Set(property.id),
            guest_id: Set(actor.user_id),
            host_id: Set(property.host_id),
            check_in: Set(new.check_in),
            check_out: Set(new.check_out),
            nights: Set(i32::try_from(nights.len()).unwrap_or(i32::MAX)),
            guests: Set(new.guests),
            status: Set(step.to()),
            version: Set(1),
            currency: Set(property.currency.code().to_owned()),
            nights_total_minor: Set(price.nights_total),
            discount_minor: Set(price.discount),
            cleaning_fee_minor: Set(price.cleaning_fee),
            service_fee_minor: Set(price.service_fee),
            taxes_minor: Set(price.taxes),
            total_minor: Set(price.total),
            expires_at: Set(self.expiry(step, now)),
            cancelled_at: Set(None),
            cancelled_by: Set(None),
            cancellation_reason: Set(None),
            refund_percent: Set(None),
            refund_minor: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await;
        let row = match row {
            Ok(row) => row,
            Err(e) if is_overlap(&e) => return Err(taken()),
            Err(e) => return Err(e.into()),
        };
        let notifications = notify(&txn, &row, &property.title, None).await?;
        match txn.commit().await {
            Ok(()) => {}
            Err(e) if is_overlap(&e) => return Err(taken()),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(booking_id = %row.id, property_id = %property.id, "booking created");
        self.after(vec![Change {
            event: event(&row, None),
            booking: row.clone(),
            step,
            notifications,
        }])
        .await;
        Ok(row.into())
    }

    /// When a booking `step` makes at `now` runs out, if it sets a timer.
    fn expiry(&self, step: Step, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        step.effects().iter().find_map(|effect| match effect {
            Effect::HoldNights => Some(now + self.windows.hold),
            Effect::OpenAnswerWindow => Some(now + self.windows.host_answer),
            Effect::Capture | Effect::Void | Effect::Refund(_) => None,
        })
    }

    /// Makes `step` (from `machine::apply`) to `booking` within `conn`, if
    /// it is still as it was read; records the notifications. `None` when
    /// someone else moved it first. `set` writes what the event brought
    /// (a reason, a refund).
    pub(crate) async fn transition(
        &self,
        conn: &impl ConnectionTrait,
        booking: &Model,
        step: Step,
        set: impl FnOnce(&mut ActiveModel),
    ) -> AppResult<Option<Change>> {
        let now = Utc::now();
        let mut m = ActiveModel {
            status: Set(step.to()),
            version: Set(booking.version + 1),
            updated_at: Set(now),
            expires_at: Set(self.expiry(step, now)),
            ..Default::default()
        };
        set(&mut m);
        let moved = Bookings::update_many()
            .set(m)
            .filter(B::Id.eq(booking.id))
            .filter(B::Status.eq(booking.status))
            .filter(B::Version.eq(booking.version))
            .exec(conn)
            .await?
            .rows_affected;
        if moved != 1 {
            return Ok(None);
        }
        let row = Bookings::find_by_id(booking.id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
        let title = entity::property::Entity::find_by_id(row.property_id)
            .select_only()
            .column(entity::property::Column::Title)
            .into_tuple::<String>()
            .one(conn)
            .await?
            .unwrap_or_default();
        let notifications = notify(conn, &row, &title, Some(booking.status)).await?;
        Ok(Some(Change {
            event: event(&row, Some(booking.status)),
            booking: row,
            step,
            notifications,
        }))
    }

    /// What committed changes leave: their events, their emails, and the
    /// settlement of their payments.
    pub(crate) async fn after(&self, changes: Vec<Change>) {
        self.announce(changes, true).await;
    }

    /// Events and emails of committed changes; and, when `settle`, a job
    /// to settle the payments of those whose row captures, voids or refunds
    /// (not when the settlement job made the change: it carries on itself).
    pub(crate) async fn announce(&self, changes: Vec<Change>, settle: bool) {
        for change in changes {
            self.bus
                .publish(BusEvent::BookingChanged(Box::new(change.event)))
                .await;
            notifications::announce(&self.bus, &self.jobs, change.notifications).await;
            if settle && change.step.moves_money() {
                let payments: Vec<Uuid> = entity::payment::Entity::find()
                    .select_only()
                    .column(entity::payment::Column::Id)
                    .filter(entity::payment::Column::BookingId.eq(change.booking.id))
                    .filter(
                        entity::payment::Column::Status.ne(entity::payment::PaymentStatus::Failed),
                    )
                    .into_tuple()
                    .all(&self.db)
                    .await
                    .unwrap_or_else(|e| {
                        // The scheduler finds unsettled payments anyway.
                        tracing::warn!(error = %e, booking_id = %change.booking.id, "could not queue the booking's payment settlement");
                        Vec::new()
                    });
                for payment_id in payments {
                    self.jobs.enqueue(Job::SettlePayment { payment_id }).await;
                }
            }
        }
    }

    /// Applies `event` for `actor` to a booking: the row of the state
    /// machine, then the change.
    pub(super) async fn act(
        &self,
        actor: Actor,
        id: Uuid,
        event: Event,
        set: impl FnOnce(&mut ActiveModel),
    ) -> AppResult<Booking> {
        let booking = self.seen(actor, id).await?;
        let step = machine::apply(
            &Facts::from(&booking),
            By::Person(actor),
            event,
            Utc::now(),
            today(),
        )?;
        self.carry_out(&booking, step, set).await
    }

    /// Makes a person's `step` to `booking` in one transaction; CONFLICT
    /// when the booking moved since it was read.
    pub(super) async fn carry_out(
        &self,
        booking: &Model,
        step: Step,
        set: impl FnOnce(&mut ActiveModel),
    ) -> AppResult<Booking> {
        let txn = begin_write(&self.db).await?;
        let change = self
            .transition(&txn, booking, step, set)
            .await?
            .ok_or_else(|| {
                AppError::Conflict("The booking changed meanwhile; reload it and try again".into())
            })?;
        txn.commit().await?;
        let row = change.booking.clone();
        self.after(vec![change]).await;
        Ok(row.into())
    }

    /// Bookings matching `due`, moved one by one by the worker's `event`
    /// (each in its own transaction, so one failure does not hold up the
    /// rest).
    pub(super) async fn sweep(
        &self,
        due: sea_orm::Select<Bookings>,
        event: Event,
    ) -> AppResult<usize> {
        let rows = due.limit(500).all(&self.db).await?;
        let mut moved = 0;
        for row in rows {
            // A booking that cannot move is logged and left for the next
            // sweep; the others still move.
            let change = async {
                let step =
                    machine::apply(&Facts::from(&row), By::Worker, event, Utc::now(), today())?;
                let txn = begin_write(&self.db).await?;
                let change = self.transition(&txn, &row, step, |_| {}).await?;
                txn.commit().await?;
                AppResult::Ok(change)
            };
            match change.await {
                Ok(Some(change)) => {
                    moved += 1;
                    self.after(vec![change]).await;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(booking_id = %row.id, event = event.label(), error = %e, "a booking could not be moved; skipped");
                    metrics::counter!("roost_scheduler_skipped_total").increment(1);
                }
            }
        }
        Ok(moved)
    }
}

/// The guest, the host and admins may see a booking.
pub fn may_see(b: &Model, actor: Actor) -> bool {
    b.guest_id == actor.user_id || b.host_id == actor.user_id || actor.is_admin()
}

fn check_stay(property: &Property, new: &NewBooking) -> AppResult<()> {
    StayDates::new(new.check_in, new.check_out, today()).map_err(|e| e.under("input"))?;
    crate::properties::calendar::check_stay(property, new.check_in, new.check_out, new.guests)
        .map_err(|e| e.under("input"))
}

pub fn event(row: &Model, previous: Option<S>) -> BookingChanged {
    BookingChanged {
        booking_id: row.id,
        property_id: row.property_id,
        guest_id: row.guest_id,
        host_id: row.host_id,
        previous_status: previous.map(status_name),
        status: status_name(row.status),
        version: row.version,
        occurred_at: row.updated_at,
        booking: row.clone(),
        payment_changed: false,
    }
}

/// The event of `row`'s payment having moved (its status has not).
pub fn payment_event(row: &Model) -> BookingChanged {
    BookingChanged {
        previous_status: Some(status_name(row.status)),
        occurred_at: Utc::now(),
        payment_changed: true,
        ..event(row, None)
    }
}

pub fn status_name(s: S) -> String {
    machine::status_name(s).to_owned()
}

/// The notifications a booking's new status causes, for guest and host.
async fn notify(
    conn: &impl ConnectionTrait,
    b: &Model,
    title: &str,
    previous: Option<S>,
) -> AppResult<Vec<Recorded>> {
    let mut ids = Vec::with_capacity(2);
    for (user_id, text) in super::messages::for_status(b, title, previous) {
        ids.push(
            record(
                conn,
                NewNotification {
                    user_id,
                    kind: text.kind,
                    title: text.title,
                    body: text.body,
                    booking_id: Some(b.id),
                },
            )
            .await?,
        );
    }
    Ok(ids)
}

/// Bookings whose hold has run out, with no payment in flight or held
/// (those move on when their payment is settled).
pub fn holds_due() -> sea_orm::Select<Bookings> {
    Bookings::find()
        .filter(B::Status.eq(S::PendingPayment))
        .filter(B::ExpiresAt.lt(Utc::now()))
        .filter(
            Expr::cust(
                "NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = bookings.id AND p.status IN ('PROCESSING', 'AUTHORIZED', 'SUCCEEDED'))",
            ),
        )
}

/// Requests the host did not answer in time.
pub fn requests_due() -> sea_orm::Select<Bookings> {
    Bookings::find()
        .filter(B::Status.eq(S::AwaitingHost))
        .filter(B::ExpiresAt.lt(Utc::now()))
}

/// Confirmed stays whose check-out date is over (the day after it, UTC).
pub fn stays_due() -> sea_orm::Select<Bookings> {
    Bookings::find()
        .filter(B::Status.eq(S::Confirmed))
        .filter(B::CheckOut.lt(today()))
}
