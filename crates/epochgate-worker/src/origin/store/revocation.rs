//! The `revocation` and `meta` tables as the core's [`RevocationStore`]: rows in, rows out. The
//! sequence numbers, which change is visible, snapshot or delta, retention and the merge of
//! colliding keys are the core log's rules, not this file's — save one: the feed's sequence
//! continues above an earlier origin's ([`Revocations::continue_after`]), once per upgrade.
//!
//! `changed_at` is the stamped time of a row's last visible change; `meta.stamped` the sequence
//! up to which rows are stamped. Databases made before the column existed get it on the first
//! stamp ([`ensure_changed_at`]): their rows start unstamped (NULL), so they are stamped with
//! the next update's time and kept a whole horizon from then — never dropped early.

use epochgate::{AccountId, AccountState, Epoch, OriginAccount, RevocationStore, SlotSet};
use serde::Deserialize;

use super::{db, id, int, Store, R};
use crate::error::ApiError;
use worker::SqlStorageValue as V;

/// The revocation rows of an account object or of the feed, for [`epochgate::RevocationLog`].
#[derive(Clone, Debug)]
pub(crate) struct Revocations(pub(crate) Store, pub(crate) Role);

/// Whose rows they are: an account object also hands each visible change to the feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// An account object: a visible change also (over)writes the account's `feed_outbox` row,
    /// in the same write batch, so the handover exists exactly when the change does.
    Accounts,
    /// The feed: it publishes, and hands nothing on.
    Feed,
}

#[derive(Deserialize)]
struct Row {
    epoch: i64,
    next_slot: i64,
    revoked: String,
}

#[derive(Deserialize)]
struct ChangedRow {
    account: String,
    epoch: i64,
    revoked: String,
}

#[derive(Deserialize)]
struct MetaValue {
    value: i64,
}

#[derive(Deserialize)]
struct AccountRow {
    account: String,
}

#[derive(Deserialize)]
struct TimeRow {
    changed_at: Option<i64>,
}

/// Adds `changed_at` (and its index) to a `revocation` table made before it existed. SQLite has
/// no `ADD COLUMN IF NOT EXISTS`, so a probe guards the `ALTER`.
fn ensure_changed_at(store: &Store) -> R<()> {
    if store
        .run("SELECT changed_at FROM revocation LIMIT 0", vec![])
        .is_err()
    {
        store.run(
            "ALTER TABLE revocation ADD COLUMN changed_at INTEGER",
            vec![],
        )?;
    }
    store.run(
        "CREATE INDEX IF NOT EXISTS revocation_changed_at ON revocation (changed_at)",
        vec![],
    )
}

impl Revocations {
    fn meta(&self, key: &str) -> R<u64> {
        let v: Option<MetaValue> = self
            .0
            .first("SELECT value FROM meta WHERE key = ?", vec![key.into()])?;
        Ok(v.map_or(0, |m| u64::try_from(m.value).unwrap_or(0)))
    }

    fn set_meta(&self, key: &str, value: u64) -> R<()> {
        self.0.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), int(i64::try_from(value).map_err(db)?)],
        )
    }
}

impl Revocations {
    /// The feed's part of an upgrade from before the feed: an origin that published updates
    /// itself handed over `floor`, the sequence its viewers may hold. Unless a floor as high was
    /// applied already, the sequence moves one past both `floor` and its own value, and rows
    /// last changed at or below `floor` count as changed at that new sequence: a viewer at any
    /// sequence up to `floor`, in either numbering, then gets every record in its next delta.
    /// Returns whether it moved. The caller writes the handed-over rows in the same batch.
    pub(crate) fn continue_after(&self, floor: u64) -> R<bool> {
        if floor <= self.meta("pre_feed_floor")? {
            return Ok(false);
        }
        let next = self
            .seq()?
            .max(floor)
            .checked_add(1)
            .ok_or_else(|| db("the revocation sequence is at its maximum"))?;
        self.0.run(
            "UPDATE revocation SET changed_seq = ? WHERE changed_seq > 0 AND changed_seq <= ?",
            vec![seq_arg(next)?, seq_arg(floor)?],
        )?;
        self.set_meta("seq", next)?;
        self.set_meta("pre_feed_floor", floor)?;
        Ok(true)
    }

    /// Whether the feed's one-time ask of a single shard to hand over (`feed.rs`) succeeded.
    pub(crate) fn handed_over(&self) -> R<bool> {
        Ok(self.meta("handed_over")? == 1)
    }

    /// Records that it did.
    pub(crate) fn set_handed_over(&self) -> R<()> {
        self.set_meta("handed_over", 1)
    }
}

