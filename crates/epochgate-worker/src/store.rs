//! The origin's SQLite schema and the row operations on it. Rows are translated to and from
//! core types here; the state transitions themselves are the core's ([`OriginAccount`]).
//!
//! Every method is synchronous: a Durable Object commits all writes made between two `await`s
//! as one atomic batch, and its output gate holds the response until they are durable.

use epochgate::{AccountKey, AccountState, Epoch, OriginAccount, SlotSet};
use serde::{Deserialize, Serialize};
use worker::{SqlStorage, SqlStorageValue as V};

use crate::http::ApiError;

type R<T> = Result<T, ApiError>;

/// Every table, created on first use. `revoked` holds the epoch's signed-out slots as a JSON
/// array; `changed_seq` is the revocation sequence of the account's last viewer-visible change.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  totp_secret TEXT,
  totp_pending TEXT,
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revocation (
  account TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  next_slot INTEGER NOT NULL,
  revoked TEXT NOT NULL,
  changed_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revocation_changed ON revocation (changed_seq);
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
CREATE TABLE IF NOT EXISTS failures (account TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS failures_account ON failures (account, at);
CREATE TABLE IF NOT EXISTS idempotency (
  account TEXT NOT NULL,
  key TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (account, key)
);
";

/// Failed authentications allowed per account in [`FAILURE_WINDOW`] before 429.
pub const MAX_FAILURES: usize = 5;
/// The rate-limit window, seconds.
pub const FAILURE_WINDOW: i64 = 15 * 60;
/// How long an `Idempotency-Key` answer is kept, seconds.
pub const IDEMPOTENCY_TTL: i64 = 24 * 3600;

/// An account with credentials.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    /// Account id (`sub`).
    pub id: String,
    /// Lower-cased email.
    pub email: String,
    /// PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret once confirmed.
    pub totp_secret: Option<String>,
    /// Base32 TOTP secret awaiting confirmation.
    pub totp_pending: Option<String>,
    /// The last TOTP step accepted (codes are single-use).
    pub totp_last_step: i64,
}

/// One device session.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SessionRow {
    /// Session id (`sid`).
    pub id: String,
    /// Account id.
    pub account: String,
    /// Device slot within `epoch`.
    pub slot: i64,
    /// Epoch the session's current token was issued in.
    pub epoch: i64,
    /// Device name.
    pub name: String,
    /// Device type.
    #[serde(rename = "type")]
    pub kind: String,
    /// User agent at sign-in.
    pub user_agent: Option<String>,
    /// IP at sign-in.
    pub ip: Option<String>,
    /// Coarse location at sign-in.
    pub location: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, updated at most once per interval.
    pub last_seen_at: i64,
    /// `active` or `signed_out`.
    pub status: String,
}

/// One activity-log entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Event {
    /// Event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The session concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Unix seconds.
    pub at: i64,
    /// Client IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Coarse location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// User agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Where a request came from, for sessions and the activity log.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// IP address.
    pub ip: Option<String>,
    /// Coarse location.
    pub location: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

#[derive(Deserialize)]
struct RevocationRow {
    epoch: i64,
    next_slot: i64,
    revoked: String,
}

#[derive(Deserialize)]
struct ChangedRow {
    account: String,
    epoch: i64,
    revoked: String,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct At {
    at: i64,
}

#[derive(Deserialize)]
struct Stored {
    status: i64,
    body: String,
}

#[derive(Deserialize)]
struct MetaValue {
    value: i64,
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

fn slots_to_json(slots: &SlotSet) -> R<String> {
    serde_json::to_string(slots.as_slice()).map_err(db)
}

fn slots_from_json(text: &str) -> R<SlotSet> {
    let v: Vec<u16> = serde_json::from_str(text).map_err(db)?;
    Ok(SlotSet::from_slots(v))
}

fn account_from_row(row: RevocationRow) -> R<OriginAccount> {
    Ok(OriginAccount {
        state: AccountState {
            epoch: Epoch(u32::try_from(row.epoch).map_err(db)?),
            revoked: slots_from_json(&row.revoked)?,
        },
        next_slot: u32::try_from(row.next_slot).map_err(db)?,
    })
}

/// The origin's tables.
#[derive(Clone, Debug)]
pub struct Store {
    sql: SqlStorage,
}

impl Store {
    /// Opens the store, creating the schema when missing.
    pub fn open(sql: SqlStorage) -> R<Self> {
        sql.exec(SCHEMA, None).map_err(db)?;
        Ok(Store { sql })
    }

