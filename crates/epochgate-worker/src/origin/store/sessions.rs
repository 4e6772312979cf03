//! The `sessions` table: one row per device session, kept after sign-out for the list.

use epochgate::{AccountId, DeviceSlot, Epoch, SessionId};
use serde::Deserialize;

use super::{db, id, int, opt, Store, R};
use crate::vocab::SessionStatus;

/// One device session.
#[derive(Clone, Debug)]
pub(crate) struct SessionRow {
    /// Session id (`sid`).
    pub(crate) id: SessionId,
    /// Account id.
    pub(crate) account: AccountId,
    /// Device slot within `epoch`.
    pub(crate) slot: DeviceSlot,
    /// Epoch the session's current token was issued in.
    pub(crate) epoch: Epoch,
    /// Device name.
    pub(crate) name: String,
    /// Device type.
    pub(crate) kind: String,
    /// User agent at sign-in.
    pub(crate) user_agent: Option<String>,
    /// IP at sign-in.
    pub(crate) ip: Option<String>,
    /// Coarse location at sign-in.
    pub(crate) location: Option<String>,
    /// Unix seconds.
    pub(crate) created_at: i64,
    /// Unix seconds, updated at most once per interval.
    pub(crate) last_seen_at: i64,
    /// Active or signed out.
    pub(crate) status: SessionStatus,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    account: String,
    slot: i64,
    epoch: i64,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    user_agent: Option<String>,
    ip: Option<String>,
    location: Option<String>,
    created_at: i64,
    last_seen_at: i64,
    status: SessionStatus,
}

impl TryFrom<Row> for SessionRow {
    type Error = crate::error::ApiError;

    fn try_from(r: Row) -> R<Self> {
        Ok(SessionRow {
            id: id(&r.id, SessionId::new)?,
            account: id(&r.account, AccountId::new)?,
            slot: DeviceSlot(u16::try_from(r.slot).map_err(db)?),
            epoch: Epoch(u32::try_from(r.epoch).map_err(db)?),
            name: r.name,
            kind: r.kind,
            user_agent: r.user_agent,
            ip: r.ip,
            location: r.location,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            status: r.status,
        })
    }
}

const SIGNED_OUT: &str = SessionStatus::SignedOut.as_str();
const ACTIVE: &str = SessionStatus::Active.as_str();

impl Store {
    fn session_rows(&self, q: &str, args: Vec<worker::SqlStorageValue>) -> R<Vec<SessionRow>> {
        self.all::<Row>(q, args)?
            .into_iter()
            .map(SessionRow::try_from)
            .collect()
    }

    /// Inserts a session.
    pub(crate) fn insert_session(&self, s: &SessionRow) -> R<()> {
        self.run(
            "INSERT INTO sessions (id, account, slot, epoch, name, type, user_agent, ip, location, created_at, last_seen_at, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                s.id.as_str().into(),
                s.account.as_str().into(),
                int(s.slot.0),
                int(s.epoch.0),
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
    pub(crate) fn session(&self, account: &AccountId, id: &str) -> R<Option<SessionRow>> {
        Ok(self
            .session_rows(
                "SELECT * FROM sessions WHERE id = ? AND account = ?",
                vec![id.into(), account.as_str().into()],
            )?
            .into_iter()
            .next())
    }

    /// Every session of `account`, newest activity first.
    pub(crate) fn sessions(&self, account: &AccountId) -> R<Vec<SessionRow>> {
        self.session_rows(
            "SELECT * FROM sessions WHERE account = ? ORDER BY last_seen_at DESC, rowid DESC LIMIT 500",
            vec![account.as_str().into()],
        )
    }

    /// Marks one session signed out.
    pub(crate) fn sign_out_session(&self, id: &SessionId) -> R<()> {
        self.run(
            "UPDATE sessions SET status = ? WHERE id = ?",
            vec![SIGNED_OUT.into(), id.as_str().into()],
        )
    }

    /// Marks every active session of `account` but `keep` signed out.
    pub(crate) fn sign_out_all_sessions(
        &self,
        account: &AccountId,
        keep: Option<&SessionId>,
    ) -> R<()> {
        self.run(
            "UPDATE sessions SET status = ? WHERE account = ? AND status = ? AND id != ?",
            vec![
                SIGNED_OUT.into(),
                account.as_str().into(),
                ACTIVE.into(),
                keep.map_or("", SessionId::as_str).into(),
            ],
        )
    }

    /// Moves a kept session to a new slot and epoch.
    pub(crate) fn reslot_session(
        &self,
        id: &SessionId,
        slot: DeviceSlot,
        epoch: Epoch,
        now: i64,
    ) -> R<()> {
        self.run(
            "UPDATE sessions SET slot = ?, epoch = ?, status = ?, last_seen_at = ? WHERE id = ?",
            vec![
                int(slot.0),
                int(epoch.0),
                ACTIVE.into(),
                int(now),
                id.as_str().into(),
            ],
        )
    }

    /// Updates `last_seen_at` when it is older than `interval` seconds; returns whether it wrote.
    pub(crate) fn touch_session(&self, id: &SessionId, now: i64, interval: i64) -> R<bool> {
        let written = self.written(
            "UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at <= ?",
            vec![
                int(now),
                id.as_str().into(),
                int(now.saturating_sub(interval)),
            ],
        )?;
        Ok(written > 0)
    }
}
