//! For tests: the names the served schema declares (types, fields,
//! arguments, input fields), read from its SDL, so that the lists of
//! names kept as strings elsewhere can be held to it. See
//! `docs/NAME_LISTS.md`.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, InputValueDefinition, Type, TypeKind, TypeSystemDefinition},
};

/// The named type inside a type's lists and non-nulls.
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// A field of an object or interface type.
pub struct Field {
    /// The named type it returns, without lists and non-nulls.
    pub ty: String,
    /// Its arguments, each with its named type.
    pub args: BTreeMap<String, String>,
}

/// The schema's names.
pub struct SchemaNames {
    /// Object and interface types, with their fields.
    pub outputs: BTreeMap<String, BTreeMap<String, Field>>,
    /// Input object types, with their fields' named types.
    pub inputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Interfaces, with the object types that implement them.
    pub implementors: BTreeMap<String, BTreeSet<String>>,
    /// The scalars the schema declares (the built-in ones it does not).
    pub scalars: BTreeSet<String>,
}

fn args(values: &[async_graphql::Positioned<InputValueDefinition>]) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|v| {
            (
                v.node.name.node.to_string(),
                named(&v.node.ty.node).to_owned(),
            )
        })
        .collect()
}

impl SchemaNames {
    /// The names of the schema the server runs (`roost schema` prints it).
    pub fn served() -> Self {
        Self::from_sdl(&crate::schema::sdl())
    }

    pub fn from_sdl(sdl: &str) -> Self {
        let doc = parse_schema(sdl).expect("the SDL parses");
        let mut names = Self {
            outputs: BTreeMap::new(),
            inputs: BTreeMap::new(),
            implementors: BTreeMap::new(),
            scalars: BTreeSet::new(),
        };
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            let (fields, implements) = match ty.node.kind {
                TypeKind::Object(o) => (o.fields, o.implements),
                TypeKind::Interface(i) => {
                    names.implementors.entry(name.clone()).or_default();
                    (i.fields, Vec::new())
                }
                TypeKind::InputObject(input) => {
                    names.inputs.insert(name, args(&input.fields));
                    continue;
                }
                TypeKind::Scalar => {
                    names.scalars.insert(name);
                    continue;
                }
                TypeKind::Union(_) | TypeKind::Enum(_) => continue,
            };
            for interface in implements {
                names
                    .implementors
                    .entry(interface.node.to_string())
                    .or_default()
                    .insert(name.clone());
            }
            let fields = fields
                .into_iter()
                .map(|f| {
                    let field = Field {
                        ty: named(&f.node.ty.node).to_owned(),
                        args: args(&f.node.arguments),
                    };
                    (f.node.name.node.to_string(), field)
                })
                .collect();
            names.outputs.insert(name, fields);
        }
        names
    }

    /// The field `name` of the object or interface type `ty`.
    pub fn field(&self, ty: &str, name: &str) -> Option<&Field> {
        self.outputs.get(ty)?.get(name)
    }

    /// The fields of the object or interface type `ty` (none when there is
    /// no such type).
    pub fn fields(&self, ty: &str) -> impl Iterator<Item = (&str, &Field)> {
        self.outputs
            .get(ty)
            .into_iter()
            .flatten()
            .map(|(name, field)| (name.as_str(), field))
    }

    /// The named type at `path` in the arguments of `ty.field`: an
    /// argument, then fields of input objects.
    pub fn argument_type(&self, ty: &str, field: &str, path: &[&str]) -> Option<&str> {
        let (argument, inside) = path.split_first()?;
        let mut at = self.field(ty, field)?.args.get(*argument)?;
        for key in inside {
            at = self.inputs.get(at)?.get(*key)?;
        }
        Some(at)
    }

    /// Whether a value of the named type `ty` holds a value of the scalar
    /// `scalar`: `ty` is it, or an input object with it somewhere inside.
    pub fn holds(&self, ty: &str, scalar: &str) -> bool {
        fn walk<'a>(
            names: &'a SchemaNames,
            ty: &'a str,
            scalar: &str,
            seen: &mut BTreeSet<&'a str>,
        ) -> bool {
            if ty == scalar {
                return true;
            }
            if !seen.insert(ty) {
                return false;
            }
            names
                .inputs
                .get(ty)
                .is_some_and(|fields| fields.values().any(|f| walk(names, f, scalar, seen)))
        }
        walk(self, ty, scalar, &mut BTreeSet::new())
    }
}

/// Fails with every problem found, one a line, when there is any.
pub fn assert_none(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "\n{}\n(docs/NAME_LISTS.md says what each list is for)\n",
        problems.join("\n")
    );
}

mod tests {
    use super::*;

    #[test]
    fn the_served_schema_is_read_whole() {
        let names = SchemaNames::served();
        assert_eq!(
            names
                .field("Property", "calendar")
                .map(|f| f.args.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["from".to_owned(), "to".to_owned()])
        );
        assert_eq!(
            names.argument_type("Mutation", "updateCalendar", &["input", "from"]),
            Some("Date")
        );
        assert!(names.holds("PropertyFilter", "Date"));
        assert!(!names.holds("GeoPointInput", "Date"));
        assert!(names.implementors["Node"].contains("Booking"));
        assert!(names.scalars.contains("Upload"));
        assert!(names.outputs.contains_key("Mutation"));
    }
}
