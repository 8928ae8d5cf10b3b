//! Content negotiation for GraphQL over HTTP.

use axum::http::HeaderValue;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

/// The media type of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// The GraphQL-over-HTTP type: request errors answer 4xx.
    GraphqlResponseJson,
    /// The legacy type: every well-formed request answers 200.
    Json,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// One entry of an Accept header: the media range and its quality.
fn ranges(accept: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    accept.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let range = parts.next()?.trim().to_ascii_lowercase();
        if range.is_empty() {
            return None;
        }
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        Some((range, q))
    })
}

/// The response type for an Accept header; `None` when the client accepts
/// neither JSON type. No header (or `*/*` only) means `application/json`,
/// which every client understands.
pub fn negotiate(accept: Option<&HeaderValue>) -> Option<MediaType> {
    let Some(accept) = accept
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.trim().is_empty())
    else {
        return Some(MediaType::Json);
    };
    let mut best: Option<(MediaType, f32)> = None;
    for (range, q) in ranges(accept) {
        if q <= 0.0 {
            continue;
        }
        let candidate = match range.as_str() {
            GRAPHQL_RESPONSE_JSON => MediaType::GraphqlResponseJson,
            JSON | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        // Higher quality wins; on a tie the explicit GraphQL type wins.
        let better = match best {
            None => true,
            Some((current, best_q)) => {
                q > best_q
                    || (q == best_q
                        && candidate == MediaType::GraphqlResponseJson
                        && current != candidate)
            }
        };
        if better {
            best = Some((candidate, q));
        }
    }
    best.map(|(m, _)| m)
}

/// Whether a browser is asking for a page.
pub fn wants_html(accept: Option<&HeaderValue>) -> bool {
    accept
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| ranges(a).any(|(r, q)| r == "text/html" && q > 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(accept: &str) -> Option<MediaType> {
        negotiate(Some(&HeaderValue::from_str(accept).expect("header")))
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None), Some(MediaType::Json));
        assert_eq!(n("*/*"), Some(MediaType::Json));
        assert_eq!(n("application/json"), Some(MediaType::Json));
        assert_eq!(
            n(GRAPHQL_RESPONSE_JSON),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            n("application/graphql-response+json, application/json;q=0.9"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(
            n("application/graphql-response+json;q=0.5, application/json"),
            Some(MediaType::Json)
        );
        assert_eq!(
            n("application/json, application/graphql-response+json"),
            Some(MediaType::GraphqlResponseJson)
        );
        assert_eq!(n("text/plain"), None);
        assert_eq!(n("application/json;q=0"), None);
        assert!(wants_html(Some(&HeaderValue::from_static(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        ))));
        assert!(!wants_html(Some(&HeaderValue::from_static(
            "application/json"
        ))));
    }
}
