//! A message body as it is stored: trimmed, 1 to 5,000 characters.

use crate::error::{AppError, AppResult};

/// Longest body, in characters (docs/API.md, Limits).
pub const MAX_CHARS: usize = 5_000;

/// Longest preview in a notification, in characters.
const PREVIEW_CHARS: usize = 140;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// The body of `input.body`, trimmed.
    pub fn parse(raw: &str) -> AppResult<Self> {
        let text = raw.trim();
        let chars = text.chars().count();
        if chars == 0 || chars > MAX_CHARS {
            return Err(AppError::bad_input(
                "input.body",
                format!("must be 1 to {MAX_CHARS} characters after trimming"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// The start of the body, for a notification: at most 140 characters,
    /// on one line, cut with an ellipsis.
    pub fn preview(&self) -> String {
        preview(&self.0)
    }
}

pub fn preview(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= PREVIEW_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(
            MessageBody::parse("  hi  ")
                .map(MessageBody::into_inner)
                .ok(),
            Some("hi".to_owned())
        );
        assert!(MessageBody::parse("   ").is_err());
        assert!(MessageBody::parse(&"é".repeat(MAX_CHARS)).is_ok());
        assert!(MessageBody::parse(&"é".repeat(MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn previews_are_short_and_on_one_line() {
        assert_eq!(preview("Hello\n  there"), "Hello there");
        let long = preview(&"word ".repeat(100));
        assert!(long.chars().count() <= PREVIEW_CHARS);
        assert!(long.ends_with('…'));
    }
}
