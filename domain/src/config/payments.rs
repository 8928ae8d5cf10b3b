//! The payment provider and outgoing email.

use secrecy::SecretString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Simulated,
    Stripe,
}

#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    pub provider: ProviderKind,
    pub stripe_secret_key: Option<SecretString>,
    pub stripe_webhook_secret: Option<SecretString>,
    pub stripe_api_base: String,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub smtp_url: Option<SecretString>,
    pub from: String,
}
