//! The pipeline's lists of schema names, held to the schema the server
//! runs: every name in them exists where the list says, and every mutation,
//! every field an anonymous query can read and every field taking dates is
//! classified, so that a new one fails here until someone decides what the
//! lists say of it. `docs/NAME_LISTS.md` describes the lists.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    auth_gate::OWN_CREDENTIALS,
    query_cost::RANGES,
    response_cache::{BOOKING_WORDS, PRIVATE_MUTATIONS},
};
use crate::{
    graphql::schema_names::{SchemaNames, assert_none},
    ratelimit::AUTH_FIELDS,
};

const HERE: &str = "src/graphql/pipeline/name_lists.rs";

// Mutations.

/// Whether a mutation changes the catalogue: public data an anonymous
/// query reads, other than which nights are taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Catalog {
    /// It moves the response cache's `catalog` version once it has run
    /// (not in `PRIVATE_MUTATIONS`).
    Changes,
    /// It changes nothing the cache holds, or only bookings, whose events
    /// move the `bookings` version (in `PRIVATE_MUTATIONS`).
    Untouched,
}

/// Whose credentials a mutation runs on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Token {
    /// Its own, in its arguments: it runs even when the request carries an
    /// expired or revoked token, so that a client can sign in again
    /// (`OWN_CREDENTIALS`).
    Own,
    /// The viewer's: a rejected token is UNAUTHENTICATED.
    Viewer,
}

/// Which budget a mutation spends besides the per-IP and per-user ones.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Budget {
    /// The per-IP sign-in budget (`AUTH_FIELDS`): it checks a password or
    /// hands out a session.
    SignIn,
    /// No other.
    Usual,
}

use Budget::{SignIn, Usual};
use Catalog::{Changes, Untouched};
use Token::{Own, Viewer};

/// Every field of `Mutation`, with what the pipeline's lists decide for it.
const MUTATIONS: &[(&str, Catalog, Token, Budget)] = &[
    ("register", Untouched, Own, SignIn),
    ("login", Untouched, Own, SignIn),
    ("refreshSession", Untouched, Own, SignIn),
    ("logout", Untouched, Own, Usual),
    ("changePassword", Untouched, Viewer, Usual),
    ("updateProfile", Changes, Viewer, Usual),
    ("becomeHost", Changes, Viewer, Usual),
    ("createProperty", Changes, Viewer, Usual),
    ("updateProperty", Changes, Viewer, Usual),
    ("deleteProperty", Changes, Viewer, Usual),
    ("addPropertyPhoto", Changes, Viewer, Usual),
    ("removePropertyPhoto", Changes, Viewer, Usual),
    ("updateCalendar", Changes, Viewer, Usual),
    ("saveProperty", Untouched, Viewer, Usual),
    ("unsaveProperty", Untouched, Viewer, Usual),
    ("createBooking", Untouched, Viewer, Usual),
    ("payBooking", Untouched, Viewer, Usual),
    ("acceptBooking", Untouched, Viewer, Usual),
    ("declineBooking", Untouched, Viewer, Usual),
    ("cancelBooking", Untouched, Viewer, Usual),
    ("markNotificationsRead", Untouched, Viewer, Usual),
    ("sendMessage", Untouched, Viewer, Usual),
    ("markConversationRead", Untouched, Viewer, Usual),
    ("createReview", Changes, Viewer, Usual),
    ("respondToReview", Changes, Viewer, Usual),
];

/// One runtime list of mutation names against the table's decision.
fn check_mutation_list(
    names: &SchemaNames,
    list: &[&str],
    list_name: &str,
    list_file: &str,
    in_list: impl Fn(&(&str, Catalog, Token, Budget)) -> bool,
    meaning: &str,
    problems: &mut Vec<String>,
) {
    for name in list {
        if *name != "__typename" && names.field("Mutation", name).is_none() {
            problems.push(format!(
                "{list_name} ({list_file}) names \"{name}\", which is no field of Mutation: \
                 correct or remove it"
            ));
        }
    }
    for row in MUTATIONS {
        let (name, ..) = *row;
        if names.field("Mutation", name).is_none() {
            continue;
        }
        match (in_list(row), list.contains(&name)) {
            (true, false) => problems.push(format!(
                "MUTATIONS ({HERE}) says Mutation.{name} {meaning}, but it is not in \
                 {list_name} ({list_file}): add it there, or change its row"
            )),
            (false, true) => problems.push(format!(
                "Mutation.{name} is in {list_name} ({list_file}) but its row in MUTATIONS \
                 ({HERE}) says it does not belong there: remove it, or change its row"
            )),
            _ => {}
        }
    }
}

