//! The booking state machine (docs/API.md, Bookings). [`TABLE`] is every
//! status change a booking makes, and [`apply`] is the one way to make one:
//! it finds the row, or says why there is none; the service then carries
//! out what the row says.
//!
//! <!-- The table below is TABLE, rendered by tests::the_doc_is_the_table; edit TABLE, not this. -->
//! | from                                      | event                              | who         | when                      | to              | effects                                      |
//! |-------------------------------------------|------------------------------------|-------------|---------------------------|-----------------|----------------------------------------------|
//! | (new)                                     | createBooking                      | guest       | not the listing's host    | PENDING_PAYMENT | hold the nights (expiresAt = now + hold)     |
//! | PENDING_PAYMENT                           | payment authorized, instant book   | provider    |                           | CONFIRMED       | capture                                      |
//! | PENDING_PAYMENT                           | payment authorized, request        | provider    |                           | AWAITING_HOST   | answer window (expiresAt = now + hostAnswer) |
//! | PENDING_PAYMENT                           | hold ran out, no payment in flight | worker      | expiresAt passed          | EXPIRED         | void                                         |
//! | AWAITING_HOST                             | acceptBooking                      | host, admin | answer window open        | CONFIRMED       | capture                                      |
//! | AWAITING_HOST                             | declineBooking                     | host, admin | answer window open        | DECLINED        | void                                         |
//! | AWAITING_HOST                             | answer window ran out              | worker      | expiresAt passed          | EXPIRED         | void                                         |
//! | PENDING_PAYMENT, AWAITING_HOST, CONFIRMED | cancelBooking                      | guest       | before the check-out date | CANCELLED       | refund by the listing's policy, or void      |
//! | PENDING_PAYMENT, AWAITING_HOST, CONFIRMED | cancelBooking                      | host, admin | before the check-out date | CANCELLED       | refund all, or void                          |
//! | CONFIRMED                                 | check-out date passed              | worker      | after the check-out date  | COMPLETED       |                                              |
//! <!-- End of TABLE. -->
//!
//! **Finding the row.** A person plays the roles guest, host and admin on a
//! booking as far as they are its guest, its host, an admin; the worker and
//! the payment provider play their own. The first of those roles, in that
//! order, with a row for the event and the booking's status decides (an
//! admin who is the booking's guest cancels as its guest). No row for the
//! event that any of the roles may apply: `FORBIDDEN`. Rows, but none from
//! this status: `CONFLICT`. The row's *when* unmet: its own error.
//!
//! **Every row** publishes a `BookingStatusEvent`, notifies guest and host
//! and emails them. createBooking inserts the booking (the overlap
//! constraint refuses nights another active booking holds); every other
//! row writes the new status only from the status and version the booking
//! was read in (a conditional UPDATE: of two racing changes one wins),
//! bumps the version, and clears expiresAt unless an effect sets it.
//! Capture, void and refund are the settlement job's (`payments::service`):
//! a change that has them queues it for the booking's payments, except a
//! change the settlement job made itself, which carries on.
//!
//! **Who.** *worker* is the clock: the worker's sweeps, and createBooking's
//! own sweep of the listing it books. *provider* is the payment provider's
//! answer (from the settlement job, or from Stripe's webhook through it); a
//! payment that is authorized or already taken moves a booking still
//! PENDING_PAYMENT whatever its hold (the hold sweep waits for a payment in
//! flight).
//!
//! **Not rows**, since they leave the booking's status as it is:
//! `payBooking` records a payment; a payment that fails leaves the booking
//! PENDING_PAYMENT, and the guest may pay again until the hold runs out; a
//! payment the provider cancels leaves the booking as it is.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use domain::kernel::actor::Actor;
use entity::booking::{BookingStatus as S, Model};

/// Who applies an event: a role a person plays on the booking, or the
/// system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Guest,
    Host,
    Admin,
    /// The clock: expiry and completion.
    Worker,
    /// The payment provider's answer.
    Provider,
}

