//! Which of a listing's columns a page of search results reads: those the
//! resolvers of the selected fields need, and no more. A search page that
//! shows a card (title, price, city, rating) reads a fifth of the row, and
//! the width of the rows was what a page cost PostgreSQL most.
//!
//! The listings so read are handed only to the resolvers of that selection
//! (never to a loader's cache), and every field named here reads only the
//! columns it lists; any other field reads the whole row. A test asks for
//! each field here alone and compares the answer with the one the property
//! page gives from a whole row.

use async_graphql::{Context, SelectionField};
use entity::{position::Columns, property::Column as P};

/// The columns of `P::A`, `P::B`...
macro_rules! columns {
    ($($column:ident),* $(,)?) => {
        Columns::NONE$(.with(P::$column as usize))*
    };
}

/// Read whatever the selection: the id and host (cursors, the host join,
/// the loaders) and the status.
const ALWAYS: Columns = columns![Id, HostId, Status];

/// The columns the listings of the current field (a connection of them)
/// need for its selection: `nodes` and `edges { node }`.
pub fn of_connection(ctx: &Context<'_>) -> Columns {
    let mut columns = ALWAYS;
    for field in ctx.field().selection_set() {
        match field.name() {
            "nodes" => columns = columns.union(of_listing(field)),
            "edges" => {
                for edge in field.selection_set() {
                    if edge.name() == "node" {
                        columns = columns.union(of_listing(edge));
                    }
                }
            }
            _ => {}
        }
    }
    columns
}

/// The columns `listing`'s selected fields read.
fn of_listing(listing: SelectionField<'_>) -> Columns {
    let mut columns = ALWAYS;
    for field in listing.selection_set() {
        let more = match field.name() {
            // From the id and the host's id, or nothing.
            "__typename" | "id" | "host" | "photos" | "savedByMe" => Columns::NONE,
            "title" => columns![Title],
            "description" => columns![Description],
            "propertyType" => columns![PropertyType],
            "status" => columns![Status],
            "location" => of_location(field),
            "pricePerNight" => columns![PriceMinor, Currency],
            "cleaningFee" => columns![CleaningFeeMinor, Currency],
            "weeklyDiscountPercent" => columns![WeeklyDiscountPercent],
            "monthlyDiscountPercent" => columns![MonthlyDiscountPercent],
            "maxGuests" => columns![MaxGuests],
            "bedrooms" => columns![Bedrooms],
            "beds" => columns![Beds],
            "bathrooms" => columns![Bathrooms],
            "amenities" => columns![AmenityCodes],
            "instantBook" => columns![InstantBook],
            "cancellationPolicy" => columns![CancellationPolicy],
            "minNights" => columns![MinNights],
            "maxNights" => columns![MaxNights],
            "rating" => of_rating(field),
            "createdAt" => columns![CreatedAt],
            "updatedAt" => columns![UpdatedAt],
            // Reviews, calendar, availability, quotes, bookings: services
            // that take the whole listing.
            _ => return Columns::ALL,
        };
        columns = columns.union(more);
    }
    columns
}

/// A location is exact or public by the viewer (from the host's id, always
/// read): the public address is made of the city and country, and the public
/// point is read, or placed from the real one when the row has none. The
/// stored public point is read whatever the selection, so that a location
/// is never placed again for nothing.
fn of_location(location: SelectionField<'_>) -> Columns {
    location
        .selection_set()
        .map(|f| match f.name() {
            "address" => columns![Address, City, Country],
            "city" => columns![City],
            "country" => columns![Country],
            "latitude" | "longitude" => columns![Latitude, Longitude],
            _ => Columns::NONE,
        })
        .fold(columns![PublicLatitude, PublicLongitude], Columns::union)
}

fn of_rating(rating: SelectionField<'_>) -> Columns {
    rating
        .selection_set()
        .map(|f| match f.name() {
            "average" => columns![RatingSum, RatingCount],
            "count" => columns![RatingCount],
            "cleanliness" => columns![CleanlinessSum, CleanlinessCount],
            "accuracy" => columns![AccuracySum, AccuracyCount],
            "checkIn" => columns![CheckInSum, CheckInCount],
            "communication" => columns![CommunicationSum, CommunicationCount],
            "location" => columns![LocationSum, LocationCount],
            "value" => columns![ValueSum, ValueCount],
            _ => Columns::NONE,
        })
        .fold(Columns::NONE, Columns::union)
}
