//! Notifications: what users are told about, recorded in the transaction of
//! the change they report, announced live on the event bus, emailed by the
//! worker, and listed by `notifications`.

pub mod email;
pub mod inbox;
pub mod queries;
pub mod service;
pub mod subscriptions;
pub mod types;

pub use inbox::NotificationService;
pub use queries::{NotificationMutation, NotificationQuery};
pub use service::{Kind, NewNotification, Recorded, announce, record};
pub use subscriptions::NotificationSubscription;
pub use types::Notification;