impl Who {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Host => "host",
            Self::Admin => "admin",
            Self::Worker => "worker",
            Self::Provider => "provider",
        }
    }
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// A signed-in person, whose roles follow from the booking.
    Person(Actor),
    Worker,
    Provider,
}

impl By {
    /// The roles `self` plays on `b`, the one that decides first.
    fn roles(self, b: &Facts) -> impl Iterator<Item = Who> {
        match self {
            Self::Person(actor) => [
                (b.guest_id == actor.user_id).then_some(Who::Guest),
                (b.host_id == actor.user_id).then_some(Who::Host),
                actor.is_admin().then_some(Who::Admin),
            ],
            Self::Worker => [Some(Who::Worker), None, None],
            Self::Provider => [Some(Who::Provider), None, None],
        }
        .into_iter()
        .flatten()
    }
}

/// What happens to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// `createBooking`.
    Create,
    /// The payment was authorized (or already taken).
    PaymentAuthorized { instant_book: bool },
    /// The hold ran out with no payment in flight.
    HoldRanOut,
    /// `acceptBooking`.
    Accept,
    /// `declineBooking`.
    Decline,
    /// The host did not answer in time.
    AnswerWindowRanOut,
    /// `cancelBooking`.
    Cancel,
    /// The check-out date is over.
    CheckOutPassed,
}

impl Event {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Create => "createBooking",
            Self::PaymentAuthorized { instant_book: true } => "payment authorized, instant book",
            Self::PaymentAuthorized {
                instant_book: false,
            } => "payment authorized, request",
            Self::HoldRanOut => "hold ran out, no payment in flight",
            Self::Accept => "acceptBooking",
            Self::Decline => "declineBooking",
            Self::AnswerWindowRanOut => "answer window ran out",
            Self::Cancel => "cancelBooking",
            Self::CheckOutPassed => "check-out date passed",
        }
    }

    /// No row for the event that `by` may apply.
    fn not_yours(self) -> AppError {
        AppError::Forbidden(
            match self {
                Self::Accept | Self::Decline => {
                    "Only the listing's host or an admin answers a booking request"
                }
                Self::Cancel => "Only the booking's guest, its host or an admin cancels it",
                Self::Create => "Only a signed-in guest books a stay",
                Self::PaymentAuthorized { .. } => {
                    "Only the payment provider's answer moves a booking on when it is paid"
                }
                Self::HoldRanOut | Self::AnswerWindowRanOut | Self::CheckOutPassed => {
                    "Only the worker moves a booking when its time is up"
                }
            }
            .into(),
        )
    }

    /// Rows for the event, but none from `status`.
    fn not_now(self, status: Option<S>) -> AppError {
        let is = status.map_or("not made yet", status_name);
        AppError::Conflict(match self {
            Self::Accept | Self::Decline => {
                format!("Only a booking awaiting the host can be answered; this one is {is}")
            }
            Self::Cancel => format!("A booking that is {is} cannot be cancelled"),
            Self::Create => "This booking has been made already".into(),
            Self::PaymentAuthorized { .. } | Self::HoldRanOut => {
                format!("Only a booking waiting for payment moves on this way; this one is {is}")
            }
            Self::AnswerWindowRanOut => {
                format!("Only a booking awaiting the host expires unanswered; this one is {is}")
            }
            Self::CheckOutPassed => {
                format!("Only a confirmed booking is completed; this one is {is}")
            }
        })
    }
}

/// What must hold, besides the status, for a row to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// The guest is not the listing's host.
    NotOwnListing,
    /// expiresAt is not past.
    AnswerWindowOpen,
    /// Today is before the check-out date.
    StayNotOver,
    /// expiresAt is past.
    TimeUp,
    /// Today is after the check-out date.
    StayOver,
}