/// What is wrong with the lists of mutations.
fn mutation_problems(names: &SchemaNames) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rows = BTreeSet::new();
    for (name, ..) in MUTATIONS {
        if !rows.insert(*name) {
            problems.push(format!("MUTATIONS ({HERE}) has two rows for {name}"));
        }
        if names.field("Mutation", name).is_none() {
            problems.push(format!(
                "MUTATIONS ({HERE}) has a row for {name}, which is no field of Mutation: \
                 remove the row (and the name from the lists it is in)"
            ));
        }
    }
    for (name, _) in names.fields("Mutation") {
        if !rows.contains(name) {
            problems.push(format!(
                "Mutation.{name} is new: add a row for it to MUTATIONS ({HERE}) deciding\n\
                 \x20 - Catalog: Changes if it can change anything an anonymous query reads \
                 (listings, photos, calendars, profiles, reviews...), else Untouched, and then \
                 add it to PRIVATE_MUTATIONS (src/graphql/pipeline/response_cache.rs); a \
                 change to bookings alone is Untouched when it publishes a booking event;\n\
                 \x20 - Token: Own if it carries its own credentials in its arguments (a \
                 password, a refresh or reset token) and must run even when the request \
                 carries an expired token, and then add it to OWN_CREDENTIALS \
                 (src/graphql/pipeline/auth_gate.rs), else Viewer;\n\
                 \x20 - Budget: SignIn if it checks a password or hands out a session to a \
                 caller who is not signed in, and then add it to AUTH_FIELDS \
                 (src/ratelimit/mod.rs), else Usual."
            ));
        }
    }
    check_mutation_list(
        names,
        &PRIVATE_MUTATIONS,
        "PRIVATE_MUTATIONS",
        "src/graphql/pipeline/response_cache.rs",
        |(_, catalog, ..)| *catalog == Untouched,
        "leaves the catalogue untouched",
        &mut problems,
    );
    check_mutation_list(
        names,
        &OWN_CREDENTIALS,
        "OWN_CREDENTIALS",
        "src/graphql/pipeline/auth_gate.rs",
        |(_, _, token, _)| *token == Own,
        "carries its own credentials",
        &mut problems,
    );
    check_mutation_list(
        names,
        &AUTH_FIELDS,
        "AUTH_FIELDS",
        "src/ratelimit/mod.rs",
        |(.., budget)| *budget == SignIn,
        "spends the sign-in budget",
        &mut problems,
    );
    // `__typename` is the one name of the three lists outside the schema:
    // asked beside a sign-in it needs no viewer, and it changes nothing.
    if !OWN_CREDENTIALS.contains(&"__typename") {
        problems.push(
            "OWN_CREDENTIALS (src/graphql/pipeline/auth_gate.rs) lacks __typename, which \
             a sign-in may ask beside it"
                .to_owned(),
        );
    }
    for (list, list_name) in [
        (&PRIVATE_MUTATIONS[..], "PRIVATE_MUTATIONS"),
        (&AUTH_FIELDS[..], "AUTH_FIELDS"),
    ] {
        if list.contains(&"__typename") {
            problems.push(format!(
                "{list_name} names __typename, which its code handles apart: remove it"
            ));
        }
    }
    problems
}

// The response cache and bookings.

/// Types an anonymous viewer never sees (their fields answer only their
/// own users), so that no shared answer holds any of their fields: their
/// fields need no classification below. Any path to them from a public
/// type is a field of that type, classified below.
const PRIVATE_TYPES: &[&str] = &[
    "Conversation",
    "ConversationConnection",
    "Message",
    "Notification",
    "NotificationConnection",
    "Payment",
];

/// The names, by type, whose answer reads bookings: which nights are
/// taken, holds, bookings themselves. `field` is a field with all its
/// arguments; `field(a,b)` names only arguments (of a field listed in
/// IGNORES_BOOKINGS) that make its answer read bookings; on an input type,
/// its fields. Each name holds a word of `BOOKING_WORDS`, so that an
/// operation naming it is cached under the `bookings` version too.
const READS_BOOKINGS: &[(&str, &str)] = &[
    ("Query", "booking myBookings hostBookings"),
    ("Property", "calendar isAvailable quote bookings"),
    ("PropertyFilter", "checkIn checkOut"),
];

