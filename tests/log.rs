//! The origin-side revocation log over its stores: which change takes the next sequence number,
//! snapshot or delta, since-ahead, the records' order and merging, and what the log asks of a
//! store (watched through a store that records every call).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::cell::RefCell;

use common::*;
use epochgate::{
    AccountId, AccountKey, AccountState, DeviceSlot, Epoch, Error, KeySet, MemoryStore,
    OriginAccount, RevocationLog, RevocationStore, SlotSet, UnverifiedUpdate, Update, UpdateKind,
};

fn id(account: &str) -> AccountId {
    AccountId::new(account).unwrap()
}

fn open(bytes: &[u8]) -> Update {
    let keys = KeySet::new(vec![update_key().public()]).unwrap();
    UnverifiedUpdate::decode(bytes)
        .unwrap()
        .verify(&keys)
        .unwrap()
}

/// The accounts of an update, as keys.
fn keys_of(update: &Update) -> Vec<AccountKey> {
    update.records.iter().map(|r| r.account).collect()
}

fn sorted_keys(accounts: &[&str]) -> Vec<AccountKey> {
    let mut keys: Vec<AccountKey> = accounts.iter().map(|a| AccountKey::of(a)).collect();
    keys.sort();
    keys
}

/// One call the log made to its store.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Load(String),
    Save(String, Option<u64>),
    Stamp(i64),
    ChangedSince(u64),
}

/// A store in memory that records every call but `seq`, and can be told to fail.
#[derive(Default)]
struct Watched {
    inner: MemoryStore,
    calls: RefCell<Vec<Call>>,
    fail_saves: bool,
    /// Extra rows `changed_since` answers with, as a store with duplicate rows might.
    extra: Vec<(AccountId, AccountState)>,
}

#[derive(Debug, PartialEq, Eq)]
enum StoreError {
    Io,
    Core(String),
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        StoreError::Core(e.code().to_owned())
    }
}

impl RevocationStore for Watched {
    type Error = StoreError;

    fn seq(&self) -> Result<u64, StoreError> {
        Ok(self.inner.seq()?)
    }

    fn load(&self, account: &AccountId) -> Result<Option<OriginAccount>, StoreError> {
        self.calls
            .borrow_mut()
            .push(Call::Load(account.as_str().into()));
        Ok(self.inner.load(account)?)
    }

    fn save(
        &mut self,
        account: &AccountId,
        state: &OriginAccount,
        changed: Option<u64>,
    ) -> Result<(), StoreError> {
        self.calls
            .borrow_mut()
            .push(Call::Save(account.as_str().into(), changed));
        if self.fail_saves {
            return Err(StoreError::Io);
        }
        Ok(self.inner.save(account, state, changed)?)
    }

    fn stamp(&mut self, at: i64) -> Result<(), StoreError> {
        self.calls.borrow_mut().push(Call::Stamp(at));
        Ok(self.inner.stamp(at)?)
    }

    fn changed_since(
        &self,
        since: u64,
        not_before: i64,
    ) -> Result<Vec<(AccountId, AccountState)>, StoreError> {
        self.calls.borrow_mut().push(Call::ChangedSince(since));
        let mut rows = self.inner.changed_since(since, not_before)?;
        rows.extend(self.extra.iter().cloned());
        Ok(rows)
    }

    fn changed_at(&self, seq: u64) -> Result<Option<i64>, StoreError> {
        Ok(self.inner.changed_at(seq)?)
    }

    fn changed_between(&self, from: i64, before: i64) -> Result<Vec<AccountId>, StoreError> {
        Ok(self.inner.changed_between(from, before)?)
    }
}

fn watched() -> RevocationLog<Watched> {
    RevocationLog::with_store(Watched::default(), update_key())
}

fn take_calls(log: &RevocationLog<Watched>) -> Vec<Call> {
    log.store().calls.borrow_mut().drain(..).collect()
}

#[test]
fn only_visible_changes_take_the_next_sequence_number() {
    let mut log = RevocationLog::new(update_key());
    assert_eq!(log.seq().unwrap(), 0);
    assert_eq!(log.allocate_device(&id("a")).unwrap(), DeviceSlot(0));
    assert_eq!(log.allocate_device(&id("a")).unwrap(), DeviceSlot(1));
    assert_eq!(log.seq().unwrap(), 0, "a slot handed out is not visible");
    assert!(log.revoke_device(&id("a"), DeviceSlot(1)).unwrap());
    assert_eq!(log.seq().unwrap(), 1);
    assert!(
        !log.revoke_device(&id("a"), DeviceSlot(1)).unwrap(),
        "signing a device out twice changes nothing"
    );
    assert_eq!(log.seq().unwrap(), 1);
    assert_eq!(log.revoke_all(&id("b")).unwrap(), Epoch(1));
    assert_eq!(log.seq().unwrap(), 2);
    assert_eq!(log.epoch_of(&id("b")).unwrap(), Epoch(1));
    assert_eq!(log.epoch_of(&id("never")).unwrap(), Epoch(0));
    let a = log.state_of(&id("a")).unwrap();
    assert_eq!(a.next_slot, 2);
    assert_eq!(a.state.revoked, SlotSet::from_slots([1]));
    assert_eq!(
        log.state_of(&id("never")).unwrap(),
        OriginAccount::default()
    );
    assert_eq!(log.store().len(), 2);
}

