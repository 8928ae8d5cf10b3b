//! Signing in: tokens, lockouts, password hashing.

use std::time::Duration;

use super::JwtSecret;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_secret: JwtSecret,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_max_failures: u32,
    pub login_failure_window: Duration,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
}
