//! The amenity catalogue. Codes are stable machine names that clients may
//! hard-code (`wifi`, `pool`); names and categories are for display. The
//! catalogue is data that ships with the schema, so it is written here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (code, name, category), in display order.
pub const CATALOGUE: [(&str, &str, &str); 36] = [
    ("wifi", "Wifi", "essentials"),
    ("kitchen", "Kitchen", "essentials"),
    ("washer", "Washer", "essentials"),
    ("dryer", "Dryer", "essentials"),
    ("air_conditioning", "Air conditioning", "essentials"),
    ("heating", "Heating", "essentials"),
    ("hot_water", "Hot water", "essentials"),
    ("bed_linens", "Bed linens", "essentials"),
    ("tv", "TV", "entertainment"),
    ("dedicated_workspace", "Dedicated workspace", "features"),
    ("hair_dryer", "Hair dryer", "features"),
    ("iron", "Iron", "features"),
    ("dishwasher", "Dishwasher", "features"),
    ("coffee_maker", "Coffee maker", "features"),
    ("balcony", "Balcony", "features"),
    ("garden", "Garden", "features"),
    ("indoor_fireplace", "Indoor fireplace", "features"),
    ("pool", "Pool", "facilities"),
    ("hot_tub", "Hot tub", "facilities"),
    ("gym", "Gym", "facilities"),
    ("bbq_grill", "BBQ grill", "facilities"),
    ("free_parking", "Free parking on premises", "facilities"),
    ("ev_charger", "EV charger", "facilities"),
    ("elevator", "Elevator", "facilities"),
    ("beachfront", "Beachfront", "location"),
    ("waterfront", "Waterfront", "location"),
    ("ski_in_out", "Ski-in/ski-out", "location"),
    ("smoke_alarm", "Smoke alarm", "safety"),
    ("carbon_monoxide_alarm", "Carbon monoxide alarm", "safety"),
    ("fire_extinguisher", "Fire extinguisher", "safety"),
    ("first_aid_kit", "First aid kit", "safety"),
    ("crib", "Crib", "family"),
    ("high_chair", "High chair", "family"),
    ("step_free_access", "Step-free access", "accessibility"),
    ("self_check_in", "Self check-in", "services"),
    ("pets_allowed", "Pets allowed", "services"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Amenities::Table)
                    .col(string_len(Amenities::Code, 32).primary_key())
                    .col(string_len(Amenities::Name, 100))
                    .col(string_len(Amenities::Category, 32))
                    .col(integer(Amenities::Position))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert()
            .into_table(Amenities::Table)
            .columns([
                Amenities::Code,
                Amenities::Name,
                Amenities::Category,
                Amenities::Position,
            ])
            .to_owned();
        for (position, (code, name, category)) in CATALOGUE.iter().enumerate() {
            insert.values_panic([
                (*code).into(),
                (*name).into(),
                (*category).into(),
                <i32 as std::convert::TryFrom<usize>>::try_from(position)
                    .unwrap_or(i32::MAX)
                    .into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Amenities::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Amenities {
    Table,
    Code,
    Name,
    Category,
    Position,
}