/// The names, by type, that an anonymous query reaches without naming a
/// word of `BOOKING_WORDS` on the way, whose answer to an anonymous viewer
/// (the only one the cache keeps) does not change when a booking does: fields
/// with all their arguments (`field(a,b)`), and input fields. An argument
/// of an input object type is classified by itself here, and the fields
/// of its type under that type.
///
/// `Property.location` reads bookings for a signed-in viewer (a confirmed
/// guest sees the exact place), never for an anonymous one. The fields
/// named `checkIn` of `Review` and `RatingSummary` are ratings; their name
/// holds a word all the same.
const IGNORES_BOOKINGS: &[(&str, &str)] = &[
    (
        "Query",
        "node(id) me user(id) property(id) properties(filter,orderBy,first,after) amenities \
         savedProperties(first,after) notifications(unreadOnly,first,after) \
         conversations(first,after) conversation(id)",
    ),
    ("Node", "id"),
    ("Amenity", "code name category id"),
    ("Photo", "url caption position id"),
    (
        "Property",
        "id host title description propertyType status location pricePerNight cleaningFee \
         weeklyDiscountPercent monthlyDiscountPercent maxGuests bedrooms beds bathrooms \
         amenities photos instantBook cancellationPolicy minNights maxNights rating \
         reviews(first,after,orderBy) savedByMe createdAt updatedAt",
    ),
    ("PropertyConnection", "edges nodes pageInfo totalCount"),
    ("PropertyEdge", "cursor node"),
    ("Location", "address city country latitude longitude exact"),
    ("Money", "amount currency"),
    (
        "RatingSummary",
        "average count cleanliness accuracy checkIn communication location value",
    ),
    (
        "Review",
        "id property author rating cleanliness accuracy checkIn communication location value \
         comment hostResponse hostRespondedAt createdAt",
    ),
    ("ReviewConnection", "edges nodes pageInfo totalCount"),
    ("ReviewEdge", "cursor node"),
    (
        "User",
        "id firstName lastName email phoneNumber role bio avatarUrl createdAt \
         listings(first,after) hostRating reviewsWritten(first,after)",
    ),
    (
        "PageInfo",
        "hasNextPage hasPreviousPage startCursor endCursor",
    ),
    (
        "PropertyFilter",
        "text city country near radiusKm bounds guests minPrice maxPrice propertyTypes \
         amenities instantBook minRating minBedrooms",
    ),
    ("GeoPointInput", "latitude longitude"),
    ("GeoBoundsInput", "north south east west"),
];

/// `field` or `field(a,b)`: the field and its arguments.
fn entry(token: &str) -> (&str, Vec<&str>) {
    match token.split_once('(') {
        Some((field, args)) => (
            field,
            args.trim_end_matches(')')
                .split(',')
                .filter(|a| !a.is_empty())
                .collect(),
        ),
        None => (token, Vec::new()),
    }
}

/// The entries of a classification, by type and then field.
type Entries<'a> = BTreeMap<&'a str, BTreeMap<&'a str, (bool, Vec<&'a str>)>>;

/// A classification's entries: each field with whether it stands alone
/// (no parentheses) and the arguments it names.
fn entries<'a>(
    list: &'a [(&'a str, &'a str)],
    list_name: &str,
    problems: &mut Vec<String>,
) -> Entries<'a> {
    let mut out: Entries<'a> = BTreeMap::new();
    for (ty, tokens) in list {
        let fields = out.entry(ty).or_default();
        for token in tokens.split_whitespace() {
            let (field, args) = entry(token);
            let bare = !token.contains('(');
            if fields.insert(field, (bare, args)).is_some() {
                problems.push(format!("{list_name} ({HERE}) names {ty}.{field} twice"));
            }
        }
    }
    out
}

fn has_word(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    BOOKING_WORDS.iter().any(|w| name.contains(w))
}

