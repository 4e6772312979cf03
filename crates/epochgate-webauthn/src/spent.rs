//! Single use of challenges: the one piece of state WebAuthn verification needs.
//!
//! A challenge is stateless until it is answered; the nonce is spent as the very last step of a
//! ceremony that passed every other check, so a refused attempt never burns a challenge and a
//! replay of an accepted one is `challenge_replayed`. A record may be forgotten once its
//! challenge has expired, since [`Challenge::open`](crate::Challenge::open) refuses it by then.

use std::collections::BTreeMap;

/// Where spent nonces are kept (the origin: a SQLite table in the account's shard).
pub trait SpentChallenges {
    /// Why the store could not answer.
    type Error;

    /// Records `nonce` as spent, returning `false` if it already was. `expires_at` is when the
    /// record may be dropped.
    fn spend(&mut self, nonce: [u8; 16], expires_at: i64) -> Result<bool, Self::Error>;
}

impl<S: SpentChallenges + ?Sized> SpentChallenges for &mut S {
    type Error = S::Error;

    fn spend(&mut self, nonce: [u8; 16], expires_at: i64) -> Result<bool, Self::Error> {
        (**self).spend(nonce, expires_at)
    }
}

/// Spent nonces in memory, for tests and for JS hosts that keep their own process alive.
#[derive(Clone, Debug, Default)]
pub struct MemorySpent {
    spent: BTreeMap<[u8; 16], i64>,
}

impl MemorySpent {
    /// An empty store.
    pub fn new() -> MemorySpent {
        MemorySpent::default()
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.spent.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.spent.is_empty()
    }

    /// Forgets nonces whose challenges expired before `now`; they can no longer open anyway.
    pub fn prune(&mut self, now: i64) {
        self.spent.retain(|_, expires_at| *expires_at >= now);
    }
}

impl SpentChallenges for MemorySpent {
    type Error = core::convert::Infallible;

    fn spend(&mut self, nonce: [u8; 16], expires_at: i64) -> Result<bool, Self::Error> {
        Ok(self.spent.insert(nonce, expires_at).is_none())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spends_once_and_prunes_expired() {
        let mut spent = MemorySpent::new();
        assert_eq!(spent.spend([1; 16], 100), Ok(true));
        assert_eq!(spent.spend([1; 16], 100), Ok(false));
        assert_eq!(spent.spend([2; 16], 200), Ok(true));
        spent.prune(100);
        assert_eq!(spent.len(), 2);
        spent.prune(101);
        assert_eq!(spent.len(), 1);
        assert_eq!(spent.spend([2; 16], 200), Ok(false));
    }
}