impl When {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Always => "",
            Self::NotOwnListing => "not the listing's host",
            Self::AnswerWindowOpen => "answer window open",
            Self::StayNotOver => "before the check-out date",
            Self::TimeUp => "expiresAt passed",
            Self::StayOver => "after the check-out date",
        }
    }

    fn check(self, b: &Facts, now: DateTime<Utc>, today: NaiveDate) -> AppResult<()> {
        let conflict = |m: &str| AppError::Conflict(m.into());
        let refusal =
            match self {
                Self::Always => None,
                Self::NotOwnListing => (b.guest_id == b.host_id)
                    .then(|| AppError::Forbidden("You cannot book your own listing".into())),
                Self::AnswerWindowOpen => b
                    .expires_at
                    .is_some_and(|at| at <= now)
                    .then(|| conflict("The time to answer this request has run out")),
                Self::StayNotOver => (b.check_out <= today)
                    .then(|| conflict("The stay is over; it cannot be cancelled")),
                Self::TimeUp => b
                    .expires_at
                    .is_none_or(|at| at >= now)
                    .then(|| conflict("The booking's time has not run out")),
                Self::StayOver => (b.check_out >= today)
                    .then(|| conflict("The stay's check-out date has not passed")),
            };
        refusal.map_or(Ok(()), Err)
    }
}

/// How much of what was captured a cancellation gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// By the listing's cancellation policy (`refunds`).
    Policy,
    /// All of it.
    Whole,
}

/// What a row leaves to do, besides the change every row makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The nights are held until expiresAt, the hold window from now.
    HoldNights,
    /// The host answers before expiresAt, the answer window from now.
    OpenAnswerWindow,
    /// The authorized payment is captured.
    Capture,
    /// The authorization is released.
    Void,
    /// The share of what was captured is refunded; what was only authorized
    /// is released.
    Refund(Share),
}

impl Effect {
    pub const fn label(self) -> &'static str {
        match self {
            Self::HoldNights => "hold the nights (expiresAt = now + hold)",
            Self::OpenAnswerWindow => "answer window (expiresAt = now + hostAnswer)",
            Self::Capture => "capture",
            Self::Void => "void",
            Self::Refund(Share::Policy) => "refund by the listing's policy, or void",
            Self::Refund(Share::Whole) => "refund all, or void",
        }
    }

    /// Whether the settlement job carries it out.
    pub const fn moves_money(self) -> bool {
        matches!(self, Self::Capture | Self::Void | Self::Refund(_))
    }
}

/// One transition.
#[derive(Debug, PartialEq, Eq)]
pub struct Row {
    /// The statuses it leaves; `None` is a booking not made yet.
    pub from: &'static [Option<S>],
    pub event: Event,
    pub who: &'static [Who],
    pub when: When,
    pub to: S,
    pub effects: &'static [Effect],
}

const PENDING: &[Option<S>] = &[Some(S::PendingPayment)];
const AWAITING: &[Option<S>] = &[Some(S::AwaitingHost)];
const ACTIVE: &[Option<S>] = &[
    Some(S::PendingPayment),
    Some(S::AwaitingHost),
    Some(S::Confirmed),
];
const HOST_OR_ADMIN: &[Who] = &[Who::Host, Who::Admin];

