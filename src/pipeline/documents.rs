//! Parsed documents, kept by their text. Clients send the same few
//! operations over and over (an app has a fixed set, with different
//! variables), and parsing one costs more than running a search page's
//! statement: about a tenth of a search page's CPU went to the parser. A
//! text seen before is handed to async-graphql already parsed; everything
//! after parsing (the document checks, validation, limits) still runs on
//! every request. Each request gets its own copy (async-graphql edits the
//! document it runs: `@skip` and `@include` by the request's variables).
//!
//! Bounded by documents and by the bytes of their texts (a parsed document
//! takes several times its text), so texts a client makes up cannot grow
//! it: the least recently used go first. A text that does not parse is not
//! kept.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard},
};

use async_graphql::parser::{self, parse_query, types::ExecutableDocument};
use lru::LruCache;

/// Documents kept.
const MAX_DOCUMENTS: usize = 1_000;
/// Bytes of text kept, all documents together.
const MAX_TEXT_BYTES: usize = 1 << 20;
/// Longer texts are parsed each time and not kept.
const MAX_ONE_TEXT: usize = 16 * 1024;

#[derive(Clone)]
pub struct ParsedDocuments(Arc<Mutex<Kept>>);

struct Kept {
    documents: LruCache<Box<str>, Arc<ExecutableDocument>>,
    text_bytes: usize,
    max_text_bytes: usize,
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self::bounded(MAX_DOCUMENTS, MAX_TEXT_BYTES)
    }
}

impl ParsedDocuments {
    fn bounded(max_documents: usize, max_text_bytes: usize) -> Self {
        Self(Arc::new(Mutex::new(Kept {
            documents: LruCache::new(NonZeroUsize::new(max_documents).unwrap_or(NonZeroUsize::MIN)),
            text_bytes: 0,
            max_text_bytes,
        })))
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        // A panic elsewhere while holding the lock leaves a consistent map.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The document `text` holds: the kept one, or a fresh parse that is
    /// then kept.
    pub(super) fn parse(&self, text: &str) -> Result<Arc<ExecutableDocument>, parser::Error> {
        if text.len() > MAX_ONE_TEXT {
            return parse_query(text).map(Arc::new);
        }
        if let Some(doc) = self.kept().documents.get(text) {
            return Ok(doc.clone());
        }
        let doc = Arc::new(parse_query(text)?);
        self.keep(text, doc.clone());
        Ok(doc)
    }

    fn keep(&self, text: &str, doc: Arc<ExecutableDocument>) {
        let mut kept = self.kept();
        if let Some((old, _)) = kept.documents.push(text.into(), doc) {
            kept.text_bytes -= old.len();
        }
        kept.text_bytes += text.len();
        while kept.text_bytes > kept.max_text_bytes {
            match kept.documents.pop_lru() {
                Some((old, _)) => kept.text_bytes -= old.len(),
                None => break,
            }
        }
    }

    #[cfg(test)]
    fn texts(&self) -> Vec<String> {
        self.kept()
            .documents
            .iter()
            .map(|(text, _)| text.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(docs: &ParsedDocuments, text: &str) -> Option<Arc<ExecutableDocument>> {
        docs.parse(text).ok()
    }

    #[test]
    fn a_text_is_parsed_once_and_handed_out_again() {
        let docs = ParsedDocuments::default();
        let first = parsed(&docs, "{ me { id } }").expect("parses");
        let again = parsed(&docs, "{ me { id } }").expect("parses");
        assert!(Arc::ptr_eq(&first, &again), "the kept document");
        assert_eq!(docs.texts(), vec!["{ me { id } }"]);
    }

    #[test]
    fn a_text_that_does_not_parse_is_not_kept() {
        let docs = ParsedDocuments::default();
        let error = docs.parse("{ me { id }").expect_err("a parse error");
        assert!(error.to_string().contains("expected"), "{error}");
        assert!(docs.texts().is_empty());
    }

    #[test]
    fn bounded_in_documents_and_in_bytes_least_recently_used_first() {
        let docs = ParsedDocuments::bounded(2, 1 << 20);
        parsed(&docs, "{ a }");
        parsed(&docs, "{ b }");
        parsed(&docs, "{ a }");
        parsed(&docs, "{ c }");
        assert_eq!(
            docs.texts(),
            vec!["{ c }", "{ a }"],
            "b was the least recent"
        );

        let docs = ParsedDocuments::bounded(100, 12);
        parsed(&docs, "{ a }");
        parsed(&docs, "{ b }");
        parsed(&docs, "{ c }");
        assert_eq!(docs.texts(), vec!["{ c }", "{ b }"], "15 bytes are over 12");
        assert_eq!(docs.kept().text_bytes, 10);

        let long = format!("{{ {} }}", "a ".repeat(MAX_ONE_TEXT));
        assert!(parsed(&docs, &long).is_some(), "parsed all the same");
        assert_eq!(docs.texts().len(), 2, "a text over the limit is not kept");
    }
}
