//! Where photos are kept.

use std::path::PathBuf;

use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub photos_dir: PathBuf,
    pub s3: Option<S3Config>,
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// For S3-compatible services (MinIO, R2, ...); unset means AWS.
    pub endpoint: Option<String>,
    pub access_key_id: Option<SecretString>,
    pub secret_access_key: Option<SecretString>,
    /// Where the bucket's files are publicly readable; unset means they are
    /// served through this server.
    pub public_url: Option<String>,
}
