//! Counts and times operations by name, for `/metrics`.
//!
//! Operation names come from clients, so a label per name could grow without
//! bound: names that are not plain identifiers, and new names past the first
//! few hundred, are counted as `other`.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Instant,
};

use async_graphql::Response;

const MAX_NAMES: usize = 500;

#[derive(Default, Clone)]
pub struct OperationMetrics {
    names: Arc<Mutex<HashSet<String>>>,
}

impl OperationMetrics {
    fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".into();
        };
        let plain = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            return "other".into();
        }
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.contains(name) || names.len() < MAX_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }
}

impl OperationMetrics {
    /// Runs `run`, the operation, counted and timed, in its own span.
    pub(super) async fn execute(
        &self,
        operation_name: Option<&str>,
        run: impl Future<Output = Response>,
    ) -> Response {
        let started = Instant::now();
        let operation = self.label(operation_name);
        let span = tracing::info_span!(
            "graphql",
            otel.name = %format!("graphql {operation}"),
            graphql.operation.name = %operation,
            graphql.errors = tracing::field::Empty,
        );
        let response = tracing::Instrument::instrument(run, span.clone()).await;
        if !response.errors.is_empty() {
            span.record("graphql.errors", response.errors.len());
        }
        let outcome = if response.errors.is_empty() {
            "ok"
        } else {
            "error"
        };
        metrics::counter!("roost_graphql_operations_total", "operation" => operation.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("roost_graphql_operation_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
        for e in &response.errors {
            if let Some(async_graphql::Value::String(code)) =
                e.extensions.as_ref().and_then(|x| x.get("code"))
            {
                metrics::counter!("roost_graphql_errors_total", "code" => code.clone())
                    .increment(1);
            }
        }
        response
    }
}
