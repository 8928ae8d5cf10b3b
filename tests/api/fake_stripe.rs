//! A fake Stripe API on 127.0.0.1, for tests that run Roost with the STRIPE
//! provider without a network or an account.
//!
//! It speaks the subset Roost uses (PaymentIntents confirmed with manual
//! capture, capture, cancel, refunds) and answers per payment method like the
//! SIMULATED provider: `pm_card_visa` and `pm_card_mastercard` are held,
//! `pm_card_chargeDeclined` and `pm_card_chargeDeclinedInsufficientFunds`
//! are declined with a 402 card error, anything else is an unknown payment
//! method (400). Like Stripe it replays the first answer to a repeated
//! `Idempotency-Key`, and refuses a key reused with other parameters.
//!
//! Every request is recorded as sent, so tests can assert exactly what Roost
//! asked for, and the next N requests can be made to fail with a 500 to test
//! retries.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// One request the fake received, as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The decoded form body (empty when there was none).
    pub form: BTreeMap<String, String>,
    pub idempotency_key: Option<String>,
    /// The whole `Authorization` header, e.g. `Bearer sk_test_...`.
    pub authorization: Option<String>,
}

/// A PaymentIntent as the fake holds it: what tests check after a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIntent {
    pub id: String,
    /// Stripe's status: `requires_capture`, `succeeded`, `canceled`, ...
    pub status: String,
    pub amount: i64,
    /// What capture took.
    pub amount_received: i64,
    /// What refunds gave back, in total.
    pub amount_refunded: i64,
    pub currency: String,
    pub payment_method: String,
    pub metadata: BTreeMap<String, String>,
}

/// A running fake; the server stops when this is dropped.
pub struct FakeStripe {
    /// The base URL to configure as the Stripe API base.
    pub url: String,
    state: Arc<Mutex<Inner>>,
    server: tokio::task::JoinHandle<()>,
}

/// Starts a fake on a free port.
pub async fn start() -> FakeStripe {
    let state = Arc::new(Mutex::new(Inner::default()));
    let app = Router::new().fallback(handle).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake Stripe");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("serve the fake Stripe");
    });
    FakeStripe { url, state, server }
}

impl FakeStripe {
    /// Every request received so far, oldest first, including those that
    /// were failed on purpose or refused.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// Makes the next `n` requests fail with a 500 before they are handled,
    /// as if a load balancer had failed: nothing happens, and the failure is
    /// not remembered against the idempotency key, so a retry goes through.
    pub fn fail_next(&self, n: usize) {
        lock(&self.state).failures_left = n;
    }

    /// The PaymentIntent `id`, if the fake created it.
    pub fn payment_intent(&self, id: &str) -> Option<FakeIntent> {
        lock(&self.state).intents.get(id).cloned()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    intents: BTreeMap<String, FakeIntent>,
    /// Idempotency-Key → the request it was first used with and the answer.
    replies: HashMap<String, (Recorded, StatusCode, Value)>,
    failures_left: usize,
    next_id: u64,
}

fn lock(state: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panicking test thread must not hide the requests from the others.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(
    State(state): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let form = serde_urlencoded::from_bytes::<BTreeMap<String, String>>(&body);
    let request = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        form: form.as_ref().cloned().unwrap_or_default(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
    };

    let mut inner = lock(&state);
    inner.requests.push(request.clone());
    if inner.failures_left > 0 {
        inner.failures_left -= 1;
        let body = error(
            "api_error",
            None,
            None,
            "An unknown error occurred (injected).",
        );
        return answer(StatusCode::INTERNAL_SERVER_ERROR, body, false);
    }
    let has_key = request
        .authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|key| !key.trim().is_empty());
    if !has_key {
        let message = "You did not provide an API key.";
        let body = error("invalid_request_error", None, None, message);
        return answer(StatusCode::UNAUTHORIZED, body, false);
    }
    let form_encoded = header("content-type")
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if form.is_err() || (!body.is_empty() && !form_encoded) {
        let message = "Request bodies must be application/x-www-form-urlencoded.";
        let body = error("invalid_request_error", None, None, message);
        return answer(StatusCode::BAD_REQUEST, body, false);
    }

    let key = request
        .idempotency_key
        .clone()
        .filter(|_| method == Method::POST);
    if let Some(key) = &key
        && let Some((first, status, body)) = inner.replies.get(key)
    {
        if (&first.method, &first.path, &first.form)
            == (&request.method, &request.path, &request.form)
        {
            return answer(*status, body.clone(), true);
        }
        let message = "Keys for idempotent requests can only be used with the same parameters \
                       they were first used with.";
        let body = error("idempotency_error", None, None, message);
        return answer(StatusCode::BAD_REQUEST, body, false);
    }
    let (status, body) = inner.route(&request);
    if let Some(key) = key {
        inner.replies.insert(key, (request, status, body.clone()));
    }
    answer(status, body, false)
}

fn answer(status: StatusCode, body: Value, replayed: bool) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if replayed {
        response.headers_mut().insert(
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderValue::from_static("true"),
        );
    }
    response
}

