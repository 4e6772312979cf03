//! The directory's `emails` table: which account an email belongs to. A row is `pending` from
//! the moment a sign-up (or an email change) claims the address until the account's shard has
//! the account with that email, then `active`. Every sign-up of an address while its row is
//! pending gets the same account id, so retried and concurrent sign-ups can only ever make one
//! account; pending rows that never complete are settled by the directory's alarm
//! (`origin/directory.rs`).

use serde::Deserialize;

use super::{int, Store, R};

/// A row.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct EmailRow {
    pub(crate) email: String,
    pub(crate) account: String,
    /// `pending` or `active`.
    pub(crate) state: String,
    /// Unix ms.
    pub(crate) claimed_at: i64,
}

impl EmailRow {
    pub(crate) fn active(&self) -> bool {
        self.state == "active"
    }
}

impl Store {
    /// The row of `email`.
    pub(crate) fn email_row(&self, email: &str) -> R<Option<EmailRow>> {
        self.first(
            "SELECT email, account, state, claimed_at FROM emails WHERE email = ?",
            vec![email.into()],
        )
    }

    /// Claims `email` for `account` as pending at `now_ms`; false when the email has a row.
    pub(crate) fn claim_email(&self, email: &str, account: &str, now_ms: i64) -> R<bool> {
        Ok(self.written(
            "INSERT INTO emails (email, account, state, claimed_at) VALUES (?, ?, 'pending', ?)
             ON CONFLICT (email) DO NOTHING",
            vec![email.into(), account.into(), int(now_ms)],
        )? == 1)
    }

    /// Marks `email` active for `account`; false when it is not that account's.
    pub(crate) fn confirm_email(&self, email: &str, account: &str) -> R<bool> {
        Ok(self.written(
            "UPDATE emails SET state = 'active' WHERE email = ? AND account = ?",
            vec![email.into(), account.into()],
        )? == 1)
    }

    /// Drops `email` if it is `account`'s.
    pub(crate) fn release_email(&self, email: &str, account: &str) -> R<()> {
        self.run(
            "DELETE FROM emails WHERE email = ? AND account = ?",
            vec![email.into(), account.into()],
        )
    }

    /// Pending rows claimed at or before `before`, oldest first.
    pub(crate) fn stale_claims(&self, before: i64, limit: i64) -> R<Vec<EmailRow>> {
        self.all(
            "SELECT email, account, state, claimed_at FROM emails
             WHERE state = 'pending' AND claimed_at <= ? ORDER BY claimed_at LIMIT ?",
            vec![int(before), int(limit)],
        )
    }

    /// When the oldest pending row was claimed, Unix ms.
    pub(crate) fn oldest_claim(&self) -> R<Option<i64>> {
        #[derive(Deserialize)]
        struct At {
            claimed_at: i64,
        }
        let row: Option<At> = self.first(
            "SELECT claimed_at FROM emails WHERE state = 'pending' ORDER BY claimed_at LIMIT 1",
            vec![],
        )?;
        Ok(row.map(|r| r.claimed_at))
    }
}
