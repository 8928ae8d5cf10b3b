use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PropertyType {
    #[sea_orm(string_value = "ENTIRE_PLACE")]
    EntirePlace,
    #[sea_orm(string_value = "PRIVATE_ROOM")]
    PrivateRoom,
    #[sea_orm(string_value = "SHARED_ROOM")]
    SharedRoom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ListingStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "LISTED")]
    Listed,
    #[sea_orm(string_value = "UNLISTED")]
    Unlisted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CancellationPolicy {
    #[sea_orm(string_value = "FLEXIBLE")]
    Flexible,
    #[sea_orm(string_value = "MODERATE")]
    Moderate,
    #[sea_orm(string_value = "STRICT")]
    Strict,
}

/// A listing. Money is in its currency's ISO 4217 minor units (the
/// `*_minor` fields; their columns keep the older name `*_cents`, which
/// outside tools load by); `search_city` and `search_country`
/// are the lower-cased names search matches on.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "properties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub host_id: Uuid,
    pub title: String,
    pub description: String,
    pub property_type: PropertyType,
    pub status: ListingStatus,
    pub address: String,
    pub city: String,
    pub country: String,
    pub search_city: String,
    pub search_country: String,
    pub latitude: f64,
    pub longitude: f64,
    pub currency: String,
    #[sea_orm(column_name = "price_cents")]
    pub price_minor: i64,
    #[sea_orm(column_name = "cleaning_fee_cents")]
    pub cleaning_fee_minor: i64,
    pub weekly_discount_percent: i32,
    pub monthly_discount_percent: i32,
    pub max_guests: i32,
    pub bedrooms: i32,
    pub beds: i32,
    pub bathrooms: f64,
    pub instant_book: bool,
    pub cancellation_policy: CancellationPolicy,
    pub min_nights: i32,
    pub max_nights: i32,
    pub rating_count: i32,
    pub rating_sum: i32,
    pub rating_avg: f64,
    pub cleanliness_sum: i32,
    pub cleanliness_count: i32,
    pub accuracy_sum: i32,
    pub accuracy_count: i32,
    pub check_in_sum: i32,
    pub check_in_count: i32,
    pub communication_sum: i32,
    pub communication_count: i32,
    pub location_sum: i32,
    pub location_count: i32,
    pub value_sum: i32,
    pub value_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// The codes of `property_amenities` for this listing, comma-separated
    /// (in no particular order); written with them.
    pub amenity_codes: String,
    /// Where everyone but the host, admins and confirmed guests is told the
    /// home is: within 1 km of `latitude`/`longitude`, three decimals;
    /// empty until the server places it.
    pub public_latitude: Option<f64>,
    pub public_longitude: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::HostId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Host,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Host.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

by_position!(
    FIELDS,
    Model {
        id,
        host_id,
        title,
        description,
        property_type,
        status,
        address,
        city,
        country,
        search_city,
        search_country,
        latitude,
        longitude,
        currency,
        price_minor,
        cleaning_fee_minor,
        weekly_discount_percent,
        monthly_discount_percent,
        max_guests,
        bedrooms,
        beds,
        bathrooms,
        instant_book,
        cancellation_policy,
        min_nights,
        max_nights,
        rating_count,
        rating_sum,
        rating_avg,
        cleanliness_sum,
        cleanliness_count,
        accuracy_sum,
        accuracy_count,
        check_in_sum,
        check_in_count,
        communication_sum,
        communication_count,
        location_sum,
        location_count,
        value_sum,
        value_count,
        created_at,
        updated_at,
        deleted_at,
        amenity_codes,
        public_latitude,
        public_longitude,
    }
);
