//! Access tokens (JWT, HS256) and refresh tokens (random, stored hashed).

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use domain::config::JwtSecret;

const ISSUER: &str = "roost";
const REFRESH_PREFIX: &str = "rt_";

/// What an access token says: who, which session, until when.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: Uuid,
    sid: Uuid,
    iat: i64,
    exp: i64,
}

/// A verified access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

pub struct IssuedAccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Why an access token was refused. The messages are safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Expired => "The access token has expired; refresh the session",
            Self::Invalid => "The access token is invalid",
        }
    }
}

/// Signs and checks access tokens with the configured secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl AccessTokens {
    pub fn new(secret: &JwtSecret, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: no leeway (and see `verify`).
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.bytes()),
            decoding: DecodingKey::from_secret(secret.bytes()),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, user_id: Uuid, session_id: Uuid) -> anyhow::Result<IssuedAccessToken> {
        let now = Utc::now();
        let expires_at = now + self.ttl;
        let claims = Claims {
            iss: ISSUER.into(),
            sub: user_id,
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires_at);
        Ok(IssuedAccessToken { token, expires_at })
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            // The library accepts a token through the second `exp` names;
            // RFC 7519 says the time must be before it. From that instant
            // on, the token is refused here as its WebSockets are closed.
            Ok(data) if data.claims.exp <= Utc::now().timestamp() => Err(TokenError::Expired),
            Ok(data) => Ok(AccessClaims {
                user_id: data.claims.sub,
                session_id: data.claims.sid,
                // Out of range only for a token we did not sign.
                expires_at: DateTime::from_timestamp(data.claims.exp, 0)
                    .ok_or(TokenError::Invalid)?,
            }),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
                Err(TokenError::Expired)
            }
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

/// A new refresh token: what the client gets, and what the database keeps.
pub struct NewRefreshToken {
    pub token: String,
    pub hash: String,
}

pub fn new_refresh_token() -> NewRefreshToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    NewRefreshToken { token, hash }
}

/// The database never holds a usable refresh token, only this digest.
pub fn hash_refresh_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> AccessTokens {
        AccessTokens::new(
            &JwtSecret::given(secret.into(), false).expect("secret"),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn a_token_round_trips() {
        let t = tokens("a-test-secret-that-is-long-enough-000");
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let issued = t.issue(user, session).expect("issue");
        assert_eq!(
            t.verify(&issued.token),
            Ok(AccessClaims {
                user_id: user,
                session_id: session,
                expires_at: issued.expires_at,
            })
        );
    }

    #[test]
    fn a_token_is_refused_from_the_second_its_expiry_names() {
        let t = AccessTokens::new(
            &JwtSecret::given("a-test-secret-that-is-long-enough-000".into(), false)
                .expect("secret"),
            Duration::ZERO,
        );
        let issued = t.issue(Uuid::now_v7(), Uuid::now_v7()).expect("issue");
        assert_eq!(t.verify(&issued.token), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_and_alg_none_are_refused() {
        let issued = tokens("key-one-key-one-key-one-key-one-1")
            .issue(Uuid::now_v7(), Uuid::now_v7())
            .expect("issue");
        let other = tokens("key-two-key-two-key-two-key-two-2");
        assert_eq!(other.verify(&issued.token), Err(TokenError::Invalid));

        // The same claims with "alg": "none" and no signature.
        let mut parts = issued.token.split('.');
        let _header = parts.next();
        let payload = parts.next().expect("payload");
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        assert_eq!(
            tokens("key-one-key-one-key-one-key-one-1").verify(&none),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with("rt_"));
        assert_eq!(a.hash.len(), 64);
        assert_eq!(hash_refresh_token(&a.token), a.hash);
    }
}
