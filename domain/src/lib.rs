//! Roost's rules, without GraphQL or HTTP.
//!
//! Floors, each using only those below it: `config` (a leaf), `kernel`
//! (who acts, errors, money, keyset pages), `infra` (database, Redis, caches, events), then the
//! domains: `users`. The API crate at the top of the repository puts GraphQL and
//! HTTP on top.

pub mod config;
pub mod infra;
pub mod kernel;
pub mod users;
