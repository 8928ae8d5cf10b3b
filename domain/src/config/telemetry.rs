//! Logs and trace export.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter directive, e.g. `info` or `roost=debug,info`.
    pub level: String,
    /// Where spans are exported, when they are.
    pub tracing: Option<TracingConfig>,
}

/// OpenTelemetry trace export over OTLP/HTTP.
#[derive(Debug, Clone)]
pub struct TracingConfig {
    /// The collector's base URL; spans go to `<endpoint>/v1/traces`.
    pub endpoint: String,
    pub service_name: String,
    pub sample_ratio: f64,
}
