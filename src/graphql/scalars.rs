//! Scalars of the contract whose wire format we fix ourselves, and what a
//! value of each scalar with a format must look like.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

/// What a `DateTime` must look like.
pub const DATE_TIME_FORMAT: &str = "must be an RFC 3339 instant such as 2027-03-10T14:00:00Z";
/// What a `Date` must look like.
pub const DATE_FORMAT: &str = "must be a date written YYYY-MM-DD, such as 2027-03-10";
/// What a `Decimal` must look like.
pub const DECIMAL_FORMAT: &str = "must be a decimal number such as \"120.50\"";
/// What an `ID` must look like.
pub const ID_FORMAT: &str = "must be an ID: a string, as the API returned it";

/// `Ok` when `value` is a value of the scalar `type_name`, as its own
/// parser reads it; otherwise what such a value must look like. Scalars
/// without a format of their own (`String`, `Int`, ...: checked by
/// validation) always fit here.
pub fn fits(type_name: &str, value: &Value) -> Result<(), &'static str> {
    fn parsed<T: ScalarType>(value: &Value, format: &'static str) -> Result<(), &'static str> {
        T::parse(value.clone()).map(drop).map_err(|_| format)
    }
    match type_name {
        "Date" => parsed::<Date>(value, DATE_FORMAT),
        "DateTime" => parsed::<DateTime>(value, DATE_TIME_FORMAT),
        "Decimal" => parsed::<rust_decimal::Decimal>(value, DECIMAL_FORMAT),
        "ID" => parsed::<ID>(value, ID_FORMAT),
        _ => Ok(()),
    }
}

/// An instant, RFC 3339 with an offset, e.g. 2027-03-10T14:00:00Z.
///
/// Written in UTC with a `Z` and millisecond precision, the form
/// JavaScript's `Date` and every other RFC 3339 parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<Utc>);

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(value: chrono::DateTime<Utc>) -> Self {
        Self(value)
    }
}

/// An instant, RFC 3339 with an offset, e.g. 2027-03-10T14:00:00Z.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| Self(d.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom(DATE_TIME_FORMAT)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

/// A calendar date, ISO 8601 YYYY-MM-DD. Stays are [checkIn, checkOut):
/// checkOut night is not stayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub chrono::NaiveDate);

/// A calendar date, ISO 8601 YYYY-MM-DD. Stays are [checkIn, checkOut): checkOut night is not stayed.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|_| s.len() == 10)
                .map(Self)
                .ok_or_else(|| InputValueError::custom(DATE_FORMAT)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fit_their_scalars_as_their_parsers_read_them() {
        let s = |v: &str| Value::String(v.into());
        assert_eq!(fits("Date", &s("2027-03-10")), Ok(()));
        assert_eq!(fits("Date", &s("2027-3-10")), Err(DATE_FORMAT));
        assert_eq!(fits("Date", &s("2027-02-30")), Err(DATE_FORMAT));
        assert_eq!(fits("Date", &Value::from(20270310)), Err(DATE_FORMAT));
        assert_eq!(fits("DateTime", &s("2027-03-10T14:00:00+02:00")), Ok(()));
        assert_eq!(
            fits("DateTime", &s("2027-03-10 14:00")),
            Err(DATE_TIME_FORMAT)
        );
        assert_eq!(fits("Decimal", &s("120.50")), Ok(()));
        assert_eq!(fits("Decimal", &Value::from(120)), Ok(()));
        assert_eq!(fits("Decimal", &s("12O.50")), Err(DECIMAL_FORMAT));
        assert_eq!(fits("Decimal", &Value::Boolean(true)), Err(DECIMAL_FORMAT));
        assert_eq!(fits("ID", &s("anything")), Ok(()));
        assert_eq!(fits("ID", &Value::Boolean(false)), Err(ID_FORMAT));
        assert_eq!(fits("String", &Value::Boolean(false)), Ok(()), "not ours");
    }

    /// Scalars the schema declares whose values `fits` leaves alone, and
    /// why.
    const NOT_CHECKED: [(&str, &str); 1] = [(
        "Upload",
        "a multipart file: its variable is null in the operation, and the \
         file is bounded where the request is read",
    )];

    /// Every scalar the schema declares is checked by `fits` before
    /// anything runs, or said not to be.
    #[test]
    fn every_scalar_of_the_schema_is_checked_or_said_not_to_be() {
        let names = crate::graphql::schema_names::SchemaNames::served();
        let mut problems = Vec::new();
        // No scalar takes an object (none here is a JSON scalar).
        let nothing = Value::Object(Default::default());
        for scalar in &names.scalars {
            let checked = fits(scalar, &nothing).is_err();
            let exempt = NOT_CHECKED.iter().any(|(n, _)| n == scalar);
            if checked == exempt {
                problems.push(if checked {
                    format!(
                        "{scalar} is checked by `fits` (src/graphql/scalars.rs): remove it \
                         from NOT_CHECKED"
                    )
                } else {
                    format!(
                        "the scalar {scalar} is new: add it to `fits` (src/graphql/scalars.rs) \
                         so that a malformed value is BAD_USER_INPUT before anything runs, or \
                         to NOT_CHECKED in the same file's test, saying why"
                    )
                });
            }
        }
        for (name, _) in NOT_CHECKED {
            if !names.scalars.contains(name) {
                problems.push(format!(
                    "NOT_CHECKED (src/graphql/scalars.rs) names {name}, which is no scalar of \
                     the schema: remove it"
                ));
            }
        }
        crate::graphql::schema_names::assert_none(&problems);
    }
}