/// Every transition of a booking.
pub const TABLE: &[Row] = &[
    Row {
        from: &[None],
        event: Event::Create,
        who: &[Who::Guest],
        when: When::NotOwnListing,
        to: S::PendingPayment,
        effects: &[Effect::HoldNights],
    },
    Row {
        from: PENDING,
        event: Event::PaymentAuthorized { instant_book: true },
        who: &[Who::Provider],
        when: When::Always,
        to: S::Confirmed,
        effects: &[Effect::Capture],
    },
    Row {
        from: PENDING,
        event: Event::PaymentAuthorized {
            instant_book: false,
        },
        who: &[Who::Provider],
        when: When::Always,
        to: S::AwaitingHost,
        effects: &[Effect::OpenAnswerWindow],
    },
    Row {
        from: PENDING,
        event: Event::HoldRanOut,
        who: &[Who::Worker],
        when: When::TimeUp,
        to: S::Expired,
        // A payment that slipped in as the hold ran out.
        effects: &[Effect::Void],
    },
    Row {
        from: AWAITING,
        event: Event::Accept,
        who: HOST_OR_ADMIN,
        when: When::AnswerWindowOpen,
        to: S::Confirmed,
        effects: &[Effect::Capture],
    },
    Row {
        from: AWAITING,
        event: Event::Decline,
        who: HOST_OR_ADMIN,
        when: When::AnswerWindowOpen,
        to: S::Declined,
        effects: &[Effect::Void],
    },
    Row {
        from: AWAITING,
        event: Event::AnswerWindowRanOut,
        who: &[Who::Worker],
        when: When::TimeUp,
        to: S::Expired,
        effects: &[Effect::Void],
    },
    Row {
        from: ACTIVE,
        event: Event::Cancel,
        who: &[Who::Guest],
        when: When::StayNotOver,
        to: S::Cancelled,
        effects: &[Effect::Refund(Share::Policy)],
    },
    Row {
        from: ACTIVE,
        event: Event::Cancel,
        who: HOST_OR_ADMIN,
        when: When::StayNotOver,
        to: S::Cancelled,
        effects: &[Effect::Refund(Share::Whole)],
    },
    Row {
        from: &[Some(S::Confirmed)],
        event: Event::CheckOutPassed,
        who: &[Who::Worker],
        when: When::StayOver,
        to: S::Completed,
        effects: &[],
    },
];

/// What the machine reads of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// `None` before it is made.
    pub status: Option<S>,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub check_out: NaiveDate,
}

impl Facts {
    /// A booking about to be made by `guest_id` of `host_id`'s listing.
    pub fn new_booking(guest_id: Uuid, host_id: Uuid, check_out: NaiveDate) -> Self {
        Self {
            status: None,
            guest_id,
            host_id,
            expires_at: None,
            check_out,
        }
    }
}

impl From<&Model> for Facts {
    fn from(b: &Model) -> Self {
        Self {
            status: Some(b.status),
            guest_id: b.guest_id,
            host_id: b.host_id,
            expires_at: b.expires_at,
            check_out: b.check_out,
        }
    }
}

/// A row that applies, and the role it applies as. Only [`apply`] makes
/// one, so every status change has been through the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    row: &'static Row,
    who: Who,
}

impl Step {
    pub fn event(self) -> Event {
        self.row.event
    }

    pub fn to(self) -> S {
        self.row.to
    }

    /// The role it applies as (a cancellation's guest, host or admin).
    pub fn who(self) -> Who {
        self.who
    }

    pub fn effects(self) -> &'static [Effect] {
        self.row.effects
    }

    /// The refund of a cancellation.
    pub fn refund(self) -> Option<Share> {
        self.row.effects.iter().find_map(|e| match e {
            Effect::Refund(share) => Some(*share),
            _ => None,
        })
    }

    /// Whether the settlement job has something to do after it.
    pub fn moves_money(self) -> bool {
        self.row.effects.iter().any(|e| e.moves_money())
    }
}

