//! What the domains stand on: the database, Redis, the caches and the event
//! bus, and the process's TLS stack.

pub mod cache;
pub mod db;
pub mod events;
pub mod redis;
pub mod tls;
