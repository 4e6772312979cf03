//! The `feed_outbox` table: each account's whole revocation state as last changed, until the
//! feed object confirmed it has it. One row per account (a newer change overwrites the row), so
//! the table is as large as the accounts whose change is on its way, not the changes.
//!
//! A database made before the feed existed published updates itself, numbered by its own
//! `meta.seq`, and viewers may hold a view at that sequence. Its one-time backfill therefore also
//! keeps that sequence (`meta.feed_floor`) until the feed confirmed it, so the feed's numbers
//! continue above it (`feed.rs`).

use serde::{Deserialize, Serialize};

use super::{int, Store, R};

/// An account's state waiting for the feed: `revoked` is the JSON array of the `revocation` row.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) account: String,
    pub(crate) epoch: i64,
    pub(crate) revoked: String,
}

impl Store {
    /// Writes the account's state to hand to the feed (called by the revocation store, in the
    /// same write batch as the change).
    pub(super) fn queue_for_feed(
        &self,
        account: &epochgate::AccountId,
        epoch: u32,
        revoked: &str,
    ) -> R<()> {
        self.run(
            "INSERT INTO feed_outbox (account, epoch, revoked) VALUES (?, ?, ?)
             ON CONFLICT (account) DO UPDATE SET epoch = excluded.epoch, revoked = excluded.revoked",
            vec![account.as_str().into(), int(epoch), revoked.into()],
        )
    }

    /// Up to `limit` states waiting for the feed.
    pub(crate) fn feed_pending(&self, limit: usize) -> R<Vec<Pending>> {
        self.all(
            "SELECT account, epoch, revoked FROM feed_outbox LIMIT ?",
            vec![int(i64::try_from(limit).unwrap_or(i64::MAX))],
        )
    }

    /// Forgets the rows the feed confirmed, each only if it still holds what was sent: a
    /// request that changed the account meanwhile left a newer state, which must go too.
    pub(crate) fn feed_confirmed(&self, sent: &[Pending]) -> R<usize> {
        let mut n = 0;
        for p in sent {
            n += self.written(
                "DELETE FROM feed_outbox WHERE account = ? AND epoch = ? AND revoked = ?",
                vec![
                    p.account.as_str().into(),
                    int(p.epoch),
                    p.revoked.as_str().into(),
                ],
            )?;
        }
        Ok(n)
    }

    /// The sequence this database published up to before the feed existed, while the feed has
    /// not confirmed it (absent for a database made after: its backfill found sequence 0).
    pub(crate) fn feed_floor(&self) -> R<Option<u64>> {
        let floor: Option<Flag> =
            self.first("SELECT value FROM meta WHERE key = 'feed_floor'", vec![])?;
        Ok(floor.and_then(|f| u64::try_from(f.value).ok()))
    }

    /// Forgets the floor once the feed confirmed a publication that carried it.
    pub(crate) fn feed_floor_confirmed(&self) -> R<()> {
        self.run("DELETE FROM meta WHERE key = 'feed_floor'", vec![])
    }

    /// Once per database: queues every account with a visible change for the feed, and the
    /// sequence published so far as the feed's floor, so an origin made before the feed existed
    /// hands its whole published state over and its viewers can follow the feed. All in one
    /// write (no `await` in between).
    pub(crate) fn feed_backfill(&self) -> R<()> {
        let done: Option<Flag> = self.first(
            "SELECT value FROM meta WHERE key = 'feed_backfilled'",
            vec![],
        )?;
        if done.is_some_and(|f| f.value == 1) {
            return Ok(());
        }
        self.run(
            "INSERT OR IGNORE INTO feed_outbox (account, epoch, revoked)
             SELECT account, epoch, revoked FROM revocation WHERE changed_seq > 0",
            vec![],
        )?;
        self.run(
            "INSERT OR IGNORE INTO meta (key, value)
             SELECT 'feed_floor', value FROM meta WHERE key = 'seq' AND value > 0",
            vec![],
        )?;
        self.run(
            "INSERT INTO meta (key, value) VALUES ('feed_backfilled', 1)
             ON CONFLICT (key) DO UPDATE SET value = 1",
            vec![],
        )
    }
}

#[derive(Deserialize)]
struct Flag {
    value: i64,
}