/// Stripe's error body.
fn error(kind: &str, code: Option<&str>, param: Option<&str>, message: &str) -> Value {
    json!({"error": {"type": kind, "code": code, "param": param, "message": message}})
}

fn not_found(what: &str, id: &str, param: &str) -> (StatusCode, Value) {
    let message = format!("No such {what}: '{id}'");
    let body = error(
        "invalid_request_error",
        Some("resource_missing"),
        Some(param),
        &message,
    );
    (StatusCode::NOT_FOUND, body)
}

fn invalid(param: &str, code: &str, message: &str) -> (StatusCode, Value) {
    let body = error("invalid_request_error", Some(code), Some(param), message);
    (StatusCode::BAD_REQUEST, body)
}

/// A positive integer form field, or `default` when it is absent.
fn amount(
    form: &BTreeMap<String, String>,
    param: &str,
    default: i64,
) -> Result<i64, (StatusCode, Value)> {
    match form.get(param).map(|value| value.parse::<i64>()) {
        None => Ok(default),
        Some(Ok(amount)) if amount > 0 => Ok(amount),
        Some(_) => Err(invalid(
            param,
            "parameter_invalid_integer",
            "This value must be a positive integer.",
        )),
    }
}

impl FakeIntent {
    fn to_json(&self, last_payment_error: Option<Value>) -> Value {
        let capturable = if self.status == "requires_capture" {
            self.amount
        } else {
            0
        };
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": capturable,
            "amount_received": self.amount_received,
            "capture_method": "manual",
            "currency": self.currency,
            "last_payment_error": last_payment_error,
            "metadata": self.metadata,
            "payment_method": self.payment_method,
            "status": self.status,
        })
    }
}

