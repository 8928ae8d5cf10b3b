//! What an operation costs (docs/API.md, Limits; SECURITY.md, Every bound), computed before
//! anything runs; over the limit is QUERY_TOO_COMPLEX with `cost` and
//! `limit` in `extensions`.
//!
//! Costs follow the work. Each field costs 1 plus what is selected under
//! it. A connection (a field taking `first` whose type has `edges` and
//! `nodes`) returns a page: what is selected for each of its items, under
//! `edges` or `nodes`, costs its page size (`first`, else `last`, else the
//! field's default) times over; `pageInfo` and `totalCount` are worked out
//! once per page and cost once. Nested connections multiply. A page size
//! out of range costs a page of one: the field refuses it with
//! BAD_USER_INPUT on `first`, which says more than a cost would.
//!
//! A field whose work grows with a range of dates it is given costs the
//! range's days instead of 1: `calendar(from, to)` its days, `quote` and
//! `isAvailable` their nights, `updateCalendar` the days it writes (each
//! day is a row read or written, and a part of the answer). A range the
//! field refuses (the end not after the start, longer than 366 days, not a
//! date) costs 1, like a page size out of range. Inside a page it is paid
//! for each item: 100 listings' calendars of 366 days cost 36,702.
//!
//! So a search page of 50 listings, each with its id, title, price, host,
//! rating, location and photos (19 per listing), costs
//! 2 + 50 × 19 = 952, plus 4 for `pageInfo { hasNextPage endCursor }` and
//! `totalCount`; docs/API.md shows it.

use std::collections::HashMap;

use async_graphql::{
    ScalarType, ServerResult, Value,
    parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet},
};

use super::{
    argument_values::Vars,
    schema_types::{SchemaTypes, named},
};
use crate::{
    error::too_complex,
    graphql::{connection::MAX_PAGE, scalars::Date},
    properties::calendar::MAX_RANGE_DAYS,
};

/// The fields that cost the days of a range: the type, the field, and the
/// paths in its arguments to the range's first day and to its end
/// (exclusive). A test (`name_lists.rs`) holds it to the schema: every field
/// taking a date is here, or said to cost 1.
pub(super) const RANGES: [(&str, &str, &[&str], &[&str]); 4] = [
    ("Property", "calendar", &["from"], &["to"]),
    ("Property", "isAvailable", &["checkIn"], &["checkOut"]),
    ("Property", "quote", &["checkIn"], &["checkOut"]),
    (
        "Mutation",
        "updateCalendar",
        &["input", "from"],
        &["input", "to"],
    ),
];

/// The cost of `operation`.
pub(super) fn cost(
    types: &SchemaTypes,
    doc: &ExecutableDocument,
    operation: &OperationDefinition,
    vars: &Vars<'_>,
) -> usize {
    Walk {
        types,
        doc,
        vars,
        fragments: HashMap::new(),
    }
    .set(
        types.root(operation.ty),
        &operation.selection_set.node,
        None,
    )
}

/// QUERY_TOO_COMPLEX when `operation` costs more than `max`.
pub(super) fn check(
    types: &SchemaTypes,
    doc: &ExecutableDocument,
    operation: &OperationDefinition,
    vars: &Vars<'_>,
    max: usize,
) -> ServerResult<()> {
    let cost = cost(types, doc, operation, vars);
    if cost > max {
        return Err(too_complex(
            format!("The query costs {cost}; at most {max} is allowed"),
            "cost",
            cost,
            max,
        ));
    }
    Ok(())
}

struct Walk<'a> {
    types: &'a SchemaTypes,
    doc: &'a ExecutableDocument,
    vars: &'a Vars<'a>,
    /// The cost of each fragment, by the page it is spread in (the items
    /// of a page cost a page size times over): computed once each.
    fragments: HashMap<(&'a str, Option<usize>), usize>,
}