/// The types an anonymous query can reach without naming a word of
/// `BOOKING_WORDS` (a query that names one is cached under the `bookings`
/// version whatever it reads), private types included.
fn exposed(names: &SchemaNames) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next = vec!["Query".to_owned()];
    while let Some(ty) = next.pop() {
        if !seen.insert(ty.clone()) || PRIVATE_TYPES.contains(&ty.as_str()) {
            continue;
        }
        for (name, field) in names.fields(&ty) {
            if has_word(name) {
                continue;
            }
            next.push(field.ty.clone());
            for (arg, arg_ty) in &field.args {
                if !has_word(arg) {
                    next.push(arg_ty.clone());
                }
            }
        }
        // Fragments name the type they are on.
        for implementor in names.implementors.get(&ty).into_iter().flatten() {
            if !has_word(implementor) {
                next.push(implementor.clone());
            }
        }
        for (name, field_ty) in names.inputs.get(&ty).into_iter().flatten() {
            if !has_word(name) {
                next.push(field_ty.clone());
            }
        }
    }
    // Scalars and enums have no names of their own to classify.
    seen.retain(|t| names.outputs.contains_key(t) || names.inputs.contains_key(t));
    seen
}

/// What is wrong with the lists of names that read bookings.
fn booking_problems(names: &SchemaNames) -> Vec<String> {
    let mut problems = Vec::new();
    let exposed = exposed(names);
    let reads = entries(READS_BOOKINGS, "READS_BOOKINGS", &mut problems);
    let ignores = entries(IGNORES_BOOKINGS, "IGNORES_BOOKINGS", &mut problems);
    let words = "BOOKING_WORDS (src/graphql/pipeline/response_cache.rs)";

    for word in BOOKING_WORDS {
        if word.to_ascii_lowercase() != word {
            problems.push(format!(
                "{words} holds \"{word}\": the cache compares lower-cased text, so it must be \
                 lower case"
            ));
        }
        let used = reads.iter().any(|(_, fields)| {
            fields.iter().any(|(field, (bare, args))| {
                (*bare && field.to_ascii_lowercase().contains(word))
                    || args.iter().any(|a| a.to_ascii_lowercase().contains(word))
            })
        });
        if !used {
            problems.push(format!(
                "{words} holds \"{word}\", which no name in READS_BOOKINGS ({HERE}) \
                 contains: remove the word, or list what reads bookings under it"
            ));
        }
    }

    for ty in PRIVATE_TYPES {
        if !exposed.contains(*ty) {
            problems.push(format!(
                "PRIVATE_TYPES ({HERE}) names {ty}, which is no type an anonymous query \
                 reaches without naming a word of {words}: remove it"
            ));
        }
    }
    for (list_name, list) in [("READS_BOOKINGS", &reads), ("IGNORES_BOOKINGS", &ignores)] {
        for ty in list.keys() {
            if !exposed.contains(*ty) || PRIVATE_TYPES.contains(ty) {
                problems.push(format!(
                    "{list_name} ({HERE}) names the type {ty}, which an anonymous query \
                     cannot reach without naming a word of {words} (or which is in \
                     PRIVATE_TYPES, or no type): remove it"
                ));
            }
        }
    }

    let input_fields = |ty: &str| -> Vec<(&str, Vec<&str>)> {
        names
            .inputs
            .get(ty)
            .into_iter()
            .flatten()
            .map(|(n, _)| (n.as_str(), Vec::new()))
            .collect()
    };
    for ty in exposed
        .iter()
        .filter(|t| !PRIVATE_TYPES.contains(&t.as_str()))
    {
        let fields: Vec<(&str, Vec<&str>)> = if names.inputs.contains_key(ty) {
            input_fields(ty)
        } else {
            names
                .fields(ty)
                .map(|(n, f)| (n, f.args.keys().map(String::as_str).collect()))
                .collect()
        };
        let read = reads.get(ty.as_str());
        let ignored = ignores.get(ty.as_str());
        let is_input = names.inputs.contains_key(ty);
        if read.is_none() && ignored.is_none() {
            let all: Vec<String> = fields
                .iter()
                .map(|(f, args)| {
                    if args.is_empty() {
                        (*f).to_owned()
                    } else {
                        format!("{f}({})", args.join(","))
                    }
                })
                .collect();
            problems.push(format!(
                "{ty} is new, and an anonymous query can reach it: add \
                 (\"{ty}\", \"{}\") to IGNORES_BOOKINGS ({HERE}), and move to READS_BOOKINGS \
                 every name whose answer reads bookings (availability, holds, quotes, \
                 bookings){}",
                all.join(" "),
                if is_input {
                    ""
                } else {
                    "; or, if an anonymous viewer never sees it, add it to PRIVATE_TYPES"
                }
            ));
            continue;
        }
        for (field, args) in &fields {
            let r = read.and_then(|m| m.get(field));
            let i = ignored.and_then(|m| m.get(field));
            let coordinate = format!("{ty}.{field}");
            match (r, i) {
                (None, None) => problems.push(format!(
                    "{coordinate} is new, and an anonymous query can read it: add it to \
                     READS_BOOKINGS ({HERE}) if its answer reads bookings (availability, \
                     holds, quotes, bookings), else to IGNORES_BOOKINGS{}",
                    if args.is_empty() {
                        String::new()
                    } else {
                        format!(" with its arguments, `{field}({})`", args.join(","))
                    }
                )),
                (Some((true, _)), Some(_)) => problems.push(format!(
                    "{coordinate} is both in READS_BOOKINGS and in IGNORES_BOOKINGS ({HERE}): \
                     keep one"
                )),
                (Some((true, _)), None) => {
                    if !has_word(field) {
                        problems.push(format!(
                            "{coordinate} reads bookings, but its name holds no word of \
                             {words}, so the response cache would serve it stale after a \
                             booking: add to BOOKING_WORDS a lower-case word its name holds \
                             (\"{}\")",
                            field.to_ascii_lowercase()
                        ));
                    }
                }
                (Some((false, _)), None) => problems.push(format!(
                    "{coordinate} has arguments in READS_BOOKINGS ({HERE}) but is not in \
                     IGNORES_BOOKINGS: list it there with its other arguments, or list it \
                     alone in READS_BOOKINGS"
                )),
                (r, Some((_, ignored_args))) => {
                    let read_args = r.map(|(_, a)| a.as_slice()).unwrap_or_default();
                    for arg in args {
                        match (read_args.contains(arg), ignored_args.contains(arg)) {
                            (false, false) => problems.push(format!(
                                "{coordinate}({arg}:) is new: add `{arg}` to `{field}(...)` \
                                 in IGNORES_BOOKINGS ({HERE}) if no value of it makes the \
                                 answer read bookings, else list `{field}({arg})` in \
                                 READS_BOOKINGS"
                            )),
                            (true, true) => problems.push(format!(
                                "{coordinate}({arg}:) is both in READS_BOOKINGS and in \
                                 IGNORES_BOOKINGS ({HERE}): keep one"
                            )),
                            (true, false) if !has_word(arg) => problems.push(format!(
                                "{coordinate}({arg}:) reads bookings, but its name holds no \
                                 word of {words}: add to BOOKING_WORDS a lower-case word its \
                                 name holds (\"{}\")",
                                arg.to_ascii_lowercase()
                            )),
                            _ => {}
                        }
                    }
                    for arg in read_args.iter().chain(ignored_args) {
                        if !args.contains(arg) {
                            problems.push(format!(
                                "{coordinate} has no argument {arg}: remove it from \
                                 READS_BOOKINGS or IGNORES_BOOKINGS ({HERE})"
                            ));
                        }
                    }
                }
            }
        }
        for (list_name, listed) in [("READS_BOOKINGS", read), ("IGNORES_BOOKINGS", ignored)] {
            for field in listed.into_iter().flat_map(BTreeMap::keys) {
                if !fields.iter().any(|(f, _)| f == field) {
                    problems.push(format!(
                        "{list_name} ({HERE}) names {ty}.{field}, which is no field of {ty}: \
                         correct or remove it"
                    ));
                }
            }
        }
    }
    problems
}

