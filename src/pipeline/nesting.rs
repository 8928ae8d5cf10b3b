//! The first look at a parsed document, before any walk that follows
//! fragment spreads: its fragments must not form cycles (the GraphQL
//! spec's validation rule "Fragments must not form cycles", answered
//! GRAPHQL_VALIDATION_FAILED), and it must not nest deeper than
//! [`MAX_NESTING`] (QUERY_TOO_COMPLEX with `depth` and `limit`).
//!
//! The walks after this one (depth, shape, cost, argument values, and
//! async-graphql's own) recurse into fragments; a megabyte of text holds
//! thousands of fragments each spreading the next, and a cycle has no end.
//! This check never recurses into a fragment: each fragment's own text is
//! read once (the parser bounds how deeply one text nests), and the
//! fragments are then taken in dependency order with a stack of their own,
//! so a chain of any length costs its length, and its exact depth is known.

use std::collections::HashMap;

use async_graphql::{
    Pos, ServerError, ServerResult,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::error::{code, request_error, too_complex};

/// How deep a document may nest, counting fields with a selection, inline
/// fragments and fragment spreads each as a level, the operation's own
/// selection being level 0: async-graphql's recursion limit, which it
/// applies later itself.
pub const MAX_NESTING: usize = 32;

/// What one selection set (an operation's or a fragment's) holds, read
/// from its own text.
#[derive(Default)]
struct Summary<'a> {
    /// The level of its deepest selection set, its own being 0.
    depth: usize,
    /// The fragments it spreads: the name, the level the fragment's
    /// selection set is entered at, and where the spread is written.
    spreads: Vec<(&'a str, usize, Pos)>,
}

impl<'a> Summary<'a> {
    fn of(set: &'a SelectionSet) -> Self {
        let mut summary = Self::default();
        summary.read(set, 0);
        summary
    }

    fn read(&mut self, set: &'a SelectionSet, level: usize) {
        self.depth = self.depth.max(level);
        for s in &set.items {
            match &s.node {
                Selection::Field(f) => {
                    let inner = &f.node.selection_set.node;
                    if !inner.items.is_empty() {
                        self.read(inner, level + 1);
                    }
                }
                Selection::InlineFragment(i) => self.read(&i.node.selection_set.node, level + 1),
                Selection::FragmentSpread(spread) => self.spreads.push((
                    spread.node.fragment_name.node.as_str(),
                    level + 1,
                    spread.pos,
                )),
            }
        }
    }

    /// Its nesting, given the nesting of the fragments it spreads
    /// (fragments that are not defined count as nothing: validation
    /// refuses them).
    fn nesting(&self, fragments: &HashMap<&str, usize>) -> usize {
        self.spreads
            .iter()
            .filter_map(|(name, level, _)| Some(level.saturating_add(*fragments.get(name)?)))
            .fold(self.depth, usize::max)
    }
}

/// GRAPHQL_VALIDATION_FAILED for a fragment cycle, QUERY_TOO_COMPLEX for a
/// document nested deeper than [`MAX_NESTING`].
pub(super) fn check(doc: &ExecutableDocument) -> ServerResult<()> {
    // In the order they are written, so that the same cycle is named
    // whatever order the map holds them in.
    let mut fragments: Vec<_> = doc.fragments.iter().collect();
    fragments.sort_by_key(|(_, f)| f.pos);
    let summaries: HashMap<&str, Summary> = fragments
        .iter()
        .map(|(name, f)| (name.as_str(), Summary::of(&f.node.selection_set.node)))
        .collect();
    let mut nesting: HashMap<&str, usize> = HashMap::with_capacity(summaries.len());
    for (name, _) in &fragments {
        measure(name.as_str(), &summaries, &mut nesting)?;
    }
    let deepest = doc
        .operations
        .iter()
        .map(|(_, op)| Summary::of(&op.node.selection_set.node).nesting(&nesting))
        .max()
        .unwrap_or(0);
    if deepest > MAX_NESTING {
        return Err(too_complex(
            format!("The recursion depth of the query cannot be greater than `{MAX_NESTING}`"),
            "depth",
            deepest,
            MAX_NESTING,
        ));
    }
    Ok(())
}

/// The nesting of fragment `start` and of every fragment it reaches, into
/// `nesting`; a fragment reached again while it is open is a cycle.
fn measure<'a>(
    start: &'a str,
    summaries: &HashMap<&'a str, Summary<'a>>,
    nesting: &mut HashMap<&'a str, usize>,
) -> ServerResult<()> {
    if nesting.contains_key(start) {
        return Ok(());
    }
    // The open fragments: name, the next spread to follow, and where the
    // spread that opened it is written.
    let mut open: Vec<(&str, usize, Option<Pos>)> = vec![(start, 0, None)];
    while let Some((name, next, _)) = open.last_mut() {
        let name = *name;
        let Some(summary) = summaries.get(name) else {
            open.pop();
            continue;
        };
        let Some(&(target, _, pos)) = summary.spreads.get(*next) else {
            let measured = summary.nesting(nesting);
            nesting.insert(name, measured);
            open.pop();
            continue;
        };
        *next += 1;
        if nesting.contains_key(target) || !summaries.contains_key(target) {
            continue;
        }
        if let Some(at) = open.iter().position(|(n, _, _)| *n == target) {
            return Err(cycle(&open[at..], pos));
        }
        open.push((target, 0, Some(pos)));
    }
    Ok(())
}

