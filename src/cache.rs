//! The verified-token cache: a token seen before costs a hash and a comparison instead of a
//! signature verification. Revocation is never cached; the validator checks it on every hit.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::hash::{KeyedState, PreHashedMap};
use crate::ids::AccountKey;
use crate::session::Session;

pub(crate) struct Entry {
    token: Box<str>,
    pub(crate) session: Arc<Session>,
    pub(crate) account_key: AccountKey,
}

/// A bounded map from whole tokens to their verified session, evicting the oldest entry first.
pub(crate) struct TokenCache {
    map: PreHashedMap<Entry>,
    order: VecDeque<u64>,
    capacity: usize,
    hasher: KeyedState,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize, hasher: KeyedState) -> Self {
        TokenCache {
            map: PreHashedMap::default(),
            order: VecDeque::new(),
            capacity,
            hasher,
        }
    }

    fn slot(&self, token: &str) -> u64 {
        self.hasher.hash_one(token)
    }

    /// The entry for exactly this token.
    pub(crate) fn get(&self, token: &str) -> Option<&Entry> {
        if self.capacity == 0 {
            return None;
        }
        self.map
            .get(&self.slot(token))
            .filter(|e| &*e.token == token)
    }

    pub(crate) fn remove(&mut self, token: &str) {
        let slot = self.slot(token);
        if self.map.get(&slot).is_some_and(|e| &*e.token == token) {
            self.map.remove(&slot);
        }
    }

    pub(crate) fn insert(&mut self, token: &str, session: Arc<Session>, account_key: AccountKey) {
        if self.capacity == 0 {
            return;
        }
        while self.map.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        let slot = self.slot(token);
        if self
            .map
            .insert(
                slot,
                Entry {
                    token: token.into(),
                    session,
                    account_key,
                },
            )
            .is_none()
        {
            self.order.push_back(slot);
        }
        // Entries removed on expiry leave their slot in `order`; keep it bounded.
        if self.order.len() > 2 * self.capacity {
            let map = &self.map;
            self.order.retain(|s| map.contains_key(s));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
