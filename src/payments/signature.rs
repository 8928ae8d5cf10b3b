//! Stripe webhook signatures: anyone can POST to `/webhooks/stripe`, so an
//! event is believed only when its `Stripe-Signature` header proves it was
//! made with the endpoint's signing secret, recently.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`, where
//! each `v1` is HMAC-SHA256 of `"{t}.{payload}"` under a signing secret
//! (several while a secret is being rolled). `v0` and unknown schemes are
//! ignored: only `v1` is accepted.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The contract's tolerance (five minutes) between the signed timestamp and
/// now, either way: it bounds how long a captured request can be replayed.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused. Each answers 400; the distinction is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=...,v1=...`.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// The signature may be right, but it is too old (or too far in the
    /// future) to be trusted: possibly a replay.
    #[error("Stripe-Signature timestamp outside the tolerance")]
    Stale,
    /// No `v1` signature matches the payload under the secret.
    #[error("Stripe-Signature does not match the payload")]
    Mismatch,
}

/// Checks `header` (a `Stripe-Signature` value) against the raw request body
/// `payload` and the endpoint's signing `secret`, accepting timestamps within
/// `tolerance_secs` of `now_unix`.
///
/// The comparison is constant-time, so the response time reveals nothing
/// about how close a forged signature came.
pub fn verify(
    payload: &[u8],
    header: &str,
    secret: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let parsed = parse(header)?;
    let expected = mac(secret, parsed.timestamp, payload).ok_or(SignatureError::Mismatch)?;
    let matches = parsed.signatures.iter().any(|signature| {
        decode_hex(signature).is_some_and(|bytes| expected.clone().verify_slice(&bytes).is_ok())
    });
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now_unix.abs_diff(parsed.timestamp) > tolerance {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// A `Stripe-Signature` header value for `payload` signed at `timestamp`, as
/// Stripe would send it: for tests and tools that play Stripe.
pub fn sign(payload: &[u8], secret: &[u8], timestamp: i64) -> String {
    let digest = mac(secret, timestamp, payload)
        .map(|m| encode_hex(&m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={timestamp},v1={digest}")
}

struct Parsed<'a> {
    timestamp: i64,
    signatures: Vec<&'a str>,
}

fn parse(header: &str) -> Result<Parsed<'_>, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (key, value) = item.split_once('=').ok_or(SignatureError::Malformed)?;
        match key.trim() {
            "t" => {
                let t = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed)?;
                // Two timestamps would leave it ambiguous which one was signed.
                if timestamp.replace(t).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            "v1" => signatures.push(value.trim()),
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !signatures.is_empty() => Ok(Parsed {
            timestamp,
            signatures,
        }),
        _ => Err(SignatureError::Malformed),
    }
}

/// The HMAC state after absorbing `"{timestamp}.{payload}"`.
///
/// HMAC takes keys of any length (long ones are hashed), so this is never
/// `None`; the `Result` it comes from exists for fixed-key MACs.
fn mac(secret: &[u8], timestamp: i64, payload: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    Some(mac)
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect()
}

/// Lower- or upper-case hex to bytes; `None` for anything else.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from((high << 4) | low).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const PAYLOAD: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_700_000_000;

    fn check(payload: &[u8], header: &str) -> Result<(), SignatureError> {
        verify(payload, header, SECRET, NOW, TOLERANCE_SECS)
    }

    #[test]
    fn a_signature_made_by_sign_is_valid() {
        assert_eq!(check(PAYLOAD, &sign(PAYLOAD, SECRET, NOW)), Ok(()));
    }

    #[test]
    fn matches_stripe_reference_computation() {
        // HMAC-SHA256("whsec_test_secret", "1700000000.{PAYLOAD}") computed
        // independently with `openssl dgst -sha256 -hmac`.
        let header = sign(PAYLOAD, SECRET, NOW);
        assert_eq!(
            header,
            "t=1700000000,v1=\
             22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31"
        );
    }

    #[test]
    fn a_tampered_payload_is_a_mismatch() {
        let header = sign(PAYLOAD, SECRET, NOW);
        let tampered = br#"{"id":"evt_1","type":"payment_intent.canceled"}"#;
        assert_eq!(check(tampered, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_wrong_secret_is_a_mismatch() {
        let header = sign(PAYLOAD, b"whsec_other", NOW);
        assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_changed_timestamp_is_a_mismatch() {
        let header = sign(PAYLOAD, SECRET, NOW).replace("t=1700000000", "t=1700000001");
        assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_tolerance_is_inclusive() {
        for t in [NOW - 300, NOW + 300] {
            assert_eq!(check(PAYLOAD, &sign(PAYLOAD, SECRET, t)), Ok(()), "{t}");
        }
    }

    #[test]
    fn older_than_the_tolerance_is_stale() {
        let header = sign(PAYLOAD, SECRET, NOW - 301);
        assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Stale));
    }

    #[test]
    fn newer_than_the_tolerance_is_stale() {
        let header = sign(PAYLOAD, SECRET, NOW + 301);
        assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Stale));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        for t in [i64::MIN, i64::MAX] {
            let header = sign(PAYLOAD, SECRET, t);
            assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Stale));
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = sign(PAYLOAD, SECRET, NOW);
        let v1 = good.split_once(",v1=").unwrap().1;
        for header in [
            String::new(),
            " ".to_owned(),
            "garbage".to_owned(),
            format!("v1={v1}"),
            format!("t={NOW}"),
            format!("t={NOW},v0={v1}"),
            format!("t=abc,v1={v1}"),
            format!("t=,v1={v1}"),
            format!("t={NOW},t={NOW},v1={v1}"),
            format!("t={NOW},v1{v1}"),
        ] {
            assert_eq!(
                check(PAYLOAD, &header),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }

    #[test]
    fn one_right_v1_among_several_is_enough() {
        let good = sign(PAYLOAD, SECRET, NOW);
        let v1 = good.split_once(",v1=").unwrap().1;
        let wrong = sign(PAYLOAD, b"old_secret", NOW);
        let wrong_v1 = wrong.split_once(",v1=").unwrap().1;
        let header = format!("t={NOW},v1={wrong_v1},v1=not-hex,v1={v1},v0={wrong_v1}");
        assert_eq!(check(PAYLOAD, &header), Ok(()));
    }

    #[test]
    fn only_wrong_v1_values_are_a_mismatch() {
        let wrong = sign(PAYLOAD, b"old_secret", NOW);
        let wrong_v1 = wrong.split_once(",v1=").unwrap().1;
        let header = format!("t={NOW},v1={wrong_v1},v1=zz,v1=abc,v1=");
        assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_right_signature_under_v0_only_is_not_accepted() {
        let good = sign(PAYLOAD, SECRET, NOW);
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t={NOW},v0={v1},v1=00");
        assert_eq!(check(PAYLOAD, &header), Err(SignatureError::Mismatch));
    }

    #[test]
    fn spaces_and_upper_case_hex_are_tolerated() {
        let good = sign(PAYLOAD, SECRET, NOW);
        let v1 = good.split_once(",v1=").unwrap().1.to_uppercase();
        let header = format!(" t={NOW} , v1={v1} ");
        assert_eq!(check(PAYLOAD, &header), Ok(()));
    }

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_hex(&encode_hex(&bytes)), Some(bytes));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("+1"), None);
    }
}
