//! The subscription benchmark's client: opens many WebSocket subscribers on
//! one `roost serve`, makes bookings, and measures how long each event takes
//! to reach every subscriber, and what the connections cost the server.
//!
//! Run through `benches/subscriptions.sh`, which starts the server. Alone:
//! `cargo bench --bench subscribers -- --url http://127.0.0.1:8000 --pid <server pid>`.
//!
//! Every subscriber signs in as the same host and follows `hostBookingEvents`,
//! so each booking fans out to all of them. Latency is the time from the
//! event's `occurredAt` (set in the booking's transaction) to its arrival at
//! a subscriber: commit, publish (Redis when the server has it), routing,
//! serialisation and the socket.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

struct Args {
    url: String,
    pid: Option<u32>,
    subscribers: usize,
    events: usize,
    out: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8000".into(),
        pid: None,
        subscribers: 5000,
        events: 20,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--url" => a.url = value(),
            "--pid" => a.pid = value().parse().ok(),
            "--subscribers" => a.subscribers = value().parse().unwrap_or(a.subscribers),
            "--events" => a.events = value().parse().unwrap_or(a.events),
            "--out" => a.out = Some(value()),
            _ => {}
        }
    }
    a
}

/// The server's resident memory, in KiB.
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = http
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp: Value = req
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    assert!(resp["errors"].is_null(), "{query}: {resp}");
    resp["data"].clone()
}

async fn register(http: &reqwest::Client, url: &str, role: &str) -> String {
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let data = gql(
        http,
        url,
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
        json!({ "input": { "email": email, "password": "benchmark-password", "firstName": "Bench", "lastName": "Mark", "role": role } }),
    )
    .await;
    data["register"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned()
}

const SUBSCRIPTION: &str =
    "subscription { hostBookingEvents { previousStatus status occurredAt booking { id } } }";

/// One subscriber: connects, subscribes, then reports each event's latency.
async fn subscriber(
    ws_url: String,
    token: String,
    ready: Arc<AtomicUsize>,
    latencies: mpsc::UnboundedSender<f64>,
) -> anyhow::Result<()> {
    let mut req = ws_url.into_client_request()?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = connect_async(req).await?;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }).to_string(),
    ))
    .await?;
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }).to_string(),
    ))
    .await?;
    let mut acked = false;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        let v: Value = serde_json::from_str(&text)?;
        match v["type"].as_str() {
            Some("connection_ack") if !acked => {
                acked = true;
                ready.fetch_add(1, Ordering::SeqCst);
            }
            Some("next") => {
                let at = v["payload"]["data"]["hostBookingEvents"]["occurredAt"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                if let Some(at) = at {
                    let ms = (chrono::Utc::now() - at.with_timezone(&chrono::Utc))
                        .num_microseconds()
                        .unwrap_or(0) as f64
                        / 1000.0;
                    let _ = latencies.send(ms);
                }
            }
            Some("ping") => {
                ws.send(Message::text(json!({ "type": "pong" }).to_string()))
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    domain::infra::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let host = register(&http, &a.url, "HOST").await;
    let guest = register(&http, &a.url, "GUEST").await;
    let listing = gql(
        &http,
        &a.url,
        Some(&host),
        "mutation($input: CreatePropertyInput!) { createProperty(input: $input) { id } }",
        json!({ "input": {
            "title": "Benchmark loft", "description": "A place to measure things.",
            "propertyType": "ENTIRE_PLACE", "address": "1 Bench Street", "city": "Lisbon",
            "country": "Portugal", "latitude": 38.72, "longitude": -9.14,
            "pricePerNight": "100.00", "currency": "EUR", "maxGuests": 2, "bedrooms": 1,
            "beds": 1, "bathrooms": 1, "instantBook": true, "status": "LISTED",
            "minNights": 1, "maxNights": 30, "cancellationPolicy": "FLEXIBLE",
        }}),
    )
    .await["createProperty"]["id"]
        .as_str()
        .expect("listing id")
        .to_owned();

    let rss_before = rss_kib(a.pid);
    let ws_url = a.url.replacen("http", "ws", 1) + "/graphql";
    let ready = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let connect_started = Instant::now();
    let mut failed = 0usize;
    // Connect in waves, as many clients arriving at once would.
    for wave in (0..a.subscribers).collect::<Vec<_>>().chunks(250) {
        let target = ready.load(Ordering::SeqCst) + wave.len();
        for _ in wave {
            let (url, token, ready, tx) = (ws_url.clone(), host.clone(), ready.clone(), tx.clone());
            tokio::spawn(async move {
                if let Err(e) = subscriber(url, token, ready, tx).await {
                    eprintln!("subscriber failed: {e}");
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while ready.load(Ordering::SeqCst) < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        failed = target.saturating_sub(ready.load(Ordering::SeqCst));
    }
    let connected = ready.load(Ordering::SeqCst);
    let connect_seconds = connect_started.elapsed().as_secs_f64();
    // Let the subscriptions settle before measuring memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss_kib(a.pid);

    let mut latencies = Vec::with_capacity(connected * a.events);
    for i in 0..a.events {
        let check_in = chrono::Utc::now().date_naive() + chrono::Duration::days(30 + 3 * i as i64);
        gql(
            &http,
            &a.url,
            Some(&guest),
            "mutation($input: CreateBookingInput!) { createBooking(input: $input) { id } }",
            json!({ "input": { "propertyId": listing, "checkIn": check_in.to_string(),
                "checkOut": (check_in + chrono::Duration::days(2)).to_string(), "guests": 1 } }),
        )
        .await;
        // Collect this event's deliveries (or give up after 10 s).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let expected = connected * (i + 1);
        while latencies.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(ms)) => latencies.push(ms),
                _ => break,
            }
        }
    }
    let rss_after = rss_kib(a.pid);
    let delivered = latencies.len();
    latencies.sort_by(f64::total_cmp);
    let per_connection_kib = match (rss_before, rss_connected) {
        (Some(b), Some(c)) if connected > 0 => Some(c.saturating_sub(b) as f64 / connected as f64),
        _ => None,
    };
    let result = json!({
        "subscribers": a.subscribers,
        "connected": connected,
        "failed_to_connect": failed,
        "connect_seconds": (connect_seconds * 10.0).round() / 10.0,
        "events": a.events,
        "deliveries_expected": connected * a.events,
        "deliveries": delivered,
        "latency_ms": {
            "p50": (percentile(&latencies, 0.50) * 10.0).round() / 10.0,
            "p90": (percentile(&latencies, 0.90) * 10.0).round() / 10.0,
            "p99": (percentile(&latencies, 0.99) * 10.0).round() / 10.0,
            "max": (latencies.last().copied().unwrap_or(f64::NAN) * 10.0).round() / 10.0,
        },
        "server_rss_mib": {
            "before": rss_before.map(|k| k / 1024),
            "connected": rss_connected.map(|k| k / 1024),
            "after_events": rss_after.map(|k| k / 1024),
        },
        "server_kib_per_connection": per_connection_kib.map(|k| (k * 10.0).round() / 10.0),
    });
    let text = serde_json::to_string_pretty(&result)?;
    println!("{text}");
    if let Some(path) = a.out {
        std::fs::write(path, text + "\n")?;
    }
    Ok(())
}
