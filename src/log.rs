//! The origin side of revocation: accounts, device slots, sequence numbers and signed updates.
//!
//! The rules live here once, whatever keeps the state: which change is visible to viewers and
//! takes the next sequence number, snapshot or delta, a `since` ahead of the log, and the order
//! and merging of records. A [`RevocationStore`] only stores and loads — the Durable Object
//! origin keeps rows in SQLite, [`MemoryStore`] keeps a map for Node backends and tests — so an
//! origin on any storage publishes the same updates.
//!
//! Retention: with a horizon set ([`RevocationLog::with_horizon`]), a record whose last change
//! is older than an update's `created_at` minus the horizon leaves snapshots, and deltas name it
//! as expired so warm viewers drop it too. The log itself forgets nothing: epochs and slot
//! counters stay, so a later sign-out of that account moves on from where it was. A change's
//! time is the `created_at` of the first update made after it (the store's stamp): never earlier
//! than the change itself, and taken from the same argument that is signed.

mod memory;

pub use memory::MemoryStore;

use crate::{
    AccountId, AccountKey, AccountState, DeviceSlot, Epoch, Error, LogError, OriginAccount,
    PrivateKey, Record, Update, UpdateError, UpdateKind,
};

/// Where an origin keeps revocation state. Implementations only store and load; every rule
/// (sequence numbers, which change is visible, snapshot or delta, since-ahead, collision merge)
/// is the log's.
///
/// The log reads and then writes within one call and expects no other writer in between: a
/// store shared by concurrent callers must serialize them (a Durable Object does, between two
/// `await`s).
pub trait RevocationStore {
    /// The store's own failure (I/O); core refusals convert into it.
    type Error: From<Error>;

    /// The sequence of the newest visible change (0 when none).
    fn seq(&self) -> Result<u64, Self::Error>;

    /// The account's origin-side state, `None` when never saved.
    fn load(&self, account: &AccountId) -> Result<Option<OriginAccount>, Self::Error>;

    /// Saves the account's state. `changed` is `Some(seq)` when the change is visible to viewers:
    /// the store then records `seq` as the account's `changed_seq` and as the log's sequence.
    /// `None` (e.g. a slot handed out) keeps the account's `changed_seq` (0 for a new account)
    /// and the sequence.
    fn save(
        &mut self,
        account: &AccountId,
        state: &OriginAccount,
        changed: Option<u64>,
    ) -> Result<(), Self::Error>;

    /// Records `at` as the change time of every account whose visible change is not stamped
    /// yet (its `changed_seq` above the last stamped sequence), then marks the log's sequence
    /// stamped. The log calls it with an update's `created_at` before reading.
    fn stamp(&mut self, at: i64) -> Result<(), Self::Error>;

    /// Every saved account whose `changed_seq` is greater than `since` and whose change time is
    /// not before `not_before` (unstamped counts as not before), in any order.
    fn changed_since(
        &self,
        since: u64,
        not_before: i64,
    ) -> Result<Vec<(AccountId, AccountState)>, Self::Error>;

    /// The change time of the account with the greatest `changed_seq` in `1..=seq`, `None` when
    /// there is none (or it is not stamped).
    fn changed_at(&self, seq: u64) -> Result<Option<i64>, Self::Error>;

    /// Every account with a stamped visible change whose time is in `from..before`, any order.
    fn changed_between(&self, from: i64, before: i64) -> Result<Vec<AccountId>, Self::Error>;
}

/// The retention horizon for tokens that live at most `max_token_ttl` seconds, judged with a
/// clock tolerance of at most `clock_tolerance` seconds: one tolerance for a token accepted past
/// its `exp`, one for a viewer accepting an update created that far in its future.
pub const fn retention_horizon(max_token_ttl: u64, clock_tolerance: u64) -> u64 {
    max_token_ttl
        .saturating_add(clock_tolerance)
        .saturating_add(clock_tolerance)
}

/// Accounts and their revocation state, with a sequence number that grows by one with every
/// change viewers must learn, and the signed updates that carry those changes.
#[derive(Debug)]
pub struct RevocationLog<S = MemoryStore> {
    store: S,
    key: PrivateKey,
    horizon: u64,
}

impl RevocationLog<MemoryStore> {
    /// An empty log in memory at sequence 0 whose updates are signed with `key`.
    pub fn new(key: PrivateKey) -> Self {
        Self::with_store(MemoryStore::new(), key)
    }
}

