use sea_orm::entity::prelude::*;

/// A guest's review of a completed stay; at most one a booking. Category
/// ratings are optional; every rating is 1 to 5.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub booking_id: Uuid,
    pub property_id: Uuid,
    pub author_id: Uuid,
    /// The listing's host when the review was written.
    pub host_id: Uuid,
    pub rating: i32,
    pub cleanliness: Option<i32>,
    pub accuracy: Option<i32>,
    pub check_in: Option<i32>,
    pub communication: Option<i32>,
    pub location: Option<i32>,
    pub value: Option<i32>,
    pub comment: String,
    pub host_response: Option<String>,
    pub host_responded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
