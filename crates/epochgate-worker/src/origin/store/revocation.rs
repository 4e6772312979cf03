//! The `revocation` and `meta` tables as the core's [`RevocationStore`]: rows in, rows out. The
//! sequence numbers, which change is visible, snapshot or delta and the merge of colliding keys
//! are the core log's rules, not this file's.

use epochgate::{AccountId, AccountState, Epoch, OriginAccount, RevocationStore, SlotSet};
use serde::Deserialize;

use super::{db, id, int, Store, R};
use crate::error::ApiError;

/// The origin's revocation rows, for [`epochgate::RevocationLog`].
#[derive(Clone, Debug)]
pub(crate) struct Revocations(pub(crate) Store);

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
        let v: Option<MetaValue> = self
            .0
            .first("SELECT value FROM meta WHERE key = 'seq'", vec![])?;
        Ok(v.map_or(0, |m| u64::try_from(m.value).unwrap_or(0)))
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
        )
    }

    fn changed_since(&self, since: u64) -> R<Vec<(AccountId, AccountState)>> {
        let rows: Vec<ChangedRow> = self.0.all(
            "SELECT account, epoch, revoked FROM revocation WHERE changed_seq > ?",
            vec![int(i64::try_from(since).map_err(db)?)],
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
}
