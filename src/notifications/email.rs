//! Notification emails: every notification row is emailed to its user once.
//!
//! Without `ROOST_SMTP_URL` an email is written to the log, so a laptop needs
//! no mail server and a developer still sees what would have been sent; with
//! it, lettre hands the email to that server over a small connection pool.
//!
//! [`deliver`] is the unit of work the job queue runs for one notification. It
//! is idempotent: `emailed_at` records that the email went out, and is set
//! with a conditional update, so a retried or duplicated job does not send a
//! second email once the first one has been recorded.

use std::fmt;

use anyhow::{Context, anyhow, bail};
use chrono::Utc;
use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::response::Severity,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// The line under every email, so a recipient knows who wrote to them.
const FOOTER: &str = "— Roost";

/// SMTP replies that mean the server refused *our* credentials (RFC 4954),
/// not the recipient: 530 authentication required, 534 mechanism too weak,
/// 535 credentials invalid, 538 encryption required. Treated as transient,
/// so a wrong password holds emails back until it is fixed instead of
/// marking every one of them undeliverable.
const AUTH_FAILURE_CODES: [u16; 4] = [530, 534, 535, 538];

/// Where emails go: built once at start-up from the configuration and cloned
/// into whatever sends (cloning shares the SMTP connection pool).
#[derive(Clone)]
pub enum Mailer {
    /// No mail server configured: each email is one `info` line in the log.
    Log { from: String },
    /// An SMTP server, reached through lettre with pooled connections.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

/// Why an email was not handed to the mail server; the variant tells the
/// caller whether trying again later can help.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The server could not be reached, timed out, answered 4xx, or refused
    /// our credentials: the same email may go through later.
    #[error("email not sent, worth retrying: {0}")]
    Transient(String),
    /// The recipient's address is invalid or the server answered 5xx: the
    /// same email will never go through.
    #[error("email cannot be delivered: {0}")]
    Permanent(String),
}

/// What [`deliver`] did with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The email was handed to the mail server (or the log) and recorded.
    Sent,
    /// An earlier attempt already sent and recorded it: nothing was sent.
    AlreadySent,
    /// The notification (or its user) no longer exists: nothing to send.
    Gone,
    /// The mail server refused it for good (e.g. an invalid address). It is
    /// recorded as emailed so that it is not retried forever.
    Undeliverable,
}

impl Mailer {
    /// Builds the mailer from `ROOST_SMTP_URL` and `ROOST_EMAIL_FROM`.
    ///
    /// No URL (or an empty one) means [`Mailer::Log`]. Otherwise the URL is
    /// lettre's connection URL, `scheme://user:pass@host:port/ehlo-name?tls=…`:
    ///
    /// * `smtps://user:pass@host:465`: implicit TLS (recommended);
    /// * `smtp://user:pass@host:587?tls=required`: STARTTLS, or fail;
    /// * `smtp://host:2525`: unencrypted, for a relay on the same host or a
    ///   local test server. Credentials are refused on such a URL, because
    ///   they would cross the network in clear text.
    ///
    /// Errors name the setting at fault and never repeat the URL, which may
    /// hold a password. Must run inside the Tokio runtime: the connection
    /// pool starts a task that closes idle connections.
    pub fn from_config(smtp_url: Option<&SecretString>, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from.trim().parse().map_err(|e| {
            anyhow!("ROOST_EMAIL_FROM must be an address like `Roost <noreply@example.com>`: {e}")
        })?;
        let Some(url) = smtp_url
            .map(|u| u.expose_secret().trim())
            .filter(|u| !u.is_empty())
        else {
            return Ok(Self::Log {
                from: from.to_string(),
            });
        };
        // Parsed here as well as by lettre to check the one thing lettre
        // allows but we do not: a password sent without encryption. Neither
        // parser repeats the password in its errors (lettre's name only the
        // scheme and the `tls` value).
        let parsed =
            url::Url::parse(url).map_err(|e| anyhow!("ROOST_SMTP_URL is not a valid URL: {e}"))?;
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        if parsed.scheme() == "smtp" && tls.is_none() && parsed.password().is_some() {
            bail!(
                "ROOST_SMTP_URL would send its password unencrypted: use \
                 smtps://…:465 (TLS) or smtp://…:587?tls=required (STARTTLS)"
            );
        }
        if tokio::runtime::Handle::try_current().is_err() {
            bail!("the SMTP mailer must be built inside the Tokio runtime");
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| {
                anyhow!(
                    "ROOST_SMTP_URL must be smtps://user:pass@host:465, \
                     smtp://user:pass@host:587?tls=required or smtp://host:port: {e}"
                )
            })?
            .build();
        Ok(Self::Smtp { transport, from })
    }

