//! `POST /graphql` and `GET /graphql`: GraphQL over HTTP.
//!
//! Follows the GraphQL-over-HTTP spec: JSON bodies (and multipart uploads),
//! `GET` for queries only, batches of up to [`MAX_BATCH`], and both response
//! media types. With `application/graphql-response+json` a request that
//! fails before execution (it does not parse, does not validate, or carries
//! a bad token) answers 4xx and has no `data`; with `application/json` it
//! answers 200, as older clients expect. A rejected token answers 401 with
//! either type.

use async_graphql::{
    BatchRequest, BatchResponse, Executor, Request as GqlRequest, Response as GqlResponse,
    Variables,
};
use axum::{
    extract::{Request, State},
    http::{
        HeaderName, HeaderValue, StatusCode,
        header::{
            ACCEPT, ALLOW, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT, WWW_AUTHENTICATE,
        },
    },
    response::{IntoResponse, Response},
};
use http_body::Body as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{
    hardening::{BodyError, read_body},
    negotiate::{MediaType, negotiate, wants_html},
    playground, websocket,
};
use crate::{auth::ClientInfo, error::code, pipeline::is_request_error, state::AppState};

/// Operations per batch.
pub const MAX_BATCH: usize = 10;
/// A JSON request body.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A request error answered before anything runs.
pub fn request_error(status: StatusCode, code: &str, message: &str) -> Response {
    request_error_with(status, code, message, json!({}))
}

/// The same, with more `extensions` beside the code (e.g. `retryAfter`).
pub fn request_error_with(status: StatusCode, code: &str, message: &str, extra: Value) -> Response {
    let mut extensions = Map::new();
    extensions.insert("code".into(), Value::from(code));
    if let Value::Object(extra) = extra {
        extensions.extend(extra);
    }
    let body = json!({ "errors": [{ "message": message, "extensions": extensions }] });
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(MediaType::Json.content_type()),
        )],
        body.to_string(),
    )
        .into_response()
}

/// One operation as it arrives in JSON or in a query string.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

impl WireRequest {
    fn into_request(self) -> Result<GqlRequest, String> {
        // With a persisted query hash the text may be left out; it is
        // looked up by `persisted::PersistedQueries::resolve`.
        let hashed = self
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("persistedQuery").is_some_and(|p| !p.is_null()));
        let query = match self.query {
            Some(query) => query,
            None if hashed => String::new(),
            None => return Err("`query` is required and must be a string".into()),
        };
        let mut request = GqlRequest::new(query).variables(Variables::from_json(Value::Object(
            self.variables.unwrap_or_default(),
        )));
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        for (key, value) in self.extensions.unwrap_or_default() {
            request.extensions.insert(
                key,
                async_graphql::Value::from_json(value).unwrap_or_default(),
            );
        }
        Ok(request)
    }
}

/// A JSON body (or a multipart request's `operations`): one operation or a
/// batch.
pub(super) fn parse_json_body(bytes: &[u8]) -> Result<BatchRequest, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("The body is not valid JSON: {e}"))?;
    let one = |v: Value| -> Result<GqlRequest, String> {
        serde_json::from_value::<WireRequest>(v)
            .map_err(|e| format!("Invalid GraphQL request: {e}"))?
            .into_request()
    };
    match value {
        Value::Array(items) if items.is_empty() => Err("An empty batch has nothing to run".into()),
        Value::Array(items) if items.len() > MAX_BATCH => Err(format!(
            "A batch may hold at most {MAX_BATCH} operations; this one has {}",
            items.len()
        )),
        Value::Array(items) => Ok(BatchRequest::Batch(
            items.into_iter().map(one).collect::<Result<_, _>>()?,
        )),
        obj @ Value::Object(_) => Ok(BatchRequest::Single(one(obj)?)),
        _ => Err("The body must be a JSON object (or an array of them for a batch)".into()),
    }
}

/// What the handlers take from the HTTP request before its body.
pub struct RequestMeta {
    pub authorization: Option<String>,
    pub request_id: Option<String>,
    pub client: ClientInfo,
}

