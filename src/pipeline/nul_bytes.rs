//! Text may not contain NUL characters: PostgreSQL cannot store them, and no
//! name, message or search needs one. Refused once for every input, as
//! BAD_USER_INPUT naming where it was, before anything runs.

use async_graphql::{Name, Request, ServerResult, Value};

use crate::error::{code, request_error};

/// The path of the first string under `value` that holds a NUL.
fn find(value: &Value, path: &mut Vec<String>) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().enumerate().any(|(i, v)| {
            path.push(i.to_string());
            let found = find(v, path);
            if !found {
                path.pop();
            }
            found
        }),
        Value::Object(fields) => fields.iter().any(|(k, v): (&Name, &Value)| {
            path.push(k.to_string());
            let found = find(v, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

fn refuse(field: String) -> async_graphql::ServerError {
    let mut e = request_error(
        "Text may not contain NUL (\\u0000) characters",
        code::BAD_USER_INPUT,
    );
    e.extensions
        .get_or_insert_with(Default::default)
        .set("field", field);
    e
}

/// Refuses a NUL in the document or in any variable.
pub(super) fn check(request: &Request) -> ServerResult<()> {
    // In the document: a raw NUL, or the escape that makes one.
    let q = &request.query;
    if q.contains('\0') || q.to_ascii_lowercase().contains("\\u0000") || q.contains("\\u{0}") {
        return Err(refuse("query".into()));
    }
    for (name, value) in request.variables.iter() {
        let mut path = vec![name.to_string()];
        if find(value, &mut path) {
            return Err(refuse(path.join(".")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_to_the_nul_is_found() {
        let v =
            Value::from_json(serde_json::json!({ "a": ["x", { "b": "c\u{0}" }] })).expect("value");
        let mut path = vec!["f".to_owned()];
        assert!(find(&v, &mut path));
        assert_eq!(path.join("."), "f.a.1.b");
        let clean = Value::from_json(serde_json::json!({ "a": ["x"] })).expect("value");
        assert!(!find(&clean, &mut vec![]));
    }
}
