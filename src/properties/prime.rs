//! The fields of a page of listings that take arguments or depend on the
//! viewer (`location`, `calendar`, `isAvailable`, `quote`, `reviews`,
//! `bookings`), loaded for the whole page before its listings resolve: one
//! batch per field and argument set, read from the selection itself. Each
//! listing's resolver then finds its part in the operation's loader cache,
//! so a page costs the same statements for 5 listings as for 100, whatever
//! the timing of the resolvers.

use std::collections::HashSet;

use async_graphql::{Context, InputType, Lookahead, SelectionField};
use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    calendar::{calendar_range, stay_range},
    loaders::{ConfirmedGuestLoader, HeldLoader},
};

use crate::graphql::context::loader;
use crate::{
    bookings::{lists::ListingPageKey, loaders::ListingBookingsLoader, types::BookingStatus},
    error::{AppError, GraphqlError as _},
    graphql::scalars::Date,
    reviews::{
        ReviewOrder,
        lists::{Owner, PageKey},
        loaders::ReviewPageLoader,
    },
};
use domain::kernel::actor::Actor;

/// The fields of a listing that read which nights are held, with their
/// arguments for the range's first day and its end: each is loaded here for
/// the whole page. A test holds it to the schema: every field of `Property`
/// that takes a date is here.
const HELD_RANGES: [(&str, &str, &str); 3] = [
    ("calendar", "from", "to"),
    ("isAvailable", "checkIn", "checkOut"),
    ("quote", "checkIn", "checkOut"),
];

/// Every occurrence of the field `name` (under any alias) in the page's
/// listings, `nodes` and `edges { node }`.
fn occurrences<'a>(nodes: &[Lookahead<'a>], name: &str) -> Vec<SelectionField<'a>> {
    nodes
        .iter()
        .flat_map(|n| n.field(name).selection_fields())
        .collect()
}

/// The argument `name` of `field`, when given and of the right type (a
/// wrong one fails in the resolver, with its error).
fn argument<T: InputType>(field: &SelectionField<'_>, name: &str) -> Option<T> {
    let arguments = field.arguments().ok()?;
    let (_, value) = arguments.into_iter().find(|(n, _)| n.as_str() == name)?;
    T::parse(Some(value)).ok()
}

/// `first`, as the resolver reads it: absent is its default.
fn first(field: &SelectionField<'_>, default: i32) -> Option<i32> {
    let given = field
        .arguments()
        .ok()
        .is_some_and(|a| a.iter().any(|(n, _)| n.as_str() == "first"));
    if given {
        argument::<Option<i32>>(field, "first").flatten()
    } else {
        Some(default)
    }
}

fn selects(field: &SelectionField<'_>, path: &[&str]) -> bool {
    let look = Lookahead::from(*field);
    [look.field("nodes"), look.field("edges").field("node")]
        .into_iter()
        .any(|at| path.iter().fold(at, |at, name| at.field(name)).exists())
}

