//! Argument values of the scalars with a format of their own (`Date`,
//! `DateTime`, `Decimal`, `ID`), checked before anything runs, variables
//! included. async-graphql checks built-in types (a string where an `Int`
//! goes) in validation, but reads these only when a resolver asks for its
//! argument: a bad date then failed that one field, with the parser's
//! words ("Failed to parse ... occurred while parsing ..."), after the
//! other fields had run.
//!
//! Lists, too, are bounded here (docs/SECURITY.md, Every bound): no argument takes
//! more than so many items in one list. A variable of 65,000 enum values
//! fits in a megabyte of JSON, and became a statement with 65,000
//! parameters, which the database refused (SQLite allows 32,766,
//! PostgreSQL 65,535).
//!
//! A value that does not fit is a request error like a built-in type
//! error: BAD_USER_INPUT, `extensions.field` the path in the arguments
//! (`filter.checkIn` for `properties(filter: $filter)`, whatever the
//! variable is called; list items by index, `filter.amenities.2`), and a
//! message saying what is allowed.

use std::{borrow::Cow, collections::HashSet, convert::Infallible};

use async_graphql::{
    Name, Pos, ServerError, ServerResult, Value, Variables,
    parser::types::{
        BaseType, ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet, Type,
    },
};

use super::schema_types::{SchemaTypes, named};
use crate::{
    error::{code, request_error},
    graphql::scalars,
};

/// The values of an operation's variables: the request's, else their
/// defaults, else null.
pub(super) struct Vars<'a> {
    operation: &'a OperationDefinition,
    values: &'a Variables,
}

impl<'a> Vars<'a> {
    pub(super) fn new(operation: &'a OperationDefinition, values: &'a Variables) -> Self {
        Self { operation, values }
    }

    fn get(&self, name: &Name) -> Value {
        self.values
            .get(name)
            .or_else(|| {
                self.operation
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == *name)
                    .and_then(|d| d.node.default_value.as_ref())
                    .map(|v| &v.node)
            })
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The value of `field`'s argument `name`, variables replaced by their
    /// values; `None` when the argument is not given.
    pub(super) fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        let i = field
            .arguments
            .iter()
            .position(|(n, _)| n.node.as_str() == name)?;
        self.argument_at(field, i)
    }

    /// The value of `field`'s `i`th argument, variables replaced by their
    /// values.
    fn argument_at(&self, field: &Field, i: usize) -> Option<Value> {
        let (_, value) = field.arguments.get(i)?;
        match value
            .node
            .clone()
            .into_const_with(|name| Ok::<_, Infallible>(self.get(&name)))
        {
            Ok(value) => Some(value),
            Err(never) => match never {},
        }
    }
}

/// BAD_USER_INPUT naming the argument path `path`, at `pos`.
fn does_not_fit(path: &[String], allowed: &str, pos: Pos) -> ServerError {
    let field = path.join(".");
    let mut e = request_error(format!("{field} {allowed}"), code::BAD_USER_INPUT);
    e.locations = vec![pos];
    e.extensions
        .get_or_insert_with(Default::default)
        .set("field", field);
    e
}

/// BAD_USER_INPUT for the first argument value, in the order the document
/// is written, that does not fit its scalar, or that is a list of more than
/// `max_items`.
pub(super) fn check(
    types: &SchemaTypes,
    doc: &ExecutableDocument,
    operation: &OperationDefinition,
    vars: &Vars<'_>,
    max_items: usize,
) -> ServerResult<()> {
    Walk {
        types,
        doc,
        vars,
        max_items,
        seen: HashSet::new(),
    }
    .set(types.root(operation.ty), &operation.selection_set.node)
}

