use async_graphql::{Context, ID, InputObject, Object};

use super::{
    inputs::{Categories, RawReview},
    service::NOT_FOUND,
    types::Review,
};
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{NodeType, decode_as},
    },
};

#[derive(InputObject)]
pub struct CreateReviewInput {
    pub booking_id: ID,
    pub rating: i32,
    pub cleanliness: Option<i32>,
    pub accuracy: Option<i32>,
    pub check_in: Option<i32>,
    pub communication: Option<i32>,
    pub location: Option<i32>,
    pub value: Option<i32>,
    pub comment: String,
}

#[derive(InputObject)]
pub struct RespondToReviewInput {
    pub review_id: ID,
    pub response: String,
}

#[derive(Default)]
pub struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// Only the guest of a COMPLETED stay, within 14 days after checkOut, once.
    async fn create_review(
        &self,
        ctx: &Context<'_>,
        input: CreateReviewInput,
    ) -> async_graphql::Result<Review> {
        let actor = require_actor(ctx).await?;
        let booking_id = decode_as(NodeType::Booking, &input.booking_id)
            .ok_or_else(|| AppError::NotFound(crate::bookings::service::NOT_FOUND.into()))
            .extend()?;
        let raw = RawReview {
            booking_id,
            rating: input.rating,
            categories: Categories {
                cleanliness: input.cleanliness,
                accuracy: input.accuracy,
                check_in: input.check_in,
                communication: input.communication,
                location: input.location,
                value: input.value,
            },
            comment: input.comment,
        };
        ctx.services()?.reviews.create(actor, raw).await.extend()
    }

    /// Only the reviewed listing's host, once.
    async fn respond_to_review(
        &self,
        ctx: &Context<'_>,
        input: RespondToReviewInput,
    ) -> async_graphql::Result<Review> {
        let actor = require_actor(ctx).await?;
        let id = decode_as(NodeType::Review, &input.review_id)
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))
            .extend()?;
        ctx.services()?
            .reviews
            .respond(actor, id, &input.response)
            .await
            .extend()
    }
}