#[test]
fn a_token_of_an_older_epoch_names_no_device_to_sign_out() {
    let mut log = RevocationLog::new(update_key());
    log.allocate_device(&id("a")).unwrap();
    log.revoke_all(&id("a")).unwrap();
    log.allocate_device(&id("a")).unwrap();
    let seq = log.seq().unwrap();
    // Slot 0 of epoch 0 went with the epoch move; slot 0 of epoch 1 is another device.
    assert!(!log
        .revoke_device_of_epoch(&id("a"), Epoch(0), DeviceSlot(0))
        .unwrap());
    assert_eq!(log.seq().unwrap(), seq);
    assert!(log.state_of(&id("a")).unwrap().state.revoked.is_empty());
    assert!(log
        .revoke_device_of_epoch(&id("a"), Epoch(1), DeviceSlot(0))
        .unwrap());
    assert_eq!(log.seq().unwrap(), seq + 1);
    assert_eq!(
        log.revoke_device_of_epoch(&id("a"), Epoch(1), DeviceSlot(5))
            .unwrap_err()
            .code(),
        "unknown_device"
    );
}

#[test]
fn snapshot_or_delta_and_since_ahead() {
    let mut log = RevocationLog::new(update_key());
    assert_eq!(
        log.update_since(0, NOW).unwrap(),
        log.snapshot(NOW).unwrap(),
        "since 0 is a snapshot"
    );
    let d = log.allocate_device(&id("a")).unwrap();
    log.revoke_device(&id("a"), d).unwrap(); // seq 1
    log.revoke_all(&id("b")).unwrap(); // seq 2
    log.allocate_device(&id("c")).unwrap(); // invisible: c keeps the default state

    let snapshot = open(&log.update_since(0, NOW).unwrap());
    assert_eq!(
        (snapshot.kind, snapshot.from_seq, snapshot.seq),
        (UpdateKind::Snapshot, 0, 2)
    );
    assert_eq!(snapshot.created_at, NOW);
    assert_eq!(keys_of(&snapshot), sorted_keys(&["a", "b"]));

    let delta = open(&log.update_since(1, NOW + 1).unwrap());
    assert_eq!(
        (delta.kind, delta.from_seq, delta.seq),
        (UpdateKind::Delta, 1, 2)
    );
    assert_eq!(keys_of(&delta), sorted_keys(&["b"]));
    let empty = open(&log.update_since(2, NOW).unwrap());
    assert_eq!(
        (empty.kind, empty.from_seq, empty.seq),
        (UpdateKind::Delta, 2, 2)
    );
    assert!(empty.records.is_empty(), "an empty delta still refreshes");

    // An allocation after a visible change does not bring the account into later deltas.
    log.allocate_device(&id("a")).unwrap();
    assert!(open(&log.update_since(2, NOW).unwrap()).records.is_empty());

    let ahead = log.update_since(3, NOW).unwrap_err();
    assert_eq!(ahead.code(), "since_ahead");
    assert!(ahead.message().contains("snapshot"), "{ahead}");
    // The strict delta of the older API keeps its own code.
    assert_eq!(log.delta_since(3, NOW).unwrap_err().code(), "update_gap");
    let from_zero = open(&log.delta_since(0, NOW).unwrap());
    assert_eq!((from_zero.kind, from_zero.from_seq), (UpdateKind::Delta, 0));
    assert_eq!(keys_of(&from_zero), keys_of(&snapshot));
}

