//! [`MemoryStore`]: the revocation log's state in a map, for Node backends and tests.

use std::collections::HashMap;

use super::RevocationStore;
use crate::{AccountId, AccountState, Error, OriginAccount};

/// Revocation state in memory: per account its origin-side state, the sequence of its last
/// visible change and that change's stamped time, the log's sequence and the last stamped one.
/// It never fails.
#[derive(Debug, Default)]
pub struct MemoryStore {
    accounts: HashMap<AccountId, Row>,
    seq: u64,
    stamped: u64,
}

#[derive(Debug, Default)]
struct Row {
    state: OriginAccount,
    changed_seq: u64,
    changed_at: i64,
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
        Ok(self.accounts.get(account).map(|row| row.state.clone()))
    }

    fn save(
        &mut self,
        account: &AccountId,
        state: &OriginAccount,
        changed: Option<u64>,
    ) -> Result<(), Error> {
        let entry = match self.accounts.get_mut(account) {
            Some(entry) => entry,
            None => self.accounts.entry(account.clone()).or_default(),
        };
        entry.state.clone_from(state);
        if let Some(seq) = changed {
            entry.changed_seq = seq;
            self.seq = seq;
        }
        Ok(())
    }

    fn stamp(&mut self, at: i64) -> Result<(), Error> {
        if self.stamped < self.seq {
            for row in self.accounts.values_mut() {
                if row.changed_seq > self.stamped {
                    row.changed_at = at;
                }
            }
            self.stamped = self.seq;
        }
        Ok(())
    }

    fn changed_since(
        &self,
        since: u64,
        not_before: i64,
    ) -> Result<Vec<(AccountId, AccountState)>, Error> {
        Ok(self
            .accounts
            .iter()
            .filter(|(_, row)| {
                row.changed_seq > since
                    && (row.changed_seq > self.stamped || row.changed_at >= not_before)
            })
            .map(|(id, row)| (id.clone(), row.state.state.clone()))
            .collect())
    }

    fn changed_at(&self, seq: u64) -> Result<Option<i64>, Error> {
        Ok(self
            .accounts
            .values()
            .filter(|row| row.changed_seq >= 1 && row.changed_seq <= seq.min(self.stamped))
            .max_by_key(|row| row.changed_seq)
            .map(|row| row.changed_at))
    }

    fn changed_between(&self, from: i64, before: i64) -> Result<Vec<AccountId>, Error> {
        Ok(self
            .accounts
            .iter()
            .filter(|(_, row)| {
                row.changed_seq >= 1
                    && row.changed_seq <= self.stamped
                    && (from..before).contains(&row.changed_at)
            })
            .map(|(id, _)| id.clone())
            .collect())
    }
}
