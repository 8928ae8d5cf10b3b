//! Stripe as the payment provider: a PaymentIntent confirmed with manual
//! capture holds the funds at authorization; capture takes them, cancel
//! releases them and a refund gives them back.
//!
//! Requests are form-encoded, pinned to one API version, and carry the
//! caller's idempotency key, so a retried job is answered with the first
//! attempt's result instead of moving money twice. Failures are sorted into
//! worth retrying (network, timeout, 429, 5xx) or not (other 4xx).
//!
//! The secret key only ever goes into the `Authorization` header: it is
//! redacted from `Debug` and scrubbed from error messages.

use std::{fmt, time::Duration};

use anyhow::Context as _;
use bytes::Bytes;
use reqwest::{StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::provider::{Authorization, AuthorizeRequest, ProviderError};
use domain::kernel::money::{Amount, Currency};

/// The API version the request and response shapes below were written for;
/// pinned so that a change of the account's default version cannot change
/// them under us.
const STRIPE_VERSION: &str = "2024-06-20";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Stripe's messages are a sentence; anything longer is not worth a log line.
const MAX_MESSAGE_CHARS: usize = 300;

/// Decline codes Stripe advises not to show the cardholder (they would help
/// someone testing stolen cards): reported as plain `card_declined`.
/// `generic_decline` says nothing more than `card_declined` either.
const CONCEALED_DECLINE_CODES: &[&str] = &[
    "generic_decline",
    "fraudulent",
    "lost_card",
    "stolen_card",
    "pickup_card",
    "restricted_card",
    "merchant_blacklist",
    "security_violation",
];

/// A Stripe client; cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Stripe {
    client: reqwest::Client,
    /// Without a trailing slash, e.g. `https://api.stripe.com`.
    api_base: String,
    secret_key: SecretString,
}

