//! A review and a response as written, parsed once: past `parse`, every
//! rating is 1 to 5 and the text is trimmed and within its limits. Each
//! error names its field under `input`.

use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const TEXT_MAX: usize = 2000;

/// The category ratings, in the order of the schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Categories {
    pub cleanliness: Option<i32>,
    pub accuracy: Option<i32>,
    pub check_in: Option<i32>,
    pub communication: Option<i32>,
    pub location: Option<i32>,
    pub value: Option<i32>,
}

/// A review ready to be written.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub booking_id: Uuid,
    pub rating: i32,
    pub categories: Categories,
    pub comment: String,
}

/// What the client sent, before parsing.
pub struct RawReview {
    pub booking_id: Uuid,
    pub rating: i32,
    pub categories: Categories,
    pub comment: String,
}

fn rating(field: &str, value: i32) -> AppResult<i32> {
    if (1..=5).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            format!("input.{field}"),
            "must be a whole number from 1 to 5",
        ))
    }
}

fn category(field: &str, value: Option<i32>) -> AppResult<Option<i32>> {
    value.map(|v| rating(field, v)).transpose()
}

/// Trimmed text of 1 to 2,000 characters, without control characters other
/// than line breaks and tabs.
pub fn text(field: &str, raw: &str) -> AppResult<String> {
    let text = raw.trim();
    let n = text.chars().count();
    if n == 0 || n > TEXT_MAX {
        return Err(AppError::bad_input(
            field,
            format!("must be 1 to {TEXT_MAX} characters long (after trimming spaces)"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::bad_input(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(text.to_owned())
}

impl RawReview {
    pub fn parse(self) -> AppResult<NewReview> {
        let c = self.categories;
        Ok(NewReview {
            booking_id: self.booking_id,
            rating: rating("rating", self.rating)?,
            categories: Categories {
                cleanliness: category("cleanliness", c.cleanliness)?,
                accuracy: category("accuracy", c.accuracy)?,
                check_in: category("checkIn", c.check_in)?,
                communication: category("communication", c.communication)?,
                location: category("location", c.location)?,
                value: category("value", c.value)?,
            },
            comment: text("input.comment", &self.comment)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(rating: i32, categories: Categories, comment: &str) -> RawReview {
        RawReview {
            booking_id: Uuid::nil(),
            rating,
            categories,
            comment: comment.to_owned(),
        }
    }

    fn field(e: AppError) -> String {
        match e {
            AppError::BadUserInput { field, .. } => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn ratings_and_comments_are_checked() {
        let ok = raw(5, Categories::default(), "  Lovely  ").parse();
        assert_eq!(ok.map(|r| r.comment).ok().as_deref(), Some("Lovely"));
        for bad in [0, 6, -1] {
            let e = raw(bad, Categories::default(), "x").parse();
            assert_eq!(e.err().map(field).as_deref(), Some("input.rating"));
        }
        let e = raw(
            4,
            Categories {
                check_in: Some(9),
                ..Categories::default()
            },
            "x",
        )
        .parse();
        assert_eq!(e.err().map(field).as_deref(), Some("input.checkIn"));
        for bad in ["", "   ", &"é".repeat(2001), "a\u{0}b"] {
            let e = raw(4, Categories::default(), bad).parse();
            assert_eq!(e.err().map(field).as_deref(), Some("input.comment"));
        }
        assert!(
            raw(4, Categories::default(), &"é".repeat(2000))
                .parse()
                .is_ok()
        );
    }
}
