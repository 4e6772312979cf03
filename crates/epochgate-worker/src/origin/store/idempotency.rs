//! The `idempotency` table: stored answers of the admin sign-out-all.

use epochgate::AccountId;
use serde::Deserialize;

use super::{int, Store, R};

/// How long an `Idempotency-Key` answer is kept, seconds.
pub(crate) const IDEMPOTENCY_TTL: i64 = 24 * 3600;

#[derive(Deserialize)]
struct Stored {
    status: i64,
    body: String,
}

impl Store {
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