impl RequestMeta {
    pub fn of(req: &Request) -> Self {
        let header = |name| {
            req.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            authorization: header(AUTHORIZATION),
            request_id: header(HeaderName::from_static("x-request-id")),
            client: ClientInfo {
                // Worked out once by `rate_limit::per_ip` (trusted proxies
                // and X-Forwarded-For); the socket's peer otherwise.
                ip: req
                    .extensions()
                    .get::<crate::ratelimit::ClientIp>()
                    .map(|c| c.0)
                    .or_else(|| {
                        req.extensions()
                            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                            .map(|c| c.0.ip().to_canonical())
                    })
                    .map(|ip| ip.to_string()),
                user_agent: header(USER_AGENT),
            },
        }
    }
}

pub async fn post(State(state): State<AppState>, req: Request) -> Response {
    let Some(media) = negotiate(req.headers().get(ACCEPT)) else {
        return not_acceptable();
    };
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut params = content_type.split(';');
    let mime = params.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset_ok = params
        .filter_map(|p| {
            p.trim()
                .to_ascii_lowercase()
                .strip_prefix("charset=")
                .map(str::to_owned)
        })
        .all(|c| c.trim_matches('"') == "utf-8");
    let meta = RequestMeta::of(&req);
    let batch = match mime.as_str() {
        "application/json" if charset_ok => match read_body(req.into_body(), MAX_JSON_BODY).await {
            Ok(bytes) => parse_json_body(&bytes),
            Err(BodyError::TooLarge) => {
                return request_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::BAD_REQUEST,
                    &format!("The request body exceeds {MAX_JSON_BODY} bytes"),
                );
            }
            Err(BodyError::Unreadable) => Err("The request body could not be read".into()),
        },
        "multipart/form-data" => {
            // A declared length over the bound is refused before reading.
            if req.body().size_hint().lower() > super::multipart::MAX_REQUEST as u64 {
                return request_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    code::BAD_REQUEST,
                    &format!(
                        "A multipart request may be at most {} MiB",
                        super::multipart::MAX_REQUEST / (1024 * 1024)
                    ),
                );
            }
            match super::multipart::receive(&content_type, req.into_body()).await {
                Ok(batch) => Ok(batch),
                Err(refused) => {
                    return request_error(refused.status, code::BAD_REQUEST, &refused.message);
                }
            }
        }
        _ => {
            return request_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::BAD_REQUEST,
                "Send `Content-Type: application/json` (UTF-8), or multipart/form-data for uploads",
            );
        }
    };
    match batch {
        Ok(batch) => execute(&state, media, batch, meta).await,
        Err(message) => request_error(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message),
    }
}

pub async fn get(State(state): State<AppState>, req: Request) -> Response {
    if websocket::is_upgrade(req.headers()) {
        return websocket::upgrade(state, req).await;
    }
    let query_string = req.uri().query().unwrap_or("").to_owned();
    if query_string.is_empty() && wants_html(req.headers().get(ACCEPT)) {
        return if state.config.graphql.playground {
            playground::page(state.config.graphql.playground_assets_dir.is_some()).into_response()
        } else {
            request_error(
                StatusCode::NOT_FOUND,
                code::BAD_REQUEST,
                "The playground is turned off",
            )
        };
    }
    let Some(media) = negotiate(req.headers().get(ACCEPT)) else {
        return not_acceptable();
    };
    let request = match get_request(&query_string) {
        Ok(r) => r,
        Err(message) => return request_error(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message),
    };
    let meta = RequestMeta::of(&req);
    // A hash is resolved to its text first, so that a mutation sent by
    // hash is refused like any other.
    let mut resolved = match state.persisted.resolve(request).await {
        Ok(r) => r,
        Err(rejection) => return persisted_rejection(media, rejection),
    };
    // GET never changes anything: find the operation and refuse mutations
    // before running it. A document that does not parse is left for the
    // executor to report.
    let name = resolved.request.operation_name.clone();
    if let Ok(doc) = resolved.request.parsed_query() {
        use async_graphql::parser::types::{DocumentOperations, OperationType};
        let ty = match (&doc.operations, name) {
            (DocumentOperations::Single(op), _) => Some(op.node.ty),
            (DocumentOperations::Multiple(ops), Some(name)) => {
                ops.get(name.as_str()).map(|op| op.node.ty)
            }
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                ops.values().next().map(|op| op.node.ty)
            }
            _ => None,
        };
        if matches!(
            ty,
            Some(OperationType::Mutation | OperationType::Subscription)
        ) {
            let mut response = request_error(
                StatusCode::METHOD_NOT_ALLOWED,
                code::BAD_REQUEST,
                "GET runs queries only; send mutations with POST",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
    }
    match authenticate(&state, &meta).await {
        Ok(credentials) => run_one(&state, media, resolved, &meta, credentials).await,
        Err(response) => response,
    }
}

/// `?query=...&operationName=...&variables=<json>&extensions=<json>`
fn get_request(query_string: &str) -> Result<GqlRequest, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        query: Option<String>,
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let params: Params = serde_urlencoded::from_str(query_string)
        .map_err(|e| format!("Invalid query string: {e}"))?;
    let json_object =
        |name: &str, text: Option<String>| -> Result<Option<Map<String, Value>>, String> {
            match text.filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => match serde_json::from_str::<Value>(&t) {
                    Ok(Value::Object(map)) => Ok(Some(map)),
                    Ok(Value::Null) => Ok(None),
                    _ => Err(format!("`{name}` must be a JSON object")),
                },
            }
        };
    WireRequest {
        query: params.query,
        operation_name: params.operation_name.filter(|n| !n.is_empty()),
        variables: json_object("variables", params.variables)?,
        extensions: json_object("extensions", params.extensions)?,
    }
    .into_request()
}

