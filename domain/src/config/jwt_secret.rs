//! The key that signs access tokens.

use std::{fmt, path::Path, sync::Arc};

use anyhow::{Context, bail};
use rand::RngCore;

/// The shortest secret accepted in production, in bytes.
pub const MIN_LEN: usize = 32;

/// Values that appear in examples and compose files; a production server
/// that finds one of them was deployed without anyone choosing a secret.
const PLACEHOLDERS: [&str; 6] = [
    "change-me",
    "changeme",
    "secret",
    "jwt-secret",
    "roost",
    "dev",
];

const FILE_NAME: &str = "jwt-secret";

/// Bytes of the HMAC key. Never printed: `Debug` shows only its length.
#[derive(Clone)]
pub struct JwtSecret(Arc<[u8]>);

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JwtSecret(<{} bytes>)", self.0.len())
    }
}

impl JwtSecret {
    /// A secret from configuration; production holds it to a minimum.
    pub fn given(secret: String, production: bool) -> anyhow::Result<Self> {
        if production {
            let lowered = secret.trim().to_ascii_lowercase();
            if PLACEHOLDERS.iter().any(|p| lowered.contains(p)) && secret.len() < 64 {
                bail!("JWT_SECRET is a placeholder value; set a random secret in production");
            }
            if secret.len() < MIN_LEN {
                bail!("JWT_SECRET must be at least {MIN_LEN} bytes in production");
            }
        }
        Ok(Self(secret.into_bytes().into()))
    }

    /// Development: a random secret generated on first start and kept in the
    /// data directory, so tokens survive restarts.
    pub fn kept_in(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(FILE_NAME);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let existing = existing.trim().to_owned();
            if existing.len() >= MIN_LEN {
                return Ok(Self(existing.into_bytes().into()));
            }
        }
        std::fs::create_dir_all(data_dir)?;
        let mut bytes = [0u8; 48];
        rand::rng().fill_bytes(&mut bytes);
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
        Ok(Self(secret.into_bytes().into()))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
