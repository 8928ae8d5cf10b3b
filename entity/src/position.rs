//! One column value read by position, for [`by_position!`](crate): on
//! PostgreSQL straight from the row, with the column's type checked by its
//! OID; elsewhere (SQLite) through SeaORM.
//!
//! sqlx's own check (`Row::try_get`) compares the column's type with every
//! type the Rust type accepts, building them each time: on a page of search
//! results, over a thousand values, it cost more than decoding them. An
//! OID compared against a short list checks the same thing: a column whose
//! type does not match is an error, never a misread value.

use sea_orm::{
    ActiveEnum, DbErr, QueryResult,
    sqlx::{
        Decode, Postgres, Row, ValueRef,
        postgres::{PgRow, PgValueRef},
    },
};

/// PostgreSQL type OIDs (`pg_type.oid`, fixed for built-in types).
mod oid {
    pub const BOOL: u32 = 16;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const FLOAT8: u32 = 701;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const UUID: u32 = 2950;
}

/// A value that [`by_position!`](crate) can read.
pub trait ByPosition: Sized {
    fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr>;
}

fn type_error(index: usize, message: impl std::fmt::Display) -> DbErr {
    DbErr::Type(format!("column {index}: {message}"))
}

/// Column `index` of `row`, decoded as `T` when its type is one of `oids`
/// (or it is NULL, which only an `Option` accepts).
fn decoded<'r, T: Decode<'r, Postgres>>(
    row: &'r PgRow,
    index: usize,
    oids: &[u32],
) -> Result<T, DbErr> {
    let value: PgValueRef<'r> = row.try_get_raw(index).map_err(|e| type_error(index, e))?;
    if !value.is_null() {
        let info = value.type_info();
        if !info.oid().is_some_and(|o| oids.contains(&o.0)) {
            return Err(type_error(index, format!("unexpected type {info}")));
        }
    }
    T::decode(value).map_err(|e| type_error(index, e))
}

macro_rules! decoded {
    ($($ty:ty => [$($oid:ident),+]),+ $(,)?) => {$(
        impl ByPosition for $ty {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                match row.try_as_pg_row() {
                    Some(pg) => decoded(pg, index, &[$(oid::$oid),+]),
                    None => row.try_get_by_index(index),
                }
            }
        }

        impl ByPosition for Option<$ty> {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                match row.try_as_pg_row() {
                    Some(pg) => decoded(pg, index, &[$(oid::$oid),+]),
                    None => row.try_get_by_index(index),
                }
            }
        }
    )+};
}

decoded! {
    bool => [BOOL],
    i32 => [INT4],
    i64 => [INT8],
    f64 => [FLOAT8],
    String => [TEXT, VARCHAR, BPCHAR, NAME],
    uuid::Uuid => [UUID],
    chrono::DateTime<chrono::Utc> => [TIMESTAMPTZ],
}

/// Enums stored as their string value.
macro_rules! string_enums {
    ($($ty:ty),+ $(,)?) => {$(
        impl ByPosition for $ty {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                <$ty as ActiveEnum>::try_from_value(&String::read(row, index)?)
            }
        }
    )+};
}

string_enums!(
    crate::property::PropertyType,
    crate::property::ListingStatus,
    crate::property::CancellationPolicy,
    crate::user::Role,
);
