//! Which of a listing's columns a page of search results reads: those the
//! resolvers of the selected fields need, and no more. A search page that
//! shows a card (title, price, city, rating) reads a fifth of the row, and
//! the width of the rows was what a page cost PostgreSQL most.
//!
//! The listings so read are handed only to the resolvers of that selection
//! (never to a loader's cache), and every field named here reads only the
//! columns it lists; any other field reads the whole row. A test asks for
//! each field here alone and compares the answer with the one the property
//! page gives from a whole row; another holds the tables to the schema, so
//! that every field of `Property`, `Location` and `RatingSummary` is in
//! them.

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

/// What a field of a listing reads besides `ALWAYS`.
#[derive(Clone, Copy)]
enum Reads {
    Columns(Columns),
    /// `location`: by its own selection (`LOCATION`).
    Location,
    /// `rating`: by its own selection (`RATING`).
    Rating,
    /// The whole row: reviews, calendar, availability, quotes, bookings
    /// are services that take the whole listing.
    Row,
}

/// Every field of `Property`, with what its resolver reads. A field not
/// here reads the whole row; a test holds this list to the schema, so a
/// new field is placed here when it is added.
const LISTING: [(&str, Reads); 31] = [
    // From the id and the host's id, or nothing.
    ("__typename", Reads::Columns(Columns::NONE)),
    ("id", Reads::Columns(Columns::NONE)),
    ("host", Reads::Columns(Columns::NONE)),
    ("photos", Reads::Columns(Columns::NONE)),
    ("savedByMe", Reads::Columns(Columns::NONE)),
    ("title", Reads::Columns(columns![Title])),
    ("description", Reads::Columns(columns![Description])),
    ("propertyType", Reads::Columns(columns![PropertyType])),
    ("status", Reads::Columns(columns![Status])),
    ("location", Reads::Location),
    (
        "pricePerNight",
        Reads::Columns(columns![PriceMinor, Currency]),
    ),
    (
        "cleaningFee",
        Reads::Columns(columns![CleaningFeeMinor, Currency]),
    ),
    (
        "weeklyDiscountPercent",
        Reads::Columns(columns![WeeklyDiscountPercent]),
    ),
    (
        "monthlyDiscountPercent",
        Reads::Columns(columns![MonthlyDiscountPercent]),
    ),
    ("maxGuests", Reads::Columns(columns![MaxGuests])),
    ("bedrooms", Reads::Columns(columns![Bedrooms])),
    ("beds", Reads::Columns(columns![Beds])),
    ("bathrooms", Reads::Columns(columns![Bathrooms])),
    ("amenities", Reads::Columns(columns![AmenityCodes])),
    ("instantBook", Reads::Columns(columns![InstantBook])),
    (
        "cancellationPolicy",
        Reads::Columns(columns![CancellationPolicy]),
    ),
    ("minNights", Reads::Columns(columns![MinNights])),
    ("maxNights", Reads::Columns(columns![MaxNights])),
    ("rating", Reads::Rating),
    ("createdAt", Reads::Columns(columns![CreatedAt])),
    ("updatedAt", Reads::Columns(columns![UpdatedAt])),
    ("reviews", Reads::Row),
    ("calendar", Reads::Row),
    ("isAvailable", Reads::Row),
    ("quote", Reads::Row),
    ("bookings", Reads::Row),
];

/// Every field of `Location`, with the columns it reads. A location is
/// exact or public by the viewer (from the host's id, always read): the
/// public address is made of the city and country, and the public point is
/// read, or placed from the real one when the row has none. A field not
/// here reads the whole row.
const LOCATION: [(&str, Columns); 7] = [
    ("__typename", Columns::NONE),
    ("address", columns![Address, City, Country]),
    ("city", columns![City]),
    ("country", columns![Country]),
    ("latitude", columns![Latitude, Longitude]),
    ("longitude", columns![Latitude, Longitude]),
    ("exact", Columns::NONE),
];

