use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum PaymentStatus {
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    #[sea_orm(string_value = "AUTHORIZED")]
    Authorized,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "VOIDED")]
    Voided,
    #[sea_orm(string_value = "PARTIALLY_REFUNDED")]
    PartiallyRefunded,
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PaymentProvider {
    #[sea_orm(string_value = "SIMULATED")]
    Simulated,
    #[sea_orm(string_value = "STRIPE")]
    Stripe,
}

/// One attempt to pay for a booking, and what became of the money. Amounts
/// are in its currency's minor units (columns `*_cents`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    #[sea_orm(column_name = "amount_cents")]
    pub amount_minor: i64,
    #[sea_orm(column_name = "refunded_cents")]
    pub refunded_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub provider: PaymentProvider,
    pub provider_reference: Option<String>,
    pub payment_method: String,
    pub idempotency_key: String,
    pub failure_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