    fn all<T: serde::de::DeserializeOwned>(&self, q: &str, args: Vec<V>) -> R<Vec<T>> {
        self.sql.exec(q, args).map_err(db)?.to_array().map_err(db)
    }

    fn first<T: serde::de::DeserializeOwned>(&self, q: &str, args: Vec<V>) -> R<Option<T>> {
        Ok(self.all(q, args)?.into_iter().next())
    }

    fn run(&self, q: &str, args: Vec<V>) -> R<()> {
        self.sql.exec(q, args).map_err(db)?;
        Ok(())
    }

    // --- revocation sequence and per-account state -------------------------------------------

    /// The global revocation sequence.
    pub fn seq(&self) -> R<u64> {
        let v: Option<MetaValue> =
            self.first("SELECT value FROM meta WHERE key = 'seq'", vec![])?;
        Ok(v.map_or(0, |m| u64::try_from(m.value).unwrap_or(0)))
    }

    fn bump_seq(&self) -> R<u64> {
        let next = self.seq()? + 1;
        self.run(
            "INSERT INTO meta (key, value) VALUES ('seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![int(i64::try_from(next).map_err(db)?)],
        )?;
        Ok(next)
    }

    /// The account's revocation state (the default for an account never seen).
    pub fn origin_account(&self, account: &str) -> R<OriginAccount> {
        match self.first::<RevocationRow>(
            "SELECT epoch, next_slot, revoked FROM revocation WHERE account = ?",
            vec![account.into()],
        )? {
            Some(row) => account_from_row(row),
            None => Ok(OriginAccount::default()),
        }
    }

    /// Saves a state after a transition. `visible` marks a change viewers must learn: it takes
    /// the next revocation sequence number. Returns the sequence then.
    pub fn save_account(&self, account: &str, state: &OriginAccount, visible: bool) -> R<u64> {
        let seq = if visible {
            self.bump_seq()?
        } else {
            self.seq()?
        };
        let changed: i64 = if visible {
            i64::try_from(seq).map_err(db)?
        } else {
            0
        };
        self.run(
            "INSERT INTO revocation (account, epoch, next_slot, revoked, changed_seq) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (account) DO UPDATE SET epoch = excluded.epoch, next_slot = excluded.next_slot,
               revoked = excluded.revoked,
               changed_seq = CASE WHEN excluded.changed_seq > 0 THEN excluded.changed_seq ELSE revocation.changed_seq END",
            vec![
                account.into(),
                int(state.state.epoch.0),
                int(state.next_slot),
                slots_to_json(&state.state.revoked)?.into(),
                int(changed),
            ],
        )?;
        Ok(seq)
    }

