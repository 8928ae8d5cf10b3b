//! The messaging rules: who may read and write a conversation (its
//! participants, docs/API.md, Messaging), sending a message and marking a
//! conversation read, each in one transaction.
//!
//! A send locks its conversation row first, so sends and reads of one
//! conversation take turns and the denormalized fields (the conversation's
//! `updated_at` and last message, each participant's `updated_at` and
//! unread count) always agree with the messages.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, Set, TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::inputs::{
    CONVERSATION_NOT_FOUND, NewMessage, PROPERTY_NOT_FOUND, Target, USER_NOT_FOUND,
};
use crate::{
    error::{AppError, AppResult},
    jobs::Jobs,
    notifications::{self, Kind, NewNotification, record},
    properties::PropertyService,
};
use domain::{
    infra::{
        db::begin_write,
        events::{Event, EventBus, MessageSent},
    },
    kernel::actor::Actor,
};
use entity::{
    conversation::{self, Column as C, Entity as Conversations},
    conversation_participant::{self, Column as P, Entity as Participants},
    message::{self, Entity as Messages},
};

#[derive(Clone)]
pub struct MessagingService {
    db: DatabaseConnection,
    properties: PropertyService,
    bus: EventBus,
    jobs: Jobs,
}

/// The key that makes a conversation unique: the two users in a fixed
/// order, and the listing (or a dash).
pub fn pair_key(a: Uuid, b: Uuid, property_id: Option<Uuid>) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    match property_id {
        Some(p) => format!("{low}:{high}:{p}"),
        None => format!("{low}:{high}:-"),
    }
}

/// Now, to the microsecond: what both databases store, so cursors made
/// from a returned row find that row again.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn conversation_not_found() -> AppError {
    AppError::NotFound(CONVERSATION_NOT_FOUND.into())
}

impl MessagingService {
    pub fn new(
        db: DatabaseConnection,
        properties: PropertyService,
        bus: EventBus,
        jobs: Jobs,
    ) -> Self {
        Self {
            db,
            properties,
            bus,
            jobs,
        }
    }

