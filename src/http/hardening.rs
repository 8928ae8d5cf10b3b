//! Response headers every answer carries, and what a request may take: its
//! time, and the bytes of its body.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use futures_util::TryStreamExt;
use http_body::Body as _;
use tokio::{sync::watch, time::Instant};

use super::graphql::request_error;
use crate::{error::code, state::AppState};

/// Browsers must not sniff types, frame Roost's pages or leak its URLs in
/// `Referer`; API answers (JSON) may load nothing at all. The playground's
/// HTML keeps its own needs (its scripts and styles) and gets the rest.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = resp.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    resp
}

/// The longest request id a client may send: one it sends is kept (so a
/// caller's id follows the request through the logs) when it is at most
/// this many visible ASCII characters, and replaced by one of ours
/// otherwise, rather than copied into every log line and error.
pub const MAX_REQUEST_ID: usize = 128;

pub async fn client_request_id(mut req: Request, next: Next) -> Response {
    let fits = |id: &HeaderValue| {
        id.len() <= MAX_REQUEST_ID
            && !id.is_empty()
            && id.as_bytes().iter().all(u8::is_ascii_graphic)
    };
    if req
        .headers()
        .get(super::REQUEST_ID)
        .is_some_and(|id| !fits(id))
    {
        req.headers_mut().remove(super::REQUEST_ID);
    }
    next.run(req).await
}

/// The time a request may take, on every route (docs/SECURITY.md, Every bound):
///
/// - its body must arrive within `ROOST_BODY_TIMEOUT` of its headers, or
///   the request is answered 408 (`BAD_REQUEST`) and its connection closed,
///   whatever the handler made of the cut-off body;
/// - it may then run for `ROOST_REQUEST_TIMEOUT`, from when its body was
///   complete (at once for a request without a body): past it, its work is
///   dropped (an open transaction rolls back) and the client is told to try
///   again (503). A handler that leaves its body unread gets the longer of
///   the two, from the headers.
///
/// WebSocket upgrades answer at once and are not affected.
pub async fn deadlines(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    let body_limit = state.config.connections.body_timeout;
    let arrived = Instant::now();
    let (parts, body) = req.into_parts();
    let (body, watch) = TimedBody::wrap(body, arrived + body_limit);
    let mut received = watch.complete.subscribe();
    let mut run = std::pin::pin!(next.run(Request::from_parts(parts, body)));
    let mut watching = true;
    let response = loop {
        let complete = *received.borrow_and_update();
        let deadline = match complete {
            Some(at) => at + limit,
            None => arrived + limit.max(body_limit),
        };
        tokio::select! {
            resp = &mut run => break Some(resp),
            changed = received.changed(), if watching && complete.is_none() => {
                watching = changed.is_ok();
            }
            () = tokio::time::sleep_until(deadline) => break None,
        }
    };
    // Late when reading it failed, or when time ran out with it incomplete.
    let late = watch.timed_out.load(Ordering::Relaxed)
        || (response.is_none()
            && watch.complete.borrow().is_none()
            && Instant::now() >= arrived + body_limit);
    if late {
        metrics::counter!("roost_request_bodies_timed_out_total").increment(1);
        let mut resp = request_error(
            StatusCode::REQUEST_TIMEOUT,
            code::BAD_REQUEST,
            &format!(
                "The request body did not arrive within {} s",
                body_limit.as_secs_f64()
            ),
        );
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    match response {
        Some(resp) => resp,
        None => {
            metrics::counter!("roost_requests_timed_out_total").increment(1);
            tracing::warn!(?limit, "a request ran out of time and was stopped");
            let mut resp = request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_SERVER_ERROR,
                &format!(
                    "The request took longer than {} s and was stopped; try again",
                    limit.as_secs_f64()
                ),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        }
    }
}

/// Why a body stopped early: its deadline passed.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// What [`deadlines`] learns of a body as the handler reads it.
struct BodyWatch {
    /// When the last of it arrived.
    complete: watch::Sender<Option<Instant>>,
    timed_out: AtomicBool,
}

/// A request body that must be complete by a deadline: past it, reading
/// fails with [`BodyTimedOut`].
struct TimedBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    watch: Arc<BodyWatch>,
}

impl TimedBody {
    fn wrap(body: Body, deadline: Instant) -> (Body, Arc<BodyWatch>) {
        let complete = body.is_end_stream().then(Instant::now);
        let watch = Arc::new(BodyWatch {
            complete: watch::Sender::new(complete),
            timed_out: AtomicBool::new(false),
        });
        if complete.is_some() {
            return (body, watch);
        }
        let timed = Self {
            inner: body,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            watch: watch.clone(),
        };
        (Body::new(timed), watch)
    }

    fn completed(&self) {
        self.watch.complete.send_if_modified(|at| {
            let first = at.is_none();
            if first {
                *at = Some(Instant::now());
            }
            first
        });
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if self.watch.complete.borrow().is_some() {
            return Pin::new(&mut self.inner).poll_frame(cx);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.watch.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        match &frame {
            Poll::Ready(None) => self.completed(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.completed(),
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// It is longer than allowed (said by its `Content-Length` at once, or
    /// found on the way).
    TooLarge,
    /// The client stopped sending it, or it did not arrive in time.
    Unreadable,
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut stream = body.into_data_stream();
    let mut bytes = bytes::BytesMut::new();
    while let Some(chunk) = stream.try_next().await.map_err(|_| BodyError::Unreadable)? {
        if bytes.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}
