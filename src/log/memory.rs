//! [`MemoryStore`]: the revocation log's state in a map, for Node backends and tests.

use std::collections::HashMap;

use super::RevocationStore;
use crate::{AccountId, AccountState, Error, OriginAccount};

/// Revocation state in memory: per account its origin-side state and the sequence of its last
/// visible change, and the log's sequence. It never fails.
#[derive(Debug, Default)]
pub struct MemoryStore {
    accounts: HashMap<AccountId, (OriginAccount, u64)>,
    seq: u64,
}

impl MemoryStore {
    /// An empty store at sequence 0.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// How many accounts were ever saved.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account was ever saved.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

impl RevocationStore for MemoryStore {
    type Error = Error;

    fn seq(&self) -> Result<u64, Error> {
        Ok(self.seq)
    }

    fn load(&self, account: &AccountId) -> Result<Option<OriginAccount>, Error> {
        Ok(self.accounts.get(account).map(|(state, _)| state.clone()))
    }

    fn save(
        &mut self,
        account: &AccountId,
        state: &OriginAccount,
        changed: Option<u64>,
    ) -> Result<(), Error> {
        let entry = match self.accounts.get_mut(account) {
            Some(entry) => entry,
            None => self
                .accounts
                .entry(account.clone())
                .or_insert_with(|| (OriginAccount::default(), 0)),
        };
        entry.0.clone_from(state);
        if let Some(seq) = changed {
            entry.1 = seq;
            self.seq = seq;
        }
        Ok(())
    }

    fn changed_since(&self, since: u64) -> Result<Vec<(AccountId, AccountState)>, Error> {
        Ok(self
            .accounts
            .iter()
            .filter(|(_, (_, changed))| *changed > since)
            .map(|(id, (state, _))| (id.clone(), state.state.clone()))
            .collect())
    }
}
