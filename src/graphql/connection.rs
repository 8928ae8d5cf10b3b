//! Relay cursor connections (docs/API.md, Search: every connection): opaque cursors, `nodes`
//! equal to the edges' nodes, exact `totalCount`. Every list resolver
//! makes its connection of a [`Page`] with [`connection`]; reading the page
//! (cursors, page sizes, statements) is `domain::kernel::page`'s.

use async_graphql::SimpleObject;

pub use domain::kernel::page::MAX_PAGE;
use domain::kernel::page::Page;

#[derive(SimpleObject, Debug, Clone, Default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// A connection type (declared by [`connection_types!`](crate::connection_types)):
/// its edges, each a cursor and a node, its page info and its count.
pub trait Connection {
    type Node;

    /// The connection of these edges; any other field it has holds its
    /// default.
    fn assemble(
        edges: Vec<(String, Self::Node)>,
        page_info: PageInfo,
        total_count: Option<i64>,
    ) -> Self;
}

/// The connection of `page`: its rows as nodes, in order, with their
/// cursors, and its count.
pub fn connection<C: Connection, T: Into<C::Node>>(page: Page<T>) -> C {
    let page_info = PageInfo {
        has_next_page: page.has_next,
        has_previous_page: page.has_previous,
        start_cursor: page.items.first().map(|i| i.cursor.clone()),
        end_cursor: page.items.last().map(|i| i.cursor.clone()),
    };
    let edges = page
        .items
        .into_iter()
        .map(|i| (i.cursor, i.node.into()))
        .collect();
    C::assemble(edges, page_info, page.total)
}

/// The [`connection`] of `page` once `prime` has loaded what its nodes
/// will ask for, for the whole page at once.
pub async fn primed<C, T>(
    page: Page<T>,
    prime: impl AsyncFnOnce(&[T]) -> async_graphql::Result<()>,
) -> async_graphql::Result<C>
where
    C: Connection,
    T: Clone + Into<C::Node>,
{
    let nodes: Vec<T> = page.nodes().cloned().collect();
    prime(&nodes).await?;
    Ok(connection(page))
}

/// Declares the GraphQL connection and edge types of one node type, and
/// fields the connection has besides (each with its doc comment, read
/// as the field is stored, set after [`connection`] made it).
#[macro_export]
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty $(, $(#[$meta:meta])* $extra:ident: $extra_ty:ty)* $(,)?) => {
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[async_graphql::Object]
        impl $edge {
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            async fn node(&self) -> &$node {
                &self.node
            }
        }

        pub struct $connection {
            pub edges: Vec<$edge>,
            pub page_info: $crate::graphql::connection::PageInfo,
            /// Counted only when the query asks for it.
            pub total_count: Option<i64>,
            $(pub $extra: $extra_ty,)*
        }

        #[async_graphql::Object]
        impl $connection {
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }

            async fn page_info(&self) -> &$crate::graphql::connection::PageInfo {
                &self.page_info
            }

            async fn total_count(&self) -> i64 {
                self.total_count.unwrap_or_default()
            }

            $(
                $(#[$meta])*
                async fn $extra(&self) -> &$extra_ty {
                    &self.$extra
                }
            )*
        }

        impl $crate::graphql::connection::Connection for $connection {
            type Node = $node;

            fn assemble(
                edges: Vec<(String, $node)>,
                page_info: $crate::graphql::connection::PageInfo,
                total_count: Option<i64>,
            ) -> Self {
                Self {
                    edges: edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                    total_count,
                    $($extra: Default::default(),)*
                }
            }
        }
    };
}
