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

/// Enums stored as their string value; the placeholder is the variant
/// given.
macro_rules! string_enums {
    ($($ty:ty = $placeholder:expr),+ $(,)?) => {$(
        impl ByPosition for $ty {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                <$ty as ActiveEnum>::try_from_value(&String::read(row, index)?)
            }
        }

        impl Placeholder for $ty {
            fn placeholder() -> Self {
                $placeholder
            }
        }
    )+};
}

string_enums!(
    crate::property::PropertyType = crate::property::PropertyType::EntirePlace,
    crate::property::ListingStatus = crate::property::ListingStatus::Draft,
    crate::property::CancellationPolicy = crate::property::CancellationPolicy::Flexible,
    crate::user::Role = crate::user::Role::Guest,
);

/// What a field holds when its column was not selected (see
/// [`Columns`]): empty, zero, false, none.
pub trait Placeholder {
    fn placeholder() -> Self;
}

macro_rules! placeholders {
    ($($ty:ty),+ $(,)?) => {$(
        impl Placeholder for $ty {
            fn placeholder() -> Self {
                <$ty>::default()
            }
        }
    )+};
}

placeholders!(
    bool,
    i32,
    i64,
    f64,
    String,
    uuid::Uuid,
    chrono::DateTime<chrono::Utc>,
);

impl<T> Placeholder for Option<T> {
    fn placeholder() -> Self {
        None
    }
}

/// Some of a model's columns, by their position in the model: bit `i` for
/// its `i`-th field, which is its `i`-th `Column` (`Column::X as usize`).
/// A statement that selects only these, in `Column` order, is read with
/// the model's `some_at`; the fields of the others hold placeholders, so
/// only code that needs nothing else may be given such a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns(u64);

impl Columns {
    pub const NONE: Self = Self(0);
    pub const ALL: Self = Self(u64::MAX);

    /// These with column `index` too.
    #[must_use]
    pub const fn with(self, index: usize) -> Self {
        Self(self.0 | Self::bit(index))
    }

    /// These without column `index`.
    #[must_use]
    pub const fn without(self, index: usize) -> Self {
        Self(self.0 & !Self::bit(index))
    }

    /// No model has a 65th column (`by_position!` checks): none for one.
    const fn bit(index: usize) -> u64 {
        if index < 64 { 1 << index } else { 0 }
    }

    pub const fn contains(self, index: usize) -> bool {
        index < 64 && self.0 & (1 << index) != 0
    }

    /// How many of the first `fields` columns these are: how many a
    /// statement selecting them holds.
    pub const fn count(self, fields: usize) -> usize {
        let below = if fields >= 64 {
            u64::MAX
        } else {
            (1 << fields) - 1
        };
        (self.0 & below).count_ones() as usize
    }

    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_sets_by_position() {
        let set = Columns::NONE.with(0).with(44);
        assert!(set.contains(0) && set.contains(44) && !set.contains(1));
        assert_eq!(set.without(44), Columns::NONE.with(0));
        assert_eq!(set.union(Columns::NONE.with(3)), set.with(3));
        assert!(Columns::ALL.contains(63) && !Columns::ALL.contains(64));
        assert_eq!(set.with(64), set, "no 65th column");
        assert!(!Columns::ALL.without(7).contains(7));
        assert_eq!(set.count(45), 2);
        assert_eq!(set.count(44), 1, "column 44 is not among the first 44");
        assert_eq!(Columns::ALL.count(45), 45);
        assert_eq!(Columns::ALL.count(64), 64);
    }
}
