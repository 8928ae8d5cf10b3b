//! Bounds on a document's size (docs/SECURITY.md, Every bound), checked before the
//! walks and the validation whose work and errors grow with it.
//!
//! A JSON body of 1 MiB holds about 300,000 GraphQL tokens. Validation
//! reports each unknown argument, each unused fragment, each undefined
//! type, one by one: 115,000 variable definitions of an unknown type were
//! 345,000 errors, a 44 MB answer and most of a gigabyte of memory, and two
//! copies of one field with 50,000 unknown arguments kept a core busy for
//! 23 seconds (async-graphql compares the arguments of fields that share a
//! name pairwise). So, before anything parses the text, its tokens are
//! counted (a lexical scan, no allocation), and after it parses, each
//! operation's variable definitions: past either bound the request is
//! refused with what was counted and the limit.

use async_graphql::{ServerResult, parser::types::ExecutableDocument};

use crate::error::{code, request_error, too_complex};

/// The lexical tokens of `text` as the GraphQL spec defines them: names,
/// numbers, strings (block strings too) and punctuators, each one token;
/// white space, commas and comments are not tokens. A character that
/// starts no token counts as one: the parser refuses it anyway.
pub fn tokens(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => continue,
            b'#' => {
                while bytes.get(i).is_some_and(|c| *c != b'\n' && *c != b'\r') {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes.get(i..i + 2) == Some(b"\"\"") => {
                i += 2;
                i = end_of_block_string(bytes, i);
            }
            b'"' => {
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    match c {
                        b'\\' => i += 1,
                        b'"' | b'\n' | b'\r' => break,
                        _ => {}
                    }
                }
            }
            b'.' if bytes.get(i..i + 2) == Some(b"..") => i += 2,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => {
                // Names and numbers (`-1.5e3`) run until a punctuator or a
                // space.
                while bytes.get(i).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-')
                }) {
                    if bytes.get(i..i + 3) == Some(b"...") {
                        break;
                    }
                    i += 1;
                }
            }
            // The byte order mark: ignored, like white space.
            0xEF if bytes.get(i..i + 2) == Some(&[0xBB, 0xBF]) => {
                i += 2;
                continue;
            }
            _ => {}
        }
        count += 1;
    }
    count
}

/// Where the block string whose text starts at `i` ends: after its closing
/// `"""` (an escaped `\"""` does not close it), or at the end of the text.
fn end_of_block_string(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&c) = bytes.get(i) {
        if c == b'\\' && bytes.get(i + 1..i + 4) == Some(b"\"\"\"") {
            i += 4;
        } else if c == b'"' && bytes.get(i..i + 3) == Some(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    i
}

/// QUERY_TOO_COMPLEX (with `tokens` and `limit`) for a text of more than
/// `max` tokens.
pub(super) fn check_tokens(text: &str, max: usize) -> ServerResult<()> {
    let tokens = tokens(text);
    if tokens > max {
        return Err(too_complex(
            format!("The document has {tokens} tokens; at most {max} are allowed"),
            "tokens",
            tokens,
            max,
        ));
    }
    Ok(())
}

/// GRAPHQL_VALIDATION_FAILED (with `variables` and `limit`) for an
/// operation that defines more than `max` variables: like a variable that
/// is never used, a document the server will not run, whatever its
/// values.
pub(super) fn check_variables(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    for (_, operation) in doc.operations.iter() {
        let defined = operation.node.variable_definitions.len();
        if defined > max {
            let mut e = request_error(
                format!("The operation defines {defined} variables; at most {max} are allowed"),
                code::GRAPHQL_VALIDATION_FAILED,
            );
            e.locations = vec![operation.pos];
            let extensions = e.extensions.get_or_insert_with(Default::default);
            extensions.set("variables", defined);
            extensions.set("limit", max);
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_as_the_spec_defines_them() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("{ me { id } }"), 6);
        // Commas, white space and comments are not tokens.
        assert_eq!(tokens("{ a, b,,, c }  # a comment { x y z }\n"), 5);
        // $ name : name ! = number, and a spread is one token.
        assert_eq!(
            tokens("query($n: Int! = -1.5e3) { ...F }"),
            // query ( $ n : Int ! = -1.5e3 ) { ... F }
            14
        );
        assert_eq!(tokens("{...F}"), 4);
        assert_eq!(tokens("{ a(x: 1...F) }"), 10, "1 then ... then F");
        // A string is one token, whatever it holds.
        assert_eq!(tokens(r#"{ a(s: "x { y } \" z # w") }"#), 8);
        assert_eq!(tokens("{ a(s: \"\"\"x\n\\\"\"\" { y } \"\"\") }"), 8);
        // An unterminated string ends the count.
        assert_eq!(tokens("{ a(s: \"abc"), 6);
        assert_eq!(tokens("\u{feff}{ a }"), 3);
    }

    #[test]
    fn a_variable_flood_costs_four_tokens_a_definition() {
        let flood: String = (0..1_000).map(|i| format!("$v{i}:X ")).collect();
        let text = format!("query({flood}){{__typename}}");
        assert_eq!(tokens(&text), 4 * 1_000 + 6);
        let e = check_tokens(&text, 4_000).expect_err("over");
        let extensions = e.extensions.expect("extensions");
        assert_eq!(extensions.get("tokens"), Some(&4_006usize.into()));
        assert_eq!(extensions.get("limit"), Some(&4_000usize.into()));
        assert!(check_tokens(&text, 4_006).is_ok());
    }

    #[test]
    fn each_operation_may_define_so_many_variables() {
        let operation = |n: usize| {
            let defs: String = (0..n).map(|i| format!("$v{i}: Int ")).collect();
            format!("query Q{n}({defs}) {{ __typename }}")
        };
        let doc = |text: &str| async_graphql::parser::parse_query(text).expect("parses");
        assert!(check_variables(&doc(&operation(100)), 100).is_ok());
        assert!(check_variables(&doc("{ __typename }"), 100).is_ok());
        let two = format!("{} {}", operation(3), operation(101));
        let e = check_variables(&doc(&two), 100).expect_err("over");
        assert_eq!(
            e.message,
            "The operation defines 101 variables; at most 100 are allowed"
        );
        let extensions = e.extensions.expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&code::GRAPHQL_VALIDATION_FAILED.into())
        );
        assert_eq!(extensions.get("variables"), Some(&101usize.into()));
    }
}
