//! How many WebSockets this instance holds open per client address and per
//! signed-in user, so that neither can take all of them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use uuid::Uuid;

/// Whose sockets are counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    Ip(Arc<str>),
    User(Uuid),
}

/// The counts, shared by every socket of the process. Cheap to clone.
#[derive(Clone, Default)]
pub struct Sockets(Arc<Mutex<HashMap<Holder, usize>>>);

impl Sockets {
    /// Counts one more socket of `holder`, or `None` when it holds `max`
    /// already (`max` 0: no limit). The place is given back when the
    /// [`Slot`] is dropped.
    pub fn admit(&self, holder: Holder, max: usize) -> Option<Slot> {
        let mut counts = self.lock();
        let held = counts.entry(holder.clone()).or_default();
        if max > 0 && *held >= max {
            return None;
        }
        *held += 1;
        Some(Slot {
            sockets: self.clone(),
            holder,
        })
    }

    /// Sockets `holder` holds now.
    pub fn held(&self, holder: &Holder) -> usize {
        self.lock().get(holder).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Holder, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One counted socket.
pub struct Slot {
    sockets: Sockets,
    holder: Holder,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.sockets.lock();
        if let Some(held) = counts.get_mut(&self.holder) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                counts.remove(&self.holder);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_gets_its_maximum_and_places_come_back() {
        let sockets = Sockets::default();
        let ip = Holder::Ip("10.0.0.1".into());
        let first = sockets.admit(ip.clone(), 2).expect("first");
        let _second = sockets.admit(ip.clone(), 2).expect("second");
        assert!(sockets.admit(ip.clone(), 2).is_none());
        assert!(sockets.admit(Holder::Ip("10.0.0.2".into()), 2).is_some());
        drop(first);
        assert_eq!(sockets.held(&ip), 1);
        assert!(sockets.admit(ip.clone(), 2).is_some());
        let unlimited: Vec<_> = (0..5)
            .filter_map(|_| sockets.admit(Holder::User(Uuid::nil()), 0))
            .collect();
        assert_eq!(unlimited.len(), 5);
        drop(unlimited);
        assert_eq!(sockets.held(&Holder::User(Uuid::nil())), 0);
        assert!(
            sockets
                .0
                .lock()
                .expect("lock")
                .get(&Holder::User(Uuid::nil()))
                .is_none()
        );
    }
}
