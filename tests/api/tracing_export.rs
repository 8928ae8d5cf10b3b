//! OpenTelemetry trace export: a `roost serve` process with
//! OTEL_EXPORTER_OTLP_ENDPOINT set sends its spans over OTLP/HTTP to a
//! stand-in collector that decodes what it receives (protobuf, as a real
//! collector would).

use std::{
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value, trace::v1::Span,
};
use prost::Message;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<(String, Span)>>>,
    content_types: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    fn spans(&self) -> Vec<(String, Span)> {
        self.spans.lock().expect("lock").clone()
    }
}

async fn receive(State(c): State<Collector>, headers: HeaderMap, body: Bytes) -> &'static str {
    if let Some(ct) = headers.get("content-type").and_then(|v| v.to_str().ok()) {
        c.content_types.lock().expect("lock").push(ct.to_owned());
    }
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| match &v.value {
                Some(any_value::Value::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                c.spans.lock().expect("lock").push((service.clone(), span));
            }
        }
    }
    ""
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.clone()),
            Some(any_value::Value::IntValue(i)) => Some(i.to_string()),
            _ => None,
        })
}

#[tokio::test]
async fn spans_are_exported_over_otlp_with_the_callers_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector_url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(collector.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let port = crate::helpers::free_port();
    let db = crate::helpers::TestDatabase::fresh(dir.path()).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_roost"))
        .arg("serve")
        .env("ROOST_BIND", format!("127.0.0.1:{port}"))
        .env("ROOST_DATA_DIR", dir.path())
        .env("DATABASE_URL", &db.url)
        .env_remove("REDIS_URL")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{collector_url}/"))
        .env("OTEL_SERVICE_NAME", "roost-under-test")
        // The SDK's batch processor sends every 100 ms instead of 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("ROOST_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn roost");
    let client = crate::helpers::client();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A caller that is itself traced passes its trace in `traceparent`.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let resp: Value = client
        .post(format!("{base}/graphql"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({
            "query": "query Amenities { amenities { name } }",
            "operationName": "Amenities"
        }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(resp["data"]["amenities"].is_array(), "{resp}");
    // And one without: a trace of its own.
    let untraced: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ nope }" }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(untraced["errors"].is_array());

    let deadline = Instant::now() + Duration::from_secs(20);
    let spans = loop {
        let spans = collector.spans();
        let graphql = spans
            .iter()
            .filter(|(_, s)| s.name.starts_with("graphql"))
            .count();
        if graphql >= 1
            && spans
                .iter()
                .filter(|(_, s)| s.name == "POST /graphql")
                .count()
                >= 2
        {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "spans did not arrive: {:?}",
            spans.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();

    assert!(
        spans
            .iter()
            .all(|(service, _)| service == "roost-under-test")
    );
    assert!(
        collector
            .content_types
            .lock()
            .expect("lock")
            .iter()
            .all(|ct| ct == "application/x-protobuf")
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();

    // The traced request's server span is the caller's span's child.
    let requests: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.name == "POST /graphql")
        .collect();
    let traced = requests
        .iter()
        .find(|s| hex(&s.trace_id) == trace_id)
        .expect("a request span in the caller's trace");
    assert_eq!(hex(&traced.parent_span_id), caller_span);
    assert_eq!(traced.kind, 2, "SPAN_KIND_SERVER");
    assert_eq!(
        attribute(traced, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attribute(traced, "path").as_deref(), Some("/graphql"));
    // The other request started a trace of its own.
    assert!(
        requests
            .iter()
            .any(|s| hex(&s.trace_id) != trace_id && s.parent_span_id.is_empty())
    );

    // The operation's span sits under the request's, named by the operation.
    let operation = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "graphql Amenities")
        .expect("the operation's span");
    assert_eq!(operation.trace_id, traced.trace_id);
    assert_eq!(operation.parent_span_id, traced.span_id);
    assert_eq!(
        attribute(operation, "graphql.operation.name").as_deref(),
        Some("Amenities")
    );
    assert!(operation.end_time_unix_nano >= operation.start_time_unix_nano);
    assert!(traced.end_time_unix_nano >= operation.end_time_unix_nano);
}