fn seq_arg(seq: u64) -> R<V> {
    Ok(int(i64::try_from(seq).map_err(db)?))
}
fn slots_to_json(slots: &SlotSet) -> R<String> {
    serde_json::to_string(slots.as_slice()).map_err(db)
}

fn slots_from_json(text: &str) -> R<SlotSet> {
    let v: Vec<u16> = serde_json::from_str(text).map_err(db)?;
    Ok(SlotSet::from_slots(v))
}

fn state(epoch: i64, revoked: &str) -> R<AccountState> {
    Ok(AccountState {
        epoch: Epoch(u32::try_from(epoch).map_err(db)?),
        revoked: slots_from_json(revoked)?,
    })
}

impl RevocationStore for Revocations {
    type Error = ApiError;

    fn seq(&self) -> R<u64> {
        self.meta("seq")
    }

    fn load(&self, account: &AccountId) -> R<Option<OriginAccount>> {
        let row: Option<Row> = self.0.first(
            "SELECT epoch, next_slot, revoked FROM revocation WHERE account = ?",
            vec![account.as_str().into()],
        )?;
        row.map(|row| {
            Ok(OriginAccount {
                state: state(row.epoch, &row.revoked)?,
                next_slot: u32::try_from(row.next_slot).map_err(db)?,
            })
        })
        .transpose()
    }

    fn save(&mut self, account: &AccountId, state: &OriginAccount, changed: Option<u64>) -> R<()> {
        // 0 keeps the row's changed_seq (and is what a new row starts with).
        let changed = match changed {
            Some(seq) => {
                let seq = i64::try_from(seq).map_err(db)?;
                self.0.run(
                    "INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    vec![int(seq)],
                )?;
                seq
            }
            None => 0,
        };
        self.0.run(
            "INSERT INTO revocation (account, epoch, next_slot, revoked, changed_seq) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (account) DO UPDATE SET epoch = excluded.epoch, next_slot = excluded.next_slot,
               revoked = excluded.revoked,
               changed_seq = CASE WHEN excluded.changed_seq > 0 THEN excluded.changed_seq ELSE revocation.changed_seq END",
            vec![
                account.as_str().into(),
                int(state.state.epoch.0),
                int(state.next_slot),
                slots_to_json(&state.state.revoked)?.into(),
                int(changed),
            ],
        )?;
        if changed > 0 && self.1 == Role::Accounts {
            self.0.queue_for_feed(
                account,
                state.state.epoch.0,
                &slots_to_json(&state.state.revoked)?,
            )?;
        }
        Ok(())
    }

    fn stamp(&mut self, at: i64) -> R<()> {
        ensure_changed_at(&self.0)?;
        let (seq, stamped) = (self.seq()?, self.meta("stamped")?);
        if stamped < seq {
            self.0.run(
                "UPDATE revocation SET changed_at = ? WHERE changed_seq > ?",
                vec![int(at), seq_arg(stamped)?],
            )?;
            self.set_meta("stamped", seq)?;
        }
        Ok(())
    }

    fn changed_since(&self, since: u64, not_before: i64) -> R<Vec<(AccountId, AccountState)>> {
        let rows: Vec<ChangedRow> = self.0.all(
            "SELECT account, epoch, revoked FROM revocation WHERE changed_seq > ?
               AND (changed_seq > ? OR changed_at IS NULL OR changed_at >= ?)",
            vec![
                seq_arg(since)?,
                seq_arg(self.meta("stamped")?)?,
                int(not_before),
            ],
        )?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    id(&row.account, AccountId::new)?,
                    state(row.epoch, &row.revoked)?,
                ))
            })
            .collect()
    }

    fn changed_at(&self, seq: u64) -> R<Option<i64>> {
        let row: Option<TimeRow> = self.0.first(
            "SELECT changed_at FROM revocation WHERE changed_seq >= 1 AND changed_seq <= ?
             ORDER BY changed_seq DESC LIMIT 1",
            vec![seq_arg(seq.min(self.meta("stamped")?))?],
        )?;
        Ok(row.and_then(|r| r.changed_at))
    }

    fn changed_between(&self, from: i64, before: i64) -> R<Vec<AccountId>> {
        let rows: Vec<AccountRow> = self.0.all(
            "SELECT account FROM revocation WHERE changed_at >= ? AND changed_at < ?
               AND changed_seq >= 1 AND changed_seq <= ?",
            vec![int(from), int(before), seq_arg(self.meta("stamped")?)?],
        )?;
        rows.into_iter()
            .map(|row| id(&row.account, AccountId::new))
            .collect()
    }
}