/// Every field of `RatingSummary`, with the columns it reads. A field not
/// here reads the whole row.
const RATING: [(&str, Columns); 9] = [
    ("__typename", Columns::NONE),
    ("average", columns![RatingSum, RatingCount]),
    ("count", columns![RatingCount]),
    ("cleanliness", columns![CleanlinessSum, CleanlinessCount]),
    ("accuracy", columns![AccuracySum, AccuracyCount]),
    ("checkIn", columns![CheckInSum, CheckInCount]),
    (
        "communication",
        columns![CommunicationSum, CommunicationCount],
    ),
    ("location", columns![LocationSum, LocationCount]),
    ("value", columns![ValueSum, ValueCount]),
];

/// What `name` reads in `table`; `None` for a name not there, which then
/// reads the whole row.
fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, reads)| *reads)
}

/// The columns `listing`'s selected fields read.
fn of_listing(listing: SelectionField<'_>) -> Columns {
    let mut columns = ALWAYS;
    for field in listing.selection_set() {
        let more = match lookup(&LISTING, field.name()) {
            Some(Reads::Columns(more)) => more,
            Some(Reads::Location) => of_location(field),
            Some(Reads::Rating) => of_rating(field),
            Some(Reads::Row) | None => return Columns::ALL,
        };
        columns = columns.union(more);
    }
    columns
}

/// The stored public point is read whatever the selection, so that a
/// location is never placed again for nothing.
fn of_location(location: SelectionField<'_>) -> Columns {
    location
        .selection_set()
        .map(|f| lookup(&LOCATION, f.name()).unwrap_or(Columns::ALL))
        .fold(columns![PublicLatitude, PublicLongitude], Columns::union)
}

fn of_rating(rating: SelectionField<'_>) -> Columns {
    rating
        .selection_set()
        .map(|f| lookup(&RATING, f.name()).unwrap_or(Columns::ALL))
        .fold(Columns::NONE, Columns::union)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::schema_names::{SchemaNames, assert_none};

    /// Each table against the fields of its type: no name that is not a
    /// field, and every field placed.
    fn check<T>(names: &SchemaNames, ty: &str, table: &[(&str, T)], problems: &mut Vec<String>) {
        let file = "src/properties/columns.rs";
        for (i, (name, _)) in table.iter().enumerate() {
            if *name != "__typename" && names.field(ty, name).is_none() {
                problems.push(format!(
                    "{file} places {ty}.{name}, which is no field of {ty}: correct or remove it"
                ));
            }
            if table[..i].iter().any(|(n, _)| n == name) {
                problems.push(format!("{file} places {ty}.{name} twice"));
            }
        }
        if !table.iter().any(|(n, _)| *n == "__typename") {
            problems.push(format!(
                "{file} does not place {ty}.__typename, which reads nothing"
            ));
        }
        for (field, _) in names.fields(ty) {
            if !table.iter().any(|(n, _)| *n == field) {
                problems.push(format!(
                    "{ty}.{field} is new: add it to the table of {ty} in {file} with the                      columns of `properties` its resolver reads (a page of listings reads no                      others), or, for a `Property` field whose resolver takes the whole                      listing, as `Reads::Row`"
                ));
            }
        }
    }

    #[test]
    fn every_field_of_a_listing_is_placed_in_the_column_map() {
        let names = SchemaNames::served();
        let mut problems = Vec::new();
        check(&names, "Property", &LISTING, &mut problems);
        check(&names, "Location", &LOCATION, &mut problems);
        check(&names, "RatingSummary", &RATING, &mut problems);
        // The tables are of the types their fields return.
        for (field, ty) in [("location", "Location"), ("rating", "RatingSummary")] {
            let returns = names.field("Property", field).map(|f| f.ty.as_str());
            if returns != Some(ty) {
                problems.push(format!("Property.{field} returns {returns:?}, not {ty}"));
            }
        }
        assert_none(&problems);
    }
}
