use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A user taking part in a conversation, with what they have not read yet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "conversation_participants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// Messages to this user not yet read.
    pub unread_count: i32,
    pub last_read_at: Option<DateTimeUtc>,
    /// A copy of the conversation's `updated_at`, so a user's conversations
    /// are listed off one index.
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