    /// Sends one text/plain UTF-8 email to `to`, with the footer appended.
    ///
    /// The log variant checks the recipient's address like the SMTP one, so
    /// that development fails where production would.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), EmailError> {
        let to: Address = to
            .trim()
            .parse()
            .map_err(|e| EmailError::Permanent(format!("invalid recipient address: {e}")))?;
        match self {
            Self::Log { from } => {
                tracing::info!(
                    from = %from,
                    to = %to,
                    subject,
                    body,
                    "email written to the log (ROOST_SMTP_URL is not set)"
                );
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let message = compose(from, Mailbox::new(None, to), subject, body)?;
                transport.send(message).await.map(drop).map_err(classify)
            }
        }
    }
}

impl fmt::Debug for Mailer {
    /// Shows where emails go, but not the transport, whose settings include
    /// the SMTP credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Log { from } => f.debug_struct("Log").field("from", from).finish(),
            Self::Smtp { from, .. } => f
                .debug_struct("Smtp")
                .field("from", &from.to_string())
                .finish_non_exhaustive(),
        }
    }
}

/// The message as it goes on the wire. lettre encodes the headers (so a
/// title cannot inject one) and picks the body's transfer encoding; `Date`
/// is added by lettre, `Message-ID` here, under the sender's domain.
fn compose(from: &Mailbox, to: Mailbox, subject: &str, body: &str) -> Result<Message, EmailError> {
    let message_id = format!("<{}@{}>", Uuid::now_v7().simple(), from.email.domain());
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(message_id))
        .header(ContentType::TEXT_PLAIN)
        .body(format!("{}\n\n{FOOTER}\n", body.trim_end()))
        .map_err(|e| EmailError::Permanent(format!("could not build the email: {e}")))
}

/// Sorts lettre's errors by whether a retry can help: only a 5xx reply about
/// the message itself is permanent; anything about the connection, TLS, a
/// timeout, a 4xx reply or our credentials is transient.
fn classify(e: lettre::transport::smtp::Error) -> EmailError {
    match e.status() {
        Some(code)
            if code.severity == Severity::PermanentNegativeCompletion
                && !AUTH_FAILURE_CODES.contains(&u16::from(code)) =>
        {
            EmailError::Permanent(e.to_string())
        }
        _ => EmailError::Transient(e.to_string()),
    }
}

/// Emails notification `notification_id` to its user, unless that was done
/// already, and records it in `emailed_at`. Safe to run any number of times.
///
/// Delivery is at least once: the email is sent before `emailed_at` is set,
/// so a crash (or a failed update) between the two makes a retry send it a
/// second time. The other order could lose an email instead; a rare duplicate
/// is the accepted trade-off.
///
/// A transient failure is an `Err`, for the job queue to retry. A permanent
/// one is logged, recorded as emailed, and reported as
/// [`Delivery::Undeliverable`], so it is not retried forever.
pub async fn deliver(
    db: &DatabaseConnection,
    mailer: &Mailer,
    notification_id: Uuid,
) -> anyhow::Result<Delivery> {
    use entity::{notification, user};

    let Some(notification) = notification::Entity::find_by_id(notification_id)
        .one(db)
        .await
        .context("loading the notification to email")?
    else {
        return Ok(Delivery::Gone);
    };
    if notification.emailed_at.is_some() {
        return Ok(Delivery::AlreadySent);
    }
    // Only the address: the row also holds the password hash.
    let Some(email) = user::Entity::find_by_id(notification.user_id)
        .select_only()
        .column(user::Column::Email)
        .into_tuple::<String>()
        .one(db)
        .await
        .context("loading the address to email the notification to")?
    else {
        return Ok(Delivery::Gone);
    };
    match mailer
        .send(&email, &notification.title, &notification.body)
        .await
    {
        Ok(()) => {
            mark_emailed(db, notification_id).await?;
            Ok(Delivery::Sent)
        }
        Err(EmailError::Permanent(reason)) => {
            tracing::warn!(
                notification_id = %notification_id,
                user_id = %notification.user_id,
                reason,
                "notification email is undeliverable; it will not be retried"
            );
            mark_emailed(db, notification_id).await?;
            Ok(Delivery::Undeliverable)
        }
        Err(e @ EmailError::Transient(_)) => {
            Err(anyhow::Error::new(e).context(format!("emailing notification {notification_id}")))
        }
    }
}