struct Walk<'a> {
    types: &'a SchemaTypes,
    doc: &'a ExecutableDocument,
    vars: &'a Vars<'a>,
    max_items: usize,
    /// Fragments checked already: each is checked once.
    seen: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn set(&mut self, parent: Option<&'a str>, set: &'a SelectionSet) -> ServerResult<()> {
        for s in &set.items {
            match &s.node {
                Selection::Field(f) => {
                    let def = parent.and_then(|p| self.types.field(p, f.node.name.node.as_str()));
                    if let Some(def) = def {
                        for (i, (name, _)) in f.node.arguments.iter().enumerate() {
                            let arg = def.args.iter().find(|a| a.name == name.node.as_str());
                            let (Some(arg), Some(value)) = (arg, self.vars.argument_at(&f.node, i))
                            else {
                                continue;
                            };
                            let mut path = vec![arg.name.clone()];
                            if let Err(allowed) = self.value(&value, &arg.ty, &mut path) {
                                return Err(does_not_fit(&path, &allowed, name.pos));
                            }
                        }
                    }
                    self.set(def.map(|d| named(&d.ty)), &f.node.selection_set.node)?;
                }
                Selection::InlineFragment(i) => {
                    let on = i.node.type_condition.as_ref();
                    let ty = on.map(|c| c.node.on.node.as_str()).or(parent);
                    self.set(ty, &i.node.selection_set.node)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some(fragment) = self.doc.fragments.get(name)
                        && self.seen.insert(name)
                    {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.set(Some(on), &fragment.node.selection_set.node)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `value` fits `ty`, as far as its scalars and the length of
    /// its lists go; `path` ends at the value that does not. Shapes (an
    /// object where a list goes, a field the input type lacks) are left to
    /// validation.
    fn value(
        &self,
        value: &Value,
        ty: &Type,
        path: &mut Vec<String>,
    ) -> Result<(), Cow<'static, str>> {
        match (&ty.base, value) {
            (_, Value::Null) => Ok(()),
            (BaseType::List(_), Value::List(items)) if items.len() > self.max_items => {
                Err(Cow::Owned(format!(
                    "holds {} items; at most {} are allowed",
                    items.len(),
                    self.max_items
                )))
            }
            (BaseType::List(inner), Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    self.value(item, inner, path)?;
                    path.pop();
                }
                Ok(())
            }
            // One value where a list goes is a list of one.
            (BaseType::List(inner), one) => self.value(one, inner, path),
            (BaseType::Named(name), value) => match (self.types.input(name), value) {
                (Some(fields), Value::Object(given)) => {
                    for (key, item) in given {
                        if let Some(ty) = fields.get(key.as_str()) {
                            path.push(key.to_string());
                            self.value(item, ty, path)?;
                            path.pop();
                        }
                    }
                    Ok(())
                }
                (Some(_), _) => Ok(()),
                (None, value) => scalars::fits(name, value).map_err(Cow::Borrowed),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "
        scalar Date
        scalar DateTime
        scalar Decimal
        input Window { from: DateTime!, days: [Date!], price: Decimal }
        type Query { at(when: DateTime!, windows: [Window!]): Thing }
        type Thing { id: ID!, near(id: ID!): Thing }
        schema { query: Query }
    ";

    /// The `extensions.field` and message of the error, if any.
    fn refused(query: &str, variables: serde_json::Value) -> Option<(String, String)> {
        let types = SchemaTypes::from_sdl(SDL).expect("parses");
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let variables = Variables::from_json(variables);
        let (_, operation) = doc.operations.iter().next().expect("an operation");
        let vars = Vars::new(&operation.node, &variables);
        let e = check(&types, &doc, &operation.node, &vars, 3).err()?;
        let field = e.extensions.as_ref()?.get("field")?.clone();
        Some((field.to_string().trim_matches('"').to_owned(), e.message))
    }

    #[test]
    fn each_scalar_is_checked_where_it_is_given() {
        let q = "query($w: DateTime!, $ws: [Window!]) { at(when: $w, windows: $ws) { id } }";
        let window = serde_json::json!({ "from": "2027-03-10T14:00:00Z" });
        assert_eq!(
            refused(
                q,
                serde_json::json!({ "w": "2027-03-10T14:00:00Z", "ws": [window] })
            ),
            None
        );
        assert_eq!(
            refused(q, serde_json::json!({ "w": "10 March", "ws": [] })),
            Some((
                "when".into(),
                "when must be an RFC 3339 instant such as 2027-03-10T14:00:00Z".into()
            ))
        );
        let ws = serde_json::json!([window, { "from": "2027-03-10T14:00:00Z", "days": ["2027-03-10", "x"] }]);
        assert_eq!(
            refused(
                q,
                serde_json::json!({ "w": "2027-03-10T14:00:00Z", "ws": ws })
            ),
            Some((
                "windows.1.days.1".into(),
                "windows.1.days.1 must be a date written YYYY-MM-DD, such as 2027-03-10".into()
            ))
        );
        // One value where a list goes stands for a list of one.
        let one = serde_json::json!({ "from": "2027-03-10T14:00:00Z", "price": "free" });
        assert_eq!(
            refused(
                q,
                serde_json::json!({ "w": "2027-03-10T14:00:00Z", "ws": one })
            ),
            Some((
                "windows.price".into(),
                "windows.price must be a decimal number such as \"120.50\"".into()
            ))
        );
    }

    #[test]
    fn lists_hold_so_many_items_wherever_they_are() {
        let q = "query($ws: [Window!]) { at(when: \"2027-03-10T14:00:00Z\", windows: $ws) { id } }";
        let window = |days: usize| serde_json::json!({ "from": "2027-03-10T14:00:00Z", "days": vec!["2027-03-10"; days] });
        assert_eq!(
            refused(q, serde_json::json!({ "ws": vec![window(3); 3] })),
            None
        );
        assert_eq!(
            refused(q, serde_json::json!({ "ws": vec![window(3); 4] })),
            Some((
                "windows".into(),
                "windows holds 4 items; at most 3 are allowed".into()
            ))
        );
        assert_eq!(
            refused(q, serde_json::json!({ "ws": [window(1), window(65_000)] })),
            Some((
                "windows.1.days".into(),
                "windows.1.days holds 65000 items; at most 3 are allowed".into()
            ))
        );
    }

    #[test]
    fn variables_defaults_fragments_and_nested_fields_are_looked_through() {
        let q = "query($id: ID = 4.5) { at(when: \"2027-03-10T14:00:00Z\") { ...F } } \
                 fragment F on Thing { near(id: \"a\") { ... on Thing { near(id: $id) { id } } } }";
        assert_eq!(
            refused(q, serde_json::json!({})).map(|(field, _)| field),
            Some("id".into())
        );
        assert_eq!(refused(q, serde_json::json!({ "id": "b" })), None);
        // Fields the schema lacks and nulls are left to validation.
        assert_eq!(
            refused(
                "{ nowhere(when: 1) at(when: null) { id } }",
                serde_json::json!({})
            ),
            None
        );
    }
}
