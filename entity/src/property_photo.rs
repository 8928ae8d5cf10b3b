use sea_orm::entity::prelude::*;

/// A listing photo. The file lives in object storage under `storage_key`;
/// `position` orders a listing's photos from 0 without gaps.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "property_photos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub property_id: Uuid,
    pub storage_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub caption: Option<String>,
    pub position: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
