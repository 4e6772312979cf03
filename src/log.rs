//! The origin side of revocation in memory: accounts, slot allocation, sequence numbers and
//! signed updates. The Durable Object origin keeps the same model in SQLite; this one serves
//! Node backends and tests.

use std::collections::HashMap;

use crate::epochs::{AccountState, OriginAccount};
use crate::error::{Error, LogError, UpdateError};
use crate::ids::{AccountId, AccountKey, DeviceSlot, Epoch};
use crate::keys::PrivateKey;
use crate::update::{Record, Update, UpdateKind};

#[derive(Debug, Default)]
struct Entry {
    account: OriginAccount,
    /// The sequence of the last change viewers must learn (0 when there was none).
    changed_seq: u64,
}

/// Accounts and their revocation state, with a sequence number that grows by one with every
/// change viewers must learn.
#[derive(Debug)]
pub struct RevocationLog {
    key: PrivateKey,
    accounts: HashMap<AccountId, Entry>,
    seq: u64,
}

fn account_id(account: &str) -> Result<AccountId, Error> {
    AccountId::new(account).ok_or_else(|| Error::log(LogError::InvalidAccount, AccountId::RULE))
}

impl RevocationLog {
    /// An empty log at sequence 0 whose updates are signed with `key`.
    pub fn new(key: PrivateKey) -> Self {
        RevocationLog {
            key,
            accounts: HashMap::new(),
            seq: 0,
        }
    }

    /// The sequence of the newest change.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Hands out the next device slot in the account's current epoch.
    pub fn allocate_device(&mut self, account: &str) -> Result<DeviceSlot, Error> {
        let id = account_id(account)?;
        self.accounts
            .entry(id)
            .or_default()
            .account
            .allocate_device()
    }

    /// The account's current epoch (0 for an account the log has never seen).
    pub fn epoch_of(&self, account: &str) -> Result<Epoch, Error> {
        let id = account_id(account)?;
        Ok(self
            .accounts
            .get(&id)
            .map(|e| e.account.state.epoch)
            .unwrap_or_default())
    }

    /// The account's state as viewers must learn it.
    pub fn state_of(&self, account: &str) -> Result<AccountState, Error> {
        let id = account_id(account)?;
        Ok(self
            .accounts
            .get(&id)
            .map(|e| e.account.state.clone())
            .unwrap_or_default())
    }

    /// Signs out every device of the account; returns the new epoch.
    pub fn revoke_all(&mut self, account: &str) -> Result<Epoch, Error> {
        let id = account_id(account)?;
        let entry = self.accounts.entry(id).or_default();
        let epoch = entry.account.revoke_all()?;
        self.seq += 1;
        entry.changed_seq = self.seq;
        Ok(epoch)
    }

    /// Signs out one device of the account's current epoch. Repeating it changes nothing.
    pub fn revoke_device(&mut self, account: &str, device: DeviceSlot) -> Result<(), Error> {
        let id = account_id(account)?;
        let Some(entry) = self.accounts.get_mut(&id) else {
            return Err(Error::log(
                LogError::UnknownDevice,
                format!("account {account:?} has no device slot {}", device.0),
            ));
        };
        if entry.account.revoke_device(device)? {
            self.seq += 1;
            entry.changed_seq = self.seq;
        }
        Ok(())
    }

    /// A signed snapshot of every account with a non-default state.
    pub fn snapshot(&self, now: i64) -> Result<Vec<u8>, Error> {
        self.update(UpdateKind::Snapshot, 0, now)
    }

    /// A signed delta with every account changed after `since`. `since` may not be ahead of the log.
    pub fn delta_since(&self, since: u64, now: i64) -> Result<Vec<u8>, Error> {
        if since > self.seq {
            return Err(Error::update(
                UpdateError::Gap,
                format!("since is {since} but the log is at {}; the viewer is ahead and needs a snapshot", self.seq),
            ));
        }
        self.update(UpdateKind::Delta, since, now)
    }

    fn update(&self, kind: UpdateKind, since: u64, now: i64) -> Result<Vec<u8>, Error> {
        let mut records: Vec<Record> = self
            .accounts
            .iter()
            .filter(|(_, e)| e.changed_seq > since && !e.account.state.is_default())
            .map(|(id, e)| Record {
                account: AccountKey::of(id.as_str()),
                state: e.account.state.clone(),
            })
            .collect();
        records.sort_unstable_by_key(|r| r.account);
        // Two ids sharing a 64-bit key (never seen in practice) travel as one merged, stricter state.
        records.dedup_by(|later, kept| {
            let same = later.account == kept.account;
            if same {
                kept.state.merge(&later.state);
            }
            same
        });
        Update {
            kind,
            from_seq: since,
            seq: self.seq,
            created_at: now,
            records,
        }
        .sign(&self.key)
    }
}
