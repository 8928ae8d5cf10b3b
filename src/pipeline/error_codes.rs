//! Gives every error an `extensions.code`, masks what is not ours, and
//! bounds how many errors one answer carries.
//!
//! Our resolvers set codes themselves (`AppError`). What async-graphql
//! produces gets one here: parse errors, validation errors, limits, and
//! argument values of the wrong type. Anything else without a code is an
//! internal error: logged with the request's span, shown as
//! `INTERNAL_SERVER_ERROR` without its text.
//!
//! An answer carries at most so many errors (docs/SECURITY.md, Every bound); past
//! them, one more error says how many were left out (`N more errors were
//! left out`, with `leftOut`, and the code of the first one left out).

use async_graphql::{Response, ServerError};

use crate::error::{INTERNAL_MESSAGE, code};

/// A request error happened before execution: the response has no data,
/// only errors, none of them from a field.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

fn has_code(e: &ServerError) -> bool {
    e.extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some())
}

fn set_code(e: &mut ServerError, code: &str) {
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

fn is_limit(message: &str) -> bool {
    message.starts_with("Query is too complex")
        || message.starts_with("Query is nested too deep")
        || message.starts_with("The recursion depth of the query")
        || message.starts_with("The number of directives on the field")
}

/// `Invalid value for argument "input.email", expected type "String"`
/// names the argument path between its first pair of quotes.
fn argument_path(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("Invalid value for argument \"")
        .or_else(|| message.strip_prefix("Invalid value for argument \\\""))?;
    rest.split('"').next().filter(|p| !p.is_empty())
}

pub(super) fn classify(e: &mut ServerError) {
    if has_code(e) {
        return;
    }
    if is_limit(&e.message) {
        set_code(e, code::QUERY_TOO_COMPLEX);
    } else if let Some(path) = argument_path(&e.message).map(str::to_owned) {
        set_code(e, code::BAD_USER_INPUT);
        e.extensions
            .get_or_insert_with(Default::default)
            .set("field", path);
    } else if e.message.starts_with("Failed to parse")
        || e.message.starts_with("Expected input type")
        || e.message.contains("(occurred while parsing")
    {
        // An argument's value its resolver could not read (scalars with
        // a format are checked before anything runs, `argument_values`;
        // this is what is left, such as an upload that is not a file):
        // the input is wrong.
        set_code(e, code::BAD_USER_INPUT);
    } else if e.path.is_empty() {
        set_code(e, code::GRAPHQL_VALIDATION_FAILED);
    } else {
        tracing::error!(error = %e.message, path = ?e.path, "unexpected resolver error");
        e.message = INTERNAL_MESSAGE.into();
        set_code(e, code::INTERNAL_SERVER_ERROR);
    }
}

/// Codes on every error of `response`, and at most `max` of them (then
/// one more saying how many were left out).
pub(super) fn classify_all(mut response: Response, max: usize) -> Response {
    let left_out = response.errors.len().saturating_sub(max);
    if left_out > 0 {
        // Dropped before they are classified: unexpected errors are logged
        // one by one, and those left out need not be.
        let mut first = response.errors.swap_remove(max);
        response.errors.truncate(max);
        classify(&mut first);
        let mut summary = ServerError::new(format!("{left_out} more errors were left out"), None);
        let extensions = summary.extensions.get_or_insert_with(Default::default);
        if let Some(code) = first.extensions.as_ref().and_then(|x| x.get("code")) {
            extensions.set("code", code.clone());
        }
        extensions.set("leftOut", left_out);
        response.errors.iter_mut().for_each(classify);
        response.errors.push(summary);
        return response;
    }
    response.errors.iter_mut().for_each(classify);
    response
}

/// A document that does not parse: `Syntax error at line 1, column 14:
/// expected selection_set, ...`, located there. The parser's own message
/// quotes the whole line it stopped on, and a document of one line quoted
/// a megabyte back; the position says where.
pub(super) fn parse_error(e: async_graphql::parser::Error) -> ServerError {
    let async_graphql::parser::Error::Syntax { message, start, .. } = &e else {
        return classify_parse_error(e.into());
    };
    let expected = message
        .rsplit('\n')
        .next()
        .and_then(|last| last.trim_start().strip_prefix("= "))
        .unwrap_or("unexpected input");
    let mut error = ServerError::new(
        format!(
            "Syntax error at line {}, column {}: {expected}",
            start.line, start.column
        ),
        Some(*start),
    );
    set_code(&mut error, code::GRAPHQL_PARSE_FAILED);
    error
}

/// A parse error, or one raised by the checks on the parsed document
/// (which set their own codes).
fn classify_parse_error(mut e: ServerError) -> ServerError {
    if !has_code(&e) {
        let code = if is_limit(&e.message) {
            code::QUERY_TOO_COMPLEX
        } else {
            code::GRAPHQL_PARSE_FAILED
        };
        set_code(&mut e, code);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_paths_are_read_from_messages() {
        assert_eq!(
            argument_path(r#"Invalid value for argument "input.email", expected type "String""#),
            Some("input.email")
        );
        assert_eq!(argument_path("Unknown field"), None);
    }

    fn codes(response: &Response) -> Vec<String> {
        response
            .errors
            .iter()
            .map(|e| {
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn an_answer_carries_at_most_so_many_errors_then_says_how_many_were_left_out() {
        let errors = |n: usize| -> Vec<ServerError> {
            (0..n)
                .map(|i| ServerError::new(format!("Unknown type \"X{i}\""), None))
                .collect()
        };
        let kept = classify_all(Response::from_errors(errors(3)), 3);
        assert_eq!(kept.errors.len(), 3);
        assert_eq!(kept.errors[2].message, "Unknown type \"X2\"");

        let capped = classify_all(Response::from_errors(errors(10_000)), 3);
        assert_eq!(capped.errors.len(), 4);
        assert_eq!(capped.errors[2].message, "Unknown type \"X2\"");
        assert_eq!(capped.errors[3].message, "9997 more errors were left out");
        assert_eq!(
            capped.errors[3]
                .extensions
                .as_ref()
                .and_then(|x| x.get("leftOut"))
                .cloned(),
            Some(9997usize.into())
        );
        assert_eq!(codes(&capped), vec!["\"GRAPHQL_VALIDATION_FAILED\""; 4]);
        assert!(is_request_error(&capped), "still a request error");
    }

    #[test]
    fn syntax_errors_say_where_without_quoting_the_document() {
        let refused = |text: &str| {
            let e = async_graphql::parser::parse_query(text).expect_err("does not parse");
            parse_error(e)
        };
        let e = refused("{ __typename ");
        assert_eq!(
            e.message,
            "Syntax error at line 1, column 14: expected selection_set, selection, directive, or arguments"
        );
        assert_eq!(
            e.locations,
            [async_graphql::Pos {
                line: 1,
                column: 14
            }]
        );
        let long = format!("{{ a(x: \"{}\" ) }} }}", "y".repeat(100_000));
        let e = refused(&long);
        assert_eq!(
            e.message,
            "Syntax error at line 1, column 100015: expected EOI or executable_definition"
        );
        assert_eq!(
            e.extensions.as_ref().and_then(|x| x.get("code")).cloned(),
            Some(async_graphql::Value::from(code::GRAPHQL_PARSE_FAILED))
        );
    }

    #[test]
    fn field_errors_without_code_are_masked() {
        let mut e = ServerError::new("connection refused at /var/run/x.sock", None)
            .with_path(vec![async_graphql::PathSegment::Field("me".into())]);
        classify(&mut e);
        assert_eq!(e.message, INTERNAL_MESSAGE);
        assert_eq!(
            e.extensions.as_ref().and_then(|x| x.get("code")).cloned(),
            Some(async_graphql::Value::from(code::INTERNAL_SERVER_ERROR))
        );
    }
}
