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

use crate::error::{code, request_error};

/// Enough for the standard introspection query, and not much more.
pub const INTROSPECTION_MAX_DEPTH: usize = 20;

/// Depths of fragments, computed once each: a fragment used many times (or
/// a chain of fragments each used twice) costs one walk, not one per use.
/// A fragment met again while its own depth is being computed is a cycle;
/// validation rejects those, here it counts as 0.
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
/// [`INTROSPECTION_MAX_DEPTH`] in introspection).
pub(super) fn check(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    {
        let (data, introspection) = depths(doc);
        if data > max {
            return Err(request_error(
                format!("The query is nested {data} levels deep; at most {max} are allowed"),
                code::QUERY_TOO_COMPLEX,
            ));
        }
        if introspection > INTROSPECTION_MAX_DEPTH {
            return Err(request_error(
                format!(
                    "The introspection query is nested {introspection} levels deep; at most {INTROSPECTION_MAX_DEPTH} are allowed"
                ),
                code::QUERY_TOO_COMPLEX,
            ));
        }
        Ok(())
    }
}

/// How deep async-graphql lets a document nest, counting fields, inline
/// fragments and fragment spreads each as a level (its recursion limit).
const MAX_NESTING: usize = 32;

/// A bound on how deep the walks of the document recurse, checked before
/// any of them: the walks of this module, of the shape and sign-in counts
/// follow fragment spreads, so a chain of thousands of fragments (a
/// megabyte of text holds that many) would otherwise recurse that deep.
/// The same bound as async-graphql's, which it applies later itself, with
/// the same error. Each fragment is walked again only when reached deeper
/// than before, so this costs at most [`MAX_NESTING`] walks per fragment and
/// never recurses past [`MAX_NESTING`] levels.
pub(super) fn check_nesting(doc: &ExecutableDocument) -> ServerResult<()> {
    struct Walk<'a> {
        doc: &'a ExecutableDocument,
        /// The deepest level each fragment was walked from.
        entered: HashMap<&'a str, usize>,
    }

    impl<'a> Walk<'a> {
        fn fits(&mut self, set: &'a SelectionSet, depth: usize) -> bool {
            if depth > MAX_NESTING {
                return false;
            }
            set.items.iter().all(|s| match &s.node {
                Selection::Field(f) => {
                    let inner = &f.node.selection_set.node;
                    inner.items.is_empty() || self.fits(inner, depth + 1)
                }
                Selection::InlineFragment(i) => self.fits(&i.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        return true;
                    };
                    if self.entered.get(name).is_some_and(|&d| d > depth) {
                        return true;
                    }
                    self.entered.insert(name, depth + 1);
                    self.fits(&fragment.node.selection_set.node, depth + 1)
                }
            })
        }
    }

    let mut walk = Walk {
        doc,
        entered: HashMap::new(),
    };
    let fits = doc
        .operations
        .iter()
        .all(|(_, op)| walk.fits(&op.node.selection_set.node, 0));
    if fits {
        Ok(())
    } else {
        Err(request_error(
            format!("The recursion depth of the query cannot be greater than `{MAX_NESTING}`"),
            code::QUERY_TOO_COMPLEX,
        ))
    }
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

    fn nests(q: &str) -> bool {
        check_nesting(&async_graphql::parser::parse_query(q).expect("parses")).is_ok()
    }

    #[test]
    fn nesting_is_bounded_through_fragments_without_walking_every_path() {
        assert!(nests("{ a { b { c } } }"));
        let chain = |n: usize| {
            let mut q = String::from("{ ...F0 }\n");
            for i in 0..n {
                q.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
            }
            q.push_str(&format!("fragment F{n} on Query {{ leaf }}\n"));
            q
        };
        // The operation's set is level 0, each spread one more.
        assert!(nests(&chain(31)));
        assert!(!nests(&chain(32)));
        assert!(!nests(&chain(20_000)), "a long chain stops at the bound");
        assert!(
            !nests("{ ...A } fragment A on Query { ...A }"),
            "a cycle stops at the bound"
        );
        // Each fragment uses the next one twice: 2^30 paths.
        let mut bomb = String::from("{ ...F0 }\n");
        for i in 0..30 {
            bomb.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        bomb.push_str("fragment F30 on Query { leaf }\n");
        assert!(nests(&bomb));
    }

    #[test]
    fn a_fragment_bomb_is_walked_once_per_fragment() {
        // Each fragment uses the next one twice: 2^40 paths, 40 walks.
        let mut q = String::from("{ ...F0 }\n");
        for i in 0..40 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ a {{ ...F{} ...F{} }} }}\n",
                i + 1,
                i + 1
            ));
        }
        q.push_str("fragment F40 on Query { leaf }\n");
        assert_eq!(d(&q), (41, 0));
    }
}
