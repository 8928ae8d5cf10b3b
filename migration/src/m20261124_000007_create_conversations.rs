//! Conversations between users, who takes part in them, and their messages.
//!
//! A conversation is between two users, optionally about one listing. The
//! pair (and the listing) is written into `pair_key` as
//! "lowUserId:highUserId:propertyId-or-dash" with a unique index, so two
//! first messages sent at the same moment between the same two users end
//! in one conversation whatever the concurrency.
//!
//! Denormalized for cheap lists, kept up to date in the transaction that
//! sends a message: the conversation's `updated_at` and `last_message_id`
//! (no foreign key: messages already point at their conversation), and per
//! participant a copy of `updated_at` (a user's conversations, newest first,
//! come straight off one index) and `unread_count`, the messages to them
//! not yet read.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;
use super::m20261124_000004_create_properties::Properties;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(pk_uuid(Conversations::Id))
                    .col(string_len(Conversations::PairKey, 120))
                    .col(uuid_null(Conversations::PropertyId))
                    .col(uuid_null(Conversations::LastMessageId))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("conversations_property_id_fkey")
                            .from(Conversations::Table, Conversations::PropertyId)
                            .to(Properties::Table, Properties::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationParticipants::Table)
                    .col(uuid(ConversationParticipants::ConversationId))
                    .col(uuid(ConversationParticipants::UserId))
                    .col(integer(ConversationParticipants::UnreadCount).default(0))
                    .col(timestamp_with_time_zone_null(
                        ConversationParticipants::LastReadAt,
                    ))
                    .col(timestamp_with_time_zone(
                        ConversationParticipants::UpdatedAt,
                    ))
                    .primary_key(
                        Index::create()
                            .col(ConversationParticipants::ConversationId)
                            .col(ConversationParticipants::UserId),
                    )
                    .check(Expr::col(ConversationParticipants::UnreadCount).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("conversation_participants_conversation_id_fkey")
                            .from(
                                ConversationParticipants::Table,
                                ConversationParticipants::ConversationId,
                            )
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("conversation_participants_user_id_fkey")
                            .from(
                                ConversationParticipants::Table,
                                ConversationParticipants::UserId,
                            )
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::ConversationId))
                    .col(uuid(Messages::SenderId))
                    .col(text(Messages::Body))
                    .col(timestamp_with_time_zone(Messages::SentAt))
                    .col(timestamp_with_time_zone_null(Messages::ReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("messages_conversation_id_fkey")
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("messages_sender_id_fkey")
                            .from(Messages::Table, Messages::SenderId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for sql in [
            // One conversation per (pair of users, listing or none).
            "CREATE UNIQUE INDEX conversations_pair_key ON conversations (pair_key)",
            // A user's conversations, most recently updated first.
            "CREATE INDEX conversation_participants_user_idx ON conversation_participants (user_id, updated_at, conversation_id)",
            // A conversation's messages in order, both ways.
            "CREATE INDEX messages_conversation_idx ON messages (conversation_id, sent_at, id)",
            // Marking a conversation read: its unread messages.
            "CREATE INDEX messages_unread_idx ON messages (conversation_id, sender_id) WHERE read_at IS NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["messages", "conversation_participants", "conversations"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    PairKey,
    PropertyId,
    LastMessageId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ConversationParticipants {
    Table,
    ConversationId,
    UserId,
    UnreadCount,
    LastReadAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    SenderId,
    Body,
    SentAt,
    ReadAt,
}
