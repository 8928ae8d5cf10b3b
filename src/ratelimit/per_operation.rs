//! The per-IP limit counted per operation, for operations that arrive
//! without a request of their own: the entries of a batch after the first
//! (the request paid for one at the door) and the messages of a WebSocket.
//! An operation over the budget answers `RATE_LIMITED` with `retryAfter`
//! and does not run; the others go on.

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Data, Executor, Request, Response, ServerError};
use futures_util::{
    FutureExt,
    stream::{self, BoxStream, FuturesOrdered, StreamExt},
};

use super::{Decision, Limiter, RateLimits, record_refusal};
use crate::error::{code, request_error};

/// A request error RATE_LIMITED with `retryAfter` (HTTP 429 when alone).
pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> ServerError {
    let mut e = request_error(message, code::RATE_LIMITED);
    e.extensions
        .get_or_insert_with(Default::default)
        .set("retryAfter", retry_after_secs);
    e
}

/// One client address's share of the per-IP limit.
#[derive(Clone)]
pub struct IpBudget {
    limiter: Option<Limiter>,
    ip: Option<Arc<str>>,
}

impl IpBudget {
    pub fn new(limits: &RateLimits, ip: Option<&str>) -> Self {
        Self {
            limiter: limits.ip.clone(),
            ip: ip.map(Arc::from),
        }
    }

    /// Spends one request; the error to answer when it is refused.
    pub async fn spend(&self) -> Option<ServerError> {
        let (Some(limiter), Some(ip)) = (&self.limiter, &self.ip) else {
            return None;
        };
        match limiter.check(ip, 1).await {
            Decision::Allowed => None,
            Decision::Denied { retry_after_secs } => {
                record_refusal(limiter.kind());
                Some(rate_limited(
                    "Too many requests from this address; try again later",
                    retry_after_secs,
                ))
            }
        }
    }
}

/// An executor whose operations each spend one request of an [`IpBudget`]
/// before they run; in a batch, every entry but the first.
#[derive(Clone)]
pub struct PerOperation<E> {
    inner: E,
    budget: IpBudget,
}

impl<E: Executor> PerOperation<E> {
    pub fn new(inner: E, budget: IpBudget) -> Self {
        Self { inner, budget }
    }
}

// The operations' futures are large (the whole execution); they are boxed
// so that a batch of them does not sit on the stack.
impl<E: Executor> Executor for PerOperation<E> {
    async fn execute(&self, request: Request) -> Response {
        match self.budget.spend().await {
            Some(refused) => Response::from_errors(vec![refused]),
            None => Box::pin(self.inner.execute(request)).await,
        }
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        stream::once(async move {
            match this.budget.spend().await {
                Some(refused) => {
                    stream::once(async { Response::from_errors(vec![refused]) }).boxed()
                }
                None => this.inner.execute_stream(request, session_data),
            }
        })
        .flatten()
        .boxed()
    }

    async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => {
                BatchResponse::Single(Box::pin(self.inner.execute(request)).await)
            }
            BatchRequest::Batch(requests) => {
                let runs = requests.into_iter().enumerate().map(|(i, request)| {
                    if i == 0 {
                        self.inner.execute(request).boxed()
                    } else {
                        self.execute(request).boxed()
                    }
                });
                BatchResponse::Batch(FuturesOrdered::from_iter(runs).collect().await)
            }
        }
    }
}