impl<S: RevocationStore> RevocationLog<S> {
    /// A log over `store` whose updates are signed with `key`. Records never expire until a
    /// horizon is set.
    pub fn with_store(store: S, key: PrivateKey) -> Self {
        RevocationLog {
            store,
            key,
            horizon: 0,
        }
    }

    /// Sets the retention horizon in seconds (see [`retention_horizon`]); 0, the default, keeps
    /// every record in every snapshot. It must cover the longest lifetime of any token still
    /// unexpired, including tokens minted under an earlier, longer setting.
    pub fn with_horizon(mut self, horizon: u64) -> Self {
        self.set_horizon(horizon);
        self
    }

    /// As [`Self::with_horizon`], in place.
    pub fn set_horizon(&mut self, horizon: u64) {
        self.horizon = horizon;
    }

    /// The retention horizon in seconds (0: records never expire).
    pub fn horizon(&self) -> u64 {
        self.horizon
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The sequence of the newest visible change (0 when none).
    pub fn seq(&self) -> Result<u64, S::Error> {
        self.store.seq()
    }

    /// The account's origin-side state (the default for an account never seen).
    pub fn state_of(&self, account: &AccountId) -> Result<OriginAccount, S::Error> {
        Ok(self.store.load(account)?.unwrap_or_default())
    }

    /// The account's current epoch (0 for an account never seen), to put in a new token.
    pub fn epoch_of(&self, account: &AccountId) -> Result<Epoch, S::Error> {
        Ok(self.state_of(account)?.state.epoch)
    }

    /// Hands out the next device slot of the account's current epoch. Viewers need not learn of
    /// it, so the sequence stays.
    pub fn allocate_device(&mut self, account: &AccountId) -> Result<DeviceSlot, S::Error> {
        let mut state = self.state_of(account)?;
        let slot = state.allocate_device()?;
        self.store.save(account, &state, None)?;
        Ok(slot)
    }

    /// Signs out every device of the account (also what a password change does); returns the
    /// new epoch.
    pub fn revoke_all(&mut self, account: &AccountId) -> Result<Epoch, S::Error> {
        let mut state = self.state_of(account)?;
        let epoch = state.revoke_all()?;
        self.save_visible(account, &state)?;
        Ok(epoch)
    }

    /// Signs out one device slot of the account's current epoch. Returns whether anything
    /// changed: false when it was already signed out, so repeating it is harmless. Errors:
    /// `unknown_device` for a slot never handed out in the current epoch.
    pub fn revoke_device(
        &mut self,
        account: &AccountId,
        device: DeviceSlot,
    ) -> Result<bool, S::Error> {
        let mut state = self.state_of(account)?;
        self.revoke_in(account, &mut state, device)
    }

    /// Signs out the device a token issued in `epoch` names. Returns false, changing nothing,
    /// when the account has moved to a newer epoch since: that slot was signed out by the move
    /// and now names another device, or none. Otherwise as [`Self::revoke_device`].
    pub fn revoke_device_of_epoch(
        &mut self,
        account: &AccountId,
        epoch: Epoch,
        device: DeviceSlot,
    ) -> Result<bool, S::Error> {
        let mut state = self.state_of(account)?;
        if state.state.epoch != epoch {
            return Ok(false);
        }
        self.revoke_in(account, &mut state, device)
    }

    fn revoke_in(
        &mut self,
        account: &AccountId,
        state: &mut OriginAccount,
        device: DeviceSlot,
    ) -> Result<bool, S::Error> {
        if !state.revoke_device(device)? {
            return Ok(false);
        }
        self.save_visible(account, state)?;
        Ok(true)
    }

    /// Publishes an account's whole state as another log holds it (an account object handing
    /// its changes to the feed): merges it into this log's state for the account — epochs only
    /// grow, slots of the same epoch unite — and, when that changed what viewers see, saves it
    /// under the next sequence number. Returns whether it changed. Merging commutes, so
    /// publishing the same states again, or in another order, ends in the same state; this
    /// log's device slots (`next_slot`) are not touched, since a feed hands none out.
    pub fn publish(&mut self, account: &AccountId, state: &AccountState) -> Result<bool, S::Error> {
        let mut mine = self.state_of(account)?;
        let before = mine.state.clone();
        mine.state.merge(state);
        if mine.state == before {
            return Ok(false);
        }
        self.save_visible(account, &mine)?;
        Ok(true)
    }

    /// Saves a change viewers must learn under the next sequence number.
    fn save_visible(
        &mut self,
        account: &AccountId,
        state: &OriginAccount,
    ) -> Result<u64, S::Error> {
        let seq = self.store.seq()?.checked_add(1).ok_or_else(|| {
            Error::log(
                LogError::SeqExhausted,
                "the revocation sequence is at its maximum (18446744073709551615)",
            )
        })?;
        self.store.save(account, state, Some(seq))?;
        Ok(seq)
    }

    /// The signed update a viewer at `since` needs, created at `now`: a snapshot when `since` is
    /// 0 (a viewer that has applied nothing), else a delta of the accounts changed after `since`.
    /// A `since` ahead of the log is `since_ahead`: the viewer followed another origin, or this
    /// one lost state, and needs a snapshot. Stamps unstamped changes with `now` (see the
    /// module's Retention).
    pub fn update_since(&mut self, since: u64, now: i64) -> Result<Vec<u8>, S::Error> {
        let seq = self.store.seq()?;
        if since > seq {
            return Err(Error::log(
                LogError::SinceAhead,
                format!("since is {since} but the log is at {seq}; fetch a snapshot (since=0)"),
            )
            .into());
        }
        let kind = if since == 0 {
            UpdateKind::Snapshot
        } else {
            UpdateKind::Delta
        };
        self.signed(kind, since, seq, now)
    }

    /// A signed snapshot of every account with a non-default state whose last change is within
    /// the horizon, created at `now`.
    pub fn snapshot(&mut self, now: i64) -> Result<Vec<u8>, S::Error> {
        let seq = self.store.seq()?;
        self.signed(UpdateKind::Snapshot, 0, seq, now)
    }

    /// A signed delta of every account changed after `since`, even from 0, created at `now`.
    /// A `since` ahead of the log is `update_gap`: no delta from there exists. Accounts a viewer
    /// at `since` may hold whose record expired are named in `expired`.
    pub fn delta_since(&mut self, since: u64, now: i64) -> Result<Vec<u8>, S::Error> {
        let seq = self.store.seq()?;
        if since > seq {
            return Err(Error::update(
                UpdateError::Gap,
                format!("since is {since} but the log is at {seq}; the viewer is ahead and needs a snapshot"),
            )
            .into());
        }
        self.signed(UpdateKind::Delta, since, seq, now)
    }

    fn signed(
        &mut self,
        kind: UpdateKind,
        since: u64,
        seq: u64,
        now: i64,
    ) -> Result<Vec<u8>, S::Error> {
        self.store.stamp(now)?;
        // A horizon reaching before 1970 expires nothing; the update says so.
        let horizon = self.horizon.min(now.max(0).unsigned_abs());
        let h = i64::try_from(horizon).unwrap_or(i64::MAX);
        let cutoff = if horizon == 0 { i64::MIN } else { now - h };
        let records = records(self.store.changed_since(since, cutoff)?);
        let mut expired = Vec::new();
        if kind == UpdateKind::Delta && horizon > 0 && since > 0 {
            // A viewer at `since` applied an update created no earlier than the stamp of the
            // newest change it includes, and that update left out everything older than its own
            // cutoff: so it holds nothing that changed before `from`.
            let from = self
                .store
                .changed_at(since)?
                .map_or(i64::MIN, |t| t.saturating_sub(h));
            expired = self
                .store
                .changed_between(from, cutoff)?
                .iter()
                .map(|id| AccountKey::of(id.as_str()))
                .collect();
            expired.sort_unstable();
            expired.dedup();
            // Two ids sharing a key: the live one's record wins.
            expired.retain(|k| records.binary_search_by_key(k, |r| r.account).is_err());
        }
        Ok(Update {
            kind,
            from_seq: since,
            seq,
            created_at: now,
            horizon,
            records,
            expired,
        }
        .sign(&self.key)?)
    }
}

/// The records of an update: default states left out (a viewer's default), sorted by account
/// key, and two ids sharing a 64-bit key (never seen in practice) merged into one stricter state.
fn records(changed: Vec<(AccountId, AccountState)>) -> Vec<Record> {
    let mut records: Vec<Record> = changed
        .into_iter()
        .filter(|(_, state)| !state.is_default())
        .map(|(id, state)| Record {
            account: AccountKey::of(id.as_str()),
            state,
        })
        .collect();
    records.sort_unstable_by_key(|r| r.account);
    records.dedup_by(|later, kept| {
        let same = later.account == kept.account;
        if same {
            kept.state.merge(&later.state);
        }
        same
    });
    records
}
