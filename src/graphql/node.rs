//! `node(id)`: Relay object identification.

use async_graphql::{Context, ID, Interface, Object};

use super::{
    ServicesExt,
    ids::{NodeType, decode},
};
use crate::{
    auth::actor::actor,
    bookings::{Booking, resolvers::Payment},
    error::{AppError, GraphqlResult as _},
    messaging::{Conversation, Message},
    notifications::Notification,
    properties::{
        queries::visible_property,
        resolvers::photo,
        types::{Amenity, Photo, Property},
    },
    reviews::Review,
    users::{User, loader::load_user},
};

/// Relay object identification. Every ID is opaque: clients must not parse it.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Property(Property),
    Amenity(Amenity),
    Photo(Photo),
    Booking(Booking),
    Payment(Payment),
    Notification(Notification),
    Conversation(Conversation),
    Message(Message),
    Review(Review),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, when it exists and the viewer may see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let Some((kind, key)) = decode(&id) else {
            return Ok(None);
        };
        let uuid = uuid::Uuid::parse_str(&key).ok();
        Ok(match (kind, uuid) {
            (NodeType::User, Some(uuid)) => load_user(ctx, uuid).await?.map(Node::User),
            (NodeType::Property, Some(uuid)) => {
                visible_property(ctx, uuid).await?.map(Node::Property)
            }
            (NodeType::Amenity, _) => ctx
                .services()?
                .properties
                .catalogue
                .get(&key)
                .cloned()
                .map(Node::Amenity),
            (NodeType::Photo, Some(uuid)) => {
                let row = entity::property_photo::Entity::find_by_id(uuid)
                    .one(ctx.services()?.properties.db())
                    .await
                    .map_err(AppError::from)
                    .extend()?;
                match row {
                    Some(row) if visible_property(ctx, row.property_id).await?.is_some() => {
                        Some(Node::Photo(photo(ctx, row)?))
                    }
                    _ => None,
                }
            }
            (NodeType::Booking, Some(uuid)) => {
                let viewer = actor(ctx).await?;
                ctx.services()?
                    .bookings
                    .visible(viewer, uuid)
                    .await
                    .extend()?
                    .map(Node::Booking)
            }
            (NodeType::Payment, Some(uuid)) => {
                let viewer = actor(ctx).await?;
                ctx.services()?
                    .payments
                    .visible(viewer, uuid)
                    .await
                    .extend()?
                    .map(|row| Node::Payment(Payment::from(row)))
            }
            (NodeType::Notification, Some(uuid)) => match actor(ctx).await? {
                Some(viewer) => ctx
                    .services()?
                    .notifications
                    .own(viewer.user_id, uuid)
                    .await
                    .extend()?
                    .map(|row| Node::Notification(Notification(row))),
                None => None,
            },
            (NodeType::Conversation, Some(uuid)) => {
                let viewer = actor(ctx).await?;
                ctx.services()?
                    .messaging
                    .visible(viewer, uuid)
                    .await
                    .extend()?
                    .map(|row| Node::Conversation(Conversation::from(row)))
            }
            (NodeType::Message, Some(uuid)) => {
                let viewer = actor(ctx).await?;
                ctx.services()?
                    .messaging
                    .visible_message(viewer, uuid)
                    .await
                    .extend()?
                    .map(|row| Node::Message(Message::from(row)))
            }
            (NodeType::Review, Some(uuid)) => {
                // Reviews are public where their listing is.
                let row =
                    crate::graphql::context::loader::<crate::reviews::loaders::ReviewLoader>(ctx)?
                        .load_one(uuid)
                        .await
                        .map_err(AppError::from)
                        .extend()?;
                match row {
                    Some(row) if visible_property(ctx, row.property_id).await?.is_some() => {
                        Some(Node::Review(Review::from(row)))
                    }
                    _ => None,
                }
            }
            _ => None,
        })
    }
}

use sea_orm::EntityTrait;
