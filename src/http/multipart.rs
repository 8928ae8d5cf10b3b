//! `multipart/form-data` requests (the GraphQL multipart request spec), read
//! as they arrive with every bound checked on the way (docs/SECURITY.md, Every bound):
//!
//! - the parts come in the spec's order: `operations`, then `map`, then the
//!   files; `operations` and `map` are at most [`MAX_JSON_PART`] each;
//! - `map` names at most [`MAX_FILES`] files and at most [`MAX_PLACES`]
//!   places to put them; a part it does not name, or a second part of one
//!   name, is refused as soon as its headers arrive, so a request can never
//!   bring more than [`MAX_FILES`] files;
//! - each file is at most [`MAX_FILE`], and the whole request at most
//!   [`MAX_REQUEST`]; beyond, the request is answered 413 while the rest is
//!   still on its way;
//! - a named file goes to a temporary file as it arrives (nothing is opened
//!   for any other part); each place it is put gets a handle of its own,
//!   read from the start, and the file's name is removed at once, so a
//!   request holds at most [`MAX_PLACES`] open descriptors, and nothing is
//!   left on disk when they close.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_graphql::{BatchRequest, UploadValue};
use axum::{body::Body, http::StatusCode};
use futures_util::StreamExt;
use multer::{Constraints, Multipart, SizeLimit};
use tokio::io::AsyncWriteExt;

use super::graphql::MAX_BATCH;

/// `operations`, and `map`.
pub const MAX_JSON_PART: usize = 1024 * 1024;
/// One uploaded file.
pub const MAX_FILE: usize = 10 * 1024 * 1024;
/// Files per request.
pub const MAX_FILES: usize = 4;
/// Places in the operations that files are put (a file may go to several).
pub const MAX_PLACES: usize = MAX_BATCH;
/// A whole multipart request: its files and both JSON parts.
pub const MAX_REQUEST: usize = MAX_FILES * MAX_FILE + MAX_JSON_PART;
/// What may arrive while a part's headers are awaited: the boundary, the
/// headers, and the first of its data read with them. multer looks for the
/// end of the headers from the start of what it holds each time more
/// arrives, so this also bounds that work.
const MAX_PART_HEAD: usize = 1024 * 1024;

/// The headers of a part went on past [`MAX_PART_HEAD`].
#[derive(Debug)]
struct PartHeadTooLong;

impl std::fmt::Display for PartHeadTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a part's headers are too long")
    }
}

impl std::error::Error for PartHeadTooLong {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a multipart request was refused: its status and message.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
}

fn bad(message: impl Into<String>) -> Refused {
    Refused {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    }
}

fn too_large(message: impl Into<String>) -> Refused {
    Refused {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: message.into(),
    }
}

const MIB: usize = 1024 * 1024;

impl From<multer::Error> for Refused {
    fn from(e: multer::Error) -> Self {
        match e {
            multer::Error::FieldSizeExceeded { field_name, .. } => match field_name.as_deref() {
                Some(name @ ("operations" | "map")) => too_large(format!(
                    "`{name}` may be at most {} MiB",
                    MAX_JSON_PART / MIB
                )),
                _ => too_large(format!(
                    "Each uploaded file may be at most {} MiB",
                    MAX_FILE / MIB
                )),
            },
            multer::Error::StreamSizeExceeded { .. } => too_large(format!(
                "A multipart request may be at most {} MiB",
                MAX_REQUEST / MIB
            )),
            multer::Error::StreamReadFailed(e) if e.is::<PartHeadTooLong>() => too_large(format!(
                "A part's headers may be at most {} MiB",
                MAX_PART_HEAD / MIB
            )),
            e => bad(format!("Invalid multipart request: {e}")),
        }
    }
}

/// Reads a multipart request into the operations it carries, their files
/// in place. `content_type` is the request's, with its boundary.
pub async fn receive(content_type: &str, body: Body) -> Result<BatchRequest, Refused> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| bad("A multipart request needs a boundary in its Content-Type"))?;
    let limits = SizeLimit::new()
        .whole_stream(MAX_REQUEST as u64)
        .per_field(MAX_FILE as u64)
        .for_field("operations", MAX_JSON_PART as u64)
        .for_field("map", MAX_JSON_PART as u64);
    // usize::MAX while a part's data is read; otherwise what may still
    // arrive before its headers end.
    let head_budget = Arc::new(AtomicUsize::new(usize::MAX));
    let budget = head_budget.clone();
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(BoxError::from)?;
        let spent = budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            (left == usize::MAX)
                .then_some(left)
                .or(left.checked_sub(chunk.len()))
        });
        match spent {
            Ok(_) => Ok(chunk),
            Err(_) => Err(BoxError::from(PartHeadTooLong)),
        }
    });
    let mut multipart =
        Multipart::with_constraints(stream, boundary, Constraints::new().size_limit(limits));
    let mut parts = Parts {
        multipart: &mut multipart,
        head_budget,
    };

    let operations = parts.expect("operations").await?;
    let mut batch = super::graphql::parse_json_body(&operations.bytes().await?).map_err(bad)?;
    let map = parts.expect("map").await?;
    let mut map = parse_map(&map.bytes().await?)?;

    let mut files = Vec::new();
    while let Some(mut field) = parts.next().await? {
        let name = field.name().unwrap_or_default().to_owned();
        let Some(places) = map.remove(&name) else {
            return Err(bad(format!(
                "The part {name:?} is not named in `map` (or comes twice); \
                 every part after `map` must be a file it names"
            )));
        };
        let filename = field.file_name().unwrap_or(&name).to_owned();
        let content_type = field.content_type().map(ToString::to_string);
        let named = tempfile::NamedTempFile::new().map_err(|e| temp_failed(&e))?;
        let mut file = tokio::fs::File::from_std(named.reopen().map_err(|e| temp_failed(&e))?);
        while let Some(chunk) = field.chunk().await? {
            file.write_all(&chunk).await.map_err(|e| temp_failed(&e))?;
        }
        file.flush().await.map_err(|e| temp_failed(&e))?;
        drop(file.into_std().await);
        // One handle per place, each with its own position: a resolver
        // reading one does not move another's.
        for place in places {
            let upload = UploadValue {
                filename: filename.clone(),
                content_type: content_type.clone(),
                content: named.reopen().map_err(|e| temp_failed(&e))?,
            };
            files.push((upload, place));
        }
    }
    if let Some(name) = map.keys().next() {
        return Err(bad(format!(
            "`map` names the file {name:?}, which the request does not carry"
        )));
    }
    for (upload, place) in files {
        put(&mut batch, upload, &place)?;
    }
    Ok(batch)
}

