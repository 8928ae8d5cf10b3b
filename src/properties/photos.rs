//! Listing photos: uploaded files checked by their bytes, kept in order.

use bytes::Bytes;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{calendar::lock_property, service::PropertyService};
use crate::{
    error::{AppError, AppResult},
    storage::Storage,
};
use domain::{infra::db::begin_write, kernel::actor::Actor};

pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The widest and tallest photo, in pixels (docs/SECURITY.md, Every bound): a larger one would
/// take whoever decodes it (every visitor's browser, a thumbnailer) hundreds
/// of megabytes, however few bytes it is sent in.
pub const MAX_PHOTO_SIDE: usize = 8000;
pub const MAX_PHOTOS: u64 = 50;
const CAPTION_MAX: usize = 300;

/// The image formats we accept, recognised by their first bytes, never by
/// a file name or a client's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The width and height the image declares, read from its header
    /// without decoding a pixel; `None` when the header does not give them.
    pub fn dimensions(self, bytes: &[u8]) -> Option<(usize, usize)> {
        // A PNG's size is in its first chunk, which must be IHDR.
        if self == Self::Png && bytes.get(12..16) != Some(b"IHDR".as_slice()) {
            return None;
        }
        let size = imagesize::blob_size(bytes).ok()?;
        (size.width > 0 && size.height > 0).then_some((size.width, size.height))
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

impl PropertyService {
    pub async fn add_photo(
        &self,
        actor: Actor,
        property_id: Uuid,
        bytes: Bytes,
        caption: Option<String>,
        storage: &Storage,
    ) -> AppResult<entity::property_photo::Model> {
        let caption = caption
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if caption
            .as_ref()
            .is_some_and(|c| c.chars().count() > CAPTION_MAX)
        {
            return Err(AppError::bad_input(
                "caption",
                format!("must be at most {CAPTION_MAX} characters long"),
            ));
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(AppError::bad_input("file", "must be at most 10 MiB"));
        }
        let kind = ImageKind::sniff(&bytes)
            .ok_or_else(|| AppError::bad_input("file", "must be a JPEG, PNG or WebP image"))?;
        let (width, height) = kind.dimensions(&bytes).ok_or_else(|| {
            AppError::bad_input("file", "must be an image whose header gives its size")
        })?;
        if width > MAX_PHOTO_SIDE || height > MAX_PHOTO_SIDE {
            return Err(AppError::bad_input(
                "file",
                format!(
                    "must be at most {MAX_PHOTO_SIDE} x {MAX_PHOTO_SIDE} pixels; this one is {width} x {height}"
                ),
            ));
        }
        self.editable(actor, property_id).await?;

        let id = Uuid::now_v7();
        let key = format!("properties/{property_id}/{id}.{}", kind.extension());
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        storage.put(&key, bytes).await?;
        let saved = async {
            let txn = begin_write(&self.db).await?;
            lock_property(&txn, property_id).await?;
            // Counted under the listing's lock: racing uploads cannot pass
            // the limit together.
            let count = entity::property_photo::Entity::find()
                .filter(entity::property_photo::Column::PropertyId.eq(property_id))
                .count(&txn)
                .await?;
            if count >= MAX_PHOTOS {
                return Err(AppError::Conflict(format!(
                    "A listing holds at most {MAX_PHOTOS} photos; remove one first"
                )));
            }
            let last: Option<Option<i32>> = entity::property_photo::Entity::find()
                .select_only()
                .column_as(entity::property_photo::Column::Position.max(), "last")
                .filter(entity::property_photo::Column::PropertyId.eq(property_id))
                .into_tuple()
                .one(&txn)
                .await?;
            let photo = entity::property_photo::ActiveModel {
                id: Set(id),
                property_id: Set(property_id),
                storage_key: Set(key.clone()),
                content_type: Set(kind.content_type().to_owned()),
                size_bytes: Set(size),
                caption: Set(caption),
                position: Set(last.flatten().map_or(0, |p| p + 1)),
                created_at: Set(Utc::now()),
            }
            .insert(&txn)
            .await?;
            txn.commit().await?;
            AppResult::Ok(photo)
        }
        .await;
        if saved.is_err() {
            // The row was not written: the file must not stay behind.
            storage.delete(&key).await;
        }
        saved
    }

    /// Removes a photo and its file; the photos after it move up one place.
    pub async fn remove_photo(
        &self,
        actor: Actor,
        photo_id: Uuid,
        storage: &Storage,
    ) -> AppResult<bool> {
        let photo = entity::property_photo::Entity::find_by_id(photo_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::NotFound("Photo not found".into()))?;
        self.editable(actor, photo.property_id).await?;
        let txn = begin_write(&self.db).await?;
        lock_property(&txn, photo.property_id).await?;
        // Read again under the lock: a removal that ran meanwhile may have
        // moved this photo up, or removed it.
        let photo = entity::property_photo::Entity::find_by_id(photo_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound("Photo not found".into()))?;
        entity::property_photo::Entity::delete_by_id(photo_id)
            .exec(&txn)
            .await?;
        // Close the gap in two steps through negative positions, so that the
        // unique (listing, position) index never sees two photos in one place.
        use entity::property_photo::Column as C;
        entity::property_photo::Entity::update_many()
            .col_expr(C::Position, Expr::col(C::Position).mul(-1))
            .filter(C::PropertyId.eq(photo.property_id))
            .filter(C::Position.gt(photo.position))
            .exec(&txn)
            .await?;
        entity::property_photo::Entity::update_many()
            .col_expr(C::Position, Expr::col(C::Position).mul(-1).sub(1))
            .filter(C::PropertyId.eq(photo.property_id))
            .filter(C::Position.lt(0))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        storage.delete(&photo.storage_key).await;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a..."), None);
        assert_eq!(ImageKind::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageKind::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }
}