impl fmt::Debug for Stripe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.api_base)
            .field("secret_key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl Stripe {
    /// A client for the API at `api_base` (`https://api.stripe.com` in
    /// production, a local fake in tests). Fails on a base that is not an
    /// http(s) URL or an empty key, so a misconfiguration stops startup
    /// rather than the first payment.
    pub fn new(api_base: String, secret_key: SecretString) -> anyhow::Result<Self> {
        Self::with_timeouts(api_base, secret_key, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    fn with_timeouts(
        api_base: String,
        secret_key: SecretString,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let url = url::Url::parse(&api_base)
            .with_context(|| format!("invalid Stripe API base URL {api_base:?}"))?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https"),
            "the Stripe API base URL must be http or https, got {api_base:?}"
        );
        anyhow::ensure!(
            !secret_key.expose_secret().trim().is_empty(),
            "the Stripe secret key is empty"
        );
        domain::infra::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .user_agent(concat!("roost/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the Stripe HTTP client")?;
        Ok(Self {
            client,
            api_base: api_base.trim_end_matches('/').to_owned(),
            secret_key,
        })
    }

    /// Creates and confirms a PaymentIntent with manual capture: the funds
    /// are held, not taken. A refused card is a `Declined`, not an error.
    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<Authorization, ProviderError> {
        let amount = stripe_amount(request.amount)?;
        let form = [
            ("amount", amount.to_string()),
            (
                "currency",
                request.amount.currency().code().to_ascii_lowercase(),
            ),
            ("payment_method", request.payment_method.clone()),
            ("confirm", "true".to_owned()),
            ("capture_method", "manual".to_owned()),
            ("payment_method_types[]", "card".to_owned()),
            ("metadata[booking_id]", request.booking_id.to_string()),
            ("metadata[payment_id]", request.payment_id.to_string()),
        ];
        let reply = self
            .post("/v1/payment_intents", &form, &request.idempotency_key)
            .await?;
        if reply.status.is_success() {
            let intent: PaymentIntent = serde_json::from_slice(&reply.body).map_err(|e| {
                ProviderError::Permanent(format!("unreadable PaymentIntent from Stripe: {e}"))
            })?;
            return authorization_of(intent);
        }
        match reply.error() {
            Some(error) => match decline_reason(reply.status, &error) {
                Some(reason) => Ok(Authorization::Declined { reason }),
                None => Err(self.failure(reply.status, Some(&error))),
            },
            None => Err(self.failure(reply.status, None)),
        }
    }

    /// Captures `amount` of the PaymentIntent `reference`. One that is
    /// already captured counts as captured, so a retry after a lost response
    /// succeeds even under a new idempotency key.
    pub async fn capture(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let amount = stripe_amount(amount)?;
        let path = format!("/v1/payment_intents/{}/capture", intent_id(reference)?);
        let form = [("amount_to_capture", amount.to_string())];
        let reply = self.post(&path, &form, idempotency_key).await?;
        self.done_or_already(&reply, "succeeded")
    }

    /// Cancels the PaymentIntent `reference`, releasing the hold. One that
    /// is already canceled counts as canceled.
    pub async fn void(&self, reference: &str, idempotency_key: &str) -> Result<(), ProviderError> {
        let path = format!("/v1/payment_intents/{}/cancel", intent_id(reference)?);
        let reply = self.post(&path, &[], idempotency_key).await?;
        self.done_or_already(&reply, "canceled")
    }

    /// Refunds `amount` of the captured PaymentIntent `reference`.
    pub async fn refund(
        &self,
        reference: &str,
        amount: Amount,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let amount = stripe_amount(amount)?;
        let form = [
            ("payment_intent", intent_id(reference)?.to_owned()),
            ("amount", amount.to_string()),
        ];
        let reply = self.post("/v1/refunds", &form, idempotency_key).await?;
        if !reply.status.is_success() {
            return Err(self.failure(reply.status, reply.error().as_ref()));
        }
        // A refund is `pending` or `succeeded` when created; one that is
        // already `failed` or `canceled` gave nothing back.
        let status = serde_json::from_slice::<Refund>(&reply.body)
            .map(|refund| refund.status)
            .unwrap_or_default();
        match status.as_str() {
            "failed" | "canceled" => Err(ProviderError::Permanent(format!(
                "Stripe created the refund with status {status}"
            ))),
            _ => Ok(()),
        }
    }

    /// One form-encoded POST; any answer from Stripe is an `Ok`, only a
    /// request that got no answer is an error.
    async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<Reply, ProviderError> {
        let body = serde_urlencoded::to_string(form).map_err(|e| {
            ProviderError::Permanent(format!("could not encode the request to Stripe: {e}"))
        })?;
        let response = self
            .client
            .post(format!("{}{path}", self.api_base))
            .bearer_auth(self.secret_key.expose_secret())
            .header("Idempotency-Key", idempotency_key)
            .header("Stripe-Version", STRIPE_VERSION)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| self.request_error(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.request_error(&e))?;
        Ok(Reply { status, body })
    }

    fn done_or_already(&self, reply: &Reply, target_status: &str) -> Result<(), ProviderError> {
        if reply.status.is_success() {
            return Ok(());
        }
        let error = reply.error();
        if let Some(error) = &error
            && reply.status == StatusCode::BAD_REQUEST
            && error.code.as_deref() == Some("payment_intent_unexpected_state")
            && error
                .payment_intent
                .as_ref()
                .is_some_and(|intent| intent.status == target_status)
        {
            return Ok(());
        }
        Err(self.failure(reply.status, error.as_ref()))
    }

    /// A request that got no answer: worth retrying (the idempotency key
    /// makes that safe), unless it could not even be built.
    fn request_error(&self, error: &reqwest::Error) -> ProviderError {
        let mut message = format!("Stripe request failed: {error}");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        let message = self.scrub(message);
        if error.is_builder() {
            ProviderError::Permanent(message)
        } else {
            ProviderError::Transient(message)
        }
    }

    /// An answer that is neither a success nor a decline.
    fn failure(&self, status: StatusCode, error: Option<&ApiError>) -> ProviderError {
        let mut message = format!("Stripe answered HTTP {}", status.as_u16());
        if let Some(error) = error {
            let kinds: Vec<&str> = [&error.kind, &error.code]
                .into_iter()
                .filter_map(|s| s.as_deref())
                .collect();
            if !kinds.is_empty() {
                message.push_str(&format!(" ({})", kinds.join("/")));
            }
            // A 401's message quotes (part of) the key it refused.
            if let Some(text) = error.message.as_deref()
                && status != StatusCode::UNAUTHORIZED
            {
                message.push_str(": ");
                message.extend(text.chars().take(MAX_MESSAGE_CHARS));
            }
        }
        let message = self.scrub(message);
        let conflict_retryable = status == StatusCode::CONFLICT
            && error.and_then(|e| e.kind.as_deref()) != Some("idempotency_error");
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() || conflict_retryable
        {
            ProviderError::Transient(message)
        } else {
            ProviderError::Permanent(message)
        }
    }

    /// Belt and braces: whatever ends up in a message, the key does not.
    fn scrub(&self, message: String) -> String {
        let key = self.secret_key.expose_secret();
        if key.is_empty() {
            message
        } else {
            message.replace(key, "[REDACTED]")
        }
    }
}

/// What Stripe answered.
struct Reply {
    status: StatusCode,
    body: Bytes,
}

impl Reply {
    /// The `error` object of an error response, when the body has one.
    fn error(&self) -> Option<ApiError> {
        serde_json::from_slice::<ErrorBody>(&self.body)
            .ok()
            .map(|body| body.error)
    }
}

/// The fields of a PaymentIntent that matter here.
#[derive(Debug, Default, Deserialize)]
struct PaymentIntent {
    #[serde(default)]
    id: String,
    #[serde(default)]
    status: String,
    last_payment_error: Option<ApiError>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ApiError,
}

/// Stripe's error object.
#[derive(Debug, Default, Deserialize)]
struct ApiError {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
    param: Option<String>,
    payment_intent: Option<Box<PaymentIntent>>,
}

#[derive(Deserialize)]
struct Refund {
    #[serde(default)]
    status: String,
}

/// Reads a confirmed PaymentIntent.
fn authorization_of(intent: PaymentIntent) -> Result<Authorization, ProviderError> {
    let declined = |reason: String| Ok(Authorization::Declined { reason });
    match intent.status.as_str() {
        "requires_capture" | "succeeded" if !intent.id.is_empty() => {
            Ok(Authorization::Authorized {
                reference: intent.id,
            })
        }
        // 3-D Secure or similar: Roost has no way to bring the guest back to
        // complete it, so the payment fails and the guest may try another card.
        "requires_action" => declined("authentication_required".to_owned()),
        "requires_payment_method" => declined(
            intent
                .last_payment_error
                .as_ref()
                .and_then(|error| decline_reason(StatusCode::PAYMENT_REQUIRED, error))
                .unwrap_or_else(|| "card_declined".to_owned()),
        ),
        status => Err(ProviderError::Permanent(format!(
            "unexpected PaymentIntent {:?} with status {status:?} from Stripe",
            intent.id
        ))),
    }
}

/// The decline reason an authorization error stands for, if it is a decline
/// at all: a card error, or a payment method Stripe does not know.
fn decline_reason(status: StatusCode, error: &ApiError) -> Option<String> {
    let code = error.code.as_deref().filter(|code| !code.is_empty());
    if matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND)
        && (error.param.as_deref() == Some("payment_method")
            || code.is_some_and(|code| code.starts_with("payment_method_")))
    {
        return Some("invalid_payment_method".to_owned());
    }
    if status != StatusCode::PAYMENT_REQUIRED && error.kind.as_deref() != Some("card_error") {
        return None;
    }
    let reason = match error.decline_code.as_deref() {
        Some(decline) if !decline.is_empty() && !CONCEALED_DECLINE_CODES.contains(&decline) => {
            decline
        }
        _ => code.unwrap_or("card_declined"),
    };
    Some(reason.to_owned())
}

/// `reference` if it looks like a PaymentIntent id: it goes into a URL path,
/// and a reference from another provider should fail here, not at Stripe.
fn intent_id(reference: &str) -> Result<&str, ProviderError> {
    let valid = reference.strip_prefix("pi_").is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if valid {
        Ok(reference)
    } else {
        Err(ProviderError::Permanent(format!(
            "not a Stripe PaymentIntent id: {reference:?}"
        )))
    }
}

/// Stripe's `amount` for `amount`: its ISO 4217 minor units (12950 for
/// USD 129.50, 12000 for JPY 12000, 12345 for KWD 12.345), except for the
/// two currencies where Stripe's unit is not ISO's: the Icelandic króna has
/// no minor unit in ISO 4217 but Stripe still counts it in hundredths, and
/// the Malagasy ariary has two places in ISO 4217 but none at Stripe (an
/// amount in fractions of an ariary cannot be charged there). A
/// non-positive amount is refused before the round trip Stripe would refuse
/// it after.
pub fn stripe_amount(amount: Amount) -> Result<i64, ProviderError> {
    if !amount.is_positive() {
        return Err(ProviderError::Permanent(format!(
            "amount must be positive, got {amount}"
        )));
    }
    let minor = amount.minor();
    let converted = match amount.currency().code() {
        "ISK" => minor.checked_mul(100),
        "MGA" => (minor % 100 == 0).then_some(minor / 100),
        _ => Some(minor),
    };
    converted.ok_or_else(|| {
        ProviderError::Permanent(format!("Stripe cannot charge {amount} in its own unit"))
    })
}

/// Minor units of `currency` for an amount Stripe reports (the inverse of
/// [`stripe_amount`]).
pub fn from_stripe_amount(currency: Currency, stripe: i64) -> i64 {
    match currency.code() {
        "ISK" => stripe / 100,
        "MGA" => stripe.saturating_mul(100),
        _ => stripe,
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::BTreeMap,
        sync::{Arc, Mutex},
    };

    use axum::{
        Router,
        extract::State,
        http::{HeaderMap, Method, Uri},
        response::IntoResponse,
    };
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;

    const KEY: &str = "sk_test_51SuperSecretKeyValue";

    fn money(minor: i64, code: &str) -> Amount {
        Amount::from_minor(minor, Currency::parse(code).expect("currency"))
    }

    fn eur(minor: i64) -> Amount {
        money(minor, "EUR")
    }

    /// One request as the mock server saw it.
    #[derive(Debug, Clone)]
    struct Seen {
        method: Method,
        path: String,
        headers: HeaderMap,
        form: BTreeMap<String, String>,
    }

    #[derive(Clone)]
    struct MockState {
        status: StatusCode,
        body: String,
        delay: Duration,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    /// A server on 127.0.0.1 that answers every request with `status` and
    /// `body` after `delay`, recording what it was sent.
    struct Mock {
        url: String,
        seen: Arc<Mutex<Vec<Seen>>>,
    }

    impl Mock {
        async fn start(status: u16, body: Value) -> Self {
            Self::start_raw(status, body.to_string(), Duration::ZERO).await
        }

        async fn start_raw(status: u16, body: String, delay: Duration) -> Self {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let state = MockState {
                status: StatusCode::from_u16(status).unwrap(),
                body,
                delay,
                seen: seen.clone(),
            };
            let app = Router::new().fallback(answer).with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            Self { url, seen }
        }

        fn stripe(&self) -> Stripe {
            Stripe::new(format!("{}/", self.url), SecretString::from(KEY)).unwrap()
        }

        fn only_request(&self) -> Seen {
            let seen = self.seen.lock().unwrap();
            assert_eq!(seen.len(), 1, "{seen:?}");
            seen[0].clone()
        }
    }

    async fn answer(
        State(state): State<MockState>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl IntoResponse {
        let form: BTreeMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap();
        state.seen.lock().unwrap().push(Seen {
            method,
            path: uri.path().to_owned(),
            headers,
            form,
        });
        tokio::time::sleep(state.delay).await;
        (
            state.status,
            [(header::CONTENT_TYPE, "application/json")],
            state.body,
        )
    }

    fn request(payment_method: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            payment_id: Uuid::from_u128(0x11),
            booking_id: Uuid::from_u128(0x22),
            amount: eur(45_000),
            payment_method: payment_method.to_owned(),
            idempotency_key: "pay-key-1".to_owned(),
        }
    }

    fn intent(id: &str, status: &str) -> Value {
        json!({"id": id, "object": "payment_intent", "status": status, "amount": 45_000})
    }

    fn card_error(code: &str, decline_code: Option<&str>) -> Value {
        json!({"error": {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": "Your card was declined.",
            "payment_intent": intent("pi_declined", "requires_payment_method"),
        }})
    }

    fn declined(reason: &str) -> Authorization {
        Authorization::Declined {
            reason: reason.to_owned(),
        }
    }

    fn header<'a>(seen: &'a Seen, name: &str) -> &'a str {
        seen.headers.get(name).unwrap().to_str().unwrap()
    }

    fn assert_transient(error: &ProviderError) {
        assert!(matches!(error, ProviderError::Transient(_)), "{error:?}");
        assert!(!format!("{error} {error:?}").contains(KEY), "{error:?}");
    }

    fn assert_permanent(error: &ProviderError) {
        assert!(matches!(error, ProviderError::Permanent(_)), "{error:?}");
        assert!(!format!("{error} {error:?}").contains(KEY), "{error:?}");
    }

    #[tokio::test]
    async fn authorize_sends_a_manual_capture_payment_intent() {
        let mock = Mock::start(200, intent("pi_123", "requires_capture")).await;
        let outcome = mock.stripe().authorize(&request("pm_card_visa")).await;
        assert_eq!(
            outcome.unwrap(),
            Authorization::Authorized {
                reference: "pi_123".to_owned()
            }
        );

        let seen = mock.only_request();
        assert_eq!(seen.method, Method::POST);
        assert_eq!(seen.path, "/v1/payment_intents");
        let expected: BTreeMap<String, String> = [
            ("amount", "45000"),
            ("currency", "eur"),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
            ("capture_method", "manual"),
            ("payment_method_types[]", "card"),
            (
                "metadata[booking_id]",
                "00000000-0000-0000-0000-000000000022",
            ),
            (
                "metadata[payment_id]",
                "00000000-0000-0000-0000-000000000011",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(seen.form, expected);
        assert_eq!(header(&seen, "authorization"), format!("Bearer {KEY}"));
        assert_eq!(header(&seen, "idempotency-key"), "pay-key-1");
        assert_eq!(header(&seen, "stripe-version"), "2024-06-20");
        assert_eq!(
            header(&seen, "content-type"),
            "application/x-www-form-urlencoded"
        );
    }

    #[tokio::test]
    async fn an_already_captured_intent_counts_as_authorized() {
        let mock = Mock::start(200, intent("pi_9", "succeeded")).await;
        let outcome = mock.stripe().authorize(&request("pm_card_visa")).await;
        assert_eq!(
            outcome.unwrap(),
            Authorization::Authorized {
                reference: "pi_9".to_owned()
            }
        );
    }

    #[tokio::test]
    async fn requires_action_is_declined_as_authentication_required() {
        let mock = Mock::start(200, intent("pi_3ds", "requires_action")).await;
        let outcome = mock.stripe().authorize(&request("pm_card_visa")).await;
        assert_eq!(outcome.unwrap(), declined("authentication_required"));
    }

    #[tokio::test]
    async fn requires_payment_method_is_declined_with_the_last_error() {
        let mut body = intent("pi_rpm", "requires_payment_method");
        body["last_payment_error"] = json!({
            "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"
        });
        let mock = Mock::start(200, body).await;
        let outcome = mock.stripe().authorize(&request("pm_card_visa")).await;
        assert_eq!(outcome.unwrap(), declined("insufficient_funds"));

        let mock = Mock::start(200, intent("pi_rpm", "requires_payment_method")).await;
        let outcome = mock.stripe().authorize(&request("pm_card_visa")).await;
        assert_eq!(outcome.unwrap(), declined("card_declined"));
    }

    #[tokio::test]
    async fn a_402_with_insufficient_funds_is_declined_with_that_reason() {
        let body = card_error("card_declined", Some("insufficient_funds"));
        let mock = Mock::start(402, body).await;
        let outcome = mock.stripe().authorize(&request("pm_x")).await;
        assert_eq!(outcome.unwrap(), declined("insufficient_funds"));
    }

    #[tokio::test]
    async fn a_402_generic_decline_is_card_declined() {
        for decline_code in [Some("generic_decline"), None, Some("fraudulent")] {
            let mock = Mock::start(402, card_error("card_declined", decline_code)).await;
            let outcome = mock.stripe().authorize(&request("pm_x")).await;
            assert_eq!(
                outcome.unwrap(),
                declined("card_declined"),
                "{decline_code:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_402_with_another_code_keeps_it() {
        let mock = Mock::start(402, card_error("expired_card", Some("expired_card"))).await;
        let outcome = mock.stripe().authorize(&request("pm_x")).await;
        assert_eq!(outcome.unwrap(), declined("expired_card"));
    }

    #[tokio::test]
    async fn an_unknown_payment_method_is_declined_as_invalid() {
        let body = json!({"error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "payment_method",
            "message": "No such PaymentMethod: 'pm_nope'",
        }});
        let mock = Mock::start(400, body).await;
        let outcome = mock.stripe().authorize(&request("pm_nope")).await;
        assert_eq!(outcome.unwrap(), declined("invalid_payment_method"));
    }

    #[tokio::test]
    async fn another_bad_request_is_permanent_with_stripes_message() {
        let body = json!({"error": {
            "type": "invalid_request_error",
            "code": "parameter_invalid_integer",
            "param": "amount",
            "message": "Invalid integer: abc",
        }});
        let mock = Mock::start(400, body).await;
        let error = mock
            .stripe()
            .authorize(&request("pm_card_visa"))
            .await
            .unwrap_err();
        assert_permanent(&error);
        assert!(
            error.to_string().contains("Invalid integer: abc"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn server_errors_and_rate_limits_are_transient() {
        for status in [500, 502, 503, 429] {
            let body = json!({"error": {"type": "api_error", "message": "Something went wrong"}});
            let mock = Mock::start(status, body).await;
            let error = mock
                .stripe()
                .authorize(&request("pm_card_visa"))
                .await
                .unwrap_err();
            assert_transient(&error);
        }
    }

    #[tokio::test]
    async fn a_non_json_gateway_error_is_transient() {
        let mock = Mock::start_raw(502, "<html>Bad gateway</html>".into(), Duration::ZERO).await;
        let error = mock.stripe().void("pi_1", "k").await.unwrap_err();
        assert_transient(&error);
    }

    #[tokio::test]
    async fn a_lock_conflict_is_transient_but_an_idempotency_error_is_not() {
        let body = json!({"error": {"type": "invalid_request_error", "code": "lock_timeout"}});
        let mock = Mock::start(409, body).await;
        let error = mock
            .stripe()
            .capture("pi_1", eur(100), "k")
            .await
            .unwrap_err();
        assert_transient(&error);

        let body = json!({"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters"}});
        let mock = Mock::start(400, body.clone()).await;
        assert_permanent(
            &mock
                .stripe()
                .capture("pi_1", eur(100), "k")
                .await
                .unwrap_err(),
        );
        let mock = Mock::start(409, body).await;
        assert_permanent(
            &mock
                .stripe()
                .capture("pi_1", eur(100), "k")
                .await
                .unwrap_err(),
        );
    }

    #[tokio::test]
    async fn a_refused_key_is_permanent_and_never_quoted() {
        let body = json!({"error": {
            "type": "invalid_request_error",
            "message": format!("Invalid API Key provided: {KEY}"),
        }});
        let mock = Mock::start(401, body).await;
        let error = mock
            .stripe()
            .authorize(&request("pm_card_visa"))
            .await
            .unwrap_err();
        assert_permanent(&error);

        // Even where Stripe's message is passed on, the key is scrubbed.
        let body = json!({"error": {"type": "invalid_request_error", "message": format!("key {KEY} lacks permission")}});
        let mock = Mock::start(403, body).await;
        let error = mock.stripe().void("pi_1", "k").await.unwrap_err();
        assert_permanent(&error);
        assert!(error.to_string().contains("[REDACTED]"), "{error}");
    }

    #[tokio::test]
    async fn connection_refused_is_transient() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let stripe = Stripe::new(url, SecretString::from(KEY)).unwrap();
        let error = stripe
            .authorize(&request("pm_card_visa"))
            .await
            .unwrap_err();
        assert_transient(&error);
    }

    #[tokio::test]
    async fn a_timeout_is_transient() {
        let body = intent("pi_slow", "requires_capture").to_string();
        let mock = Mock::start_raw(200, body, Duration::from_secs(5)).await;
        let stripe = Stripe::with_timeouts(
            mock.url.clone(),
            SecretString::from(KEY),
            Duration::from_secs(1),
            Duration::from_millis(200),
        )
        .unwrap();
        let error = stripe
            .authorize(&request("pm_card_visa"))
            .await
            .unwrap_err();
        assert_transient(&error);
    }

    #[tokio::test]
    async fn capture_posts_the_amount_with_the_key() {
        let mock = Mock::start(200, intent("pi_123", "succeeded")).await;
        mock.stripe()
            .capture("pi_123", eur(30_000), "capture-key")
            .await
            .unwrap();
        let seen = mock.only_request();
        assert_eq!(seen.method, Method::POST);
        assert_eq!(seen.path, "/v1/payment_intents/pi_123/capture");
        assert_eq!(
            seen.form,
            BTreeMap::from([("amount_to_capture".to_owned(), "30000".to_owned())])
        );
        assert_eq!(header(&seen, "idempotency-key"), "capture-key");
        assert_eq!(header(&seen, "authorization"), format!("Bearer {KEY}"));
    }

    fn unexpected_state(status: &str) -> Value {
        json!({"error": {
            "type": "invalid_request_error",
            "code": "payment_intent_unexpected_state",
            "message": format!("This PaymentIntent could not be captured because it has a status of {status}."),
            "payment_intent": intent("pi_123", status),
        }})
    }

    #[tokio::test]
    async fn capturing_an_already_captured_intent_succeeds() {
        let mock = Mock::start(400, unexpected_state("succeeded")).await;
        mock.stripe()
            .capture("pi_123", eur(100), "k")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn capturing_a_canceled_intent_is_permanent() {
        let mock = Mock::start(400, unexpected_state("canceled")).await;
        let error = mock
            .stripe()
            .capture("pi_123", eur(100), "k")
            .await
            .unwrap_err();
        assert_permanent(&error);
    }

    #[tokio::test]
    async fn void_cancels_the_intent() {
        let mock = Mock::start(200, intent("pi_123", "canceled")).await;
        mock.stripe().void("pi_123", "void-key").await.unwrap();
        let seen = mock.only_request();
        assert_eq!(seen.method, Method::POST);
        assert_eq!(seen.path, "/v1/payment_intents/pi_123/cancel");
        assert!(seen.form.is_empty(), "{:?}", seen.form);
        assert_eq!(header(&seen, "idempotency-key"), "void-key");
    }

    #[tokio::test]
    async fn voiding_an_already_canceled_intent_succeeds_but_a_captured_one_does_not() {
        let mock = Mock::start(400, unexpected_state("canceled")).await;
        mock.stripe().void("pi_123", "k").await.unwrap();
        let mock = Mock::start(400, unexpected_state("succeeded")).await;
        assert_permanent(&mock.stripe().void("pi_123", "k").await.unwrap_err());
    }

    #[tokio::test]
    async fn refund_posts_the_intent_and_amount() {
        let body = json!({"id": "re_1", "object": "refund", "status": "succeeded"});
        let mock = Mock::start(200, body).await;
        mock.stripe()
            .refund("pi_123", eur(12_500), "refund-key")
            .await
            .unwrap();
        let seen = mock.only_request();
        assert_eq!(seen.method, Method::POST);
        assert_eq!(seen.path, "/v1/refunds");
        assert_eq!(
            seen.form,
            BTreeMap::from([
                ("amount".to_owned(), "12500".to_owned()),
                ("payment_intent".to_owned(), "pi_123".to_owned()),
            ])
        );
        assert_eq!(header(&seen, "idempotency-key"), "refund-key");
    }

    #[tokio::test]
    async fn a_failed_refund_is_permanent() {
        let body = json!({"id": "re_1", "object": "refund", "status": "failed"});
        let mock = Mock::start(200, body).await;
        let error = mock
            .stripe()
            .refund("pi_123", eur(1), "k")
            .await
            .unwrap_err();
        assert_permanent(&error);
    }

    #[test]
    fn amounts_go_to_stripe_in_its_unit_for_the_currency() {
        let sent = |minor, code| stripe_amount(money(minor, code)).expect("an amount");
        assert_eq!(sent(12_950, "USD"), 12_950);
        assert_eq!(sent(12_000, "JPY"), 12_000);
        assert_eq!(sent(12_345, "KWD"), 12_345);
        assert_eq!(sent(500, "ISK"), 50_000);
        assert_eq!(sent(12_300, "MGA"), 123);
        assert_permanent(&stripe_amount(money(12_345, "MGA")).unwrap_err());
        assert_permanent(&stripe_amount(money(0, "JPY")).unwrap_err());
        for code in ["USD", "JPY", "KWD", "ISK", "MGA"] {
            let currency = Currency::parse(code).expect("currency");
            let amount = money(12_300, code);
            assert_eq!(
                from_stripe_amount(currency, sent(amount.minor(), code)),
                12_300,
                "{code}"
            );
        }
    }

    #[tokio::test]
    async fn bad_references_and_amounts_are_refused_without_a_request() {
        let mock = Mock::start(200, intent("pi_1", "succeeded")).await;
        let stripe = mock.stripe();
        for reference in ["", "pi_", "sim_pi_abc", "pi_1/../../v1/refunds", "pi_1?x=1"] {
            assert_permanent(&stripe.capture(reference, eur(100), "k").await.unwrap_err());
            assert_permanent(&stripe.void(reference, "k").await.unwrap_err());
            assert_permanent(&stripe.refund(reference, eur(100), "k").await.unwrap_err());
        }
        assert_permanent(&stripe.capture("pi_1", eur(0), "k").await.unwrap_err());
        assert_permanent(&stripe.refund("pi_1", eur(-1), "k").await.unwrap_err());
        let mut zero = request("pm_card_visa");
        zero.amount = eur(0);
        assert_permanent(&stripe.authorize(&zero).await.unwrap_err());
        assert!(mock.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn new_refuses_bad_configuration_without_quoting_the_key() {
        for base in ["", "not a url", "ftp://example.com"] {
            let error = Stripe::new(base.to_owned(), SecretString::from(KEY)).unwrap_err();
            assert!(!format!("{error:#} {error:?}").contains(KEY), "{error:#}");
        }
        assert!(Stripe::new("https://api.stripe.com".into(), SecretString::from(" ")).is_err());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let stripe = Stripe::new("https://api.stripe.com".into(), SecretString::from(KEY)).unwrap();
        let debug = format!("{stripe:?}");
        assert!(!debug.contains(KEY), "{debug}");
        assert!(debug.contains("api.stripe.com"), "{debug}");
    }
}
