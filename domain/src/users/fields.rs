//! Account fields, parsed once from input. Past `parse`, a value is known to
//! be valid; each error names the field it came from (the caller prefixes
//! the input's path with [`AppError::under`]).

use crate::kernel::error::{AppError, AppResult};

pub const NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
pub const EMAIL_MAX: usize = 254;
pub const BIO_MAX: usize = 2000;
pub const URL_MAX: usize = 2048;
pub const PHONE_MAX: usize = 32;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Trimmed and lower-cased, so `Ann@Example.COM ` and `ann@example.com` are
/// one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let email = raw.trim().to_lowercase();
        let invalid =
            || AppError::bad_input(field, "must be an email address such as ann@example.com");
        if email.is_empty() || chars(&email) > EMAIL_MAX {
            return Err(AppError::bad_input(
                field,
                format!("must be an email address of at most {EMAIL_MAX} characters"),
            ));
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && chars(local) <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@,;:<>()[]\\\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| {
                tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
            });
        if local_ok && domain_ok {
            Ok(Self(email))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A new password: 10 to 128 characters. It is never trimmed, logged or
/// returned.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let n = chars(raw);
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Err(AppError::bad_input(
                field,
                format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A first or last name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let name = raw.trim();
        if name.is_empty() || chars(name) > NAME_MAX {
            return Err(AppError::bad_input(
                field,
                format!("must be 1 to {NAME_MAX} characters long"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A phone number as people write it (`+1 (555) 010-9999`): digits with
/// optional `+`, spaces, dots, dashes and parentheses; 5 to 20 digits.
#[derive(Debug, Clone)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let phone = raw.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0));
        if !allowed || !(5..=20).contains(&digits) || phone.len() > PHONE_MAX {
            return Err(AppError::bad_input(
                field,
                "must be a phone number of 5 to 20 digits, optionally with a leading +, spaces, dots, dashes or parentheses",
            ));
        }
        Ok(Self(phone.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text about a user: at most 2,000 characters; blank means none.
pub fn parse_bio(field: &str, raw: &str) -> AppResult<Option<String>> {
    let bio = raw.trim();
    if chars(bio) > BIO_MAX {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {BIO_MAX} characters long"),
        ));
    }
    Ok((!bio.is_empty()).then(|| bio.to_owned()))
}

/// An absolute http(s) URL of at most 2,048 characters; blank means none.
pub fn parse_avatar_url(field: &str, raw: &str) -> AppResult<Option<String>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let valid = raw.len() <= URL_MAX
        && url::Url::parse(raw)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if valid {
        Ok(Some(raw.to_owned()))
    } else {
        Err(AppError::bad_input(
            field,
            format!("must be an absolute http or https URL of at most {URL_MAX} characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: AppError) -> String {
        match e {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse("email", "  Ann.Lee@Example.COM ")
                .expect("valid")
                .as_str(),
            "ann.lee@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "a b@example.com",
            "ann@exa_mple.com",
            "ann@example.c0m",
            ".ann@example.com",
        ] {
            assert_eq!(
                field_of(Email::parse("email", bad).expect_err(bad)),
                "email",
                "{bad}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(NewPassword::parse("password", "123456789").is_err());
        assert!(NewPassword::parse("password", "1234567890").is_ok());
        assert!(NewPassword::parse("password", &"é".repeat(128)).is_ok());
        assert!(NewPassword::parse("password", &"x".repeat(129)).is_err());
    }

    #[test]
    fn names_phones_bios_and_urls() {
        assert_eq!(
            PersonName::parse("firstName", "  Ann ")
                .expect("valid")
                .into_string(),
            "Ann"
        );
        assert!(PersonName::parse("firstName", "   ").is_err());
        assert!(PersonName::parse("firstName", &"n".repeat(101)).is_err());
        assert!(PersonName::parse("firstName", "Ann\u{0}").is_err());
        assert!(PhoneNumber::parse("phoneNumber", "+1 (555) 010-9999").is_ok());
        assert!(PhoneNumber::parse("phoneNumber", "555-CALL-NOW").is_err());
        assert!(PhoneNumber::parse("phoneNumber", "1+234567").is_err());
        assert_eq!(parse_bio("bio", "   ").expect("valid"), None);
        assert!(parse_bio("bio", &"b".repeat(2001)).is_err());
        assert_eq!(
            parse_avatar_url("avatarUrl", "https://cdn.example.com/a.png")
                .expect("valid")
                .as_deref(),
            Some("https://cdn.example.com/a.png")
        );
        assert!(parse_avatar_url("avatarUrl", "javascript:alert(1)").is_err());
        assert!(parse_avatar_url("avatarUrl", "/relative.png").is_err());
    }
}