fn not_acceptable() -> Response {
    request_error(
        StatusCode::NOT_ACCEPTABLE,
        code::BAD_REQUEST,
        "Accept application/graphql-response+json or application/json",
    )
}

/// Who the request's token names; an answer when it cannot be told.
async fn authenticate(
    state: &AppState,
    meta: &RequestMeta,
) -> Result<crate::auth::Credentials, Response> {
    state
        .auth
        .authenticate(meta.authorization.as_deref())
        .await
        .map_err(|e| {
            tracing::error!(error = format!("{e:#}"), "authentication backend failed");
            request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_SERVER_ERROR,
                crate::error::INTERNAL_MESSAGE,
            )
        })
}

/// The request with what resolvers read beside it: who is asking, and from where.
fn with_data(
    mut request: GqlRequest,
    credentials: &crate::auth::Credentials,
    meta: &RequestMeta,
) -> GqlRequest {
    request.data.insert(credentials.clone());
    request.data.insert(meta.client.clone());
    request
}

/// Runs one resolved operation, registers its persisted text if it brought
/// one, and writes the response.
async fn run_one(
    state: &AppState,
    media: MediaType,
    resolved: super::persisted::Resolved,
    meta: &RequestMeta,
    credentials: crate::auth::Credentials,
) -> Response {
    let (request, pending) = resolved.into_parts();
    let response = state
        .graphql
        .execute(with_data(request, &credentials, meta))
        .await;
    state.persisted.settle(pending, &response).await;
    single_response(media, response, meta.request_id.as_deref())
}

/// Authenticates, runs the operations, and writes the response.
async fn execute(
    state: &AppState,
    media: MediaType,
    batch: BatchRequest,
    meta: RequestMeta,
) -> Response {
    let credentials = match authenticate(state, &meta).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    match batch {
        BatchRequest::Single(r) => match state.persisted.resolve(r).await {
            Ok(resolved) => run_one(state, media, resolved, &meta, credentials).await,
            Err(rejection) => persisted_rejection(media, rejection),
        },
        BatchRequest::Batch(rs) => {
            // Each entry after the first spends the per-IP budget too.
            let executor = crate::ratelimit::PerOperation::new(
                super::persisted::PersistedExecutor {
                    pipeline: state.graphql.clone(),
                    persisted: state.persisted.clone(),
                },
                crate::ratelimit::IpBudget::new(&state.rate_limits, meta.client.ip.as_deref()),
            );
            let responses = executor
                .execute_batch(BatchRequest::Batch(
                    rs.into_iter()
                        .map(|r| with_data(r, &credentials, &meta))
                        .collect(),
                ))
                .await;
            let items: Vec<Body> = match responses {
                BatchResponse::Single(r) => vec![Body::new(r, meta.request_id.as_deref())],
                BatchResponse::Batch(rs) => rs
                    .into_iter()
                    .map(|r| Body::new(r, meta.request_id.as_deref()))
                    .collect(),
            };
            json_response(StatusCode::OK, media, &items)
        }
    }
}

/// One response as it is written: no `data` for a request error, and the
/// request id on internal errors so that a report can be matched to the
/// log. Serialized straight to bytes, never through a `serde_json::Value`
/// (an answer is held once in memory, not twice).
struct Body {
    response: GqlResponse,
    request_error: bool,
}

