use async_graphql::{Context, ID, Object, Upload};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::{
    inputs::{CreatePropertyInput, UpdateCalendarInput, UpdatePropertyInput},
    photos::MAX_PHOTO_BYTES,
    resolvers::photo,
    service::NOT_FOUND,
    types::{CalendarDay, Photo, Property},
    validation::NewProperty,
};
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        ids::{NodeType, decode_as},
    },
};

#[derive(Default)]
pub struct PropertyMutation;

fn property_id(id: &ID) -> async_graphql::Result<Uuid> {
    decode_as(NodeType::Property, id)
        .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))
        .extend()
}

#[Object]
impl PropertyMutation {
    async fn create_property(
        &self,
        ctx: &Context<'_>,
        input: CreatePropertyInput,
    ) -> async_graphql::Result<Property> {
        let actor = require_actor(ctx).await?;
        let service = &ctx.services()?.properties;
        let new = NewProperty::parse(input, &service.catalogue)
            .map_err(|e| e.under("input"))
            .extend()?;
        service.create(actor, new).await.extend()
    }

    async fn update_property(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePropertyInput,
    ) -> async_graphql::Result<Property> {
        let actor = require_actor(ctx).await?;
        let id = property_id(&id)?;
        ctx.services()?
            .properties
            .update(actor, id, input)
            .await
            .extend()
    }

    /// Refused with CONFLICT while the property has upcoming active bookings.
    async fn delete_property(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx).await?;
        let id = property_id(&id)?;
        let services = ctx.services()?;
        services
            .properties
            .delete(actor, id, &services.storage)
            .await
            .extend()
    }

    async fn add_property_photo(
        &self,
        ctx: &Context<'_>,
        property_id: ID,
        file: Upload,
        caption: Option<String>,
    ) -> async_graphql::Result<Photo> {
        let actor = require_actor(ctx).await?;
        let id = self::property_id(&property_id)?;
        let upload = file
            .value(ctx)
            .map_err(|_| {
                AppError::bad_input("file", "must be a file part of the multipart request")
            })
            .extend()?;
        let mut bytes = Vec::new();
        tokio::fs::File::from_std(upload.content)
            .take(u64::try_from(MAX_PHOTO_BYTES).unwrap_or(u64::MAX) + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("reading an upload")))
            .extend()?;
        let services = ctx.services()?;
        let row = services
            .properties
            .add_photo(actor, id, bytes.into(), caption, &services.storage)
            .await
            .extend()?;
        photo(ctx, row)
    }

    async fn remove_property_photo(
        &self,
        ctx: &Context<'_>,
        photo_id: ID,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx).await?;
        let id = decode_as(NodeType::Photo, &photo_id)
            .ok_or_else(|| AppError::NotFound("Photo not found".into()))
            .extend()?;
        let services = ctx.services()?;
        services
            .properties
            .remove_photo(actor, id, &services.storage)
            .await
            .extend()
    }

    async fn update_calendar(
        &self,
        ctx: &Context<'_>,
        input: UpdateCalendarInput,
    ) -> async_graphql::Result<Vec<CalendarDay>> {
        let actor = require_actor(ctx).await?;
        let (_, days) = ctx
            .services()?
            .properties
            .update_calendar(actor, input)
            .await
            .extend()?;
        Ok(days)
    }

    async fn save_property(
        &self,
        ctx: &Context<'_>,
        property_id: ID,
    ) -> async_graphql::Result<Property> {
        let actor = require_actor(ctx).await?;
        let id = self::property_id(&property_id)?;
        ctx.services()?.properties.save(actor, id).await.extend()
    }

    async fn unsave_property(
        &self,
        ctx: &Context<'_>,
        property_id: ID,
    ) -> async_graphql::Result<Property> {
        let actor = require_actor(ctx).await?;
        let id = self::property_id(&property_id)?;
        ctx.services()?.properties.unsave(actor, id).await.extend()
    }
}