    /// Every account whose state changed after `since` (every non-default one when `since` is
    /// 0), keyed and sorted as an update needs them, states of colliding keys merged.
    pub fn changed_since(&self, since: u64) -> R<Vec<(AccountKey, AccountState)>> {
        let rows: Vec<ChangedRow> = self.all(
            "SELECT account, epoch, revoked FROM revocation WHERE changed_seq > ?",
            vec![int(i64::try_from(since).map_err(db)?)],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let state = AccountState {
                epoch: Epoch(u32::try_from(row.epoch).map_err(db)?),
                revoked: slots_from_json(&row.revoked)?,
            };
            if !state.is_default() {
                out.push((AccountKey::of(&row.account), state));
            }
        }
        out.sort_unstable_by_key(|(k, _)| *k);
        out.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1.merge(&later.1);
            }
            same
        });
        Ok(out)
    }

    // --- accounts ---------------------------------------------------------------------------

    /// The account with this (lower-cased) email.
    pub fn account_by_email(&self, email: &str) -> R<Option<Account>> {
        self.first(
            "SELECT id, email, password_hash, totp_secret, totp_pending, totp_last_step FROM accounts WHERE email = ?",
            vec![email.into()],
        )
    }

    /// The account with this id.
    pub fn account_by_id(&self, id: &str) -> R<Option<Account>> {
        self.first(
            "SELECT id, email, password_hash, totp_secret, totp_pending, totp_last_step FROM accounts WHERE id = ?",
            vec![id.into()],
        )
    }

    /// Creates an account.
    pub fn insert_account(&self, id: &str, email: &str, hash: &str, now: i64) -> R<()> {
        self.run(
            "INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
            vec![id.into(), email.into(), hash.into(), int(now)],
        )
    }

    /// Replaces the password hash.
    pub fn set_password(&self, id: &str, hash: &str) -> R<()> {
        self.run(
            "UPDATE accounts SET password_hash = ? WHERE id = ?",
            vec![hash.into(), id.into()],
        )
    }

    /// Stores a TOTP secret awaiting confirmation.
    pub fn set_totp_pending(&self, id: &str, secret: &str) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_pending = ? WHERE id = ?",
            vec![secret.into(), id.into()],
        )
    }

    /// Turns the pending secret on and records the step used to confirm it.
    pub fn enable_totp(&self, id: &str, secret: &str, step: i64) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_secret = ?, totp_pending = NULL, totp_last_step = ? WHERE id = ?",
            vec![secret.into(), int(step), id.into()],
        )
    }

    /// Records the TOTP step just used, so its code cannot be replayed.
    pub fn use_totp_step(&self, id: &str, step: i64) -> R<()> {
        self.run(
            "UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
            vec![int(step), id.into(), int(step)],
        )
    }

    // --- sessions ---------------------------------------------------------------------------

    /// Inserts a session.
    pub fn insert_session(&self, s: &SessionRow) -> R<()> {
        self.run(
            "INSERT INTO sessions (id, account, slot, epoch, name, type, user_agent, ip, location, created_at, last_seen_at, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                s.id.as_str().into(),
                s.account.as_str().into(),
                int(s.slot),
                int(s.epoch),
                s.name.as_str().into(),
                s.kind.as_str().into(),
                opt(&s.user_agent),
                opt(&s.ip),
                opt(&s.location),
                int(s.created_at),
                int(s.last_seen_at),
                s.status.as_str().into(),
            ],
        )
    }

    /// A session of `account`.
    pub fn session(&self, account: &str, id: &str) -> R<Option<SessionRow>> {
        self.first(
            "SELECT * FROM sessions WHERE id = ? AND account = ?",
            vec![id.into(), account.into()],
        )
    }

    /// Every session of `account`, newest activity first.
    pub fn sessions(&self, account: &str) -> R<Vec<SessionRow>> {
        self.all(
            "SELECT * FROM sessions WHERE account = ? ORDER BY last_seen_at DESC, rowid DESC LIMIT 500",
            vec![account.into()],
        )
    }

    /// Marks one session signed out.
    pub fn sign_out_session(&self, id: &str) -> R<()> {
        self.run(
            "UPDATE sessions SET status = 'signed_out' WHERE id = ?",
            vec![id.into()],
        )
    }

    /// Marks every active session of `account` but `keep` signed out; returns their ids.
    pub fn sign_out_all_sessions(&self, account: &str, keep: Option<&str>) -> R<Vec<String>> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let keep = keep.unwrap_or("");
        let ids: Vec<Id> = self.all(
            "SELECT id FROM sessions WHERE account = ? AND status = 'active' AND id != ?",
            vec![account.into(), keep.into()],
        )?;
        self.run(
            "UPDATE sessions SET status = 'signed_out' WHERE account = ? AND status = 'active' AND id != ?",
            vec![account.into(), keep.into()],
        )?;
        Ok(ids.into_iter().map(|i| i.id).collect())
    }

    /// Moves a kept session to a new slot and epoch.
    pub fn reslot_session(&self, id: &str, slot: i64, epoch: i64, now: i64) -> R<()> {
        self.run(
            "UPDATE sessions SET slot = ?, epoch = ?, status = 'active', last_seen_at = ? WHERE id = ?",
            vec![int(slot), int(epoch), int(now), id.into()],
        )
    }

    /// Updates `last_seen_at` when it is older than `interval` seconds; returns whether it wrote.
    pub fn touch_session(&self, id: &str, now: i64, interval: i64) -> R<bool> {
        let c = self
            .sql
            .exec(
                "UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at <= ?",
                vec![int(now), id.into(), int(now - interval)],
            )
            .map_err(db)?;
        Ok(c.rows_written() > 0)
    }

    // --- activity log -----------------------------------------------------------------------

    /// Appends an event.
    pub fn log(
        &self,
        account: &str,
        kind: &str,
        session: Option<&str>,
        client: &ClientInfo,
        now: i64,
    ) -> R<()> {
        self.run(
            "INSERT INTO events (account, type, session, at, ip, location, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                account.into(),
                kind.into(),
                session.map(str::to_owned).into(),
                int(now),
                opt(&client.ip),
                opt(&client.location),
                opt(&client.user_agent),
            ],
        )
    }

    /// The newest events of `account`, newest first.
    pub fn events(&self, account: &str) -> R<Vec<Event>> {
        self.all(
            "SELECT type, session, at, ip, location, user_agent FROM events WHERE account = ? ORDER BY id DESC LIMIT 200",
            vec![account.into()],
        )
    }

    // --- rate limits ------------------------------------------------------------------------

    /// Seconds until the account may try again, when it is over the limit.
    pub fn retry_after(&self, account: &str, now: i64) -> R<Option<u64>> {
        let recent: Vec<At> = self.all(
            "SELECT at FROM failures WHERE account = ? AND at > ? ORDER BY at DESC LIMIT ?",
            vec![
                account.into(),
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
    pub fn record_failure(&self, account: &str, now: i64) -> R<()> {
        self.run(
            "DELETE FROM failures WHERE account = ? AND at <= ?",
            vec![account.into(), int(now - FAILURE_WINDOW)],
        )?;
        self.run(
            "INSERT INTO failures (account, at) VALUES (?, ?)",
            vec![account.into(), int(now)],
        )
    }

    /// Failures of `account` in the window (for tests of persistence through the admin API).
    pub fn failure_count(&self, account: &str, now: i64) -> R<i64> {
        let c: Option<Count> = self.first(
            "SELECT COUNT(*) AS n FROM failures WHERE account = ? AND at > ?",
            vec![account.into(), int(now - FAILURE_WINDOW)],
        )?;
        Ok(c.map_or(0, |c| c.n))
    }

    // --- idempotency ------------------------------------------------------------------------

    /// The stored answer to an earlier request with this key.
    pub fn idempotent(&self, account: &str, key: &str, now: i64) -> R<Option<(u16, String)>> {
        self.run(
            "DELETE FROM idempotency WHERE at <= ?",
            vec![int(now - IDEMPOTENCY_TTL)],
        )?;
        let s: Option<Stored> = self.first(
            "SELECT status, body FROM idempotency WHERE account = ? AND key = ?",
            vec![account.into(), key.into()],
        )?;
        Ok(s.map(|s| (u16::try_from(s.status).unwrap_or(200), s.body)))
    }

    /// Stores the answer to a request with this key.
    pub fn remember(&self, account: &str, key: &str, status: u16, body: &str, now: i64) -> R<()> {
        self.run(
            "INSERT OR REPLACE INTO idempotency (account, key, status, body, at) VALUES (?, ?, ?, ?, ?)",
            vec![account.into(), key.into(), int(status), body.into(), int(now)],
        )
    }
}
