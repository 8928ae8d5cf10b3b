//! What the checks before execution need to know of the schema's types:
//! each field's type and arguments, and each input object's fields. Read
//! once, at start, from the schema's own SDL (async-graphql keeps its
//! registry to itself), so it is always the schema that runs.

use std::collections::HashMap;

use async_graphql::{
    Value,
    parser::{
        parse_schema,
        types::{
            BaseType, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
        },
    },
};

/// The types of a schema, as the checks see them.
#[derive(Default)]
pub struct SchemaTypes {
    /// Object and interface types: their fields.
    outputs: HashMap<String, HashMap<String, FieldDef>>,
    /// Input object types: their fields' types.
    inputs: HashMap<String, HashMap<String, Type>>,
    /// The query, mutation and subscription types.
    roots: [Option<String>; 3],
}

/// A field of an object or interface type.
pub struct FieldDef {
    pub ty: Type,
    pub args: Vec<ArgDef>,
    /// For a connection (it returns a type with `edges` and `nodes` and
    /// takes `first`): its page size when `first` and `last` are not given.
    pub page: Option<i64>,
}

/// An argument of a field.
pub struct ArgDef {
    pub name: String,
    pub ty: Type,
}

/// The page size of a connection whose `first` has no default.
const DEFAULT_PAGE: i64 = 20;

impl SchemaTypes {
    /// The types the SDL `sdl` declares; an error when it does not parse.
    pub fn from_sdl(sdl: &str) -> Result<Self, async_graphql::parser::Error> {
        let doc = parse_schema(sdl)?;
        let mut types = Self {
            roots: [
                Some("Query".into()),
                Some("Mutation".into()),
                Some("Subscription".into()),
            ],
            ..Self::default()
        };
        let mut defaults: Vec<(String, String, Option<i64>)> = Vec::new();
        for definition in doc.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    types.roots = [schema.query, schema.mutation, schema.subscription]
                        .map(|n| n.map(|n| n.node.to_string()));
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let name = ty.name.node.to_string();
                    match ty.kind {
                        TypeKind::Object(o) => {
                            types.add_fields(&name, o.fields, &mut defaults);
                        }
                        TypeKind::Interface(i) => {
                            types.add_fields(&name, i.fields, &mut defaults);
                        }
                        TypeKind::InputObject(input) => {
                            let fields = input
                                .fields
                                .into_iter()
                                .map(|f| (f.node.name.node.to_string(), f.node.ty.node))
                                .collect();
                            types.inputs.insert(name, fields);
                        }
                        _ => {}
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        // Connections are known once every type is.
        for (parent, field, default) in defaults {
            let returns_page = types.outputs.get(&parent).and_then(|fields| {
                let returned = types.outputs.get(named(&fields.get(&field)?.ty))?;
                Some(returned.contains_key("edges") && returned.contains_key("nodes"))
            });
            if returns_page == Some(true)
                && let Some(def) = types
                    .outputs
                    .get_mut(&parent)
                    .and_then(|fields| fields.get_mut(&field))
            {
                def.page = Some(default.unwrap_or(DEFAULT_PAGE));
            }
        }
        Ok(types)
    }

    /// Fields of `parent`, noting every one that takes `first` (with its
    /// default) in `defaults`.
    fn add_fields(
        &mut self,
        parent: &str,
        fields: Vec<async_graphql::Positioned<FieldDefinition>>,
        defaults: &mut Vec<(String, String, Option<i64>)>,
    ) {
        let fields = fields
            .into_iter()
            .map(|f| {
                let f = f.node;
                let name = f.name.node.to_string();
                let first = f.arguments.iter().find(|a| a.node.name.node == "first");
                if let Some(first) = first {
                    defaults.push((parent.to_owned(), name.clone(), default_int(&first.node)));
                }
                let args = f
                    .arguments
                    .into_iter()
                    .map(|a| ArgDef {
                        name: a.node.name.node.to_string(),
                        ty: a.node.ty.node,
                    })
                    .collect();
                let def = FieldDef {
                    ty: f.ty.node,
                    args,
                    page: None,
                };
                (name, def)
            })
            .collect();
        self.outputs.insert(parent.to_owned(), fields);
    }

    /// The field `name` of the object or interface type `parent`.
    pub fn field(&self, parent: &str, name: &str) -> Option<&FieldDef> {
        self.outputs.get(parent)?.get(name)
    }

    /// The fields of the input object type `name`.
    pub fn input(&self, name: &str) -> Option<&HashMap<String, Type>> {
        self.inputs.get(name)
    }

    /// The type an operation of type `ty` selects on.
    pub fn root(&self, ty: async_graphql::parser::types::OperationType) -> Option<&str> {
        use async_graphql::parser::types::OperationType as O;
        let i = match ty {
            O::Query => 0,
            O::Mutation => 1,
            O::Subscription => 2,
        };
        self.roots[i].as_deref()
    }
}

fn default_int(arg: &InputValueDefinition) -> Option<i64> {
    match &arg.default_value.as_ref()?.node {
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The named type inside a type's lists and non-nulls.
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_schema_is_read_with_its_connections() {
        let types = SchemaTypes::from_sdl(&crate::schema::sdl()).expect("the SDL parses");
        let page = |parent: &str, field: &str| types.field(parent, field).and_then(|f| f.page);
        assert_eq!(page("Query", "properties"), Some(20));
        assert_eq!(page("Property", "reviews"), Some(10));
        assert_eq!(page("Conversation", "messages"), Some(DEFAULT_PAGE));
        assert_eq!(page("Property", "photos"), None, "a plain list");
        assert_eq!(page("Query", "property"), None);
        let filter = types
            .field("Query", "properties")
            .and_then(|f| f.args.iter().find(|a| a.name == "filter"))
            .map(|a| named(&a.ty));
        assert_eq!(filter, Some("PropertyFilter"));
        let check_in = types
            .input("PropertyFilter")
            .and_then(|f| f.get("checkIn"))
            .map(named);
        assert_eq!(check_in, Some("Date"));
        assert_eq!(
            types.root(async_graphql::parser::types::OperationType::Mutation),
            Some("Mutation")
        );
    }
}
