//! Photos for the demo dataset, so a new user's first property page has
//! pictures. The images ship inside the binary.

use bytes::Bytes;
use chrono::Utc;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, Set};
use uuid::Uuid;

use crate::storage::Storage;

const IMAGES: [&[u8]; 8] = [
    include_bytes!("../../assets/demo/home-1.png"),
    include_bytes!("../../assets/demo/home-2.png"),
    include_bytes!("../../assets/demo/home-3.png"),
    include_bytes!("../../assets/demo/home-4.png"),
    include_bytes!("../../assets/demo/home-5.png"),
    include_bytes!("../../assets/demo/home-6.png"),
    include_bytes!("../../assets/demo/home-7.png"),
    include_bytes!("../../assets/demo/home-8.png"),
];

const CAPTIONS: [&str; 3] = ["From the street", "The living room", "The view"];

/// Gives every listing two or three photos; returns how many were added.
pub async fn add(db: &DatabaseConnection, storage: &Storage) -> anyhow::Result<usize> {
    let listings = entity::property::Entity::find()
        .order_by_asc(entity::property::Column::Id)
        .all(db)
        .await?;
    let mut rows = Vec::new();
    for (i, listing) in listings.iter().enumerate() {
        for position in 0..(2 + i % 2) {
            let id = Uuid::now_v7();
            let key = format!("properties/{}/{id}.png", listing.id);
            let image = IMAGES[(i + position) % IMAGES.len()];
            storage.put(&key, Bytes::from_static(image)).await?;
            rows.push(entity::property_photo::ActiveModel {
                id: Set(id),
                property_id: Set(listing.id),
                storage_key: Set(key),
                content_type: Set("image/png".into()),
                size_bytes: Set(i64::try_from(image.len()).unwrap_or(0)),
                caption: Set(Some(CAPTIONS[position].to_owned())),
                position: Set(i32::try_from(position).unwrap_or(0)),
                created_at: Set(Utc::now()),
            });
        }
    }
    let added = rows.len();
    for chunk in rows.chunks(super::batch_rows(8)) {
        entity::property_photo::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(added)
}
