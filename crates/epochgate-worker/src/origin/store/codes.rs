//! The `codes` table: every secret the origin hands out and later checks — emailed one-time
//! codes, password-reset codes, recovery codes, "not you?" link tokens — kept only as keyed
//! hashes (`sealed.rs`), each with its purpose, expiry and wrong tries. Also the accounts that
//! must reset their password before the next sign-in, and what the origin has seen an account
//! sign in from.

use epochgate::AccountId;
use serde::Deserialize;

use super::{int, Store, R};

/// What a stored code is for; one account may hold several of a purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A re-authentication code mailed on request (one live at a time).
    EmailCode,
    /// A password-reset code (one live at a time).
    Reset,
    /// A recovery code (a set of ten, replaced as a whole).
    Recovery,
    /// A "not you?" link token (one per alert).
    SecureLink,
}

impl Purpose {
    /// The word in the `purpose` column and in the keyed hash's domain.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Purpose::EmailCode => "email_code",
            Purpose::Reset => "reset",
            Purpose::Recovery => "recovery",
            Purpose::SecureLink => "secure_link",
        }
    }
}

/// Wrong tries after which an emailed or reset code is thrown away.
pub(crate) const MAX_TRIES: i64 = 5;

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct Seen {
    sessions: i64,
    agent: i64,
    place: i64,
}

impl Store {
    /// Stores a code's hash, dropping expired codes of the account first. With `replace`,
    /// the account's other codes of this purpose go too.
    pub(crate) fn put_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        hash: &str,
        expires_at: i64,
        now: i64,
        replace: bool,
    ) -> R<()> {
        self.run(
            "DELETE FROM codes WHERE account = ? AND (expires_at <= ? OR (? AND purpose = ?))",
            vec![
                account.as_str().into(),
                int(now),
                int(i64::from(replace)),
                purpose.as_str().into(),
            ],
        )?;
        self.run(
            "INSERT OR REPLACE INTO codes (account, purpose, hash, expires_at, tries) \
             VALUES (?, ?, ?, ?, 0)",
            vec![
                account.as_str().into(),
                purpose.as_str().into(),
                hash.into(),
                int(expires_at),
            ],
        )
    }

    /// Uses a code up: true when a live code with this hash was there (and is now gone).
    pub(crate) fn take_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        hash: &str,
        now: i64,
    ) -> R<bool> {
        Ok(self.written(
            "DELETE FROM codes WHERE account = ? AND purpose = ? AND hash = ? AND expires_at > ?",
            vec![
                account.as_str().into(),
                purpose.as_str().into(),
                hash.into(),
                int(now),
            ],
        )? > 0)
    }

    /// Whether a live code with this hash is there, without using it up.
    pub(crate) fn has_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        hash: &str,
        now: i64,
    ) -> R<bool> {
        let c: Option<Count> = self.first(
            "SELECT COUNT(*) AS n FROM codes WHERE account = ? AND purpose = ? AND hash = ? \
             AND expires_at > ?",
            vec![
                account.as_str().into(),
                purpose.as_str().into(),
                hash.into(),
                int(now),
            ],
        )?;
        Ok(c.is_some_and(|c| c.n > 0))
    }

    /// Counts a wrong try against the account's codes of `purpose`; those that reach
    /// [`MAX_TRIES`] are thrown away.
    pub(crate) fn code_missed(&self, account: &AccountId, purpose: Purpose) -> R<()> {
        self.run(
            "UPDATE codes SET tries = tries + 1 WHERE account = ? AND purpose = ?",
            vec![account.as_str().into(), purpose.as_str().into()],
        )?;
        self.run(
            "DELETE FROM codes WHERE account = ? AND purpose = ? AND tries >= ?",
            vec![
                account.as_str().into(),
                purpose.as_str().into(),
                int(MAX_TRIES),
            ],
        )
    }

    /// The account's live codes of `purpose`.
    pub(crate) fn count_codes(&self, account: &AccountId, purpose: Purpose, now: i64) -> R<i64> {
        let c: Option<Count> = self.first(
            "SELECT COUNT(*) AS n FROM codes WHERE account = ? AND purpose = ? AND expires_at > ?",
            vec![account.as_str().into(), purpose.as_str().into(), int(now)],
        )?;
        Ok(c.map_or(0, |c| c.n))
    }

    /// Throws away every code of `purpose` of the account.
    pub(crate) fn drop_codes(&self, account: &AccountId, purpose: Purpose) -> R<()> {
        self.run(
            "DELETE FROM codes WHERE account = ? AND purpose = ?",
            vec![account.as_str().into(), purpose.as_str().into()],
        )
    }

    /// Marks (or clears) that the account must reset its password before the next sign-in.
    pub(crate) fn set_reset_required(&self, account: &AccountId, on: bool, now: i64) -> R<()> {
        if on {
            self.run(
                "INSERT OR REPLACE INTO reset_required (account, at) VALUES (?, ?)",
                vec![account.as_str().into(), int(now)],
            )
        } else {
            self.run(
                "DELETE FROM reset_required WHERE account = ?",
                vec![account.as_str().into()],
            )
        }
    }

    /// Whether the account must reset its password before the next sign-in.
    pub(crate) fn reset_required(&self, account: &AccountId) -> R<bool> {
        let c: Option<Count> = self.first(
            "SELECT COUNT(*) AS n FROM reset_required WHERE account = ?",
            vec![account.as_str().into()],
        )?;
        Ok(c.is_some_and(|c| c.n > 0))
    }

    /// What the account has signed in from before: whether it has any session at all, and
    /// whether one came with this user agent, and one from this location.
    pub(crate) fn seen(
        &self,
        account: &AccountId,
        user_agent: Option<&str>,
        location: Option<&str>,
    ) -> R<(bool, bool, bool)> {
        let s: Option<Seen> = self.first(
            "SELECT COUNT(*) AS sessions, \
             COALESCE(SUM(user_agent IS ?), 0) AS agent, \
             COALESCE(SUM(location IS ?), 0) AS place \
             FROM sessions WHERE account = ?",
            vec![
                user_agent.map(str::to_owned).into(),
                location.map(str::to_owned).into(),
                account.as_str().into(),
            ],
        )?;
        Ok(s.map_or((false, false, false), |s| {
            (s.sessions > 0, s.agent > 0, s.place > 0)
        }))
    }
}