impl<'a> Walk<'a> {
    /// What `set`, selected on `parent`, costs; `page` is the page size
    /// when `set` is a connection's selection.
    fn set(
        &mut self,
        parent: Option<&'a str>,
        set: &'a SelectionSet,
        page: Option<usize>,
    ) -> usize {
        set.items.iter().fold(0usize, |total, s| {
            let here = match &s.node {
                Selection::Field(f) => self.field(parent, &f.node, page),
                Selection::InlineFragment(i) => {
                    let on = i.node.type_condition.as_ref();
                    let ty = on.map(|c| c.node.on.node.as_str()).or(parent);
                    self.set(ty, &i.node.selection_set.node, page)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), page)
                }
            };
            total.saturating_add(here)
        })
    }

    fn field(&mut self, parent: Option<&'a str>, field: &'a Field, page: Option<usize>) -> usize {
        let name = field.name.node.as_str();
        let def = parent.and_then(|p| self.types.field(p, name));
        let ty = def.map(|d| named(&d.ty));
        let set = &field.selection_set.node;
        let under = match (page, name) {
            (Some(size), "edges" | "nodes") => size.saturating_mul(self.set(ty, set, None)),
            _ => {
                let own_page = def
                    .and_then(|d| d.page)
                    .map(|default| self.page_size(field, default));
                self.set(ty, set, own_page)
            }
        };
        under.saturating_add(self.own_cost(parent, field))
    }

    /// What the field itself costs: 1, or the days of the range it is
    /// given (`RANGES`).
    fn own_cost(&self, parent: Option<&str>, field: &Field) -> usize {
        let name = field.name.node.as_str();
        let Some((_, _, from, to)) = RANGES
            .iter()
            .find(|(ty, f, _, _)| parent == Some(*ty) && *f == name)
        else {
            return 1;
        };
        let date = |path: &[&str]| {
            let (argument, inside) = path.split_first()?;
            let mut value = self.vars.argument(field, argument)?;
            for key in inside {
                value = match value {
                    Value::Object(mut fields) => fields.swap_remove(*key)?,
                    _ => return None,
                };
            }
            Date::parse(value).ok().map(|d| d.0)
        };
        match (date(from), date(to)) {
            (Some(from), Some(to)) if (1..=MAX_RANGE_DAYS).contains(&(to - from).num_days()) => {
                usize::try_from((to - from).num_days()).unwrap_or(1)
            }
            _ => 1,
        }
    }

    fn fragment(&mut self, name: &'a str, page: Option<usize>) -> usize {
        if let Some(cost) = self.fragments.get(&(name, page)) {
            return *cost;
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return 0;
        };
        // Cycles are refused before this walk (`nesting`); were one to
        // come here, it would count as nothing.
        self.fragments.insert((name, page), 0);
        let on = fragment.node.type_condition.node.on.node.as_str();
        let cost = self.set(Some(on), &fragment.node.selection_set.node, page);
        self.fragments.insert((name, page), cost);
        cost
    }

    /// A connection's page size: `first`, else `last`, else `default`; one
    /// when out of range.
    fn page_size(&self, field: &Field, default: i64) -> usize {
        let given = |name| match self.vars.argument(field, name) {
            Some(Value::Number(n)) => n.as_i64(),
            _ => None,
        };
        let size = given("first").or_else(|| given("last")).unwrap_or(default);
        if (1..=i64::from(MAX_PAGE)).contains(&size) {
            usize::try_from(size).unwrap_or(1)
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Variables;

    use super::*;

    fn cost_of(query: &str, variables: serde_json::Value) -> usize {
        let types = SchemaTypes::from_sdl(&crate::schema::sdl()).expect("the SDL parses");
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let variables = Variables::from_json(variables);
        let (_, operation) = doc.operations.iter().next().expect("an operation");
        let vars = Vars::new(&operation.node, &variables);
        cost(&types, &doc, &operation.node, &vars)
    }

    const CARD: &str = "id title pricePerNight { amount currency } \
        host { id firstName avatarUrl } rating { average count } \
        location { city country latitude longitude } photos { url }";

    #[test]
    fn a_page_costs_its_items_times_its_size_and_its_page_info_once() {
        let page =
            |first: usize| format!("{{ properties(first: {first}) {{ nodes {{ {CARD} }} }} }}");
        assert_eq!(cost_of(&page(50), serde_json::json!({})), 2 + 50 * 19);
        assert_eq!(cost_of(&page(100), serde_json::json!({})), 2 + 100 * 19);
        let with_info = format!(
            "{{ properties(first: 50) {{ nodes {{ {CARD} }} pageInfo {{ hasNextPage endCursor }} totalCount }} }}"
        );
        assert_eq!(cost_of(&with_info, serde_json::json!({})), 2 + 50 * 19 + 4);
        // Edges: each item is its cursor and its node.
        let edges =
            format!("{{ properties(first: 50) {{ edges {{ cursor node {{ {CARD} }} }} }} }}");
        assert_eq!(cost_of(&edges, serde_json::json!({})), 2 + 50 * 21);
        // The default page (20), a variable, `last`, out of range.
        assert_eq!(
            cost_of("{ properties { nodes { id } } }", serde_json::json!({})),
            2 + 20
        );
        assert_eq!(
            cost_of(
                "query($n: Int) { properties(first: $n) { nodes { id } } }",
                serde_json::json!({ "n": 7 })
            ),
            2 + 7
        );
        assert_eq!(
            cost_of(
                "query($n: Int = 9) { properties(first: $n) { nodes { id } } }",
                serde_json::json!({})
            ),
            2 + 9
        );
        assert_eq!(
            cost_of(
                "{ properties(first: 0) { nodes { id } } }",
                serde_json::json!({})
            ),
            2 + 1
        );
    }

    #[test]
    fn ranges_of_dates_cost_their_days() {
        let calendar = "{ property(id: \"x\") { calendar(from: \"2027-01-01\", to: \"2027-01-31\") { date available } } }";
        // property, 30 days, date, available
        assert_eq!(cost_of(calendar, serde_json::json!({})), 1 + 30 + 2);
        let stay = "query($in: Date!, $out: Date!) { property(id: \"x\") { \
            isAvailable(checkIn: $in, checkOut: $out) \
            quote(checkIn: $in, checkOut: $out, guests: 2) { total { amount } } } }";
        let nights = |check_in: &str, check_out: &str| {
            cost_of(
                stay,
                serde_json::json!({ "in": check_in, "out": check_out }),
            )
        };
        assert_eq!(nights("2027-01-01", "2027-01-08"), 1 + 7 + (7 + 2));
        // Ranges the field refuses cost 1: backwards, empty, too long, not a date.
        assert_eq!(nights("2027-01-08", "2027-01-01"), 1 + 1 + (1 + 2));
        assert_eq!(nights("2027-01-01", "2027-01-01"), 1 + 1 + (1 + 2));
        assert_eq!(nights("2027-01-01", "2028-01-03"), 1 + 1 + (1 + 2));
        assert_eq!(nights("2027-01-01", "2028-01-02"), 1 + 366 + (366 + 2));
        assert_eq!(nights("2027-01-01", "soon"), 1 + 1 + (1 + 2));
        // In a page, for each item; through fragments on the type too.
        let page = "{ properties(first: 100) { nodes { ...C } } } \
            fragment C on Property { calendar(from: \"2027-01-01\", to: \"2028-01-02\") { date } }";
        assert_eq!(cost_of(page, serde_json::json!({})), 2 + 100 * (366 + 1));
        let node = "{ node(id: \"x\") { ... on Property { isAvailable(checkIn: \"2027-01-01\", checkOut: \"2027-01-31\") } } }";
        assert_eq!(cost_of(node, serde_json::json!({})), 1 + 30);
        // The days a host writes, from the input object.
        let update = "mutation($i: UpdateCalendarInput!) { updateCalendar(input: $i) { date } }";
        assert_eq!(
            cost_of(
                update,
                serde_json::json!({ "i": { "propertyId": "x", "from": "2027-01-01", "to": "2027-03-01" } })
            ),
            59 + 1
        );
        // A field of that name elsewhere costs 1.
        assert_eq!(
            cost_of(
                "{ me { id } calendar(from: \"2027-01-01\", to: \"2027-03-01\") }",
                serde_json::json!({})
            ),
            2 + 1
        );
    }

    #[test]
    fn nested_pages_multiply_and_fragments_are_priced_where_they_are_spread() {
        // properties and nodes, then 30 × (reviews, nodes, 30 × comment)
        assert_eq!(
            cost_of(
                "{ properties(first: 30) { nodes { reviews(first: 30) { nodes { comment } } } } }",
                serde_json::json!({})
            ),
            2 + 30 * (2 + 30)
        );
        let through_fragments = "query { properties(first: 10) { ...Page } } \
            fragment Page on PropertyConnection { nodes { ...Card } totalCount } \
            fragment Card on Property { id title }";
        assert_eq!(
            cost_of(through_fragments, serde_json::json!({})),
            1 + (1 + 10 * 2) + 1
        );
        // Unknown fields and introspection cost like any field.
        assert_eq!(
            cost_of("{ __schema { types { name } } }", serde_json::json!({})),
            3
        );
        // A plain list costs once, whatever its length.
        assert_eq!(
            cost_of(
                "{ property(id: \"x\") { photos { url caption } } }",
                serde_json::json!({})
            ),
            4
        );
    }
}
