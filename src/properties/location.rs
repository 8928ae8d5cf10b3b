//! Where a home is, and who may know (docs/API.md, Listings).
//!
//! Its host, admins and guests with a CONFIRMED or COMPLETED stay see the
//! exact address and coordinates. Everyone else sees "<city>, <country>"
//! and a public point: the real one moved 200 to 700 m in a direction, and
//! rounded to three decimals (about 110 m), so at most 800 m away. The move
//! is fixed per listing (derived from its id with a key only the server
//! holds), so reads and searches, however many, show one and the same
//! point and averaging them reveals nothing. Search filters and the
//! distance order use the public point for everyone.
//!
//! The point is kept on the row (`public_latitude`, `public_longitude`) for
//! search. Rows written by other tools (a bulk load) have none until
//! [`fill_missing`] runs, which every server does as it starts; meanwhile
//! reads compute the same point, and such rows are not found by a search
//! by place.

use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::search::KM_PER_DEGREE;
use domain::infra::db::Placeholders;
use entity::property::{Column as P, Entity as Properties};

/// How far the public point is from the real one before rounding, in
/// metres: never on top of it, never far.
const MIN_SHIFT_M: f64 = 200.0;
const MAX_SHIFT_M: f64 = 700.0;
/// Places of the public coordinates.
const PLACES: i32 = 3;

/// The key that places public points.
#[derive(Clone)]
pub struct PublicPoints {
    key: [u8; 32],
}

impl std::fmt::Debug for PublicPoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicPoints(<key>)")
    }
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        // HMAC takes a key of any length: never taken.
        Err(_) => Sha256::new()
            .chain_update(key)
            .chain_update(message)
            .finalize()
            .into(),
    }
}

/// A number in [0, 1) from eight bytes.
fn unit(bytes: &[u8]) -> f64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    // The top 53 bits: every value exactly representable.
    (u64::from_be_bytes(word) >> 11) as f64 / (1u64 << 53) as f64
}

fn round(value: f64) -> f64 {
    let scale = 10f64.powi(PLACES);
    (value * scale).round() / scale
}

/// A longitude brought back into [-180, 180].
fn wrap(longitude: f64) -> f64 {
    let wrapped = (longitude + 180.0).rem_euclid(360.0) - 180.0;
    if wrapped == -180.0 && longitude > 0.0 {
        180.0
    } else {
        wrapped
    }
}

impl PublicPoints {
    /// Keyed by `secret` (the server's signing secret), under a label of its
    /// own so the derived key serves nothing else.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac(secret, b"roost public location v1"),
        }
    }

    /// The public point of the listing `id` whose home is at
    /// (`latitude`, `longitude`).
    pub fn of(&self, id: Uuid, latitude: f64, longitude: f64) -> (f64, f64) {
        let digest = hmac(&self.key, id.as_bytes());
        // Uniform over the ring between the two radii.
        let (inner, outer) = (MIN_SHIFT_M * MIN_SHIFT_M, MAX_SHIFT_M * MAX_SHIFT_M);
        let metres = (inner + unit(&digest[..8]) * (outer - inner)).sqrt();
        let angle = unit(&digest[8..16]) * std::f64::consts::TAU;
        let per_degree = KM_PER_DEGREE * 1000.0;
        let lat = (latitude + metres * angle.cos() / per_degree).clamp(-90.0, 90.0);
        // A degree of longitude shrinks toward the poles; at a pole every
        // longitude is the same place.
        let scale = lat.to_radians().cos().max(1e-9);
        let lng =
            wrap(longitude + (metres * angle.sin() / (per_degree * scale)).clamp(-180.0, 180.0));
        // Rounded last: arithmetic after rounding would leave binary noise
        // (135.77999999999997) where three decimals are meant. A value
        // within the bounds stays within them when rounded.
        (round(lat), round(lng))
    }
}

