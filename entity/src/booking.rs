use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BookingStatus {
    #[sea_orm(string_value = "PENDING_PAYMENT")]
    PendingPayment,
    #[sea_orm(string_value = "AWAITING_HOST")]
    AwaitingHost,
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
}

impl BookingStatus {
    /// The statuses that hold a listing's nights.
    pub const ACTIVE: [Self; 3] = [Self::PendingPayment, Self::AwaitingHost, Self::Confirmed];

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

/// A stay: its dates, its guest, the price quoted when it was made (later
/// price changes do not touch it), and where it stands. Amounts are in
/// the booking's currency's minor units (columns `*_cents`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub property_id: Uuid,
    pub guest_id: Uuid,
    pub host_id: Uuid,
    pub check_in: Date,
    pub check_out: Date,
    pub nights: i32,
    pub guests: i32,
    pub status: BookingStatus,
    pub version: i32,
    pub currency: String,
    #[sea_orm(column_name = "nights_total_cents")]
    pub nights_total_minor: i64,
    #[sea_orm(column_name = "discount_cents")]
    pub discount_minor: i64,
    #[sea_orm(column_name = "cleaning_fee_cents")]
    pub cleaning_fee_minor: i64,
    #[sea_orm(column_name = "service_fee_cents")]
    pub service_fee_minor: i64,
    #[sea_orm(column_name = "taxes_cents")]
    pub taxes_minor: i64,
    #[sea_orm(column_name = "total_cents")]
    pub total_minor: i64,
    pub expires_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    /// guest, host or admin.
    pub cancelled_by: Option<String>,
    pub cancellation_reason: Option<String>,
    pub refund_percent: Option<i32>,
    #[sea_orm(column_name = "refund_cents")]
    pub refund_minor: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
