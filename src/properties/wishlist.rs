//! Wishlists: a user's saved listings.

use chrono::Utc;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::{
    service::{NOT_FOUND, PropertyService, may_see},
    types::Property,
};
use crate::error::{AppError, AppResult};
use domain::kernel::{
    actor::Actor,
    page::{self, At, Direction, Page, Sort, Window},
};

use entity::saved_property::{Column as S, Entity as Saved};

impl PropertyService {
    async fn seen(&self, actor: Actor, id: Uuid) -> AppResult<entity::property::Model> {
        self.row(id)
            .await?
            .filter(|r| may_see(r, Some(actor)))
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))
    }

    /// Saves a listing; saving it again changes nothing.
    pub async fn save(&self, actor: Actor, id: Uuid) -> AppResult<Property> {
        let row = self.seen(actor, id).await?;
        Saved::insert(entity::saved_property::ActiveModel {
            user_id: sea_orm::Set(actor.user_id),
            property_id: sea_orm::Set(id),
            created_at: sea_orm::Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([S::UserId, S::PropertyId])
        .exec(&self.db)
        .await?;
        Ok(row.into())
    }

    /// Forgets a saved listing; unsaving one that is not saved changes nothing.
    pub async fn unsave(&self, actor: Actor, id: Uuid) -> AppResult<Property> {
        let row = self.seen(actor, id).await?;
        Saved::delete_many()
            .filter(S::UserId.eq(actor.user_id))
            .filter(S::PropertyId.eq(id))
            .exec(&self.db)
            .await?;
        Ok(row.into())
    }

    /// The actor's saved listings that they may still see, newest saved
    /// first: their ids.
    pub async fn saved(
        &self,
        actor: Actor,
        first: Option<i32>,
        after: Option<String>,
        want_total: bool,
    ) -> AppResult<Page<Uuid>> {
        let window = Window::forwards(first, 20, after.as_deref())?;
        let visible = if actor.is_admin() {
            Condition::all().add(Expr::cust("properties.deleted_at IS NULL"))
        } else {
            Condition::all().add(domain::infra::db::custom_sql(
                self.db.get_database_backend(),
                "properties.deleted_at IS NULL AND (properties.status = 'LISTED' OR properties.host_id = ?)",
                [actor.user_id],
            ))
        };
        let base = Saved::find().filter(S::UserId.eq(actor.user_id)).filter(
            S::PropertyId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column((entity::property::Entity, entity::property::Column::Id))
                    .from(entity::property::Entity)
                    .cond_where(visible)
                    .to_owned(),
            ),
        );
        let total = page::total(base.clone(), &self.db, want_total).await?;
        let rows = window
            .select(
                base,
                &Sort::new([(S::CreatedAt, Direction::Desc)], S::PropertyId),
            )
            .all(&self.db)
            .await?;
        let cursor = |r: &entity::saved_property::Model| At {
            at: r.created_at,
            id: r.property_id,
        };
        Ok(window
            .page(rows, cursor)
            .with_total(total)
            .map(|r| r.property_id))
    }
}
