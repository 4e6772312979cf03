//! The `passkeys` table (an account's WebAuthn credentials: the public key, the signature
//! counter, the backup flags) and `spent_challenges` (the nonces of WebAuthn challenges already
//! answered, kept until the challenge would have expired anyway, so each works once).
//!
//! Credential ids and keys are kept as base64url text. A credential id is unique in its shard
//! (the primary key); a passkey sign-in reaches the shard of the account its user handle names,
//! so the id only has to be unique there.

use epochgate::AccountId;
use serde::Deserialize;

use super::{id, int, Store, R};

/// The schema, created with the shard's other tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS passkeys (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  public_key TEXT NOT NULL,
  sign_count INTEGER NOT NULL,
  backup_eligible INTEGER NOT NULL,
  backed_up INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX IF NOT EXISTS passkeys_account ON passkeys (account, created_at);
CREATE TABLE IF NOT EXISTS spent_challenges (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS spent_challenges_expiry ON spent_challenges (expires_at);
";

/// One passkey of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PasskeyRow {
    /// The credential id, base64url.
    pub(crate) id: String,
    /// Whose it is.
    pub(crate) account: AccountId,
    /// The owner's name for it.
    pub(crate) name: String,
    /// The stored public key (the WebAuthn crate's encoding), base64url.
    pub(crate) public_key: String,
    /// The authenticator's signature counter as last seen.
    pub(crate) sign_count: u32,
    /// Whether the credential may be synced to other devices (BE).
    pub(crate) backup_eligible: bool,
    /// Whether it was synced when last seen (BS).
    pub(crate) backed_up: bool,
    /// Unix seconds.
    pub(crate) created_at: i64,
    /// Unix seconds of the last sign-in or re-authentication with it.
    pub(crate) last_used_at: Option<i64>,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    account: String,
    name: String,
    public_key: String,
    sign_count: i64,
    backup_eligible: i64,
    backed_up: i64,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl TryFrom<Row> for PasskeyRow {
    type Error = crate::error::ApiError;

    fn try_from(r: Row) -> R<Self> {
        Ok(PasskeyRow {
            id: r.id,
            account: id(&r.account, AccountId::new)?,
            name: r.name,
            public_key: r.public_key,
            sign_count: u32::try_from(r.sign_count).unwrap_or(u32::MAX),
            backup_eligible: r.backup_eligible != 0,
            backed_up: r.backed_up != 0,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
    }
}

impl Store {
    fn passkey_rows(&self, q: &str, args: Vec<worker::SqlStorageValue>) -> R<Vec<PasskeyRow>> {
        self.all::<Row>(q, args)?
            .into_iter()
            .map(PasskeyRow::try_from)
            .collect()
    }

    /// Every passkey of `account`, oldest first.
    pub(crate) fn passkeys(&self, account: &AccountId) -> R<Vec<PasskeyRow>> {
        self.passkey_rows(
            "SELECT * FROM passkeys WHERE account = ? ORDER BY created_at, id",
            vec![account.as_str().into()],
        )
    }

    /// The passkey with this credential id, whoever's it is.
    pub(crate) fn passkey(&self, id: &str) -> R<Option<PasskeyRow>> {
        Ok(self
            .passkey_rows("SELECT * FROM passkeys WHERE id = ?", vec![id.into()])?
            .into_iter()
            .next())
    }

    /// Adds a passkey; `false` when the credential id is taken.
    pub(crate) fn insert_passkey(&self, p: &PasskeyRow) -> R<bool> {
        let written = self.written(
            "INSERT INTO passkeys (id, account, name, public_key, sign_count, backup_eligible, backed_up, created_at, last_used_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            vec![
                p.id.as_str().into(),
                p.account.as_str().into(),
                p.name.as_str().into(),
                p.public_key.as_str().into(),
                int(p.sign_count),
                int(i64::from(p.backup_eligible)),
                int(i64::from(p.backed_up)),
                int(p.created_at),
                p.last_used_at.map(int).unwrap_or(worker::SqlStorageValue::Null),
            ],
        )?;
        Ok(written > 0)
    }

    /// Renames a passkey of `account`; `false` when it has none with this id.
    pub(crate) fn rename_passkey(&self, account: &AccountId, id: &str, name: &str) -> R<bool> {
        Ok(self.written(
            "UPDATE passkeys SET name = ? WHERE id = ? AND account = ?",
            vec![name.into(), id.into(), account.as_str().into()],
        )? > 0)
    }

    /// Removes a passkey of `account`; `false` when it has none with this id.
    pub(crate) fn delete_passkey(&self, account: &AccountId, id: &str) -> R<bool> {
        Ok(self.written(
            "DELETE FROM passkeys WHERE id = ? AND account = ?",
            vec![id.into(), account.as_str().into()],
        )? > 0)
    }

    /// Records a use: the new counter and backup state, and when.
    pub(crate) fn passkey_used(&self, id: &str, count: u32, backed_up: bool, now: i64) -> R<()> {
        self.run(
            "UPDATE passkeys SET sign_count = ?, backed_up = ?, last_used_at = ? WHERE id = ?",
            vec![int(count), int(i64::from(backed_up)), int(now), id.into()],
        )
    }

    /// Marks a challenge's nonce as answered; `false` when it already was. Forgets nonces
    /// whose challenges have expired first: those are refused by their expiry alone.
    pub(crate) fn spend_challenge(&self, nonce: &str, expires_at: i64, now: i64) -> R<bool> {
        self.run(
            "DELETE FROM spent_challenges WHERE expires_at < ?",
            vec![int(now)],
        )?;
        Ok(self.written(
            "INSERT INTO spent_challenges (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
            vec![nonce.into(), int(expires_at)],
        )? > 0)
    }
}
