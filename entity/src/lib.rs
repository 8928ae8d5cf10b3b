//! Database rows of Roost, one module per table.
//!
//! These are storage types: the GraphQL API has its own types in the `roost`
//! crate, so a column can change without a client noticing.

/// Reads a model from a row by column position rather than by name
/// (`Model::some_at`): `at` is the position of its first column, and the
/// others follow in the model's field order, which is the order of its
/// `Column` enum (how `Entity::find()` selects them). Name lookups cost a hash and a string
/// comparison per column (and an allocation with a prefix); a page of
/// search results with hosts reads over a thousand columns. Each value is
/// read as [`position::ByPosition`] says.
///
/// Also defines `$fields`, the field names in that order: a test in the
/// search (`roost::properties::search`) compares them with
/// `Column::iter()`, so a reordered model fails it.
macro_rules! by_position {
    ($fields:ident, $model:ident { $($field:ident),+ $(,)? }) => {
        /// The field names `Model::some_at` reads, in order.
        pub const $fields: &[&str] = &[$(stringify!($field)),+];

        // A field's bit in `Columns` is its position.
        const _: () = assert!($fields.len() <= 64);

        impl $model {
            /// The model whose `columns` (in field order) start at position
            /// `at` of `row`; its other fields hold placeholders
            /// (`Columns::ALL` reads them all).
            #[allow(unused_assignments)] // the last field's `next += 1`
            pub fn some_at(
                row: &sea_orm::QueryResult,
                at: usize,
                columns: $crate::position::Columns,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut next = at;
                let mut field = 0;
                Ok(Self {
                    $($field: {
                        let value = if columns.contains(field) {
                            let value = $crate::position::ByPosition::read(row, next)?;
                            next += 1;
                            value
                        } else {
                            $crate::position::Placeholder::placeholder()
                        };
                        field += 1;
                        value
                    }),+
                })
            }
        }
    };
}

pub mod position;

pub mod amenity;
pub mod booking;
pub mod calendar_day;
pub mod conversation;
pub mod conversation_participant;
pub mod message;
pub mod notification;
pub mod payment;
pub mod property;
pub mod property_amenity;
pub mod property_photo;
pub mod provider_event;
pub mod refresh_token;
pub mod review;
pub mod saved_property;
pub mod session;
pub mod user;
