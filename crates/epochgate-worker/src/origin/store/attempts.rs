//! The `attempts` table: the times of failed authentications (and of sent mails) per throttle
//! bucket. What a bucket is, and how long its failures make a caller wait, is
//! `origin/throttle.rs`; this file only keeps the rows.

use serde::Deserialize;

use super::{int, Store, R};

/// How many rows of one bucket are ever read: enough for any delay the policy computes.
const MAX_READ: i64 = 64;
/// Expired rows of other buckets dropped per insert: more than one, so the table shrinks back
/// once a flood stops.
const PURGE_BATCH: i64 = 8;

#[derive(Deserialize)]
struct At {
    at: i64,
}

impl Store {
    /// The times of the bucket's attempts after `since`, newest first (at most 64).
    pub(crate) fn attempts(&self, bucket: &str, since: i64) -> R<Vec<i64>> {
        let rows: Vec<At> = self.all(
            "SELECT at FROM attempts WHERE bucket = ? AND at > ? ORDER BY at DESC LIMIT ?",
            vec![bucket.into(), int(since), int(MAX_READ)],
        )?;
        Ok(rows.into_iter().map(|a| a.at).collect())
    }

    /// Records an attempt, forgetting the bucket's rows from before `forget_before` and any
    /// beyond the newest 64 (so a flood on one bucket keeps a bounded number of rows), and a
    /// few expired rows of any bucket (so a flood over many buckets — a new email each time —
    /// leaves no more rows than its last window holds).
    pub(crate) fn record_attempt(&self, bucket: &str, now: i64, forget_before: i64) -> R<()> {
        self.run(
            "DELETE FROM attempts WHERE rowid IN \
             (SELECT rowid FROM attempts WHERE at <= ? ORDER BY at LIMIT ?)",
            vec![int(forget_before), int(PURGE_BATCH)],
        )?;
        self.run(
            "DELETE FROM attempts WHERE bucket = ? AND (at <= ? OR rowid NOT IN \
             (SELECT rowid FROM attempts WHERE bucket = ? ORDER BY at DESC LIMIT ?))",
            vec![
                bucket.into(),
                int(forget_before),
                bucket.into(),
                int(MAX_READ - 1),
            ],
        )?;
        self.run(
            "INSERT INTO attempts (bucket, at) VALUES (?, ?)",
            vec![bucket.into(), int(now)],
        )
    }

    /// Forgets a bucket (after a success).
    pub(crate) fn clear_attempts(&self, bucket: &str) -> R<()> {
        self.run("DELETE FROM attempts WHERE bucket = ?", vec![bucket.into()])
    }
}
