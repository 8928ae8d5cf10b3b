//! A host's listings, newest first (`User.listings`).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::service::PropertyService;
use crate::error::AppResult;
use domain::kernel::page::{At, Direction, Page, Sort, Window};

use entity::property::{Column as P, Entity as Properties, Model};

impl PropertyService {
    /// `all_statuses`: drafts and unlisted ones too (for the host and admins).
    pub async fn listings(
        &self,
        host_id: Uuid,
        all_statuses: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Page<Model>> {
        let window = Window::forwards(first, 20, after.as_deref())?;
        let mut query = Properties::find()
            .filter(P::HostId.eq(host_id))
            .filter(P::DeletedAt.is_null());
        if !all_statuses {
            query = query.filter(P::Status.eq(entity::property::ListingStatus::Listed));
        }
        let rows = window
            .select(query, &Sort::new([(P::CreatedAt, Direction::Desc)], P::Id))
            .all(&self.db)
            .await?;
        let cursor = |r: &Model| At {
            at: r.created_at,
            id: r.id,
        };
        Ok(window.page(rows, cursor))
    }
}
