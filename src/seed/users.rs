//! Seeded accounts: hosts first (`host1@example.com` ...), then one admin,
//! then guests (`guest1@example.com` ...).

use rand::Rng;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use super::{ADMIN_EMAIL, SeedOptions, batch_rows, data, rng, stamp};
use entity::user::{ActiveModel, Entity, Role};

pub struct People {
    pub count: usize,
    /// Host ids, in email order.
    pub hosts: Vec<Uuid>,
    /// Everyone who may book a stay (hosts and guests, not the admin).
    pub travellers: Vec<Uuid>,
}

pub fn counts(scale: f64) -> (usize, usize) {
    let total = ((10_000.0 * scale).round() as usize).max(3);
    let hosts = ((2_000.0 * scale).round() as usize).clamp(1, total - 1);
    (total, hosts)
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    options: SeedOptions,
    password_hash: &str,
) -> anyhow::Result<People> {
    let (total, host_count) = counts(options.scale);
    let mut rng = rng(options.seed, 1);
    let mut rows = Vec::with_capacity(total);
    let mut hosts = Vec::with_capacity(host_count);
    let mut travellers = Vec::with_capacity(total);
    for i in 0..total {
        let (at, id) = stamp(&mut rng);
        if i != host_count {
            travellers.push(id);
        }
        let (email, role) = if i < host_count {
            hosts.push(id);
            (format!("host{}@example.com", i + 1), Role::Host)
        } else if i == host_count {
            (ADMIN_EMAIL.to_owned(), Role::Admin)
        } else {
            (format!("guest{}@example.com", i - host_count), Role::Guest)
        };
        let first = data::FIRST_NAMES[rng.random_range(0..data::FIRST_NAMES.len())];
        let last = data::LAST_NAMES[rng.random_range(0..data::LAST_NAMES.len())];
        rows.push(ActiveModel {
            id: Set(id),
            email: Set(email),
            password_hash: Set(password_hash.to_owned()),
            first_name: Set(first.to_owned()),
            last_name: Set(last.to_owned()),
            phone_number: Set(rng
                .random_bool(0.5)
                .then(|| format!("+1 555 {:04}", rng.random_range(0..10_000)))),
            role: Set(role),
            bio: Set((role == Role::Host).then(|| {
                format!("{first} hosts travellers and loves recommending places to eat.")
            })),
            avatar_url: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        });
    }
    let count = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<ActiveModel> = rows.by_ref().take(batch_rows(11)).collect();
        Entity::insert_many(chunk).exec(conn).await?;
    }
    Ok(People {
        count,
        hosts,
        travellers,
    })
}
