//! Wishlists: a user's saved listings.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    service::{NOT_FOUND, PropertyService, may_see},
    types::Property,
};
use crate::{
    auth::actor::Actor,
    error::{AppError, AppResult},
    graphql::connection::{Position, decode_cursor, encode_cursor, page_size, stored_instant},
};

use entity::saved_property::{Column as S, Entity as Saved};

#[derive(Serialize, Deserialize)]
struct Cursor {
    at: DateTime<Utc>,
    id: Uuid,
}

impl Position for Cursor {
    fn is_stored(&self) -> bool {
        stored_instant(&self.at)
    }
}

pub struct SavedPage {
    pub rows: Vec<(String, Uuid)>,
    pub has_next: bool,
    pub has_previous: bool,
    pub total: Option<i64>,
}

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
    /// first.
    pub async fn saved(
        &self,
        actor: Actor,
        first: Option<i32>,
        after: Option<String>,
        want_total: bool,
    ) -> AppResult<SavedPage> {
        let limit = page_size(first, 20)?;
        let cursor = after
            .as_deref()
            .map(|c| decode_cursor::<Cursor>("after", c))
            .transpose()?;
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
        let total = if want_total {
            Some(i64::try_from(base.clone().count(&self.db).await?).unwrap_or(i64::MAX))
        } else {
            None
        };
        let mut query = base;
        if let Some(c) = &cursor {
            query = query.filter(
                Expr::tuple([Expr::col(S::CreatedAt), Expr::col(S::PropertyId)])
                    .lt(Expr::tuple([Expr::val(c.at), Expr::val(c.id)])),
            );
        }
        let mut rows = query
            .order_by_desc(S::CreatedAt)
            .order_by_desc(S::PropertyId)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(SavedPage {
            rows: rows
                .into_iter()
                .map(|r| {
                    (
                        encode_cursor(&Cursor {
                            at: r.created_at,
                            id: r.property_id,
                        }),
                        r.property_id,
                    )
                })
                .collect(),
            has_next,
            has_previous: cursor.is_some(),
            total,
        })
    }
}
