use async_graphql::{Context, ID, InputObject, Object};

use super::{resolvers::Payment, service::NewBooking, types::Booking};
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{NodeType, decode_as},
        scalars::Date,
    },
    payments::service::PayRequest,
};

#[derive(InputObject)]
pub struct CreateBookingInput {
    pub property_id: ID,
    pub check_in: Date,
    pub check_out: Date,
    pub guests: i32,
}

#[derive(InputObject)]
pub struct CancelBookingInput {
    pub booking_id: ID,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct PayBookingInput {
    pub booking_id: ID,
    /// A provider payment-method token, e.g. pm_card_visa.
    pub payment_method: String,
    /// Retrying with the same key returns the same Payment and never charges twice.
    pub idempotency_key: String,
}

#[derive(Default)]
pub struct BookingMutation;

fn booking_id(id: &ID) -> async_graphql::Result<uuid::Uuid> {
    decode_as(NodeType::Booking, id)
        .ok_or_else(|| AppError::NotFound(super::service::NOT_FOUND.into()))
        .extend()
}

#[Object]
impl BookingMutation {
    async fn create_booking(
        &self,
        ctx: &Context<'_>,
        input: CreateBookingInput,
    ) -> async_graphql::Result<Booking> {
        let actor = require_actor(ctx).await?;
        let property_id = decode_as(NodeType::Property, &input.property_id)
            .ok_or_else(|| AppError::NotFound(crate::properties::service::NOT_FOUND.into()))
            .extend()?;
        ctx.services()?
            .bookings
            .create(
                actor,
                NewBooking {
                    property_id,
                    check_in: input.check_in.0,
                    check_out: input.check_out.0,
                    guests: input.guests,
                },
            )
            .await
            .extend()
    }

    async fn pay_booking(
        &self,
        ctx: &Context<'_>,
        input: PayBookingInput,
    ) -> async_graphql::Result<Payment> {
        let actor = require_actor(ctx).await?;
        let id = booking_id(&input.booking_id)?;
        ctx.services()?
            .payments
            .pay(
                actor,
                PayRequest {
                    booking_id: id,
                    payment_method: input.payment_method,
                    idempotency_key: input.idempotency_key,
                },
            )
            .await
            .map(Payment::from)
            .extend()
    }

    async fn accept_booking(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
    ) -> async_graphql::Result<Booking> {
        let actor = require_actor(ctx).await?;
        let id = self::booking_id(&booking_id)?;
        ctx.services()?.bookings.accept(actor, id).await.extend()
    }

    async fn decline_booking(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        reason: Option<String>,
    ) -> async_graphql::Result<Booking> {
        let actor = require_actor(ctx).await?;
        let id = self::booking_id(&booking_id)?;
        ctx.services()?
            .bookings
            .decline(actor, id, reason)
            .await
            .extend()
    }

    async fn cancel_booking(
        &self,
        ctx: &Context<'_>,
        input: CancelBookingInput,
    ) -> async_graphql::Result<Booking> {
        let actor = require_actor(ctx).await?;
        let id = booking_id(&input.booking_id)?;
        ctx.services()?
            .bookings
            .cancel(actor, id, input.reason)
            .await
            .extend()
    }
}