/// Places the public point of every listing that has none, 500 at a time
/// (one statement each). Idempotent: the point of a listing is always the
/// same, so servers that start together write the same values.
pub async fn fill_missing(
    db: &impl ConnectionTrait,
    points: &PublicPoints,
) -> Result<usize, DbErr> {
    let mut filled = 0;
    loop {
        let batch: Vec<(Uuid, f64, f64)> = Properties::find()
            .select_only()
            .columns([P::Id, P::Latitude, P::Longitude])
            .filter(P::PublicLatitude.is_null())
            .limit(500)
            .into_tuple()
            .all(db)
            .await?;
        if batch.is_empty() {
            return Ok(filled);
        }
        // UPDATE ... SET public_latitude = CASE id WHEN .. THEN .. END, ...
        // WHERE id IN (..): the same statement on both databases.
        let placed: Vec<(Uuid, (f64, f64))> = batch
            .iter()
            .map(|(id, lat, lng)| (*id, points.of(*id, *lat, *lng)))
            .collect();
        let mut p = Placeholders::new(db.get_database_backend());
        let mut case = |pick: fn((f64, f64)) -> f64| {
            let arms: String = placed
                .iter()
                .map(|(id, point)| format!(" WHEN {} THEN {}", p.bind(*id), p.bind(pick(*point))))
                .collect();
            format!("CASE id{arms} END")
        };
        let (lat, lng) = (case(|p| p.0), case(|p| p.1));
        let ids: Vec<String> = placed.iter().map(|(id, _)| p.bind(*id)).collect();
        let sql = format!(
            "UPDATE properties SET public_latitude = {lat}, public_longitude = {lng} \
             WHERE id IN ({})",
            ids.join(", ")
        );
        db.execute_raw(p.statement(sql)).await?;
        filled += batch.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Great-circle distance in metres.
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
        let dla = la2 - la1;
        let dlo = (b.1 - a.1).to_radians();
        let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * h.sqrt().asin()
    }

    /// At most three decimals as written (the shortest form that reads
    /// back, which is what JSON carries).
    fn places(v: f64) -> bool {
        format!("{v}")
            .split('.')
            .nth(1)
            .is_none_or(|d| d.len() <= 3)
    }

    #[test]
    fn every_public_point_is_within_a_kilometre_and_has_three_places() {
        let points = PublicPoints::new(b"a secret for the tests of public points");
        let spots = [
            (38.7223, -9.1393),
            (0.0, 0.0),
            (-33.8688, 151.2093),
            (64.1466, -21.9426),
            (89.9999, 10.0),
            (-89.9999, -170.0),
            (12.0, 179.9999),
            (-12.0, -179.9999),
            (51.5, 180.0),
        ];
        for (n, spot) in spots.iter().enumerate() {
            for i in 0..2_000u128 {
                let id = Uuid::from_u128(i * 7919 + n as u128);
                let public = points.of(id, spot.0, spot.1);
                let d = metres(*spot, public);
                assert!(d <= 1_000.0, "{spot:?} -> {public:?}: {d} m");
                assert!((-90.0..=90.0).contains(&public.0), "{public:?}");
                assert!((-180.0..=180.0).contains(&public.1), "{public:?}");
                assert!(places(public.0) && places(public.1), "{public:?}");
                // Away from the poles it never gives the home away.
                if spot.0.abs() < 80.0 {
                    assert!(d >= 100.0, "{spot:?} -> {public:?}: {d} m");
                }
            }
        }
    }

    #[test]
    fn a_listing_has_one_public_point_and_listings_differ() {
        let points = PublicPoints::new(b"key one, long enough for anything");
        let id = Uuid::from_u128(42);
        let first = points.of(id, 38.7223, -9.1393);
        assert_eq!(points.of(id, 38.7223, -9.1393), first);
        assert_ne!(points.of(Uuid::from_u128(43), 38.7223, -9.1393), first);
        // Another server secret, another point: the key is what hides it.
        let other = PublicPoints::new(b"key two, long enough for anything");
        assert_ne!(other.of(id, 38.7223, -9.1393), first);
    }

    #[test]
    fn longitudes_wrap_at_the_antimeridian() {
        assert_eq!(wrap(180.5), -179.5);
        assert_eq!(wrap(-180.5), 179.5);
        assert_eq!(wrap(180.0), 180.0);
        assert_eq!(wrap(-180.0), -180.0);
        assert_eq!(wrap(10.0), 10.0);
    }
}
