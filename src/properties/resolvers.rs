//! How a `Property` resolves its fields: plain ones from the row, the rest
//! through the batched loaders and the service.

use async_graphql::{Context, ID, Object};

use super::{
    calendar,
    loaders::{ConfirmedGuestLoader, HeldLoader, PhotosLoader, SavedLoader},
    pricing::PriceQuote,
    types::{
        Amenity, CalendarDay, CancellationPolicy, ListingStatus, Location, Photo, Property,
        PropertyType, RatingSummary,
    },
};
use crate::graphql::context::loader;
use crate::{
    auth::viewer::ViewerExt,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{self, NodeType},
        money::Money,
        scalars::{Date, DateTime},
    },
    users::{User, loader::load_user},
};

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

impl Property {
    /// The nights of [from, to), read with the rest of the page's.
    async fn nights(
        &self,
        ctx: &Context<'_>,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> async_graphql::Result<Vec<calendar::Night>> {
        let held = loader::<HeldLoader>(ctx)?
            .load_one((self.id, from, to))
            .await
            .map_err(AppError::from)
            .extend()?
            .unwrap_or_default();
        Ok(calendar::nights_of(self, from, to, &held))
    }
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

    /// Exact for its host, admins and guests with a CONFIRMED or COMPLETED
    /// booking of it; the public, approximate one for everyone else.
    async fn location(&self, ctx: &Context<'_>) -> async_graphql::Result<Location> {
        let exact = match crate::auth::actor::actor(ctx).await? {
            None => false,
            Some(actor) if actor.owns_or_admin(self.host_id) => true,
            Some(actor) => loader::<ConfirmedGuestLoader>(ctx)?
                .load_one((actor.user_id, self.id))
                .await
                .map_err(AppError::from)
                .extend()?
                .unwrap_or(false),
        };
        Ok(if exact {
            self.location.clone()
        } else {
            self.public_location(&ctx.services()?.properties.points)
        })
    }

    async fn price_per_night(&self) -> Money {
        self.money(self.price_minor)
    }

    async fn cleaning_fee(&self) -> Money {
        self.money(self.cleaning_fee_minor)
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
        let (from, to) = calendar::calendar_range(from, to).extend()?;
        let nights = self.nights(ctx, from, to).await?;
        Ok(calendar::calendar_of(self, &nights))
    }

    /// Whether the stay could be booked now: a listed property, a start
    /// from today up to a year ahead, a length the host accepts, and every
    /// night open.
    async fn is_available(
        &self,
        ctx: &Context<'_>,
        check_in: Date,
        check_out: Date,
    ) -> async_graphql::Result<bool> {
        let (from, to) = calendar::stay_range(check_in, check_out).extend()?;
        if !calendar::could_book(self, from, to) {
            return Ok(false);
        }
        Ok(self
            .nights(ctx, from, to)
            .await?
            .iter()
            .all(calendar::Night::open))
    }

    /// The price of a stay, line by line. The stay's length and guest count
    /// must suit the listing; whether the nights are free is
    /// `isAvailable`'s question.
    async fn quote(
        &self,
        ctx: &Context<'_>,
        check_in: Date,
        check_out: Date,
        guests: i32,
    ) -> async_graphql::Result<PriceQuote> {
        let stay = calendar::stay_range(check_in, check_out).extend()?;
        calendar::check_stay(self, stay.0, stay.1, guests).extend()?;
        let nights = self.nights(ctx, stay.0, stay.1).await?;
        Ok(ctx
            .services()?
            .properties
            .quote_of(self, stay, guests, &nights))
    }

    /// Only the host and admins may read it; FORBIDDEN for everyone else.
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
        let key = crate::bookings::lists::ListingPageKey::parse(
            self.id,
            status,
            first,
            after.as_deref(),
            crate::graphql::context::wants_total(ctx),
        )
        .extend()?;
        let page = loader::<crate::bookings::loaders::ListingBookingsLoader>(ctx)?
            .load_one(key)
            .await
            .map_err(AppError::from)
            .extend()?
            .unwrap_or_default();
        crate::graphql::connection::primed(page, async |rows| {
            crate::bookings::queries::prime(ctx, rows).await
        })
        .await
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
