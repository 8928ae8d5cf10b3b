//! What every domain's GraphQL types share: the context helpers (services,
//! loaders), connections, global ids, money, scalars, the node interface,
//! and the request pipeline. The schema itself is `crate::schema`.

pub mod connection;
pub mod context;
pub mod ids;
pub mod money;
pub mod node;

pub mod replica;
pub mod scalars;
#[cfg(test)]
pub(crate) mod schema_names;

pub use context::{Services, ServicesExt};
