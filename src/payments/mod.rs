//! Payments: the provider interface and its two implementations, the
//! settlement of payments, and the Stripe webhook.

pub mod provider;
pub mod service;
pub mod signature;
pub mod simulated;
pub mod stripe;
pub mod webhook;

pub use provider::Provider;
pub use service::PaymentService;
