use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Something a user is told about; `kind` is a NotificationKind name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub booking_id: Option<Uuid>,
    pub read_at: Option<DateTimeUtc>,
    /// When the email about it was handed to the mail server (or the log).
    pub emailed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
