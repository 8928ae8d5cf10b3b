use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A conversation between two users, optionally about one listing.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// "lowUserId:highUserId:propertyId-or-dash"; unique.
    #[sea_orm(unique)]
    pub pair_key: String,
    pub property_id: Option<Uuid>,
    /// The newest message.
    pub last_message_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// When the newest message was sent (or the conversation started).
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