/// Loads what the per-listing fields of `nodes` will ask for.
pub async fn per_listing(
    ctx: &Context<'_>,
    nodes: &[Lookahead<'_>],
    rows: &[entity::property::Model],
    viewer: Option<Actor>,
) -> async_graphql::Result<()> {
    let db_error = |e: std::sync::Arc<sea_orm::DbErr>| AppError::from(e).extend();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();

    let location = async {
        // Hosts and admins see their own listings' places without asking.
        if let Some(viewer) =
            viewer.filter(|a| !a.is_admin() && !occurrences(nodes, "location").is_empty())
        {
            let keys: Vec<(Uuid, Uuid)> = rows
                .iter()
                .filter(|r| r.host_id != viewer.user_id)
                .map(|r| (viewer.user_id, r.id))
                .collect();
            loader::<ConfirmedGuestLoader>(ctx)?
                .load_many(keys)
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };

    let held = async {
        let mut ranges: HashSet<(NaiveDate, NaiveDate)> = HashSet::new();
        for (name, from, to) in HELD_RANGES {
            for field in occurrences(nodes, name) {
                let (Some(a), Some(b)) =
                    (argument::<Date>(&field, from), argument::<Date>(&field, to))
                else {
                    continue;
                };
                // Only ranges the resolvers accept: a refused one loads
                // nothing.
                let range = if name == "calendar" {
                    calendar_range(a, b)
                } else {
                    stay_range(a, b)
                };
                ranges.extend(range.ok());
            }
        }
        if !ranges.is_empty() {
            let keys: Vec<(Uuid, NaiveDate, NaiveDate)> = ranges
                .iter()
                .flat_map(|(from, to)| ids.iter().map(|id| (*id, *from, *to)))
                .collect();
            loader::<HeldLoader>(ctx)?
                .load_many(keys)
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };

    let reviews = async {
        let mut keys = Vec::new();
        for field in occurrences(nodes, "reviews") {
            let order = argument::<ReviewOrder>(&field, "orderBy").unwrap_or(ReviewOrder::Newest);
            let after = argument::<Option<String>>(&field, "after").flatten();
            let authors = selects(&field, &["author"]);
            for id in &ids {
                if let Ok(mut key) = PageKey::parse(
                    Owner::Listing(*id),
                    order,
                    first(&field, 10),
                    10,
                    after.as_deref(),
                ) {
                    key.authors = authors;
                    keys.push(key);
                }
            }
        }
        if !keys.is_empty() {
            loader::<ReviewPageLoader>(ctx)?
                .load_many(keys)
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };

    let bookings = async {
        let Some(viewer) = viewer else {
            return Ok(());
        };
        let mut keys = Vec::new();
        for field in occurrences(nodes, "bookings") {
            let status = argument::<Option<BookingStatus>>(&field, "status").flatten();
            let after = argument::<Option<String>>(&field, "after").flatten();
            let total = Lookahead::from(field).field("totalCount").exists();
            for row in rows.iter().filter(|r| viewer.owns_or_admin(r.host_id)) {
                keys.extend(
                    ListingPageKey::parse(
                        row.id,
                        status,
                        first(&field, 20),
                        after.as_deref(),
                        total,
                    )
                    .ok(),
                );
            }
        }
        if keys.is_empty() {
            return Ok(());
        }
        let pages = loader::<ListingBookingsLoader>(ctx)?
            .load_many(keys)
            .await
            .map_err(db_error)?;
        // And what every listing's page will ask of its bookings, at once.
        let bookings: Vec<entity::booking::Model> = pages
            .into_values()
            .flat_map(|page| page.items.into_iter().map(|i| i.node))
            .collect();
        crate::bookings::queries::prime(ctx, &bookings).await
    };

    futures_util::try_join!(location, held, reviews, bookings)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::HELD_RANGES;
    use crate::graphql::schema_names::{SchemaNames, assert_none};

    /// Fields of `Property` that take a date but read no held nights, and
    /// why.
    const HOLD_NOTHING: &[(&str, &str)] = &[];

    #[test]
    fn every_field_of_a_listing_taking_dates_is_loaded_for_the_page() {
        let names = SchemaNames::served();
        let file = "src/properties/prime.rs";
        let mut problems = Vec::new();
        for (field, from, to) in HELD_RANGES {
            for arg in [from, to] {
                let ty = names.argument_type("Property", field, &[arg]);
                if ty != Some("Date") {
                    problems.push(format!(
                        "HELD_RANGES ({file}) reads Property.{field}({arg}:), which is {}, \
                         not a Date: correct it",
                        ty.map_or("no argument".to_owned(), |t| format!("a {t}"))
                    ));
                }
            }
        }
        for (field, _) in HOLD_NOTHING {
            if names.field("Property", field).is_none() {
                problems.push(format!(
                    "HOLD_NOTHING ({file}) names Property.{field}, which is no field: remove it"
                ));
            }
        }
        for (field, def) in names.fields("Property") {
            let dated = def.args.values().any(|t| names.holds(t, "Date"));
            let held = HELD_RANGES.iter().any(|(f, ..)| *f == field);
            let nothing = HOLD_NOTHING.iter().any(|(f, _)| *f == field);
            if dated && !held && !nothing {
                problems.push(format!(
                    "Property.{field} takes a date and is new: if it reads which nights are \
                     held, add it to HELD_RANGES ({file}) with its arguments for the first \
                     day and the end, so that a page loads them at once; if not, add it to \
                     HOLD_NOTHING in the same file's test, saying why"
                ));
            }
            if nothing && (held || !dated) {
                problems.push(format!(
                    "HOLD_NOTHING ({file}) names Property.{field}, which is in HELD_RANGES \
                     or takes no date: remove it"
                ));
            }
        }
        assert_none(&problems);
    }
}
