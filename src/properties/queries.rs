use async_graphql::{Context, ID, Object, ResultExt};

use super::{
    PropertyConnection, PropertyEdge,
    inputs::{PropertyFilter, PropertyOrder},
    loaders::PropertyLoader,
    resolvers::loader,
    service::may_see,
    types::{Amenity, Property},
};
use crate::{
    auth::actor::{actor, require_actor},
    error::AppError,
    graphql::{
        ServicesExt,
        connection::PageInfo,
        ids::{NodeType, decode_as},
    },
};

#[derive(Default)]
pub struct PropertyQuery;

/// Whether the selection asks for `totalCount` (counting costs a query).
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// A listing by id, when `ctx`'s viewer may see it.
pub async fn visible_property(
    ctx: &Context<'_>,
    id: uuid::Uuid,
) -> async_graphql::Result<Option<Property>> {
    let row = loader::<PropertyLoader>(ctx)?
        .load_one(id)
        .await
        .map_err(AppError::from)
        .extend()?;
    let viewer = actor(ctx).await?;
    Ok(row.filter(|r| may_see(r, viewer)).map(Property::from))
}

pub fn connection(
    rows: Vec<(String, entity::property::Model)>,
    has_next: bool,
    has_previous: bool,
    total: Option<i64>,
) -> PropertyConnection {
    let edges: Vec<PropertyEdge> = rows
        .into_iter()
        .map(|(cursor, row)| PropertyEdge {
            cursor,
            node: row.into(),
        })
        .collect();
    PropertyConnection {
        page_info: PageInfo {
            has_next_page: has_next,
            has_previous_page: has_previous,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count: total,
    }
}

#[Object]
impl PropertyQuery {
    /// Anyone may read a LISTED property; DRAFT and UNLISTED only its host and admins.
    async fn property(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Property>> {
        match decode_as(NodeType::Property, &id) {
            Some(uuid) => visible_property(ctx, uuid).await,
            None => Ok(None),
        }
    }

    /// Searches LISTED properties. first is at most 100.
    async fn properties(
        &self,
        ctx: &Context<'_>,
        filter: Option<PropertyFilter>,
        #[graphql(default_with = "Some(PropertyOrder::Newest)")] order_by: Option<PropertyOrder>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PropertyConnection> {
        let page = ctx
            .services()?
            .properties
            .search(
                filter.unwrap_or_default(),
                order_by.unwrap_or_default(),
                first,
                after,
                wants_total(ctx),
            )
            .await
            .extend()?;
        Ok(connection(
            page.rows,
            page.has_next,
            page.has_previous,
            page.total,
        ))
    }

    /// The amenity catalogue, in display order.
    async fn amenities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Amenity>> {
        Ok(ctx.services()?.properties.catalogue.all().to_vec())
    }

    /// The viewer's wishlist.
    async fn saved_properties(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PropertyConnection> {
        let actor = require_actor(ctx).await?;
        let page = ctx
            .services()?
            .properties
            .saved(actor, first, after, wants_total(ctx))
            .await
            .extend()?;
        let ids: Vec<uuid::Uuid> = page.rows.iter().map(|(_, id)| *id).collect();
        let rows = loader::<PropertyLoader>(ctx)?
            .load_many(ids)
            .await
            .map_err(AppError::from)
            .extend()?;
        let ordered = page
            .rows
            .into_iter()
            .filter_map(|(cursor, id)| rows.get(&id).cloned().map(|row| (cursor, row)))
            .collect();
        Ok(connection(
            ordered,
            page.has_next,
            page.has_previous,
            page.total,
        ))
    }
}
