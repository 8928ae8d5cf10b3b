use async_graphql::{Context, ID, Object};

use super::{
    BookingConnection,
    lists::Owner,
    loaders::{CurrentPaymentLoader, ListingOfBookingLoader},
    types::{Booking, BookingStatus},
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
pub struct BookingQuery;

/// Loads what a page of bookings will ask for (listings, guests, payments)
/// in one batch each.
pub async fn prime(
    ctx: &Context<'_>,
    rows: &[entity::booking::Model],
) -> async_graphql::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let db_error = |e: std::sync::Arc<sea_orm::DbErr>| AppError::from(e).extend();
    let listings =
        loader::<ListingOfBookingLoader>(ctx)?.load_many(rows.iter().map(|r| r.property_id));
    let guests = loader::<UserLoader>(ctx)?.load_many(rows.iter().map(|r| r.guest_id));
    let payments = loader::<CurrentPaymentLoader>(ctx)?.load_many(rows.iter().map(|r| r.id));
    let (a, b, c) = futures_util::join!(listings, guests, payments);
    a.map_err(db_error)?;
    b.map_err(db_error)?;
    c.map_err(db_error)?;
    Ok(())
}

#[Object]
impl BookingQuery {
    /// Only its guest, its property's host and admins.
    async fn booking(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Booking>> {
        let Some(id) = decode_as(NodeType::Booking, &id) else {
            return Ok(None);
        };
        let viewer = actor(ctx).await?;
        ctx.services()?.bookings.visible(viewer, id).await.extend()
    }

    /// The viewer's bookings as a guest, newest check-in first.
    async fn my_bookings(
        &self,
        ctx: &Context<'_>,
        status: Option<BookingStatus>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<BookingConnection> {
        let actor = require_actor(ctx).await?;
        let page = ctx
            .services()?
            .bookings
            .page(
                Owner::Guest(actor.user_id),
                status,
                first,
                after,
                wants_total(ctx),
            )
            .await
            .extend()?;
        primed(page, async |rows| prime(ctx, rows).await).await
    }

    /// Bookings of every property the viewer hosts, newest check-in first.
    async fn host_bookings(
        &self,
        ctx: &Context<'_>,
        status: Option<BookingStatus>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<BookingConnection> {
        let actor = require_actor(ctx).await?;
        let page = ctx
            .services()?
            .bookings
            .page(
                Owner::Host(actor.user_id),
                status,
                first,
                after,
                wants_total(ctx),
            )
            .await
            .extend()?;
        primed(page, async |rows| prime(ctx, rows).await).await
    }
}