/// Sets `emailed_at` only if it is still unset, so the first recorded
/// attempt's time stands when two attempts overlap.
async fn mark_emailed(db: &DatabaseConnection, notification_id: Uuid) -> anyhow::Result<()> {
    use entity::notification;

    let updated = notification::Entity::update_many()
        .col_expr(notification::Column::EmailedAt, Expr::value(Utc::now()))
        .filter(notification::Column::Id.eq(notification_id))
        .filter(notification::Column::EmailedAt.is_null())
        .exec(db)
        .await
        .with_context(|| format!("recording that notification {notification_id} was emailed"))?
        .rows_affected;
    if updated == 0 {
        tracing::debug!(
            notification_id = %notification_id,
            "notification was recorded as emailed by a concurrent attempt"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, DbBackend, Schema, Set};

    use super::*;

    const FROM: &str = "Roost <noreply@roost.example>";

    #[tokio::test]
    async fn no_url_means_the_log() {
        for url in [None, Some(SecretString::from("")), Some("  ".into())] {
            let mailer = Mailer::from_config(url.as_ref(), FROM).expect("valid");
            assert!(
                matches!(&mailer, Mailer::Log { from } if from.contains("noreply@roost.example")),
                "{mailer:?}"
            );
        }
    }

    #[tokio::test]
    async fn lettre_urls_build_an_smtp_mailer() {
        for url in [
            "smtps://user:pass@smtp.example.com:465",
            "smtps://smtp.example.com",
            "smtp://user:p%40ss@smtp.example.com:587?tls=required",
            "smtp://smtp.example.com?tls=opportunistic",
            "smtp://127.0.0.1:2525",
        ] {
            let mailer = Mailer::from_config(Some(&url.into()), FROM)
                .unwrap_or_else(|e| panic!("{url}: {e:#}"));
            assert!(matches!(mailer, Mailer::Smtp { .. }), "{url}: {mailer:?}");
        }
    }

    #[tokio::test]
    async fn bad_urls_name_the_setting_but_not_the_password() {
        for url in [
            "not a url hunter2",
            "http://user:hunter2@smtp.example.com",
            "smtp://user:hunter2@smtp.example.com:587",
            "smtp://user:hunter2@smtp.example.com:587?tls=none",
            "smtp://user:hunter2@smtp.example.com:99999",
            "smtps://user:hunter2@:465",
        ] {
            let err = Mailer::from_config(Some(&url.into()), FROM)
                .expect_err(url)
                .to_string();
            assert!(err.contains("ROOST_SMTP_URL"), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn a_bad_from_address_names_the_setting() {
        for from in ["", "roost", "Roost <noreply>"] {
            let err = Mailer::from_config(None, from).expect_err(from).to_string();
            assert!(err.contains("ROOST_EMAIL_FROM"), "{from:?}: {err}");
        }
    }

    #[test]
    fn outside_the_runtime_smtp_is_an_error_not_a_panic() {
        let err = Mailer::from_config(Some(&"smtp://127.0.0.1:2525".into()), FROM)
            .expect_err("no runtime");
        assert!(err.to_string().contains("Tokio runtime"), "{err}");
    }

    #[test]
    fn the_message_is_plain_utf8_with_ids_and_a_footer() {
        let from: Mailbox = FROM.parse().expect("from");
        let to = Mailbox::new(None, "guest@example.com".parse().expect("to"));
        let message = compose(
            &from,
            to,
            "Booking confirmed\r\nBcc: thief@example.com",
            "Your stay is confirmed.",
        )
        .expect("compose");
        let text = String::from_utf8(message.formatted()).expect("ascii");
        let (headers, body) = text.split_once("\r\n\r\n").expect("headers and body");
        assert!(
            headers.contains("From: Roost <noreply@roost.example>"),
            "{headers}"
        );
        assert!(headers.contains("To: guest@example.com"), "{headers}");
        assert!(headers.contains("Subject: "), "{headers}");
        assert!(!headers.contains("\r\nBcc:"), "{headers}");
        assert!(headers.contains("@roost.example>"), "{headers}");
        assert!(headers.contains("Message-ID: <"), "{headers}");
        assert!(
            headers.contains("Content-Type: text/plain; charset=utf-8"),
            "{headers}"
        );
        assert!(body.starts_with("Your stay is confirmed."), "{body}");
        // The em dash is quoted-printable on the wire.
        assert!(body.contains("=E2=80=94 Roost"), "{body}");
    }

    #[tokio::test]
    async fn the_log_mailer_succeeds_but_checks_the_address() {
        let mailer = Mailer::from_config(None, FROM).expect("valid");
        mailer
            .send("guest@example.com", "Hello", "Body")
            .await
            .expect("logged");
        let err = mailer
            .send("not an address", "Hello", "Body")
            .await
            .expect_err("invalid");
        assert!(matches!(err, EmailError::Permanent(_)), "{err:?}");
    }

    async fn database() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        let schema = Schema::new(DbBackend::Sqlite);
        db.execute(&schema.create_table_from_entity(entity::user::Entity))
            .await
            .expect("users");
        db.execute(&schema.create_table_from_entity(entity::notification::Entity))
            .await
            .expect("notifications");
        db
    }

    async fn notification_for(db: &DatabaseConnection, email: &str) -> Uuid {
        let now = Utc::now();
        let user_id = Uuid::now_v7();
        entity::user::ActiveModel {
            id: Set(user_id),
            email: Set(email.to_owned()),
            password_hash: Set("$argon2id$not-a-real-hash".to_owned()),
            first_name: Set("Ada".to_owned()),
            last_name: Set("Guest".to_owned()),
            phone_number: Set(None),
            role: Set(entity::user::Role::Guest),
            bio: Set(None),
            avatar_url: Set(None),
            host_rating_sum: Set(0),
            host_rating_count: Set(0),
            listings_count: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .expect("user");
        let id = Uuid::now_v7();
        entity::notification::ActiveModel {
            id: Set(id),
            user_id: Set(user_id),
            kind: Set("BOOKING_CONFIRMED".to_owned()),
            title: Set("Booking confirmed".to_owned()),
            body: Set("Your stay is confirmed.".to_owned()),
            booking_id: Set(None),
            read_at: Set(None),
            emailed_at: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await
        .expect("notification");
        id
    }

    async fn emailed_at(db: &DatabaseConnection, id: Uuid) -> Option<chrono::DateTime<Utc>> {
        entity::notification::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("select")
            .expect("row")
            .emailed_at
    }

    #[tokio::test]
    async fn deliver_sends_once_and_records_it() {
        let db = database().await;
        let mailer = Mailer::from_config(None, FROM).expect("valid");
        let id = notification_for(&db, "guest@example.com").await;

        assert_eq!(
            deliver(&db, &mailer, id).await.expect("deliver"),
            Delivery::Sent
        );
        let first = emailed_at(&db, id).await.expect("recorded");
        assert_eq!(
            deliver(&db, &mailer, id).await.expect("deliver"),
            Delivery::AlreadySent
        );
        assert_eq!(emailed_at(&db, id).await, Some(first));
        assert_eq!(
            deliver(&db, &mailer, Uuid::now_v7())
                .await
                .expect("deliver"),
            Delivery::Gone
        );
    }

    #[tokio::test]
    async fn an_invalid_address_is_recorded_as_undeliverable() {
        let db = database().await;
        let mailer = Mailer::from_config(None, FROM).expect("valid");
        let id = notification_for(&db, "not an address").await;

        assert_eq!(
            deliver(&db, &mailer, id).await.expect("deliver"),
            Delivery::Undeliverable
        );
        assert!(emailed_at(&db, id).await.is_some());
        assert_eq!(
            deliver(&db, &mailer, id).await.expect("deliver"),
            Delivery::AlreadySent
        );
    }
}