impl Inner {
    fn route(&mut self, request: &Recorded) -> (StatusCode, Value) {
        let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
        let form = &request.form;
        match (request.method.as_str(), segments.as_slice()) {
            ("POST", ["v1", "payment_intents"]) => self.create_intent(form),
            ("POST", ["v1", "payment_intents", id, "capture"]) => self.capture(id, form),
            ("POST", ["v1", "payment_intents", id, "cancel"]) => self.cancel(id),
            ("POST", ["v1", "refunds"]) => self.refund(form),
            _ => {
                let message = format!(
                    "Unrecognized request URL ({} {}).",
                    request.method, request.path
                );
                let body = error("invalid_request_error", None, None, &message);
                (StatusCode::NOT_FOUND, body)
            }
        }
    }

    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_fake{:08}", self.next_id)
    }

    fn create_intent(&mut self, form: &BTreeMap<String, String>) -> (StatusCode, Value) {
        let amount = match amount(form, "amount", 0) {
            Ok(amount) if amount > 0 => amount,
            Ok(_) => {
                return invalid(
                    "amount",
                    "parameter_missing",
                    "Missing required param: amount.",
                );
            }
            Err(refused) => return refused,
        };
        let currency = match form.get("currency") {
            Some(currency) if !currency.is_empty() => currency.to_lowercase(),
            _ => {
                return invalid(
                    "currency",
                    "parameter_missing",
                    "Missing required param: currency.",
                );
            }
        };
        // Only what Roost does is supported: confirm at creation, capture later.
        if form.get("confirm").map(String::as_str) != Some("true") {
            return invalid(
                "confirm",
                "parameter_invalid",
                "The fake only supports confirm=true.",
            );
        }
        if form.get("capture_method").map(String::as_str) != Some("manual") {
            let message = "The fake only supports capture_method=manual.";
            return invalid("capture_method", "parameter_invalid", message);
        }
        let Some(payment_method) = form.get("payment_method").cloned() else {
            let message = "Missing required param: payment_method.";
            return invalid("payment_method", "parameter_missing", message);
        };
        let decline_code = match payment_method.as_str() {
            "pm_card_visa" | "pm_card_mastercard" => None,
            "pm_card_chargeDeclined" => Some("generic_decline"),
            "pm_card_chargeDeclinedInsufficientFunds" => Some("insufficient_funds"),
            // Stripe answers 400 (not 404) for a missing object named in a parameter.
            _ => {
                let message = format!("No such PaymentMethod: '{payment_method}'");
                return invalid("payment_method", "resource_missing", &message);
            }
        };
        let metadata = form
            .iter()
            .filter_map(|(key, value)| {
                let name = key.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((name.to_owned(), value.clone()))
            })
            .collect();
        let intent = FakeIntent {
            id: self.new_id("pi"),
            status: if decline_code.is_some() {
                "requires_payment_method"
            } else {
                "requires_capture"
            }
            .to_owned(),
            amount,
            amount_received: 0,
            amount_refunded: 0,
            currency,
            payment_method,
            metadata,
        };
        self.intents.insert(intent.id.clone(), intent.clone());
        match decline_code {
            None => (StatusCode::OK, intent.to_json(None)),
            Some(decline_code) => {
                let card_error = json!({
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "message": "Your card was declined.",
                    "param": null,
                });
                let mut body = json!({"error": card_error.clone()});
                body["error"]["payment_intent"] = intent.to_json(Some(card_error));
                (StatusCode::PAYMENT_REQUIRED, body)
            }
        }
    }

    fn capture(&mut self, id: &str, form: &BTreeMap<String, String>) -> (StatusCode, Value) {
        let Some(intent) = self.intents.get_mut(id) else {
            return not_found("payment_intent", id, "intent");
        };
        if intent.status != "requires_capture" {
            let message = format!(
                "This PaymentIntent could not be captured because it has a status of {}.",
                intent.status
            );
            return unexpected_state(intent, &message);
        }
        let captured = match amount(form, "amount_to_capture", intent.amount) {
            Ok(captured) if captured <= intent.amount => captured,
            Ok(_) => {
                let message = "amount_to_capture must be at most the amount authorized.";
                return invalid("amount_to_capture", "amount_too_large", message);
            }
            Err(refused) => return refused,
        };
        intent.status = "succeeded".to_owned();
        intent.amount_received = captured;
        (StatusCode::OK, intent.to_json(None))
    }

    fn cancel(&mut self, id: &str) -> (StatusCode, Value) {
        let Some(intent) = self.intents.get_mut(id) else {
            return not_found("payment_intent", id, "intent");
        };
        if !matches!(
            intent.status.as_str(),
            "requires_capture" | "requires_payment_method" | "requires_action"
        ) {
            let message = format!(
                "You cannot cancel this PaymentIntent because it has a status of {}.",
                intent.status
            );
            return unexpected_state(intent, &message);
        }
        intent.status = "canceled".to_owned();
        (StatusCode::OK, intent.to_json(None))
    }

    fn refund(&mut self, form: &BTreeMap<String, String>) -> (StatusCode, Value) {
        let Some(id) = form.get("payment_intent") else {
            let message = "Missing required param: payment_intent.";
            return invalid("payment_intent", "parameter_missing", message);
        };
        let refund_id = self.new_id("re");
        let Some(intent) = self.intents.get_mut(id) else {
            return not_found("payment_intent", id, "payment_intent");
        };
        if intent.status != "succeeded" {
            let message = "This PaymentIntent does not have a successful charge to refund.";
            return unexpected_state(intent, message);
        }
        let left = intent.amount_received - intent.amount_refunded;
        if left == 0 {
            let message = "This charge has already been refunded.";
            return invalid("payment_intent", "charge_already_refunded", message);
        }
        let refunded = match amount(form, "amount", left) {
            Ok(refunded) if refunded <= left => refunded,
            Ok(_) => {
                let message = format!(
                    "Refund amount ({refunded}) is greater than unrefunded amount on charge ({left}).",
                    refunded = form.get("amount").map_or("", String::as_str),
                );
                return invalid("amount", "amount_too_large", &message);
            }
            Err(refused) => return refused,
        };
        intent.amount_refunded += refunded;
        let body = json!({
            "id": refund_id,
            "object": "refund",
            "amount": refunded,
            "currency": intent.currency,
            "payment_intent": intent.id,
            "status": "succeeded",
        });
        (StatusCode::OK, body)
    }
}

