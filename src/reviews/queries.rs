//! The review fields of other types (`Property.reviews`, `Booking.review`,
//! `User.reviewsWritten`), each through the operation's loaders, so that a
//! list of parents costs as many statements as one.

use async_graphql::Context;
use uuid::Uuid;

use super::{
    ReviewConnection,
    lists::{Owner, PageKey, ReviewPage},
    loaders::{ReviewOfBookingLoader, ReviewPageLoader, WrittenCountLoader},
    types::{Review, ReviewOrder},
};
use crate::graphql::context::loader;
use crate::graphql::context::wants_total;
use crate::{
    error::{AppError, GraphqlResult as _},
    graphql::connection::connection,
    properties::queries::feed_users,
};

/// A page of reviews for `key`; `total` when the query asks for it.
async fn page(
    ctx: &Context<'_>,
    mut key: PageKey,
    total: Option<i64>,
) -> async_graphql::Result<ReviewConnection> {
    let look = ctx.look_ahead();
    key.authors = look.field("nodes").field("author").exists()
        || look.field("edges").field("node").field("author").exists();
    let ReviewPage { page, authors } = loader::<ReviewPageLoader>(ctx)?
        .load_one(key)
        .await
        .map_err(AppError::from)
        .extend()?
        .unwrap_or_default();
    feed_users(ctx, authors).await?;
    Ok(connection(page.with_total(total)))
}

/// `Property.reviews`. The count is the listing's review count, kept with
/// its rating summary.
pub async fn of_listing(
    ctx: &Context<'_>,
    listing: &crate::properties::Property,
    first: Option<i32>,
    after: Option<String>,
    order: ReviewOrder,
) -> async_graphql::Result<ReviewConnection> {
    let key = PageKey::parse(
        Owner::Listing(listing.id),
        order,
        first,
        10,
        after.as_deref(),
    )
    .extend()?;
    let total = wants_total(ctx).then(|| i64::from(listing.rating.count));
    page(ctx, key, total).await
}

/// `User.reviewsWritten`, newest first.
pub async fn written_by(
    ctx: &Context<'_>,
    author: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<ReviewConnection> {
    let key = PageKey::parse(
        Owner::Author(author),
        ReviewOrder::Newest,
        first,
        20,
        after.as_deref(),
    )
    .extend()?;
    let total = if wants_total(ctx) {
        Some(
            loader::<WrittenCountLoader>(ctx)?
                .load_one(author)
                .await
                .map_err(AppError::from)
                .extend()?
                .unwrap_or(0),
        )
    } else {
        None
    };
    page(ctx, key, total).await
}

/// `Booking.review`.
pub async fn of_booking(ctx: &Context<'_>, booking: Uuid) -> async_graphql::Result<Option<Review>> {
    Ok(loader::<ReviewOfBookingLoader>(ctx)?
        .load_one(booking)
        .await
        .map_err(AppError::from)
        .extend()?
        .flatten()
        .map(Review::from))
}

/// `User.hostRating`: the mean overall rating over the reviews of all the
/// host's listings, from the aggregates kept on the user.
pub fn host_rating(sum: i64, count: i32) -> Option<f64> {
    super::types::mean(sum, count)
}
