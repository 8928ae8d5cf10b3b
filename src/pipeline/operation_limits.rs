//! Limits on an operation's shape that depth and complexity do not catch
//! (docs/API.md, Limits): at most so many root or aliased fields (an alias
//! bomb asks one expensive field hundreds of times under different names),
//! and at most so many directives (a directive flood costs the validator
//! work without selecting anything). Both are counted as executed: a
//! fragment counts once per use, computed once per fragment.

use std::collections::HashMap;

use async_graphql::{
    ServerResult,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::error::too_complex;

/// Directives one operation may apply (counted as executed).
pub const MAX_DIRECTIVES: usize = 50;

/// (aliased fields, directives) under a selection set, fragments expanded.
#[derive(Clone, Copy, Default)]
struct Counts {
    aliases: usize,
    directives: usize,
}

impl Counts {
    fn add(self, other: Self) -> Self {
        Self {
            aliases: self.aliases.saturating_add(other.aliases),
            directives: self.directives.saturating_add(other.directives),
        }
    }
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    /// Fragments counted so far; `None` while one is being counted (a
    /// cycle, refused before this walk by `nesting`, counts as nothing here).
    fragments: HashMap<&'a str, Option<Counts>>,
}

impl<'a> Counter<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Counts {
        let mut total = Counts::default();
        for s in &set.items {
            let here = match &s.node {
                Selection::Field(f) => {
                    let own = Counts {
                        aliases: usize::from(f.node.alias.is_some()),
                        directives: f.node.directives.len(),
                    };
                    own.add(self.set(&f.node.selection_set.node))
                }
                Selection::InlineFragment(i) => Counts {
                    aliases: 0,
                    directives: i.node.directives.len(),
                }
                .add(self.set(&i.node.selection_set.node)),
                Selection::FragmentSpread(spread) => Counts {
                    aliases: 0,
                    directives: spread.node.directives.len(),
                }
                .add(self.fragment(spread.node.fragment_name.node.as_str())),
            };
            total = total.add(here);
        }
        total
    }

    fn fragment(&mut self, name: &'a str) -> Counts {
        match self.fragments.get(name) {
            Some(Some(c)) => return *c,
            Some(None) => return Counts::default(),
            None => {}
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Counts::default();
        };
        self.fragments.insert(name, None);
        let c = Counts {
            aliases: 0,
            directives: fragment.node.directives.len(),
        }
        .add(self.set(&fragment.node.selection_set.node));
        self.fragments.insert(name, Some(c));
        c
    }

    /// Root fields that carry no alias (aliased ones are counted already),
    /// looking through root-level fragments.
    fn plain_roots(&self, set: &'a SelectionSet, seen: &mut Vec<&'a str>) -> usize {
        let mut n = 0usize;
        for s in &set.items {
            n = n.saturating_add(match &s.node {
                Selection::Field(f) => usize::from(f.node.alias.is_none()),
                Selection::InlineFragment(i) => self.plain_roots(&i.node.selection_set.node, seen),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.doc.fragments.get(name) {
                        Some(f) if !seen.contains(&name) => {
                            seen.push(name);
                            let n = self.plain_roots(&f.node.selection_set.node, seen);
                            seen.pop();
                            n
                        }
                        _ => 0,
                    }
                }
            });
        }
        n
    }
}

/// For each operation of `doc`: (root or aliased fields, directives).
pub fn shape(doc: &ExecutableDocument) -> Vec<(usize, usize)> {
    let mut counter = Counter {
        doc,
        fragments: HashMap::new(),
    };
    doc.operations
        .iter()
        .map(|(_, op)| {
            let set = &op.node.selection_set.node;
            let c = counter.set(set);
            let roots = counter.plain_roots(set, &mut Vec::new());
            (
                c.aliases.saturating_add(roots),
                c.directives.saturating_add(op.node.directives.len()),
            )
        })
        .collect()
}

/// QUERY_TOO_COMPLEX for an operation with more than `max_aliases` root or
/// aliased fields (with `fields` and `limit`), or more than
/// [`MAX_DIRECTIVES`] directives (with `directives` and `limit`).
pub(super) fn check(doc: &ExecutableDocument, max_aliases: usize) -> ServerResult<()> {
    for (fields, directives) in shape(doc) {
        if fields > max_aliases {
            return Err(too_complex(
                format!(
                    "The operation asks for {fields} root or aliased fields; at most {max_aliases} are allowed"
                ),
                "fields",
                fields,
                max_aliases,
            ));
        }
        if directives > MAX_DIRECTIVES {
            return Err(too_complex(
                format!(
                    "The operation applies {directives} directives; at most {MAX_DIRECTIVES} are allowed"
                ),
                "directives",
                directives,
                MAX_DIRECTIVES,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(q: &str) -> Vec<(usize, usize)> {
        shape(&async_graphql::parser::parse_query(q).expect("parses"))
    }

    #[test]
    fn root_and_aliased_fields_are_counted_as_executed() {
        assert_eq!(s("{ me { id } }"), [(1, 0)]);
        assert_eq!(
            s("{ a: me { id } b: me { x: id } amenities { code } }"),
            [(4, 0)]
        );
        // A fragment of 3 aliases used twice counts 6, plus the root field.
        assert_eq!(
            s("{ me { ...F ...F } } fragment F on User { a: id b: id c: id }"),
            [(7, 0)]
        );
        // Root fields through a root-level fragment.
        assert_eq!(
            s("{ ...R } fragment R on Query { me { id } amenities { code } }"),
            [(2, 0)]
        );
        assert_eq!(
            s("{ me @include(if: true) { id @skip(if: false) } }"),
            [(1, 2)]
        );
        assert_eq!(
            s("{ a { ...A } } fragment A on T { b { ...A } }"),
            [(1, 0)],
            "a cycle ends"
        );
    }

    #[test]
    fn a_fragment_bomb_is_counted_without_walking_every_path() {
        let q = super::super::fragment_bomb(60, "x: a { NEXT }");
        let shape = s(&q);
        assert!(shape[0].0 > 1_000_000, "{shape:?}");
    }
}
