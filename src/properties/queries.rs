use async_graphql::{Context, ID, Object};

use super::{
    PropertyConnection,
    inputs::{PropertyFilter, PropertyOrder},
    loaders::{ListingsCountLoader, PhotosLoader, PropertyLoader, SavedLoader},
    service::may_see,
    types::{Amenity, Property},
};

use crate::graphql::context::loader;
use crate::graphql::context::wants_total;
use crate::{
    auth::actor::{actor, require_actor},
    error::{AppError, GraphqlError as _, GraphqlResult as _},
    graphql::{
        ServicesExt,
        connection::primed,
        ids::{NodeType, decode_as},
    },
    users::UserLoader,
};

#[derive(Default)]
pub struct PropertyQuery;

/// A listing by id, when `ctx`'s viewer may see it.
pub async fn visible_property(
    ctx: &Context<'_>,
    id: uuid::Uuid,
) -> async_graphql::Result<Option<Property>> {
    let row = if ctx.look_ahead().field("host").exists() {
        // A listing page shows its host: one statement for both.
        let found = ctx
            .services()?
            .properties
            .row_with_host(id)
            .await
            .extend()?;
        match found {
            Some((row, host)) => {
                feed_users(ctx, host).await?;
                Some(row)
            }
            None => None,
        }
    } else {
        loader::<PropertyLoader>(ctx)?
            .load_one(id)
            .await
            .map_err(AppError::from)
            .extend()?
    };
    let viewer = actor(ctx).await?;
    Ok(row.filter(|r| may_see(r, viewer)).map(Property::from))
}

/// Whether a page of listings is asked for its hosts.
fn wants_hosts(ctx: &Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("nodes").field("host").exists()
        || look.field("edges").field("node").field("host").exists()
}

/// Puts users read with something else in the operation's user loader,
/// where `host`, `author` and the like then find them.
pub async fn feed_users(
    ctx: &Context<'_>,
    users: impl IntoIterator<Item = entity::user::Model>,
) -> async_graphql::Result<()> {
    loader::<UserLoader>(ctx)?
        .feed_many(
            users
                .into_iter()
                .map(|u| (u.id, crate::users::User::from(u))),
        )
        .await;
    Ok(())
}

/// Loads, in one batch each, what the selection will ask of a page of
/// listings: hosts (unless the page brought them), the listing counts a
/// host or an admin sees (the public one is on the user row), photos,
/// wishlist flags, and the fields with arguments (`properties::prime`);
/// amenities are on the listing's row. The per-item loads that follow are
/// answered from the operation's loader caches, so the statements a page
/// costs do not depend on its length or on how the resolvers' timing falls.
pub async fn prime(
    ctx: &Context<'_>,
    rows: &[entity::property::Model],
) -> async_graphql::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let look = ctx.look_ahead();
    let nodes = [look.field("edges").field("node"), look.field("nodes")];
    let selected = |path: &[&str]| {
        nodes.iter().any(|n| {
            let Some((first, rest)) = path.split_first() else {
                return false;
            };
            let mut at = n.field(first);
            for name in rest {
                at = at.field(name);
            }
            at.exists()
        })
    };
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let hosts: Vec<uuid::Uuid> = rows.iter().map(|r| r.host_id).collect();
    let viewer = actor(ctx).await?;
    let db_error = |e: std::sync::Arc<sea_orm::DbErr>| AppError::from(e).extend();
    let users = async {
        if selected(&["host"]) {
            loader::<UserLoader>(ctx)?
                .load_many(hosts.iter().copied())
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };
    let counts = async {
        if selected(&["host", "listings", "totalCount"]) {
            // The public count is on the user row; only a host's own (or an
            // admin's) view counts every status.
            let keys = hosts
                .iter()
                .copied()
                .filter(|h| viewer.is_some_and(|a| a.owns_or_admin(*h)));
            loader::<ListingsCountLoader>(ctx)?
                .load_many(keys)
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };
    let photos = async {
        if selected(&["photos"]) {
            loader::<PhotosLoader>(ctx)?
                .load_many(ids.iter().copied())
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };
    let saved = async {
        if let Some(viewer) = viewer.filter(|_| selected(&["savedByMe"])) {
            let keys = ids.iter().map(|id| (viewer.user_id, *id));
            loader::<SavedLoader>(ctx)?
                .load_many(keys)
                .await
                .map_err(db_error)?;
        }
        Ok::<(), async_graphql::Error>(())
    };
    let arguments = super::prime::per_listing(ctx, &nodes, rows, viewer);
    futures_util::try_join!(users, counts, photos, saved, arguments)?;
    Ok(())
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
                wants_hosts(ctx),
                super::columns::of_connection(ctx),
            )
            .await
            .extend()?;
        feed_users(ctx, page.hosts).await?;
        primed(page.page, async |rows| prime(ctx, rows).await).await
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
        let ids: Vec<uuid::Uuid> = page.nodes().copied().collect();
        let rows = loader::<PropertyLoader>(ctx)?
            .load_many(ids)
            .await
            .map_err(AppError::from)
            .extend()?;
        let page = page.filter_map(|id| rows.get(&id).cloned());
        primed(page, async |rows| prime(ctx, rows).await).await
    }
}