/// `Cannot spread fragment "A" within itself via "B".`, as graphql-js
/// says it, at the spreads that make the cycle.
fn cycle(path: &[(&str, usize, Option<Pos>)], closing: Pos) -> ServerError {
    let first = path.first().map_or("", |(name, _, _)| *name);
    let via: Vec<String> = path
        .iter()
        .skip(1)
        .map(|(name, _, _)| format!("\"{name}\""))
        .collect();
    let message = if via.is_empty() {
        format!("Cannot spread fragment \"{first}\" within itself.")
    } else {
        format!(
            "Cannot spread fragment \"{first}\" within itself via {}.",
            via.join(", ")
        )
    };
    let mut e = request_error(message, code::GRAPHQL_VALIDATION_FAILED);
    e.locations = path
        .iter()
        .skip(1)
        .filter_map(|(_, _, pos)| *pos)
        .chain([closing])
        .collect();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(q: &str) -> ServerResult<()> {
        check(&async_graphql::parser::parse_query(q).expect("parses"))
    }

    fn extension(e: &ServerError, name: &str) -> Option<async_graphql::Value> {
        e.extensions.as_ref()?.get(name).cloned()
    }

    fn chain(n: usize) -> String {
        let mut q = String::from("{ ...F0 }\n");
        for i in 0..n {
            q.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        q.push_str(&format!("fragment F{n} on Query {{ leaf }}\n"));
        q
    }

    #[test]
    fn nesting_is_measured_through_fragments_without_recursing_into_them() {
        assert!(checked("{ a { b { c } } }").is_ok());
        // The operation's set is level 0, each spread one more.
        assert!(checked(&chain(31)).is_ok());
        let e = checked(&chain(32)).expect_err("too deep");
        assert_eq!(extension(&e, "depth"), Some(33usize.into()));
        assert_eq!(extension(&e, "limit"), Some(MAX_NESTING.into()));
        let e = checked(&chain(20_000)).expect_err("too deep");
        assert_eq!(extension(&e, "depth"), Some(20_001usize.into()));
        assert_eq!(extension(&e, "code"), Some(code::QUERY_TOO_COMPLEX.into()));
        // Each fragment uses the next one twice: 2^30 paths, 31 fragments.
        let bomb = super::super::fragment_bomb(30, "NEXT");
        assert!(checked(&bomb).is_ok());
        // Fields and inline fragments count; leaves do not.
        assert!(checked(&format!("{}{}", "{ a ".repeat(32), "}".repeat(32))).is_ok());
        let inline = format!("{{ {} x {}", "... on Query { ".repeat(33), "} ".repeat(34));
        let e = checked(&inline).expect_err("too deep");
        assert_eq!(extension(&e, "depth"), Some(33usize.into()));
    }

    #[test]
    fn fragment_cycles_are_validation_errors_naming_the_cycle() {
        let e = checked("{ ...A } fragment A on Query { x ...A }").expect_err("a cycle");
        assert_eq!(e.message, "Cannot spread fragment \"A\" within itself.");
        assert_eq!(
            extension(&e, "code"),
            Some(code::GRAPHQL_VALIDATION_FAILED.into())
        );
        assert_eq!(
            e.locations,
            [Pos {
                line: 1,
                column: 34
            }]
        );
        let e = checked(
            "{ ...A }\nfragment A on Query { ...B }\nfragment B on Query { ...C }\nfragment C on Query { ...A }",
        )
        .expect_err("a cycle");
        assert_eq!(
            e.message,
            "Cannot spread fragment \"A\" within itself via \"B\", \"C\"."
        );
        assert_eq!(
            e.locations,
            [
                Pos {
                    line: 2,
                    column: 23
                },
                Pos {
                    line: 3,
                    column: 23
                },
                Pos {
                    line: 4,
                    column: 23
                }
            ]
        );
        // A cycle that the operation does not use is still one; a fragment
        // spread twice without a cycle is not.
        assert!(checked("{ x } fragment A on Query { ...A }").is_err());
        assert!(
            checked("{ ...A ...B } fragment A on Query { ...B } fragment B on Query { x }").is_ok()
        );
        // A cycle behind a long chain is found without recursing.
        let mut q = chain(10_000);
        q.push_str("fragment G on Query { ...H } fragment H on Query { ...G }\n");
        assert!(
            checked(&q)
                .expect_err("a cycle")
                .message
                .starts_with("Cannot spread fragment \"G\"")
        );
    }
}
