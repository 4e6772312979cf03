//! The `failures` table (the per-account rate limit on authentication) and the `idempotency`
//! table (stored answers of the admin sign-out-all).

use epochgate::AccountId;
use serde::Deserialize;

use super::{db, int, Store, R};

/// Failed authentications allowed per account in [`FAILURE_WINDOW`] before 429.
pub(crate) const MAX_FAILURES: usize = 5;
/// The rate-limit window, seconds.
pub(crate) const FAILURE_WINDOW: i64 = 15 * 60;
/// How long an `Idempotency-Key` answer is kept, seconds.
pub(crate) const IDEMPOTENCY_TTL: i64 = 24 * 3600;

#[derive(Deserialize)]
struct At {
    at: i64,
}

#[derive(Deserialize)]
struct Stored {
    status: i64,
    body: String,
}

impl Store {
    /// Seconds until the account may try again, when it is over the limit.
    pub(crate) fn retry_after(&self, account: &AccountId, now: i64) -> R<Option<u64>> {
        let recent: Vec<At> = self.all(
            "SELECT at FROM failures WHERE account = ? AND at > ? ORDER BY at DESC LIMIT ?",
            vec![
                account.as_str().into(),
                int(now - FAILURE_WINDOW),
                int(i64::try_from(MAX_FAILURES).map_err(db)?),
            ],
        )?;
        if recent.len() < MAX_FAILURES {
            return Ok(None);
        }
        // The oldest of the newest MAX_FAILURES leaves the window first.
        let oldest = recent.iter().map(|a| a.at).min().unwrap_or(now);
        Ok(Some(
            u64::try_from(oldest + FAILURE_WINDOW - now)
                .unwrap_or(0)
                .max(1),
        ))
    }

    /// Records a failed authentication and forgets those outside the window.
    pub(crate) fn record_failure(&self, account: &AccountId, now: i64) -> R<()> {
        self.run(
            "DELETE FROM failures WHERE account = ? AND at <= ?",
            vec![account.as_str().into(), int(now - FAILURE_WINDOW)],
        )?;
        self.run(
            "INSERT INTO failures (account, at) VALUES (?, ?)",
            vec![account.as_str().into(), int(now)],
        )
    }

    /// The stored answer to an earlier request with this key.
    pub(crate) fn idempotent(
        &self,
        account: &AccountId,
        key: &str,
        now: i64,
    ) -> R<Option<(u16, String)>> {
        self.run(
            "DELETE FROM idempotency WHERE at <= ?",
            vec![int(now - IDEMPOTENCY_TTL)],
        )?;
        let s: Option<Stored> = self.first(
            "SELECT status, body FROM idempotency WHERE account = ? AND key = ?",
            vec![account.as_str().into(), key.into()],
        )?;
        Ok(s.map(|s| (u16::try_from(s.status).unwrap_or(200), s.body)))
    }

    /// Stores the answer to a request with this key.
    pub(crate) fn remember(
        &self,
        account: &AccountId,
        key: &str,
        status: u16,
        body: &str,
        now: i64,
    ) -> R<()> {
        self.run(
            "INSERT OR REPLACE INTO idempotency (account, key, status, body, at) VALUES (?, ?, ?, ?, ?)",
            vec![
                account.as_str().into(),
                key.into(),
                int(status),
                body.into(),
                int(now),
            ],
        )
    }
}
