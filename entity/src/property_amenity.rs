use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "property_amenities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub property_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub amenity_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