    /// The same service on another connection (a read replica), reading
    /// listings through `properties`, which should be on it too.
    pub fn with_db(&self, db: DatabaseConnection, properties: PropertyService) -> Self {
        Self {
            db,
            properties,
            ..self.clone()
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn takes_part(&self, user_id: Uuid, conversation_id: Uuid) -> AppResult<bool> {
        Ok(Participants::find_by_id((conversation_id, user_id))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// A conversation by id, when `actor` takes part in it; `None` otherwise.
    pub async fn visible(
        &self,
        actor: Option<Actor>,
        id: Uuid,
    ) -> AppResult<Option<conversation::Model>> {
        let Some(actor) = actor else {
            return Ok(None);
        };
        if !self.takes_part(actor.user_id, id).await? {
            return Ok(None);
        }
        Ok(Conversations::find_by_id(id).one(&self.db).await?)
    }

    /// A message by id, when `actor` takes part in its conversation.
    pub async fn visible_message(
        &self,
        actor: Option<Actor>,
        id: Uuid,
    ) -> AppResult<Option<message::Model>> {
        let Some(actor) = actor else {
            return Ok(None);
        };
        let Some(row) = Messages::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        Ok(self
            .takes_part(actor.user_id, row.conversation_id)
            .await?
            .then_some(row))
    }

    /// Sends a message: starts or continues the conversation, stores the
    /// message, updates the conversation and the recipient's unread count,
    /// and records the recipient's notification, in one transaction; then
    /// publishes `MessageSent` and announces the notification.
    pub async fn send(&self, actor: Actor, new: NewMessage) -> AppResult<message::Model> {
        if let Target::Recipient {
            user_id,
            property_id,
        } = new.target
        {
            let exists = entity::user::Entity::find_by_id(user_id)
                .select_only()
                .column(entity::user::Column::Id)
                .into_tuple::<Uuid>()
                .one(&self.db)
                .await?
                .is_some();
            if !exists {
                return Err(AppError::NotFound(USER_NOT_FOUND.into()));
            }
            if let Some(property_id) = property_id {
                self.properties
                    .visible(property_id, Some(actor))
                    .await?
                    .ok_or_else(|| AppError::NotFound(PROPERTY_NOT_FOUND.into()))?;
            }
        }
        let sender_name = entity::user::Entity::find_by_id(actor.user_id)
            .select_only()
            .column(entity::user::Column::FirstName)
            .into_tuple::<String>()
            .one(&self.db)
            .await?
            .unwrap_or_default();

        let txn = begin_write(&self.db).await?;
        let conversation = match new.target {
            Target::Recipient {
                user_id,
                property_id,
            } => open(&txn, actor.user_id, user_id, property_id).await?,
            Target::Conversation(id) => {
                let row = lock(&txn, id).await?.ok_or_else(conversation_not_found)?;
                Participants::find_by_id((id, actor.user_id))
                    .one(&txn)
                    .await?
                    .ok_or_else(conversation_not_found)?;
                row
            }
        };
        let recipients: Vec<Uuid> = Participants::find()
            .select_only()
            .column(P::UserId)
            .filter(P::ConversationId.eq(conversation.id))
            .filter(P::UserId.ne(actor.user_id))
            .into_tuple()
            .all(&txn)
            .await?;

        let sent_at = now();
        let message = message::ActiveModel {
            id: Set(Uuid::now_v7()),
            conversation_id: Set(conversation.id),
            sender_id: Set(actor.user_id),
            body: Set(new.body.as_str().to_owned()),
            sent_at: Set(sent_at),
            read_at: Set(None),
        }
        .insert(&txn)
        .await?;
        Participants::update_many()
            .col_expr(P::UpdatedAt, Expr::value(sent_at))
            .filter(P::ConversationId.eq(conversation.id))
            .exec(&txn)
            .await?;
        Participants::update_many()
            .col_expr(P::UnreadCount, Expr::col(P::UnreadCount).add(1))
            .filter(P::ConversationId.eq(conversation.id))
            .filter(P::UserId.ne(actor.user_id))
            .exec(&txn)
            .await?;
        Conversations::update_many()
            .col_expr(C::UpdatedAt, Expr::value(sent_at))
            .col_expr(C::LastMessageId, Expr::value(message.id))
            .filter(C::Id.eq(conversation.id))
            .exec(&txn)
            .await?;
        let mut recorded = Vec::with_capacity(recipients.len());
        for user_id in &recipients {
            recorded.push(
                record(
                    &txn,
                    NewNotification {
                        user_id: *user_id,
                        kind: Kind::MessageReceived,
                        title: format!("New message from {sender_name}"),
                        body: new.body.preview(),
                        booking_id: None,
                    },
                )
                .await?,
            );
        }
        txn.commit().await?;
        tracing::info!(message_id = %message.id, conversation_id = %conversation.id, "message sent");

        self.bus
            .publish(Event::MessageSent(MessageSent {
                message_id: message.id,
                conversation_id: conversation.id,
                sender_id: actor.user_id,
                recipient_ids: recipients,
                body: message.body.clone(),
                sent_at: message.sent_at,
            }))
            .await;
        notifications::announce(&self.bus, &self.jobs, recorded).await;
        Ok(message)
    }

    /// Marks the messages to `actor` in a conversation read (not their own)
    /// and sets their unread count to zero.
    pub async fn mark_read(&self, actor: Actor, id: Uuid) -> AppResult<conversation::Model> {
        let txn = begin_write(&self.db).await?;
        let row = lock(&txn, id).await?.ok_or_else(conversation_not_found)?;
        Participants::find_by_id((id, actor.user_id))
            .one(&txn)
            .await?
            .ok_or_else(conversation_not_found)?;
        let at = now();
        Messages::update_many()
            .col_expr(message::Column::ReadAt, Expr::value(at))
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::SenderId.ne(actor.user_id))
            .filter(message::Column::ReadAt.is_null())
            .exec(&txn)
            .await?;
        conversation_participant::ActiveModel {
            conversation_id: Set(id),
            user_id: Set(actor.user_id),
            unread_count: Set(0),
            last_read_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}

/// A conversation row, locked for the rest of the transaction (PostgreSQL;
/// SQLite's write transaction holds the whole database already).
async fn lock(txn: &DatabaseTransaction, id: Uuid) -> AppResult<Option<conversation::Model>> {
    Ok(Conversations::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?)
}

/// The conversation of two users about a listing (or none), started if
/// there is none yet. The unique `pair_key` decides between two that start
/// it at once: the second insert does nothing and both continue the one
/// that was written.
async fn open(
    txn: &DatabaseTransaction,
    sender: Uuid,
    recipient: Uuid,
    property_id: Option<Uuid>,
) -> AppResult<conversation::Model> {
    let key = pair_key(sender, recipient, property_id);
    let at = now();
    let inserted = Conversations::insert(conversation::ActiveModel {
        id: Set(Uuid::now_v7()),
        pair_key: Set(key.clone()),
        property_id: Set(property_id),
        last_message_id: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .on_conflict_do_nothing_on([C::PairKey])
    .exec_without_returning(txn)
    .await?;
    let row = Conversations::find()
        .filter(C::PairKey.eq(key))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("conversation vanished")))?;
    if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        Participants::insert_many([sender, recipient].map(|user_id| {
            conversation_participant::ActiveModel {
                conversation_id: Set(row.id),
                user_id: Set(user_id),
                unread_count: Set(0),
                last_read_at: Set(None),
                updated_at: Set(at),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(row)
}
