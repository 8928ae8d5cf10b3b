//! Where uploaded files live: a folder under the data directory by default,
//! an S3-compatible bucket when configured (so that instances without a
//! shared disk see the same files). Both through `object_store`.
//!
//! Files are served at `<public url>/photos/<key>` by this server (from the
//! folder or the bucket), or straight from the bucket's public URL when one
//! is configured.

use std::sync::Arc;

use anyhow::Context;
use axum::{
    body::Body,
    extract::{Path as UrlPath, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem,
    path::Path,
};
use secrecy::ExposeSecret;

use crate::state::AppState;

use domain::config::StorageConfig;

pub const PHOTOS_ROUTE: &str = "/photos";

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Base of the URLs clients get, without a trailing slash.
    public_base: String,
}

impl Storage {
    /// `server_url` is this server's public URL, used when the files are
    /// served through it.
    pub fn new(config: &StorageConfig, server_url: &str) -> anyhow::Result<Self> {
        let served_here = format!("{}{PHOTOS_ROUTE}", server_url.trim_end_matches('/'));
        match &config.s3 {
            Some(s3) => {
                domain::infra::tls::install_crypto_provider();
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id.expose_secret())
                        .with_secret_access_key(secret.expose_secret());
                }
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let store = builder
                    .build()
                    .context("configuring the S3 bucket (ROOST_S3_*)")?;
                Ok(Self {
                    store: Arc::new(store),
                    public_base: s3
                        .public_url
                        .clone()
                        .map_or(served_here, |u| u.trim_end_matches('/').to_owned()),
                })
            }
            None => {
                std::fs::create_dir_all(&config.photos_dir).with_context(|| {
                    format!(
                        "could not create ROOST_PHOTOS_DIR {}",
                        config.photos_dir.display()
                    )
                })?;
                let store = LocalFileSystem::new_with_prefix(&config.photos_dir)
                    .context("opening ROOST_PHOTOS_DIR")?;
                Ok(Self {
                    store: Arc::new(store),
                    public_base: served_here,
                })
            }
        }
    }

    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        let path = Path::parse(key).context("storage key")?;
        self.store
            .put(&path, PutPayload::from_bytes(bytes))
            .await
            .context("storing a file")?;
        Ok(())
    }

    /// A stored file, to be read as it comes (a file is never held whole in
    /// memory to be served), and its size.
    pub async fn open(&self, key: &str) -> anyhow::Result<Option<StoredFile>> {
        let Ok(path) = Path::parse(key) else {
            return Ok(None);
        };
        match self.store.get(&path).await {
            Ok(found) => Ok(Some(StoredFile {
                size: found.meta.size,
                bytes: found.into_stream(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context("reading a file")),
        }
    }

    /// Deletes a file; a failure is logged, not returned: the row that
    /// pointed at it is already gone, and an orphaned file harms no one.
    pub async fn delete(&self, key: &str) {
        let Ok(path) = Path::parse(key) else {
            return;
        };
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(key, error = %e, "could not delete a stored file"),
        }
    }
}

/// A stored file on its way out.
pub struct StoredFile {
    pub size: u64,
    pub bytes: BoxStream<'static, object_store::Result<Bytes>>,
}

/// The content type of a stored file, from the extension we gave it.
fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
}

/// `GET /photos/<key>`: a stored file. Keys never change meaning (a new
/// photo gets a new key), so clients and CDNs may cache them for good.
pub async fn serve(State(state): State<AppState>, UrlPath(key): UrlPath<String>) -> Response {
    match state.storage.open(&key).await {
        Ok(Some(file)) => (
            [
                (header::CONTENT_LENGTH, HeaderValue::from(file.size)),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&key)),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            Body::from_stream(file.bytes),
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "serving a stored file failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
