//! How a `Property` resolves its fields: plain ones from the row, the rest
//! through the batched loaders and the service.

use async_graphql::{
    Context, ID, Object, ResultExt,
    dataloader::{DataLoader, HashMapCache},
};

use super::{
    loaders::{PhotosLoader, SavedLoader},
    pricing::PriceQuote,
    types::{
        Amenity, CalendarDay, CancellationPolicy, ListingStatus, Location, Photo, Property,
        PropertyType, RatingSummary,
    },
};
use crate::{
    auth::viewer::ViewerExt,
    error::AppError,
    graphql::{
        ServicesExt,
        ids::{self, NodeType},
        money::Money,
        scalars::{Date, DateTime},
    },
    users::{User, loader::load_user},
};

/// The operation's loader of `T`.
pub fn loader<'a, T: Send + Sync + 'static>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a DataLoader<T, HashMapCache>> {
    ctx.data::<DataLoader<T, HashMapCache>>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a loader is missing from the operation")))
        .extend()
}

pub fn photo(
    ctx: &Context<'_>,
    row: entity::property_photo::Model,
) -> async_graphql::Result<Photo> {
    let storage = &ctx.services()?.storage;
    Ok(Photo {
        id: ids::encode(NodeType::Photo, row.id),
        url: storage.url(&row.storage_key),
        caption: row.caption,
        position: row.position,
        property_id: row.property_id,
    })
}

#[Object]
impl Property {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Property, self.id)
    }

    async fn host(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, self.host_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("listing without a host")))
            .extend()
    }

    async fn title(&self) -> &str {
        &self.title
    }

    async fn description(&self) -> &str {
        &self.description
    }

    async fn property_type(&self) -> PropertyType {
        self.property_type
    }

    async fn status(&self) -> ListingStatus {
        self.status
    }

    async fn location(&self) -> &Location {
        &self.location
    }

    async fn price_per_night(&self) -> Money {
        self.money(self.price_cents)
    }

    async fn cleaning_fee(&self) -> Money {
        self.money(self.cleaning_fee_cents)
    }

    /// Percent off nightsTotal for stays of 7-27 nights.
    async fn weekly_discount_percent(&self) -> i32 {
        self.weekly_discount_percent
    }

    /// Percent off nightsTotal for stays of 28 nights or more.
    async fn monthly_discount_percent(&self) -> i32 {
        self.monthly_discount_percent
    }

    async fn max_guests(&self) -> i32 {
        self.max_guests
    }

    async fn bedrooms(&self) -> i32 {
        self.bedrooms
    }

    async fn beds(&self) -> i32 {
        self.beds
    }

    async fn bathrooms(&self) -> f64 {
        self.bathrooms
    }

    async fn amenities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Amenity>> {
        let catalogue = &ctx.services()?.properties.catalogue;
        let mut amenities: Vec<&Amenity> = self
            .amenity_codes
            .split(',')
            .filter_map(|c| catalogue.get(c))
            .collect();
        amenities.sort_by_key(|a| catalogue.position(&a.code));
        Ok(amenities.into_iter().cloned().collect())
    }

    async fn photos(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Photo>> {
        loader::<PhotosLoader>(ctx)?
            .load_one(self.id)
            .await
            .map_err(AppError::from)
            .extend()?
            .unwrap_or_default()
            .into_iter()
            .map(|row| photo(ctx, row))
            .collect()
    }

    async fn instant_book(&self) -> bool {
        self.instant_book
    }

    async fn cancellation_policy(&self) -> CancellationPolicy {
        self.cancellation_policy
    }

    async fn min_nights(&self) -> i32 {
        self.min_nights
    }

    async fn max_nights(&self) -> i32 {
        self.max_nights
    }

    async fn rating(&self) -> &RatingSummary {
        &self.rating
    }

    #[graphql(complexity = "crate::graphql::connection::cost(first, 10, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: Option<i32>,
        after: Option<String>,
        #[graphql(default_with = "Some(crate::reviews::ReviewOrder::Newest)")] order_by: Option<
            crate::reviews::ReviewOrder,
        >,
    ) -> async_graphql::Result<crate::reviews::ReviewConnection> {
        let order = order_by.unwrap_or(crate::reviews::ReviewOrder::Newest);
        crate::reviews::queries::of_listing(ctx, self, first, after, order).await
    }

    /// One entry per date in [from, to); at most 366 days.
    async fn calendar(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
    ) -> async_graphql::Result<Vec<CalendarDay>> {
        ctx.services()?
            .properties
            .calendar(self, from, to)
            .await
            .extend()
    }

    async fn is_available(
        &self,
        ctx: &Context<'_>,
        check_in: Date,
        check_out: Date,
    ) -> async_graphql::Result<bool> {
        ctx.services()?
            .properties
            .is_available(self, check_in, check_out)
            .await
            .extend()
    }

    async fn quote(
        &self,
        ctx: &Context<'_>,
        check_in: Date,
        check_out: Date,
        guests: i32,
    ) -> async_graphql::Result<PriceQuote> {
        ctx.services()?
            .properties
            .quote(self, check_in, check_out, guests)
            .await
            .extend()
    }

    /// Only the host and admins may read it; FORBIDDEN for everyone else.
    #[graphql(complexity = "crate::graphql::connection::cost(first, 20, child_complexity)")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        status: Option<crate::bookings::types::BookingStatus>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<crate::bookings::BookingConnection> {
        let viewer = crate::auth::actor::actor(ctx).await?;
        if !viewer.is_some_and(|a| a.owns_or_admin(self.host_id)) {
            return Err(AppError::Forbidden(
                "Only the listing's host or an admin sees its bookings".into(),
            ))
            .extend();
        }
        let page = ctx
            .services()?
            .bookings
            .page(
                crate::bookings::lists::Owner::Listing(self.id),
                status,
                first,
                after,
                super::queries::wants_total(ctx),
            )
            .await
            .extend()?;
        crate::bookings::queries::connection(ctx, page).await
    }

    /// Whether the viewer has saved it to their wishlist; false for anonymous viewers.
    async fn saved_by_me(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let Some(viewer) = ctx.viewer() else {
            return Ok(false);
        };
        Ok(loader::<SavedLoader>(ctx)?
            .load_one((viewer.user_id, self.id))
            .await
            .map_err(AppError::from)
            .extend()?
            .unwrap_or(false))
    }

    async fn created_at(&self) -> DateTime {
        self.created_at.into()
    }

    async fn updated_at(&self) -> DateTime {
        self.updated_at.into()
    }
}
