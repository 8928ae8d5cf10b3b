//! The process's one TLS stack: rustls on ring.

/// Installs ring as rustls's crypto provider, once, before any outbound TLS
/// client is built. Harmless when already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