fn unexpected_state(intent: &FakeIntent, message: &str) -> (StatusCode, Value) {
    let mut body = error(
        "invalid_request_error",
        Some("payment_intent_unexpected_state"),
        None,
        message,
    );
    body["error"]["payment_intent"] = intent.to_json(None);
    (StatusCode::BAD_REQUEST, body)
}

/// Checks the fake itself, over HTTP as Roost would talk to it.
#[cfg(test)]
mod self_test {
    use super::*;

    const AUTH: &str = "Bearer sk_test_fake";

    struct Client {
        http: reqwest::Client,
        base: String,
    }

    impl Client {
        fn new(fake: &FakeStripe) -> Self {
            domain::infra::tls::install_crypto_provider();
            Self {
                http: reqwest::Client::new(),
                base: fake.url.clone(),
            }
        }

        /// Returns the status, the JSON body and whether it was a replay.
        async fn post(&self, path: &str, form: &[(&str, &str)], key: &str) -> (u16, Value, bool) {
            let response = self
                .http
                .post(format!("{}{path}", self.base))
                .header("Authorization", AUTH)
                .header("Idempotency-Key", key)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (status, response.json().await.unwrap(), replayed)
        }

        async fn authorize(&self, payment_method: &str, key: &str) -> (u16, Value, bool) {
            let form = [
                ("amount", "45000"),
                ("currency", "eur"),
                ("payment_method", payment_method),
                ("confirm", "true"),
                ("capture_method", "manual"),
                ("payment_method_types[]", "card"),
                ("metadata[booking_id]", "b-1"),
            ];
            self.post("/v1/payment_intents", &form, key).await
        }
    }

    #[tokio::test]
    async fn authorize_capture_refund_with_idempotent_replays() {
        let fake = start().await;
        let client = Client::new(&fake);

        let (status, first, replayed) = client.authorize("pm_card_visa", "auth-1").await;
        assert_eq!((status, replayed), (200, false), "{first}");
        assert_eq!(first["status"], "requires_capture");
        let id = first["id"].as_str().unwrap().to_owned();

        // The same key and parameters: the same answer, and no second intent.
        let (status, again, replayed) = client.authorize("pm_card_visa", "auth-1").await;
        assert_eq!((status, replayed), (200, true));
        assert_eq!(again, first);
        // The same key with other parameters is refused.
        let (status, body, _) = client.authorize("pm_card_mastercard", "auth-1").await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["type"], "idempotency_error");