// The cost of ranges of dates.

/// Fields that take a date (in an argument, or inside an input object)
/// but cost 1 like any field, not the days of a range (`RANGES` in
/// `query_cost.rs`), and why.
const FLAT_COST_DATES: &[(&str, &str, &str)] = &[
    (
        "Query",
        "properties",
        "the stay in its filter narrows a search: the page is what it costs",
    ),
    (
        "Mutation",
        "createBooking",
        "one booking, of at most a year's nights, per field",
    ),
];

/// What is wrong with the lists of fields taking dates.
fn range_problems(names: &SchemaNames) -> Vec<String> {
    let mut problems = Vec::new();
    let file = "src/graphql/pipeline/query_cost.rs";
    for (ty, field, from, to) in RANGES {
        if names.field(ty, field).is_none() {
            problems.push(format!(
                "RANGES ({file}) names {ty}.{field}, which is no field: correct or remove it"
            ));
            continue;
        }
        for path in [from, to] {
            let at = names.argument_type(ty, field, path);
            if at != Some("Date") {
                problems.push(format!(
                    "RANGES ({file}) reads {ty}.{field}({}), which is {}, not a Date: \
                     correct the path",
                    path.join("."),
                    at.map_or("no argument".to_owned(), |t| format!("a {t}"))
                ));
            }
        }
    }
    for (ty, field, _) in FLAT_COST_DATES {
        if names.field(ty, field).is_none() {
            problems.push(format!(
                "FLAT_COST_DATES ({HERE}) names {ty}.{field}, which is no field: remove it"
            ));
        }
    }
    for (ty, fields) in &names.outputs {
        for (field, def) in fields {
            if !def.args.values().any(|t| names.holds(t, "Date")) {
                continue;
            }
            let ranged = RANGES.iter().any(|(t, f, ..)| t == ty && f == field);
            let flat = FLAT_COST_DATES
                .iter()
                .any(|(t, f, _)| t == ty && f == field);
            match (ranged, flat) {
                (false, false) => problems.push(format!(
                    "{ty}.{field} takes a Date and is new: add it to RANGES ({file}) with the \
                     paths to its first day and to its end if its work grows with the days \
                     between them, else to FLAT_COST_DATES ({HERE}) saying why it costs 1"
                )),
                (true, true) => problems.push(format!(
                    "{ty}.{field} is in RANGES ({file}) and in FLAT_COST_DATES ({HERE}): keep \
                     one"
                )),
                _ => {}
            }
        }
    }
    problems
}

