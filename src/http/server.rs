//! Accepting connections and serving HTTP/1.1 on them, with the bounds that
//! `axum::serve` leaves out (docs/SECURITY.md, Every bound, slow clients):
//!
//! - at most `max_connections` open at once (WebSockets included, for as
//!   long as they live); past it, new connections wait in the listen
//!   backlog until one closes, so the process never runs out of file
//!   descriptors;
//! - a request's headers must arrive within `header_timeout`, and a
//!   connection left idle between requests is closed after it (hyper's
//!   header-read timer, which needs a timer that `axum::serve` does not
//!   give it);
//! - request headers at most [`MAX_HEADER_BYTES`] in all (request line
//!   included) and [`MAX_HEADERS`] of them: beyond, hyper answers 431 and
//!   closes;
//! - a client that takes nothing of what it is sent (an answer, WebSocket
//!   messages) for `body_timeout` loses its connection, rather than holding
//!   it and the answer's memory for as long as it likes.
//!
//! Bodies and the time a request may run are bounded per request by
//! [`super::hardening::deadlines`]. Cleartext HTTP/2 is not served: hyper
//! has no header timer for it; put a proxy that speaks it in front.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use tower::ServiceExt;

use domain::config::ConnectionLimits;

/// Bytes of request line and headers together.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Header fields per request.
pub const MAX_HEADERS: usize = 100;

/// Serves `router` on `listener` until `shutdown` completes; then stops
/// accepting, lets each connection finish the request it is serving, and
/// returns when all have closed (upgraded WebSockets are closed by the
/// application's own shutdown).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS);
    let http = Arc::new(http);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closed) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        // A permit first: at the cap, connections wait in the backlog.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            Counted::new(stream, permit, limits.body_timeout),
            peer,
            router.clone(),
            http.clone(),
            closed.clone(),
        ));
    }
    drop(listener);
    drop(closed);
    let _ = closing.send(());
    closing.closed().await;
}

/// Serves one connection until it closes, or until shutdown asks it to
/// finish what it is doing.
async fn connection(
    io: Counted,
    peer: SocketAddr,
    router: Router,
    http: Arc<http1::Builder>,
    mut closing: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        router.oneshot(req.map(Body::new))
    });
    let conn = http
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = pin!(conn);
    let served = tokio::select! {
        served = conn.as_mut() => served,
        _ = closing.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = served {
        // Header timeouts, oversized headers and clients that leave are
        // the clients' business; the log keeps them at debug.
        tracing::debug!(error = %e, %peer, "a connection ended with an error");
    }
}

/// Descriptors the process needs beside one per connection: the database
/// pools, Redis, files being served or uploaded, the listeners.
const DESCRIPTORS_BESIDE_CONNECTIONS: u64 = 256;

/// Raises the process's soft open-file limit to its hard one (as Go's
/// runtime does), and warns when even that leaves too few descriptors for
/// `max_connections`: the cap is then what an operator must lower.
pub fn open_file_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let raised = match (limit.current, limit.maximum) {
            (Some(current), maximum) if maximum.is_none_or(|m| m > current) => {
                let wanted = Rlimit {
                    current: maximum,
                    maximum,
                };
                match setrlimit(Resource::Nofile, wanted) {
                    Ok(()) => maximum,
                    Err(_) => Some(current),
                }
            }
            (current, _) => current,
        };
        let needed = u64::try_from(max_connections)
            .unwrap_or(u64::MAX)
            .saturating_add(DESCRIPTORS_BESIDE_CONNECTIONS);
        if let Some(available) = raised.filter(|a| *a < needed) {
            tracing::warn!(
                open_files = available,
                needed,
                "the open-file limit is below what ROOST_MAX_CONNECTIONS may need; \
                 lower it or raise the limit (ulimit -n)"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = max_connections;
}

/// An accept error: a connection that went away before it was accepted is
/// nothing; anything else (out of descriptors, say) is logged and waited
/// out for a moment rather than retried in a tight loop.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A client's connection together with its place under the connection cap:
/// the place is given back when the socket closes, also when it was handed
/// on to a WebSocket. Writing to it fails once it has taken nothing for
/// `send_timeout`.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    send_timeout: Duration,
    /// Since when a write has waited on the client, when one has.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Counted {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit, send_timeout: Duration) -> Self {
        metrics::gauge!("roost_http_connections").increment(1.0);
        Self {
            stream,
            _permit: permit,
            send_timeout,
            stalled: None,
        }
    }

    /// What a write that made progress returns as it is; one that waits
    /// starts (or goes on) counting, and fails when the count runs out.
    fn unless_stalled<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.send_timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => {
                metrics::counter!("roost_http_send_timeouts_total").increment(1);
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client took nothing of what it was sent in time",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        metrics::gauge!("roost_http_connections").decrement(1.0);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.unless_stalled(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.unless_stalled(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.unless_stalled(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