        let capture = format!("/v1/payment_intents/{id}/capture");
        let (status, body, _) = client
            .post(&capture, &[("amount_to_capture", "30000")], "cap-1")
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "succeeded");
        // Capturing again under a new key: Stripe's unexpected state.
        let (status, body, _) = client
            .post(&capture, &[("amount_to_capture", "30000")], "cap-2")
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "payment_intent_unexpected_state");
        assert_eq!(body["error"]["payment_intent"]["status"], "succeeded");

        let refund = [("payment_intent", id.as_str()), ("amount", "10000")];
        let (status, body, _) = client.post("/v1/refunds", &refund, "ref-1").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["amount"], 10_000);
        let too_much = [("payment_intent", id.as_str()), ("amount", "20001")];
        let (status, body, _) = client.post("/v1/refunds", &too_much, "ref-2").await;
        assert_eq!(status, 400, "{body}");

        let intent = fake.payment_intent(&id).unwrap();
        assert_eq!(intent.status, "succeeded");
        assert_eq!(intent.amount, 45_000);
        assert_eq!(intent.amount_received, 30_000);
        assert_eq!(intent.amount_refunded, 10_000);
        assert_eq!(intent.currency, "eur");
        assert_eq!(intent.payment_method, "pm_card_visa");
        assert_eq!(intent.metadata.get("booking_id").unwrap(), "b-1");
        assert_eq!(fake.payment_intent("pi_unknown"), None);

        let requests = fake.requests();
        assert_eq!(requests.len(), 7);
        let capture_request = &requests[3];
        assert_eq!(capture_request.method, "POST");
        assert_eq!(capture_request.path, capture);
        assert_eq!(
            capture_request.form.get("amount_to_capture").unwrap(),
            "30000"
        );
        assert_eq!(capture_request.idempotency_key.as_deref(), Some("cap-1"));
        assert_eq!(capture_request.authorization.as_deref(), Some(AUTH));
        assert_eq!(
            requests[0].form.get("payment_method_types[]").unwrap(),
            "card"
        );
    }

    #[tokio::test]
    async fn declines_and_unknown_payment_methods() {
        let fake = start().await;
        let client = Client::new(&fake);

        let (status, body, _) = client.authorize("pm_card_chargeDeclined", "a").await;
        assert_eq!(status, 402);
        assert_eq!(body["error"]["type"], "card_error");
        assert_eq!(body["error"]["code"], "card_declined");
        assert_eq!(body["error"]["decline_code"], "generic_decline");

        let (status, body, _) = client
            .authorize("pm_card_chargeDeclinedInsufficientFunds", "b")
            .await;
        assert_eq!(status, 402);
        assert_eq!(body["error"]["decline_code"], "insufficient_funds");
        assert_eq!(
            body["error"]["payment_intent"]["status"],
            "requires_payment_method"
        );

        let (status, body, _) = client.authorize("pm_card_unknown", "c").await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "resource_missing");
        assert_eq!(body["error"]["param"], "payment_method");
    }

    #[tokio::test]
    async fn cancel_releases_the_hold_once() {
        let fake = start().await;
        let client = Client::new(&fake);
        let (_, intent, _) = client.authorize("pm_card_mastercard", "a").await;
        let cancel = format!(
            "/v1/payment_intents/{}/cancel",
            intent["id"].as_str().unwrap()
        );

        let (status, body, _) = client.post(&cancel, &[], "c-1").await;
        assert_eq!((status, &body["status"]), (200, &json!("canceled")));
        let (status, body, _) = client.post(&cancel, &[], "c-2").await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["payment_intent"]["status"], "canceled");

        let (status, _, _) = client
            .post("/v1/payment_intents/pi_nope/cancel", &[], "c-3")
            .await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn injected_failures_are_not_remembered_against_the_key() {
        let fake = start().await;
        let client = Client::new(&fake);
        fake.fail_next(2);
        for _ in 0..2 {
            let (status, _, _) = client.authorize("pm_card_visa", "retry-me").await;
            assert_eq!(status, 500);
        }
        let (status, body, replayed) = client.authorize("pm_card_visa", "retry-me").await;
        assert_eq!((status, replayed), (200, false), "{body}");

        let keys: Vec<_> = fake
            .requests()
            .into_iter()
            .map(|request| request.idempotency_key)
            .collect();
        assert_eq!(keys, vec![Some("retry-me".to_owned()); 3]);
    }

    #[tokio::test]
    async fn requests_without_a_key_or_form_encoding_are_refused() {
        let fake = start().await;
        domain::infra::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        let url = format!("{}/v1/payment_intents", fake.url);
        let response = http.post(&url).body("amount=1").send().await.unwrap();
        assert_eq!(response.status(), 401);
        let response = http
            .post(&url)
            .header("Authorization", AUTH)
            .header("Content-Type", "application/json")
            .body(r#"{"amount":1}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(fake.requests()[0].authorization, None);
    }
}