impl Body {
    fn new(mut response: GqlResponse, request_id: Option<&str>) -> Self {
        let request_error = is_request_error(&response);
        if let Some(id) = request_id {
            let internal = async_graphql::Value::from(code::INTERNAL_SERVER_ERROR);
            for e in &mut response.errors {
                if let Some(ext) = e.extensions.as_mut()
                    && ext.get("code") == Some(&internal)
                {
                    ext.set("requestId", id);
                }
            }
        }
        Self {
            response,
            request_error,
        }
    }
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = &self.response;
        let mut map = serializer.serialize_map(None)?;
        if !self.request_error {
            map.serialize_entry("data", &r.data)?;
        }
        if !r.extensions.is_empty() {
            map.serialize_entry("extensions", &r.extensions)?;
        }
        if !r.errors.is_empty() {
            map.serialize_entry("errors", &r.errors)?;
        }
        map.end()
    }
}

fn single_response(media: MediaType, response: GqlResponse, request_id: Option<&str>) -> Response {
    let cache_header = response
        .http_headers
        .get(crate::pipeline::CACHE_HEADER)
        .cloned();
    let has_code = |wanted: &str| {
        is_request_error(&response)
            && response.errors.iter().any(|e| {
                e.extensions.as_ref().and_then(|x| x.get("code"))
                    == Some(&async_graphql::Value::from(wanted))
            })
    };
    let unauthenticated = has_code(code::UNAUTHENTICATED);
    let rate_limited = has_code(code::RATE_LIMITED).then(|| retry_after(&response));
    let body = Body::new(response, request_id);
    if let Some(retry_after) = rate_limited {
        let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, media, &body);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
        return response;
    }
    let status = if unauthenticated {
        StatusCode::UNAUTHORIZED
    } else if body.request_error && media == MediaType::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = json_response(status, media, &body);
    if unauthenticated {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer error="invalid_token""#),
        );
    }
    with_cache_header(&mut response, cache_header);
    response
}

/// Passes on whether the response cache answered (`x-roost-cache`).
fn with_cache_header(response: &mut Response, value: Option<HeaderValue>) {
    if let Some(value) = value {
        response.headers_mut().insert(
            HeaderName::from_static(crate::pipeline::CACHE_HEADER),
            value,
        );
    }
}

/// A persisted query that could not be resolved. "Not found" and "not
/// supported" ask the client to retry and answer 200 whatever the media
/// type (Apollo Client stops sending hashes after a 400); the others are
/// request errors like any other.
fn persisted_rejection(media: MediaType, rejection: super::persisted::Rejection) -> Response {
    if rejection.is_retry_signal() {
        json_response(
            StatusCode::OK,
            media,
            &Body::new(rejection.into_response(), None),
        )
    } else {
        single_response(media, rejection.into_response(), None)
    }
}

/// The longest `retryAfter` among a response's errors (at least 1).
fn retry_after(response: &GqlResponse) -> u64 {
    response
        .errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("retryAfter")? {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max()
        .unwrap_or(1)
        .max(1)
}

fn json_response(status: StatusCode, media: MediaType, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be written as JSON");
            request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL_SERVER_ERROR,
                crate::error::INTERNAL_MESSAGE,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies() {
        assert!(matches!(
            parse_json_body(br#"{"query":"{ me { id } }"}"#),
            Ok(BatchRequest::Single(_))
        ));
        assert!(matches!(
            parse_json_body(
                br#"{"query":"{ a }","variables":null,"operationName":null,"extensions":null}"#
            ),
            Ok(BatchRequest::Single(_))
        ));
        assert!(parse_json_body(br#"{"query":{"a":1}}"#).is_err());
        assert!(parse_json_body(br#"{"query":"{ a }","variables":[1]}"#).is_err());
        assert!(parse_json_body(br#"{"variables":{}}"#).is_err());
        assert!(parse_json_body(b"[]").is_err());
        assert!(parse_json_body(b"{not json").is_err());
        let eleven = format!("[{}]", [r#"{"query":"{ a }"}"#; 11].join(","));
        assert!(
            parse_json_body(eleven.as_bytes())
                .expect_err("too many")
                .contains("at most 10")
        );
        let ten = format!("[{}]", [r#"{"query":"{ a }"}"#; 10].join(","));
        assert!(
            matches!(parse_json_body(ten.as_bytes()), Ok(BatchRequest::Batch(v)) if v.len() == 10)
        );
    }
}