/// The parts of a request, each one's headers read within
/// [`MAX_PART_HEAD`].
struct Parts<'m, 'a> {
    multipart: &'m mut Multipart<'a>,
    head_budget: Arc<AtomicUsize>,
}

impl<'a> Parts<'_, 'a> {
    async fn next(&mut self) -> Result<Option<multer::Field<'a>>, Refused> {
        self.head_budget.store(MAX_PART_HEAD, Ordering::Relaxed);
        let field = self.multipart.next_field().await;
        self.head_budget.store(usize::MAX, Ordering::Relaxed);
        Ok(field?)
    }

    /// The next part, which must be `name`.
    async fn expect(&mut self, name: &str) -> Result<multer::Field<'a>, Refused> {
        match self.next().await? {
            Some(field) if field.name() == Some(name) => Ok(field),
            _ => Err(bad(format!(
                "Expected the part `{name}` here: a multipart request sends \
                 `operations`, then `map`, then the files"
            ))),
        }
    }
}

/// `{"<part name>": ["<place>", ...], ...}`, within the bounds.
fn parse_map(bytes: &[u8]) -> Result<HashMap<String, Vec<String>>, Refused> {
    let map: HashMap<String, Vec<String>> = serde_json::from_slice(bytes).map_err(|e| {
        bad(format!(
            "`map` must be a JSON object of part names to lists of places: {e}"
        ))
    })?;
    if map.len() > MAX_FILES {
        return Err(bad(format!(
            "A request may carry at most {MAX_FILES} files; `map` names {}",
            map.len()
        )));
    }
    let places: usize = map.values().map(Vec::len).sum();
    if places > MAX_PLACES {
        return Err(bad(format!(
            "`map` may name at most {MAX_PLACES} places for files; it names {places}"
        )));
    }
    if let Some((name, _)) = map.iter().find(|(_, places)| places.is_empty()) {
        return Err(bad(format!("`map` names no place for the file {name:?}")));
    }
    Ok(map)
}

/// Puts a file at its place (`variables.<path>` in a single operation,
/// `<index>.variables.<path>` in a batch).
fn put(batch: &mut BatchRequest, upload: UploadValue, place: &str) -> Result<(), Refused> {
    let (request, path) = match batch {
        BatchRequest::Single(request) => (Some(request), place),
        BatchRequest::Batch(requests) => {
            let (index, path) = place.split_once('.').unwrap_or((place, ""));
            let request = index
                .parse::<usize>()
                .ok()
                .and_then(|i| requests.get_mut(i));
            (request, path)
        }
    };
    match request {
        Some(request) if path.starts_with("variables.") => {
            request.set_upload(path, upload);
            Ok(())
        }
        _ => Err(bad(format!(
            "`map` names the place {place:?}, which is not in the operations' variables"
        ))),
    }
}

/// The temporary file for an upload could not be written: the server's
/// fault, not the client's.
fn temp_failed(e: &std::io::Error) -> Refused {
    tracing::error!(error = %e, "writing an upload to a temporary file failed");
    Refused {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "The upload could not be stored for processing; try again".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_bounded() {
        assert!(parse_map(br#"{"0":["variables.f"]}"#).is_ok());
        let five = r#"{"0":["variables.a"],"1":["variables.b"],"2":["variables.c"],"3":["variables.d"],"4":["variables.e"]}"#;
        assert!(
            parse_map(five.as_bytes())
                .expect_err("five files")
                .message
                .contains("at most 4 files")
        );
        let places = format!(
            r#"{{"0":[{}]}}"#,
            [r#""variables.f""#; MAX_PLACES + 1].join(",")
        );
        assert!(
            parse_map(places.as_bytes())
                .expect_err("too many places")
                .message
                .contains("at most 10 places")
        );
        assert!(parse_map(br#"{"0":[]}"#).is_err());
        assert!(parse_map(br#"["variables.f"]"#).is_err());
    }
}
