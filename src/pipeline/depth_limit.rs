//! The query depth limit, counted like async-graphql counts it (each field
//! is a level), with one difference: introspection (`__schema`, `__type`)
//! has an allowance of its own. The introspection query of GraphiQL, Apollo
//! and codegen tools nests its type references deeper than any sensible
//! limit for data; it is bounded by the schema, and still capped.

use std::collections::HashMap;

use async_graphql::{
    ServerResult,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::error::too_complex;

/// Enough for the standard introspection query, and not much more.
pub const INTROSPECTION_MAX_DEPTH: usize = 20;

/// Depths of fragments, computed once each: a fragment used many times (or
/// a chain of fragments each used twice) costs one walk, not one per use.
/// A fragment met again while its own depth is being computed is a cycle;
/// those are refused before this walk (`nesting`), here it counts as 0.
struct Depths<'a> {
    doc: &'a ExecutableDocument,
    fragments: HashMap<&'a str, Option<usize>>,
}

impl<'a> Depths<'a> {
    fn of(&mut self, set: &'a SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => 1 + self.of(&f.node.selection_set.node),
                Selection::InlineFragment(i) => self.of(&i.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            })
            .max()
            .unwrap_or(0)
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        match self.fragments.get(name) {
            Some(Some(depth)) => return *depth,
            Some(None) => return 0,
            None => {}
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return 0;
        };
        self.fragments.insert(name, None);
        let depth = self.of(&fragment.node.selection_set.node);
        self.fragments.insert(name, Some(depth));
        depth
    }

    /// The deepest data selection and the deepest introspection selection
    /// under a root selection set, looking through root-level fragments.
    fn root(&mut self, set: &'a SelectionSet, out: &mut (usize, usize), seen: &mut Vec<&'a str>) {
        for s in &set.items {
            match &s.node {
                Selection::Field(f) => {
                    let depth = 1 + self.of(&f.node.selection_set.node);
                    let slot = if matches!(f.node.name.node.as_str(), "__schema" | "__type") {
                        &mut out.1
                    } else {
                        &mut out.0
                    };
                    *slot = (*slot).max(depth);
                }
                Selection::InlineFragment(i) => self.root(&i.node.selection_set.node, out, seen),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !seen.contains(&name)
                        && let Some(fragment) = self.doc.fragments.get(name)
                    {
                        seen.push(name);
                        self.root(&fragment.node.selection_set.node, out, seen);
                    }
                }
            }
        }
    }
}

/// (data depth, introspection depth) of the deepest operation.
pub fn depths(doc: &ExecutableDocument) -> (usize, usize) {
    let mut depths = Depths {
        doc,
        fragments: HashMap::new(),
    };
    let mut out = (0, 0);
    for (_, op) in doc.operations.iter() {
        depths.root(&op.node.selection_set.node, &mut out, &mut Vec::new());
    }
    out
}

/// QUERY_TOO_COMPLEX for a document nested deeper than `max` (or than
/// [`INTROSPECTION_MAX_DEPTH`] in introspection), with `depth` and `limit`.
pub(super) fn check(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    let (data, introspection) = depths(doc);
    if data > max {
        return Err(too_complex(
            format!("The query is nested {data} levels deep; at most {max} are allowed"),
            "depth",
            data,
            max,
        ));
    }
    if introspection > INTROSPECTION_MAX_DEPTH {
        return Err(too_complex(
            format!(
                "The introspection query is nested {introspection} levels deep; at most {INTROSPECTION_MAX_DEPTH} are allowed"
            ),
            "depth",
            introspection,
            INTROSPECTION_MAX_DEPTH,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(q: &str) -> (usize, usize) {
        depths(&async_graphql::parser::parse_query(q).expect("parses"))
    }

    #[test]
    fn depth_counts_fields_and_looks_through_fragments() {
        assert_eq!(d("{ me { id } }"), (2, 0));
        assert_eq!(d("{ a { b { c } } x }"), (3, 0));
        assert_eq!(
            d("query { ...F } fragment F on Query { me { ... on User { id } } }"),
            (2, 0)
        );
        assert_eq!(d("{ __schema { types { name } } me { id } }"), (2, 3));
        assert_eq!(
            d("{ a { ...A } } fragment A on T { b { ...A } }"),
            (2, 0),
            "a cycle ends"
        );
    }

    #[test]
    fn a_fragment_bomb_is_walked_once_per_fragment() {
        // Each fragment uses the next one twice: 2^40 paths, 40 walks.
        let q = super::super::fragment_bomb(40, "a { NEXT }");
        assert_eq!(d(&q), (41, 0));
    }
}