#[test]
fn what_the_log_asks_of_its_store() {
    let mut log = watched();
    let a = id("a");
    log.allocate_device(&a).unwrap();
    assert_eq!(
        take_calls(&log),
        [Call::Load("a".into()), Call::Save("a".into(), None)]
    );
    log.revoke_device(&a, DeviceSlot(0)).unwrap();
    assert_eq!(
        take_calls(&log),
        [Call::Load("a".into()), Call::Save("a".into(), Some(1))]
    );
    log.revoke_device(&a, DeviceSlot(0)).unwrap();
    assert_eq!(
        take_calls(&log),
        [Call::Load("a".into())],
        "nothing changed, nothing saved"
    );
    assert_eq!(
        log.revoke_device(&a, DeviceSlot(9)).unwrap_err(),
        StoreError::Core("unknown_device".into()),
        "a core refusal converts into the store's error"
    );
    assert_eq!(take_calls(&log), [Call::Load("a".into())]);
    log.revoke_all(&a).unwrap();
    assert_eq!(
        take_calls(&log),
        [Call::Load("a".into()), Call::Save("a".into(), Some(2))]
    );
    log.update_since(1, NOW).unwrap();
    assert_eq!(take_calls(&log), [Call::Stamp(NOW), Call::ChangedSince(1)]);
    log.update_since(5, NOW).unwrap_err();
    assert_eq!(
        take_calls(&log),
        [],
        "since-ahead is answered before reading any account"
    );

    // A store's failure is the log's, and the log has not moved.
    let mut failing = RevocationLog::with_store(
        Watched {
            fail_saves: true,
            ..Watched::default()
        },
        update_key(),
    );
    assert_eq!(failing.revoke_all(&a).unwrap_err(), StoreError::Io);
    assert_eq!(failing.seq().unwrap(), 0);
    assert_eq!(failing.epoch_of(&a).unwrap(), Epoch(0));
}

#[test]
fn records_are_sorted_and_rows_of_one_key_merged() {
    let mut store = Watched::default();
    for account in ["a", "b", "c", "d", "e"] {
        let mut state = store.inner.load(&id(account)).unwrap().unwrap_or_default();
        state.revoke_all().unwrap();
        let seq = store.inner.seq().unwrap() + 1;
        store.inner.save(&id(account), &state, Some(seq)).unwrap();
    }
    // Two more rows for "c" (as two ids sharing a key would give): one stricter state travels.
    // A default state never travels.
    store.extra = vec![
        (
            id("c"),
            AccountState {
                epoch: Epoch(1),
                revoked: SlotSet::from_slots([4]),
            },
        ),
        (
            id("c"),
            AccountState {
                epoch: Epoch(0),
                revoked: SlotSet::from_slots([9]),
            },
        ),
        (id("z"), AccountState::default()),
    ];
    let mut log = RevocationLog::with_store(store, update_key());
    let update = open(&log.snapshot(NOW).unwrap());
    assert_eq!(keys_of(&update), sorted_keys(&["a", "b", "c", "d", "e"]));
    let c = update
        .records
        .iter()
        .find(|r| r.account == AccountKey::of("c"))
        .unwrap();
    assert_eq!(
        c.state,
        AccountState {
            epoch: Epoch(1),
            revoked: SlotSet::from_slots([4]),
        }
    );
}

#[test]
fn publish_merges_whole_states_and_only_a_visible_change_takes_a_sequence() {
    let mut feed = RevocationLog::new(update_key());
    let a = id("a");
    let state = |epoch, slots: &[u16]| AccountState {
        epoch: Epoch(epoch),
        revoked: SlotSet::from_slots(slots.iter().copied()),
    };
    assert!(feed.publish(&a, &state(0, &[1])).unwrap());
    assert_eq!(feed.seq().unwrap(), 1);
    // The same state again, or an older one, changes nothing.
    assert!(!feed.publish(&a, &state(0, &[1])).unwrap());
    assert!(!feed.publish(&a, &state(0, &[])).unwrap());
    assert_eq!(feed.seq().unwrap(), 1);
    // Slots of one epoch unite; a newer epoch replaces; an older epoch is ignored.
    assert!(feed.publish(&a, &state(0, &[2])).unwrap());
    assert_eq!(feed.state_of(&a).unwrap().state, state(0, &[1, 2]));
    assert!(feed.publish(&a, &state(2, &[0])).unwrap());
    assert!(!feed.publish(&a, &state(1, &[5])).unwrap());
    assert_eq!(feed.state_of(&a).unwrap().state, state(2, &[0]));
    assert_eq!(feed.seq().unwrap(), 3);
    // A default state is nothing to publish.
    assert!(!feed.publish(&id("b"), &AccountState::default()).unwrap());
    let update = open(&feed.update_since(1, NOW).unwrap());
    assert_eq!((update.from_seq, update.seq), (1, 3));
    assert_eq!(keys_of(&update), sorted_keys(&["a"]));
}

#[test]
fn a_published_state_saves_through_the_store_as_a_visible_change() {
    let mut log = watched();
    let a = id("a");
    let revoked = AccountState {
        epoch: Epoch(1),
        revoked: SlotSet::new(),
    };
    assert!(log.publish(&a, &revoked).unwrap());
    assert_eq!(
        take_calls(&log),
        vec![Call::Load("a".into()), Call::Save("a".into(), Some(1))]
    );
    assert!(!log.publish(&a, &revoked).unwrap());
    assert_eq!(take_calls(&log), vec![Call::Load("a".into())]);
}
