//! Integration tests: each starts the real server on a random port with a
//! fresh database and talks to it over HTTP and WebSocket, as a client would.
//!
//! SQLite by default. With `TEST_DATABASE_URL` (a PostgreSQL server URL whose
//! user may create databases) each test gets its own new database there, and
//! with `TEST_REDIS_URL` its own key prefix in that Redis.

mod helpers;

mod auth_gate;
mod bookings;
mod browser;
mod config;
mod currencies;
mod cursors;
mod every_field;
mod fake_smtp;
mod fake_stripe;
mod health;
mod live_client;
mod locations;
mod login;
mod messaging;
mod migrations;
mod multipart;
mod operating;
mod own_redis;
mod payments;
mod persisted_queries;
mod photos;
mod profile;
mod properties;
mod query_limits;
mod rate_limits;
mod raw_http;
mod read_replicas;
mod redis_faults;
mod register;
mod response_cache;
mod reviews;
mod schema;
mod search;
mod security;
mod seed;
mod sessions;
mod shutdown;
mod slow_clients;
mod stripe;
mod subscriptions;
mod tracing_export;
mod transport;
mod walkthrough;
mod websocket;
mod worker;
