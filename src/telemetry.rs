//! Logs, human-readable or JSON lines, filtered by level; and, when an OTLP
//! endpoint is configured, traces exported to an OpenTelemetry collector.
//!
//! Spans are the ones the code already makes (`request` per HTTP request,
//! `graphql` per operation, `job` per job run); the export adds their
//! timings and parentage. A `traceparent` header on a request (W3C Trace
//! Context) makes its spans part of the caller's trace.

use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{Sampler, SdkTracerProvider},
};
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

use domain::config::{LogConfig, LogFormat, TracingConfig};

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] sends what is
/// still buffered before the process exits.
#[must_use]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the exporter. Its HTTP client blocks, so this runs
    /// on a blocking thread.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = flushed {
                eprintln!("trace export: could not flush on shutdown: {e}");
            }
        }
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides the
/// configured level. Libraries are held to warnings unless asked for; the
/// access log (one line per request, at info) follows the configured level.
pub fn init(config: &LogConfig) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{level},sqlx=warn,sea_orm=warn",
            level = config.level
        ))
    });
    let provider = config
        .tracing
        .as_ref()
        .and_then(|t| match tracer_provider(t) {
            Ok(provider) => Some(provider),
            Err(e) => {
                eprintln!("trace export is off: {e:#}");
                None
            }
        });
    // Spans go to the collector whatever the log filter lets through to
    // the log; `RUST_LOG`/`ROOST_LOG_LEVEL` decide only what is printed.
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("roost"))
            .with_filter(EnvFilter::new("roost=info,tower_http=info"))
    });
    let registry = tracing_subscriber::registry().with(otel);
    let _ = match config.format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(fmt::layer().compact().with_filter(filter))
            .try_init(),
    };
    if let (Some(t), Some(_)) = (&config.tracing, &provider) {
        tracing::info!(
            endpoint = %t.endpoint,
            sample_ratio = t.sample_ratio,
            "exporting traces over OTLP"
        );
    }
    Telemetry { provider }
}

fn tracer_provider(config: &TracingConfig) -> anyhow::Result<SdkTracerProvider> {
    domain::infra::tls::install_crypto_provider();
    let endpoint = format!("{}/v1/traces", config.endpoint);
    let service_name = config.service_name.clone();
    let sample_ratio = config.sample_ratio;
    // The exporter's blocking HTTP client starts a runtime of its own, which
    // must not happen on one of tokio's threads.
    std::thread::spawn(move || -> anyhow::Result<SdkTracerProvider> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                sample_ratio,
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name)
                    .with_attribute(opentelemetry::KeyValue::new(
                        "service.version",
                        env!("CARGO_PKG_VERSION"),
                    ))
                    .build(),
            )
            .build())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the exporter could not be built"))?
}

/// Makes `span` a child of the trace a request's `traceparent` header names,
/// if it names one.
pub fn adopt_remote_parent(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderCarrier(headers));
    let _ = span.set_parent(parent);
}

struct HeaderCarrier<'a>(&'a axum::http::HeaderMap);

impl Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
