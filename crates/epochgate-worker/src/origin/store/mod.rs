//! The origin's SQLite schema and the row operations on it, one file per group of tables. Rows
//! are translated to and from core types at this boundary; the state transitions themselves are
//! the core's ([`epochgate::RevocationLog`] over [`Revocations`]).
//!
//! Every method is synchronous: a Durable Object commits all writes made between two `await`s
//! as one atomic batch, and its output gate holds the response until they are durable.

mod accounts;
mod attempts;
mod codes;
mod emails;
mod events;
mod feed_outbox;
mod idempotency;
mod outbox;
mod passkeys;
mod reservations;
mod revocation;
mod sessions;
mod tickets;

pub(crate) use accounts::Account;
pub(crate) use codes::Purpose;
pub(crate) use events::Event;
pub(crate) use feed_outbox::Pending;
pub(crate) use outbox::{Due, Listed, MAX_ATTEMPTS};
pub(crate) use passkeys::PasskeyRow;
pub(crate) use reservations::Reservation;
pub(crate) use revocation::{Revocations, Role};
pub(crate) use sessions::SessionRow;
pub(crate) use tickets::Ticket;

use serde::de::DeserializeOwned;
use worker::{SqlStorage, SqlStorageValue as V};

use crate::error::ApiError;
use crate::sealed::DataKey;

type R<T> = Result<T, ApiError>;

/// An account shard's tables, created on first use (with [`REVOCATION_SCHEMA`] and
/// [`THROTTLE_SCHEMA`]).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  totp_secret TEXT,
  totp_pending TEXT,
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  slot INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  user_agent TEXT,
  ip TEXT,
  location TEXT,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  status TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_slot ON sessions (account, epoch, slot);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account, last_seen_at);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  type TEXT NOT NULL,
  session TEXT,
  at INTEGER NOT NULL,
  ip TEXT,
  location TEXT,
  user_agent TEXT
);
CREATE INDEX IF NOT EXISTS events_account ON events (account, id);
DROP TABLE IF EXISTS failures;
CREATE TABLE IF NOT EXISTS codes (
  account TEXT NOT NULL,
  purpose TEXT NOT NULL,
  hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  tries INTEGER NOT NULL,
  PRIMARY KEY (account, purpose, hash)
);
CREATE TABLE IF NOT EXISTS reset_required (account TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
  account TEXT NOT NULL,
  key TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (account, key)
);
CREATE TABLE IF NOT EXISTS tickets (
  digest TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  session TEXT NOT NULL,
  device INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_session ON tickets (session);
CREATE INDEX IF NOT EXISTS tickets_expiry ON tickets (expires_at);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  sent_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_at);
CREATE TABLE IF NOT EXISTS feed_outbox (account TEXT PRIMARY KEY, epoch INTEGER NOT NULL, revoked TEXT NOT NULL);
";

/// The revocation state (`revocation.rs`), in an account shard and in the feed (whose only
/// tables they are). `revoked` holds the epoch's signed-out slots as a JSON array;
/// `changed_seq` is the sequence of the account's last viewer-visible change.
const REVOCATION_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS revocation (
  account TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  next_slot INTEGER NOT NULL,
  revoked TEXT NOT NULL,
  changed_seq INTEGER NOT NULL,
  changed_at INTEGER
);
CREATE INDEX IF NOT EXISTS revocation_changed ON revocation (changed_seq);
";

/// The throttle rows (`attempts.rs`, `reservations.rs`), in an account shard and in a directory.
const THROTTLE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS attempts (bucket TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_bucket ON attempts (bucket, at);
CREATE INDEX IF NOT EXISTS attempts_at ON attempts (at);
CREATE TABLE IF NOT EXISTS reservations (
  id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  account TEXT NOT NULL,
  phc_digest TEXT NOT NULL,
  at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_bucket ON reservations (bucket, expires_at);
CREATE INDEX IF NOT EXISTS reservations_expiry ON reservations (expires_at);
";

/// A directory object's tables (`origin/directory.rs`): emails (and [`THROTTLE_SCHEMA`], the
/// buckets keyed by email).
const DIRECTORY_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS emails (
  email TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  state TEXT NOT NULL,
  claimed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS emails_pending ON emails (claimed_at) WHERE state = 'pending';
";

/// Where a request came from, for sessions and the activity log.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientInfo {
    /// IP address.
    pub(crate) ip: Option<String>,
    /// Coarse location.
    pub(crate) location: Option<String>,
    /// User agent.
    pub(crate) user_agent: Option<String>,
}

/// The origin's tables.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    sql: SqlStorage,
    /// Seals the TOTP secrets of `accounts`.
    key: DataKey,
}

fn db(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("storage: {e}"))
}

fn int(n: impl Into<i64>) -> V {
    V::Integer(n.into())
}

fn opt(s: &Option<String>) -> V {
    s.clone().into()
}

/// A core id read back from a column; a row that breaks the id rule is a storage fault.
fn id<T>(text: &str, new: impl FnOnce(&str) -> Option<T>) -> R<T> {
    new(text).ok_or_else(|| db(format!("invalid id {text:?} in a row")))
}

impl Store {
    /// Opens the store, creating the schema when missing.
    pub(crate) fn open(sql: SqlStorage, key: DataKey) -> R<Self> {
        sql.exec(REVOCATION_SCHEMA, None).map_err(db)?;
        sql.exec(SCHEMA, None).map_err(db)?;
        sql.exec(THROTTLE_SCHEMA, None).map_err(db)?;
        sql.exec(passkeys::SCHEMA, None).map_err(db)?;
        Ok(Store { sql, key })
    }

    /// Opens a directory object's store ([`DIRECTORY_SCHEMA`]).
    pub(crate) fn open_directory(sql: SqlStorage, key: DataKey) -> R<Self> {
        sql.exec(DIRECTORY_SCHEMA, None).map_err(db)?;
        sql.exec(THROTTLE_SCHEMA, None).map_err(db)?;
        Ok(Store { sql, key })
    }

    /// Opens the feed object's store ([`REVOCATION_SCHEMA`] only).
    pub(crate) fn open_feed(sql: SqlStorage, key: DataKey) -> R<Self> {
        sql.exec(REVOCATION_SCHEMA, None).map_err(db)?;
        Ok(Store { sql, key })
    }

    fn all<T: DeserializeOwned>(&self, q: &str, args: Vec<V>) -> R<Vec<T>> {
        self.sql.exec(q, args).map_err(db)?.to_array().map_err(db)
    }

    fn first<T: DeserializeOwned>(&self, q: &str, args: Vec<V>) -> R<Option<T>> {
        Ok(self.all(q, args)?.into_iter().next())
    }

    fn run(&self, q: &str, args: Vec<V>) -> R<()> {
        self.sql.exec(q, args).map_err(db)?;
        Ok(())
    }

    /// Runs a write and returns how many rows it wrote.
    fn written(&self, q: &str, args: Vec<V>) -> R<usize> {
        Ok(self.sql.exec(q, args).map_err(db)?.rows_written())
    }
}