// The tests

#[test]
fn every_mutation_is_classified_for_the_cache_the_auth_gate_and_the_sign_in_budget() {
    assert_none(&mutation_problems(&SchemaNames::served()));
}

#[test]
fn every_field_an_anonymous_query_reads_is_classified_for_bookings() {
    assert_none(&booking_problems(&SchemaNames::served()));
}

#[test]
fn every_field_taking_dates_is_priced_by_its_range_or_said_not_to_be() {
    assert_none(&range_problems(&SchemaNames::served()));
}

/// The served schema with a field more here and there, as a change to it
/// would add them.
fn served_with(additions: &[(&str, &str)]) -> SchemaNames {
    let mut sdl = crate::schema::sdl();
    for (at, field) in additions {
        let head = format!("{at} {{\n");
        assert!(sdl.contains(&head), "no {at} in the SDL");
        sdl = sdl.replacen(&head, &format!("{head}\t{field}\n"), 1);
    }
    SchemaNames::from_sdl(&sdl)
}

/// Whether one of `problems` says `what`.
fn says(problems: &[String], what: &str) -> bool {
    problems.iter().any(|p| p.contains(what))
}

#[test]
fn a_new_mutation_or_field_fails_until_it_is_classified() {
    let names = served_with(&[
        (
            "type Mutation",
            "resetPassword(token: String!): AuthPayload!",
        ),
        ("type Property implements Node", "nextFreeNight: Date"),
        (
            "type Property implements Node",
            "priceFrom(day: Date!, guests: Int): Money!",
        ),
        ("type User implements Node", "upcomingStays: [Booking!]!"),
        ("input PropertyFilter", "freeOn: Date"),
        (
            "type Query",
            "listingsNear(point: GeoPointInput!): [Property!]!",
        ),
        ("type Query", "host(id: ID!): Host"),
        ("type Location", "neighbourhood: String"),
    ]);
    let mutations = mutation_problems(&names);
    assert!(
        says(&mutations, "Mutation.resetPassword is new"),
        "{mutations:#?}"
    );
    let bookings = booking_problems(&names);
    for new in [
        "Property.nextFreeNight is new",
        "Property.priceFrom is new",
        "User.upcomingStays is new",
        "PropertyFilter.freeOn is new",
        "Query.listingsNear is new",
        "Query.host is new",
        "Location.neighbourhood is new",
    ] {
        assert!(says(&bookings, new), "{new}: {bookings:#?}");
    }
    let ranges = range_problems(&names);
    for new in ["Property.priceFrom takes a Date", "Query.host"] {
        let found = says(&ranges, new);
        assert_eq!(found, new.starts_with("Property"), "{new}: {ranges:#?}");
    }
}
