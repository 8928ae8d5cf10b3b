//! `notifications` and `markNotificationsRead`: the viewer's own, nobody
//! else's.

use async_graphql::{Context, ID, Object};

use super::{
    inbox::{MAX_MARKED, Marked},
    types::{Notification, NotificationConnection},
};
use crate::graphql::context::wants_total;
use crate::{
    auth::actor::require_actor,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        connection::connection,
        ids::{NodeType, decode_as},
    },
};

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The viewer's notifications, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)")] unread_only: Option<bool>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<NotificationConnection> {
        let actor = require_actor(ctx).await?;
        let service = &ctx.services()?.notifications;
        let page = service
            .page(
                actor.user_id,
                unread_only.unwrap_or(false),
                first,
                after,
                wants_total(ctx),
            )
            .await
            .extend()?;
        let unread_count = if ctx.look_ahead().field("unreadCount").exists() {
            service.unread_count(actor.user_id).await.extend()?
        } else {
            0
        };
        Ok(NotificationConnection {
            unread_count,
            ..connection(page.map(Notification))
        })
    }
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks these notifications read (all of the viewer's when ids is
    /// omitted); returns how many changed.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<i64> {
        let actor = require_actor(ctx).await?;
        let which = match ids {
            None => Marked::All,
            Some(ids) => {
                if ids.len() > MAX_MARKED {
                    return Err(AppError::bad_input(
                        "ids",
                        format!("takes at most {MAX_MARKED} ids; omit it to mark all"),
                    ))
                    .extend();
                }
                let mut uuids = Vec::with_capacity(ids.len());
                for (i, id) in ids.iter().enumerate() {
                    match decode_as(NodeType::Notification, id) {
                        Some(uuid) => uuids.push(uuid),
                        None => {
                            return Err(AppError::bad_input(
                                format!("ids.{i}"),
                                "is not a notification id",
                            ))
                            .extend();
                        }
                    }
                }
                Marked::These(uuids)
            }
        };
        ctx.services()?
            .notifications
            .mark_read(actor.user_id, which)
            .await
            .extend()
    }
}
