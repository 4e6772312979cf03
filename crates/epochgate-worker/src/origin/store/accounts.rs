//! The `accounts` table: email, password hash and TOTP state of accounts with credentials here.
//!
//! The TOTP secrets (`totp_secret`, `totp_pending`) are sealed under `DATA_KEY` on write and
//! opened on read, so [`Account`] holds them in base32 and the table never does. Each is bound
//! to its row and column; a legacy plaintext value is sealed the first time it is read.

use epochgate::AccountId;
use serde::Deserialize;

use super::{id, int, Store, R};
use crate::sealed::DataKey;

/// The sealed columns.
const TOTP_SECRET: &str = "totp_secret";
const TOTP_PENDING: &str = "totp_pending";

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

/// The associated data of a sealed column: its value opens in this row and column only.
fn aad(column: &str, id: &AccountId) -> String {
    format!("accounts.{column}:{}", id.as_str())
}

fn seal(key: &DataKey, column: &str, id: &AccountId, secret: &str) -> R<String> {
    Ok(key.seal(secret, &aad(column, id))?)
}

/// A row read back: the account in the clear, and the columns still held in plaintext.
struct Opened {
    account: Account,
    legacy: Vec<(&'static str, String)>,
}

fn open_row(key: &DataKey, r: Row) -> R<Opened> {
    let account_id = id(&r.id, AccountId::new)?;
    let mut legacy = Vec::new();
    let mut open = |column: &'static str, stored: Option<String>| -> R<Option<String>> {
        let Some(stored) = stored else {
            return Ok(None);
        };
        let clear = key.open(&stored, &aad(column, &account_id)).map_err(|e| {
            crate::error::ApiError::internal(format!("{e} ({column} of {})", account_id.as_str()))
        })?;
        if !DataKey::is_sealed(&stored) {
            legacy.push((column, stored));
        }
        Ok(Some(clear))
    };
    let totp_secret = open(TOTP_SECRET, r.totp_secret)?;
    let totp_pending = open(TOTP_PENDING, r.totp_pending)?;
    Ok(Opened {
        account: Account {
            id: account_id,
            email: r.email,
            password_hash: r.password_hash,
            totp_secret,
            totp_pending,
            totp_last_step: r.totp_last_step,
        },
        legacy,
    })
}

const COLUMNS: &str = "id, email, password_hash, totp_secret, totp_pending, totp_last_step";

impl Store {
    fn account_where(&self, column: &str, value: &str) -> R<Option<Account>> {
        let row: Option<Row> = self.first(
            &format!("SELECT {COLUMNS} FROM accounts WHERE {column} = ?"),
            vec![value.into()],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        let Opened { account, legacy } = open_row(&self.key, row)?;
        for (column, plain) in legacy {
            // Only if the row still holds the plaintext just read.
            self.run(
                &format!("UPDATE accounts SET {column} = ? WHERE id = ? AND {column} = ?"),
                vec![
                    seal(&self.key, column, &account.id, &plain)?.into(),
                    account.id.as_str().into(),
                    plain.into(),
                ],
            )?;
        }
        Ok(Some(account))
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

    /// Changes the account's email (already checked to be free).
    pub(crate) fn set_email(&self, id: &AccountId, email: &str) -> R<()> {
        self.run(
            "UPDATE accounts SET email = ? WHERE id = ?",
            vec![email.into(), id.as_str().into()],
        )
    }

    /// Stores a TOTP secret awaiting confirmation.
    pub(crate) fn set_totp_pending(&self, id: &AccountId, secret: &str) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_pending = ? WHERE id = ?",
            vec![
                seal(&self.key, TOTP_PENDING, id, secret)?.into(),
                id.as_str().into(),
            ],
        )
    }

    /// Turns the pending secret on and records the step used to confirm it.
    pub(crate) fn enable_totp(&self, id: &AccountId, secret: &str, step: i64) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_secret = ?, totp_pending = NULL, totp_last_step = ? WHERE id = ?",
            vec![
                seal(&self.key, TOTP_SECRET, id, secret)?.into(),
                int(step),
                id.as_str().into(),
            ],
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const PENDING: &str = "KRSXG5DJNZTXG2LOM5ZWK3TEMVZGKZ3J";

    fn key() -> DataKey {
        DataKey::from_secret(Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")).unwrap()
    }

    fn acct(s: &str) -> AccountId {
        AccountId::new(s).unwrap()
    }

    fn row(id: &str, secret: Option<String>, pending: Option<String>) -> Row {
        Row {
            id: id.into(),
            email: "a@example.com".into(),
            password_hash: "$argon2id$...".into(),
            totp_secret: secret,
            totp_pending: pending,
            totp_last_step: 7,
        }
    }

    #[test]
    fn sealed_columns_read_back_in_base32() {
        let (k, a) = (key(), acct("acct_1"));
        let secret = seal(&k, TOTP_SECRET, &a, SECRET).unwrap();
        let pending = seal(&k, TOTP_PENDING, &a, PENDING).unwrap();
        // What the table would hold: neither secret in the clear.
        for stored in [&secret, &pending] {
            assert!(DataKey::is_sealed(stored));
            assert!(!stored.contains(SECRET) && !stored.contains(PENDING));
        }
        let opened = open_row(&k, row("acct_1", Some(secret), Some(pending))).unwrap();
        assert_eq!(opened.account.totp_secret.as_deref(), Some(SECRET));
        assert_eq!(opened.account.totp_pending.as_deref(), Some(PENDING));
        assert_eq!(opened.account.totp_last_step, 7);
        assert!(opened.legacy.is_empty());
        let none = open_row(&k, row("acct_1", None, None)).unwrap();
        assert_eq!(none.account.totp_secret, None);
        assert_eq!(none.account.totp_pending, None);
    }

    #[test]
    fn a_value_moved_to_another_row_or_column_does_not_open() {
        let (k, a) = (key(), acct("acct_1"));
        let secret = seal(&k, TOTP_SECRET, &a, SECRET).unwrap();
        let pending = seal(&k, TOTP_PENDING, &a, PENDING).unwrap();
        let moved = open_row(&k, row("acct_2", Some(secret.clone()), None));
        assert_eq!(moved.err().unwrap().status(), 500);
        let swapped = open_row(&k, row("acct_1", Some(pending), Some(secret)));
        assert_eq!(swapped.err().unwrap().status(), 500);
    }

    #[test]
    fn legacy_plaintext_reads_and_is_marked_for_sealing() {
        let opened = open_row(
            &key(),
            row("acct_1", Some(SECRET.into()), Some(PENDING.into())),
        )
        .unwrap();
        assert_eq!(opened.account.totp_secret.as_deref(), Some(SECRET));
        assert_eq!(opened.account.totp_pending.as_deref(), Some(PENDING));
        assert_eq!(
            opened.legacy,
            vec![
                (TOTP_SECRET, SECRET.to_owned()),
                (TOTP_PENDING, PENDING.to_owned())
            ]
        );
    }
}
