//! Password hashing with argon2id, off the async runtime.
//!
//! Each hash takes tens of milliseconds of CPU and `argon2_memory_kib` of
//! memory, so it runs on the blocking pool, and a semaphore holds the number
//! running at once to the number of cores: a burst of logins queues instead of
//! starving the runtime or exhausting memory.

use std::sync::Arc;

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an email is
    /// unknown, so that a login takes as long whether or not it exists.
    decoy: Arc<str>,
}

impl Passwords {
    pub async fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut passwords = Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            decoy: Arc::from(""),
        };
        let decoy = passwords
            .hash(uuid::Uuid::now_v7().to_string())
            .await
            .context("hashing the decoy password")?;
        passwords.decoy = Arc::from(decoy);
        Ok(passwords)
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a random salt.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.run(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await
    }

    /// Whether `password` matches `hash`. The hash carries its own
    /// parameters, so hashes made under older settings still verify.
    pub async fn verify(&self, password: String, hash: String) -> anyhow::Result<bool> {
        let params = self.params.clone();
        self.run(move || {
            Ok(Self::argon2(params)
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok())
        })
        .await
    }

    /// Spends the time a real verification would, and says no.
    pub async fn verify_decoy(&self, password: String) -> anyhow::Result<bool> {
        self.verify(password, self.decoy.to_string()).await?;
        Ok(false)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hashing pool closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("password hashing task failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let p = Passwords::new(256, 1).await.expect("params");
        let hash = p.hash("correct horse battery".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{hash}");
        assert!(
            p.verify("correct horse battery".into(), hash.clone())
                .await
                .expect("verify")
        );
        assert!(
            !p.verify("wrong horse battery".into(), hash)
                .await
                .expect("verify")
        );
        assert!(
            !p.verify_decoy("anything at all".into())
                .await
                .expect("decoy")
        );
    }
}
