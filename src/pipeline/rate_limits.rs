//! The limits counted per operation, once the request is authenticated and
//! its document parsed (the per-IP limit is counted earlier: in
//! `http::rate_limit` per request, and by `ratelimit::PerOperation` per
//! further batch entry and WebSocket operation):
//!
//! - per signed-in user: each operation spends one request of the user's
//!   budget, wherever it comes from (HTTP, a batch item, a WebSocket);
//! - `register`, `login` and `refreshSession` share a per-IP budget: each
//!   occurrence of one of them in the operation (aliases included) spends
//!   one, all or nothing, before any of them runs.
//!
//! A refusal is a request error RATE_LIMITED with `retryAfter` (HTTP 429).

use std::collections::HashSet;

use async_graphql::{
    ServerResult,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
        SelectionSet,
    },
};

use super::OperationData;
use crate::{
    auth::{ClientInfo, Credentials},
    ratelimit::{self, AUTH_FIELDS, Decision, Limiter, RateLimits, rate_limited},
};

pub struct OperationRateLimits {
    pub limits: RateLimits,
}

async fn spend(limiter: &Limiter, subject: &str, cost: u32) -> Option<u64> {
    match limiter.check(subject, cost).await {
        Decision::Allowed => None,
        Decision::Denied { retry_after_secs } => {
            ratelimit::record_refusal(limiter.kind());
            Some(retry_after_secs)
        }
    }
}

/// The operations that may run: the named one, or every one when the
/// request names none (more than one is then refused by the executor).
fn selected<'a>(doc: &'a ExecutableDocument, name: Option<&str>) -> Vec<&'a OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => vec![&op.node],
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| &op.node).into_iter().collect()
        }
        (DocumentOperations::Multiple(ops), None) => ops.values().map(|op| &op.node).collect(),
    }
}

/// The response keys of the sign-in fields at an operation's root, looking
/// through fragments. Fields with one response key are merged and run once,
/// so each distinct key is one attempt.
fn collect<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut HashSet<&'a str>,
    seen: &mut Vec<&'a str>,
) {
    for s in &set.items {
        match &s.node {
            Selection::Field(f) => {
                if AUTH_FIELDS.contains(&f.node.name.node.as_str()) {
                    keys.insert(f.node.response_key().node.as_str());
                }
            }
            Selection::InlineFragment(i) => collect(doc, &i.node.selection_set.node, keys, seen),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if !seen.contains(&name)
                    && let Some(fragment) = doc.fragments.get(name)
                {
                    seen.push(name);
                    collect(doc, &fragment.node.selection_set.node, keys, seen);
                }
            }
        }
    }
}

/// How many sign-in attempts the operation makes.
pub fn sign_in_attempts(doc: &ExecutableDocument, operation_name: Option<&str>) -> usize {
    selected(doc, operation_name)
        .into_iter()
        .filter(|op| op.ty == OperationType::Mutation)
        .map(|op| {
            let mut keys = HashSet::new();
            collect(doc, &op.selection_set.node, &mut keys, &mut Vec::new());
            keys.len()
        })
        .sum()
}

impl OperationRateLimits {
    /// Spends the operation's budgets once its document is parsed.
    /// `operation_name` is the one the request gives.
    pub(super) async fn parsed(
        &self,
        data: OperationData<'_>,
        operation_name: Option<&str>,
        doc: &ExecutableDocument,
    ) -> ServerResult<()> {
        if let (Some(limiter), Some(Credentials::Viewer(viewer))) =
            (&self.limits.user, data.get::<Credentials>())
            && let Some(retry) = spend(limiter, &viewer.user_id.to_string(), 1).await
        {
            return Err(rate_limited(
                "Too many requests from this account; try again later",
                retry,
            ));
        }
        if let (Some(limiter), Some(ip)) = (
            &self.limits.auth,
            data.get::<ClientInfo>().and_then(|c| c.ip.as_deref()),
        ) {
            let attempts = sign_in_attempts(doc, operation_name);
            if attempts > 0 {
                let cost = u32::try_from(attempts).unwrap_or(u32::MAX);
                if let Some(retry) = spend(limiter, ip, cost).await {
                    let burst = limiter.quota().burst();
                    let message = if u64::from(cost) > burst {
                        format!(
                            "This operation makes {cost} sign-in attempts (register, login, refreshSession); at most {burst} are allowed per minute"
                        )
                    } else {
                        "Too many sign-in attempts (register, login, refreshSession) from this address; try again later".to_owned()
                    };
                    return Err(rate_limited(message, retry));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(q: &str, name: Option<&str>) -> usize {
        sign_in_attempts(
            &async_graphql::parser::parse_query(q).expect("parses"),
            name,
        )
    }

    #[test]
    fn counts_each_sign_in_field_once() {
        assert_eq!(n("mutation { login(input: {}) { accessToken } }", None), 1);
        assert_eq!(
            n(
                "mutation { a: login(x: 1) { t } b: login(x: 2) { t } c: register(x: 1) { t } d: refreshSession(x: 1) { t } logout(x: 1) }",
                None
            ),
            4
        );
        assert_eq!(
            n(
                "mutation { ...F ... on Mutation { b: login(x: 2) { t } } } fragment F on Mutation { a: login(x: 1) { t } }",
                None
            ),
            2,
            "through fragments"
        );
        assert_eq!(
            n(
                "mutation { ...F ...F } fragment F on Mutation { login(x: 1) { t } }",
                None
            ),
            1,
            "merged fields run once"
        );
        assert_eq!(n("query { login { t } }", None), 0, "only mutations");
        assert_eq!(
            n(
                "mutation A { login(x: 1) { t } } mutation B { a: login(x: 1) { t } b: login(x: 1) { t } }",
                Some("B")
            ),
            2,
            "the named operation"
        );
    }
}
