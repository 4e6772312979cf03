//! The verified-token cache: a token seen before costs a hash and a comparison instead of a
//! signature verification. Revocation is never cached; the validator checks it on every hit.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;

use siphasher::sip::SipHasher13;

use crate::ids::AccountKey;
use crate::validator::Session;

/// SipHash-1-3 under a secret key: bucket positions an attacker cannot predict or steer.
#[derive(Clone)]
pub struct KeyedState {
    k0: u64,
    k1: u64,
}

impl KeyedState {
    /// A hasher keyed by 16 secret random bytes.
    pub fn new(seed: [u8; 16]) -> Self {
        let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = seed;
        KeyedState {
            k0: u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            k1: u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        }
    }
}

impl std::fmt::Debug for KeyedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedState").finish_non_exhaustive()
    }
}

impl BuildHasher for KeyedState {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.k0, self.k1)
    }
}

/// Passes through a `u64` that is already a keyed hash.
#[derive(Default)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type PreHashedMap<V> = HashMap<u64, V, BuildHasherDefault<PreHashed>>;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hash_depends_on_key() {
        let a = KeyedState::new([1; 16]).hash_one("token");
        let b = KeyedState::new([2; 16]).hash_one("token");
        assert_ne!(a, b);
    }
}