/// The row `event` by `by` applies to `b` at `now` (`today` its date), or
/// why there is none (see the module doc for which error).
pub fn apply(
    b: &Facts,
    by: By,
    event: Event,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> AppResult<Step> {
    let mut may = false;
    for who in by.roles(b) {
        for row in TABLE
            .iter()
            .filter(|r| r.event == event && r.who.contains(&who))
        {
            may = true;
            if row.from.contains(&b.status) {
                row.when.check(b, now, today)?;
                return Ok(Step { row, who });
            }
        }
    }
    Err(if may {
        event.not_now(b.status)
    } else {
        event.not_yours()
    })
}

/// A status as clients see it (`PENDING_PAYMENT`).
pub const fn status_name(s: S) -> &'static str {
    match s {
        S::PendingPayment => "PENDING_PAYMENT",
        S::AwaitingHost => "AWAITING_HOST",
        S::Confirmed => "CONFIRMED",
        S::Declined => "DECLINED",
        S::Cancelled => "CANCELLED",
        S::Expired => "EXPIRED",
        S::Completed => "COMPLETED",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{Duration, TimeZone};
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;
    use domain::kernel::actor::Role;

    const BEGIN: &str = "<!-- The table below is TABLE, rendered by tests::the_doc_is_the_table; edit TABLE, not this. -->";
    const END: &str = "<!-- End of TABLE. -->";

    fn render() -> String {
        let from = |from: &[Option<S>]| {
            from.iter()
                .map(|s| s.map_or("(new)", status_name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let who = |who: &[Who]| who.iter().map(|w| w.label()).collect::<Vec<_>>().join(", ");
        let effects = |effects: &[Effect]| {
            effects
                .iter()
                .map(|e| e.label())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut lines: Vec<[String; 6]> =
            vec![["from", "event", "who", "when", "to", "effects"].map(str::to_owned)];
        lines.extend(TABLE.iter().map(|r| {
            [
                from(r.from),
                r.event.label().to_owned(),
                who(r.who),
                r.when.label().to_owned(),
                status_name(r.to).to_owned(),
                effects(r.effects),
            ]
        }));
        let mut widths = [0; 6];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let row = |cells: &[String; 6]| {
            let cells: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!(" {c:w$} "))
                .collect();
            format!("|{}|", cells.join("|"))
        };
        let rule = format!(
            "|{}|",
            widths
                .iter()
                .map(|w| "-".repeat(w + 2))
                .collect::<Vec<_>>()
                .join("|")
        );
        let mut out = vec![row(&lines[0]), rule];
        out.extend(lines[1..].iter().map(row));
        out.join("\n")
    }

    #[test]
    fn the_doc_is_the_table() {
        let doc: Vec<&str> = include_str!("machine.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        let begin = doc
            .iter()
            .position(|l| *l == BEGIN)
            .expect("the begin marker");
        let end = doc.iter().position(|l| *l == END).expect("the end marker");
        let found = doc[begin + 1..end].join("\n");
        let expected = render();
        let as_doc: Vec<String> = expected.lines().map(|l| format!("//! {l}")).collect();
        assert!(
            found == expected,
            "the module doc's table is not TABLE; between the markers, put:\n{}",
            as_doc.join("\n")
        );
    }

    #[test]
    fn status_names_are_the_stored_ones() {
        for s in S::iter() {
            assert_eq!(status_name(s), s.to_value());
        }
    }

    #[test]
    fn no_two_rows_share_a_status_event_and_role() {
        let mut seen = HashSet::new();
        for row in TABLE {
            for from in row.from {
                for who in row.who {
                    assert!(
                        seen.insert((*from, row.event, *who)),
                        "two rows for {from:?}, {:?}, {who:?}",
                        row.event
                    );
                }
            }
        }
        assert_eq!(seen.len(), 19);
    }

    #[test]
    fn the_active_statuses_are_the_ones_that_hold_nights() {
        let active: Vec<Option<S>> = S::ACTIVE.iter().map(|s| Some(*s)).collect();
        assert_eq!(ACTIVE, active.as_slice());
    }

    fn guest() -> Uuid {
        Uuid::from_u128(1)
    }
    fn host() -> Uuid {
        Uuid::from_u128(2)
    }
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 6, 20, 12, 0, 0)
            .single()
            .expect("a time")
    }
    fn today() -> NaiveDate {
        now().date_naive()
    }
    fn days(n: i64) -> NaiveDate {
        today() + Duration::days(n)
    }

    fn person(user_id: Uuid, role: Role) -> By {
        By::Person(Actor { user_id, role })
    }
    fn as_guest() -> By {
        person(guest(), Role::Guest)
    }
    fn as_host() -> By {
        person(host(), Role::Host)
    }
    /// An admin who is neither the guest nor the host.
    fn as_admin() -> By {
        person(Uuid::from_u128(3), Role::Admin)
    }

    /// Someone in `who`'s role only.
    fn as_only(who: Who) -> By {
        match who {
            Who::Guest => as_guest(),
            Who::Host => as_host(),
            Who::Admin => as_admin(),
            Who::Worker => By::Worker,
            Who::Provider => By::Provider,
        }
    }

    /// A booking in `status` that meets `when` at `now()`.
    fn meeting(status: Option<S>, when: When) -> Facts {
        let mut b = Facts {
            status,
            guest_id: guest(),
            host_id: host(),
            expires_at: Some(now() + Duration::minutes(10)),
            check_out: days(3),
        };
        match when {
            When::TimeUp => b.expires_at = Some(now() - Duration::seconds(1)),
            When::StayOver => b.check_out = days(-1),
            When::Always | When::NotOwnListing | When::AnswerWindowOpen | When::StayNotOver => {}
        }
        b
    }

    /// The same booking, not meeting `when`; `None` for `Always`.
    fn missing(b: Facts, when: When) -> Option<Facts> {
        let mut b = b;
        match when {
            When::Always => return None,
            When::NotOwnListing => b.guest_id = b.host_id,
            When::AnswerWindowOpen => b.expires_at = Some(now()),
            When::StayNotOver => b.check_out = today(),
            When::TimeUp => b.expires_at = Some(now()),
            When::StayOver => b.check_out = today(),
        }
        Some(b)
    }

    /// What `event` by `by` does to `b` at `now()`.
    fn moved(b: &Facts, by: By, event: Event) -> (S, Who, &'static [Effect]) {
        match apply(b, by, event, now(), today()) {
            Ok(step) => (step.to(), step.who(), step.effects()),
            Err(e) => panic!("refused: {e:?}"),
        }
    }

    /// (code, message) of `event` by `by` refused for `b` at `now()`.
    fn refused(b: &Facts, by: By, event: Event) -> (&'static str, String) {
        match apply(b, by, event, now(), today()) {
            Ok(step) => panic!("applied {step:?}"),
            Err(AppError::Forbidden(m)) => ("FORBIDDEN", m),
            Err(AppError::Conflict(m)) => ("CONFLICT", m),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    fn forbidden(message: &str) -> (&'static str, String) {
        ("FORBIDDEN", message.to_owned())
    }

    fn conflict(message: &str) -> (&'static str, String) {
        ("CONFLICT", message.to_owned())
    }

    #[test]
    fn every_row_applies_as_written_from_each_status_for_each_role() {
        for row in TABLE {
            for from in row.from {
                for who in row.who {
                    let b = meeting(*from, row.when);
                    let step = apply(&b, as_only(*who), row.event, now(), today())
                        .unwrap_or_else(|e| panic!("{row:?} from {from:?} by {who:?}: {e:?}"));
                    assert_eq!(step.row, row, "by {who:?}");
                    assert_eq!(step.who(), *who);
                    assert_eq!(step.event(), row.event);
                    if let Some(unmet) = missing(b, row.when) {
                        assert!(
                            apply(&unmet, as_only(*who), row.event, now(), today()).is_err(),
                            "{row:?} applied although its when is unmet"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_status_is_reached_from_a_new_booking() {
        let mut reached: HashSet<Option<S>> = HashSet::from([None]);
        loop {
            let before = reached.len();
            for row in TABLE {
                if row.from.iter().any(|f| reached.contains(f)) {
                    reached.insert(Some(row.to));
                }
            }
            if reached.len() == before {
                break;
            }
        }
        for s in S::iter() {
            assert!(reached.contains(&Some(s)), "{s:?} is never reached");
        }
    }

    #[test]
    fn only_active_bookings_move_and_each_moves_on_by_itself() {
        for s in S::iter() {
            let leaving: Vec<&Row> = TABLE.iter().filter(|r| r.from.contains(&Some(s))).collect();
            if s.is_active() {
                // Nobody has to act for an active booking to end.
                assert!(
                    leaving.iter().any(|r| r.who.contains(&Who::Worker)),
                    "{s:?} waits forever"
                );
            } else {
                assert!(leaving.is_empty(), "{s:?} is final");
            }
        }
    }

    #[test]
    fn money_moves_after_the_changes_that_settle_payments() {
        // Confirmed, declined, cancelled and expired bookings have their
        // payments settled; new, awaiting and completed ones do not.
        for row in TABLE {
            assert_eq!(
                row.effects.iter().any(|e| e.moves_money()),
                matches!(
                    row.to,
                    S::Confirmed | S::Declined | S::Cancelled | S::Expired
                ),
                "{row:?}"
            );
        }
    }

    #[test]
    fn a_booking_is_made_by_anyone_but_the_listings_host() {
        let new = Facts::new_booking(guest(), host(), days(3));
        assert_eq!(
            moved(&new, as_guest(), Event::Create),
            (S::PendingPayment, Who::Guest, &[Effect::HoldNights][..])
        );
        let own = Facts::new_booking(host(), host(), days(3));
        for role in [Role::Host, Role::Admin] {
            assert_eq!(
                refused(&own, person(host(), role), Event::Create),
                forbidden("You cannot book your own listing")
            );
        }
        let made = meeting(Some(S::PendingPayment), When::Always);
        assert_eq!(
            refused(&made, as_guest(), Event::Create),
            conflict("This booking has been made already")
        );
    }

    #[test]
    fn a_paid_booking_is_confirmed_when_instant_and_asked_otherwise() {
        // Even when its hold has run out: the sweep waited for the payment.
        let mut b = meeting(Some(S::PendingPayment), When::TimeUp);
        b.expires_at = Some(now() - Duration::hours(1));
        let paid = |instant_book| Event::PaymentAuthorized { instant_book };
        assert_eq!(
            moved(&b, By::Provider, paid(true)),
            (S::Confirmed, Who::Provider, &[Effect::Capture][..])
        );
        assert_eq!(
            moved(&b, By::Provider, paid(false)),
            (
                S::AwaitingHost,
                Who::Provider,
                &[Effect::OpenAnswerWindow][..]
            )
        );
        assert_eq!(
            refused(&b, person(guest(), Role::Admin), paid(true)),
            forbidden("Only the payment provider's answer moves a booking on when it is paid")
        );
    }

    #[test]
    fn the_host_or_an_admin_answers_a_request_in_time() {
        let b = meeting(Some(S::AwaitingHost), When::AnswerWindowOpen);
        for by in [as_host(), as_admin()] {
            assert_eq!(moved(&b, by, Event::Accept).0, S::Confirmed);
            assert_eq!(moved(&b, by, Event::Decline).0, S::Declined);
        }
        // Not the guest, even one who hosts elsewhere; and who may is asked
        // before what the booking is.
        let not_yours = forbidden("Only the listing's host or an admin answers a booking request");
        let confirmed = meeting(Some(S::Confirmed), When::Always);
        for event in [Event::Accept, Event::Decline] {
            assert_eq!(refused(&b, person(guest(), Role::Host), event), not_yours);
            assert_eq!(refused(&confirmed, as_guest(), event), not_yours);
            assert_eq!(
                refused(&confirmed, as_host(), event),
                conflict("Only a booking awaiting the host can be answered; this one is CONFIRMED")
            );
        }
        // The window closes at expiresAt itself; without one it is open.
        let mut late = b;
        late.expires_at = Some(now());
        assert_eq!(
            refused(&late, as_host(), Event::Decline),
            conflict("The time to answer this request has run out")
        );
        late.expires_at = None;
        assert_eq!(moved(&late, as_host(), Event::Accept).0, S::Confirmed);
    }

    #[test]
    fn a_cancellation_refunds_by_who_cancels() {
        let b = meeting(Some(S::Confirmed), When::StayNotOver);
        let policy = &[Effect::Refund(Share::Policy)][..];
        let whole = &[Effect::Refund(Share::Whole)][..];
        assert_eq!(
            moved(&b, as_guest(), Event::Cancel),
            (S::Cancelled, Who::Guest, policy)
        );
        // An admin who is the booking's guest cancels as its guest.
        assert_eq!(
            moved(&b, person(guest(), Role::Admin), Event::Cancel),
            (S::Cancelled, Who::Guest, policy)
        );
        assert_eq!(
            moved(&b, as_host(), Event::Cancel),
            (S::Cancelled, Who::Host, whole)
        );
        assert_eq!(
            moved(&b, as_admin(), Event::Cancel),
            (S::Cancelled, Who::Admin, whole)
        );
        assert_eq!(
            refused(&b, person(Uuid::from_u128(4), Role::Host), Event::Cancel),
            forbidden("Only the booking's guest, its host or an admin cancels it")
        );
    }

    #[test]
    fn what_is_over_is_not_cancelled() {
        for s in [S::Declined, S::Cancelled, S::Expired, S::Completed] {
            let b = meeting(Some(s), When::Always);
            assert_eq!(
                refused(&b, as_guest(), Event::Cancel),
                conflict(&format!(
                    "A booking that is {} cannot be cancelled",
                    status_name(s)
                ))
            );
        }
        // On the check-out date the stay is over; the day before it is not.
        let mut b = meeting(Some(S::Confirmed), When::StayNotOver);
        b.check_out = today();
        assert_eq!(
            refused(&b, as_host(), Event::Cancel),
            conflict("The stay is over; it cannot be cancelled")
        );
        b.check_out = days(1);
        assert_eq!(moved(&b, as_host(), Event::Cancel).0, S::Cancelled);
    }

    #[test]
    fn the_clock_moves_bookings_whose_time_is_up_and_nobody_else_does() {
        let pending = meeting(Some(S::PendingPayment), When::TimeUp);
        let awaiting = meeting(Some(S::AwaitingHost), When::TimeUp);
        let stayed = meeting(Some(S::Confirmed), When::StayOver);
        let void = &[Effect::Void][..];
        assert_eq!(
            moved(&pending, By::Worker, Event::HoldRanOut),
            (S::Expired, Who::Worker, void)
        );
        assert_eq!(
            moved(&awaiting, By::Worker, Event::AnswerWindowRanOut),
            (S::Expired, Who::Worker, void)
        );
        assert_eq!(
            moved(&stayed, By::Worker, Event::CheckOutPassed),
            (S::Completed, Who::Worker, &[][..])
        );
        // Not before: expiresAt itself is not past; the check-out day is not over.
        let mut early = pending;
        early.expires_at = Some(now());
        assert_eq!(
            refused(&early, By::Worker, Event::HoldRanOut),
            conflict("The booking's time has not run out")
        );
        let mut leaving = stayed;
        leaving.check_out = today();
        assert_eq!(
            refused(&leaving, By::Worker, Event::CheckOutPassed),
            conflict("The stay's check-out date has not passed")
        );
        assert_eq!(
            refused(&stayed, By::Worker, Event::HoldRanOut),
            conflict("Only a booking waiting for payment moves on this way; this one is CONFIRMED")
        );
        for event in [
            Event::HoldRanOut,
            Event::AnswerWindowRanOut,
            Event::CheckOutPassed,
        ] {
            assert_eq!(
                refused(&pending, person(host(), Role::Admin), event),
                forbidden("Only the worker moves a booking when its time is up")
            );
        }
    }
}
