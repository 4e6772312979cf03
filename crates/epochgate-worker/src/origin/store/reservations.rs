//! The `reservations` table: password checks in progress. The edge hashes passwords, not the
//! object; before it does, the object reserves a place in the throttle bucket the check will
//! count in, so parallel guesses see each other's reservations and cannot exceed the bucket's
//! limit. A reservation lives until the request that made it is answered, or expires (the
//! edge's settle never came). What a bucket is and how it is judged is `origin/throttle.rs`.

use serde::Deserialize;

use super::{int, Store, R};

/// Expired reservations of any bucket dropped per insert.
const PURGE_BATCH: i64 = 8;

/// A live reservation, as the settling request finds it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Reservation {
    /// The throttle bucket it holds a place in.
    pub(crate) bucket: String,
    /// The account whose password is checked; empty for an email without an account.
    pub(crate) account: String,
    /// A digest of the password hash handed to the edge, so a verdict on a hash that changed
    /// meanwhile is not taken for the new one.
    pub(crate) phc_digest: String,
}

#[derive(Deserialize)]
struct At {
    at: i64,
}

impl Store {
    /// Reserves a place in `bucket` from `now_ms` until `expires_ms`.
    pub(crate) fn reserve(&self, id: &str, r: &Reservation, now_ms: i64, expires_ms: i64) -> R<()> {
        self.run(
            "DELETE FROM reservations WHERE id IN \
             (SELECT id FROM reservations WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
            vec![int(now_ms), int(PURGE_BATCH)],
        )?;
        self.run(
            "INSERT INTO reservations (id, bucket, account, phc_digest, at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                r.bucket.as_str().into(),
                r.account.as_str().into(),
                r.phc_digest.as_str().into(),
                int(now_ms),
                int(expires_ms),
            ],
        )
    }

    /// The times (ms) of the bucket's live reservations.
    pub(crate) fn reserved(&self, bucket: &str, now_ms: i64) -> R<Vec<i64>> {
        let rows: Vec<At> = self.all(
            "SELECT at FROM reservations WHERE bucket = ? AND expires_at > ? LIMIT 64",
            vec![bucket.into(), int(now_ms)],
        )?;
        Ok(rows.into_iter().map(|a| a.at).collect())
    }

    /// The live reservation `id`.
    pub(crate) fn reservation(&self, id: &str, now_ms: i64) -> R<Option<Reservation>> {
        self.first(
            "SELECT bucket, account, phc_digest FROM reservations WHERE id = ? AND expires_at > ?",
            vec![id.into(), int(now_ms)],
        )
    }

    /// Ends a reservation (its request was answered).
    pub(crate) fn release(&self, id: &str) -> R<()> {
        self.run("DELETE FROM reservations WHERE id = ?", vec![id.into()])
    }
}
