//! How a `Review` resolves its fields.

use async_graphql::{Context, ID, Object};

use super::types::Review;
use crate::graphql::context::loader;
use crate::{
    bookings::loaders::ListingOfBookingLoader,
    error::{AppError, GraphqlResult as _},
    graphql::scalars::DateTime,
    properties::Property,
    users::{User, loader::load_user},
};

#[Object]
impl Review {
    pub async fn id(&self) -> ID {
        self.global_id()
    }

    async fn property(&self, ctx: &Context<'_>) -> async_graphql::Result<Property> {
        loader::<ListingOfBookingLoader>(ctx)?
            .load_one(self.row.property_id)
            .await
            .map_err(AppError::from)
            .extend()?
            .map(Property::from)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("review without a listing")))
            .extend()
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, self.row.author_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("review without an author")))
            .extend()
    }

    /// Overall, 1-5.
    async fn rating(&self) -> i32 {
        self.row.rating
    }

    async fn cleanliness(&self) -> Option<i32> {
        self.row.cleanliness
    }

    async fn accuracy(&self) -> Option<i32> {
        self.row.accuracy
    }

    async fn check_in(&self) -> Option<i32> {
        self.row.check_in
    }

    async fn communication(&self) -> Option<i32> {
        self.row.communication
    }

    async fn location(&self) -> Option<i32> {
        self.row.location
    }

    async fn value(&self) -> Option<i32> {
        self.row.value
    }

    async fn comment(&self) -> &str {
        &self.row.comment
    }

    async fn host_response(&self) -> Option<&str> {
        self.row.host_response.as_deref()
    }

    async fn host_responded_at(&self) -> Option<DateTime> {
        self.row.host_responded_at.map(Into::into)
    }

    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
}
