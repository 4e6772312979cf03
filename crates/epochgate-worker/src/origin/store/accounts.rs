//! The `accounts` table: email, password hash and TOTP state of accounts with credentials here.

use epochgate::AccountId;
use serde::Deserialize;

use super::{id, int, Store, R};

/// An account with credentials.
#[derive(Clone, Debug)]
pub(crate) struct Account {
    /// Account id (`sub`).
    pub(crate) id: AccountId,
    /// Lower-cased email.
    pub(crate) email: String,
    /// PHC string.
    pub(crate) password_hash: String,
    /// Base32 TOTP secret once confirmed.
    pub(crate) totp_secret: Option<String>,
    /// Base32 TOTP secret awaiting confirmation.
    pub(crate) totp_pending: Option<String>,
    /// The last TOTP step accepted (codes are single-use).
    pub(crate) totp_last_step: i64,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    email: String,
    password_hash: String,
    totp_secret: Option<String>,
    totp_pending: Option<String>,
    totp_last_step: i64,
}

impl TryFrom<Row> for Account {
    type Error = crate::error::ApiError;

    fn try_from(r: Row) -> R<Self> {
        Ok(Account {
            id: id(&r.id, AccountId::new)?,
            email: r.email,
            password_hash: r.password_hash,
            totp_secret: r.totp_secret,
            totp_pending: r.totp_pending,
            totp_last_step: r.totp_last_step,
        })
    }
}

const COLUMNS: &str = "id, email, password_hash, totp_secret, totp_pending, totp_last_step";

impl Store {
    fn account_where(&self, column: &str, value: &str) -> R<Option<Account>> {
        let row: Option<Row> = self.first(
            &format!("SELECT {COLUMNS} FROM accounts WHERE {column} = ?"),
            vec![value.into()],
        )?;
        row.map(Account::try_from).transpose()
    }

    /// The account with this (lower-cased) email.
    pub(crate) fn account_by_email(&self, email: &str) -> R<Option<Account>> {
        self.account_where("email", email)
    }

    /// The account with this id.
    pub(crate) fn account_by_id(&self, id: &AccountId) -> R<Option<Account>> {
        self.account_where("id", id.as_str())
    }

    /// Creates an account.
    pub(crate) fn insert_account(
        &self,
        id: &AccountId,
        email: &str,
        hash: &str,
        now: i64,
    ) -> R<()> {
        self.run(
            "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
            vec![id.as_str().into(), email.into(), hash.into(), int(now)],
        )
    }

    /// Replaces the password hash.
    pub(crate) fn set_password(&self, id: &AccountId, hash: &str) -> R<()> {
        self.run(
            "UPDATE accounts SET password_hash = ? WHERE id = ?",
            vec![hash.into(), id.as_str().into()],
        )
    }

    /// Stores a TOTP secret awaiting confirmation.
    pub(crate) fn set_totp_pending(&self, id: &AccountId, secret: &str) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_pending = ? WHERE id = ?",
            vec![secret.into(), id.as_str().into()],
        )
    }

    /// Turns the pending secret on and records the step used to confirm it.
    pub(crate) fn enable_totp(&self, id: &AccountId, secret: &str, step: i64) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_secret = ?, totp_pending = NULL, totp_last_step = ? WHERE id = ?",
            vec![secret.into(), int(step), id.as_str().into()],
        )
    }

    /// Turns two-factor authentication off: forgets the secret, any pending one and the last
    /// step used, which belongs to the forgotten secret.
    pub(crate) fn disable_totp(&self, id: &AccountId) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = ?",
            vec![id.as_str().into()],
        )
    }

    /// Records the TOTP step just used, so its code cannot be replayed.
    pub(crate) fn use_totp_step(&self, id: &AccountId, step: i64) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
            vec![int(step), id.as_str().into(), int(step)],
        )
    }
}
