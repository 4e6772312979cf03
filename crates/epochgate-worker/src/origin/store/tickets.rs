//! The `tickets` table: single-use WebSocket tickets, kept only as keyed digests, each bound
//! to the session (and the token's slot and epoch) that asked for it.

use epochgate::{AccountId, DeviceSlot, Epoch, SessionId};
use serde::Deserialize;

use super::{db, id, int, Store, R};

/// A ticket as stored: whose it is and until when it may be redeemed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// The account.
    pub(crate) account: AccountId,
    /// The session that asked for it.
    pub(crate) session: SessionId,
    /// That session's token's slot.
    pub(crate) device: DeviceSlot,
    /// That session's token's epoch.
    pub(crate) epoch: Epoch,
    /// Unix seconds; redeemable while `now < expires_at`.
    pub(crate) expires_at: i64,
}

#[derive(Deserialize)]
struct Row {
    account: String,
    session: String,
    device: i64,
    epoch: i64,
    expires_at: i64,
}

impl Store {
    /// Stores the ticket with this digest. First forgets every expired ticket, and the
    /// session's oldest ones beyond its newest `keep - 1`, so a session holds at most `keep`
    /// live tickets however many it asks for (the newest always works).
    pub(crate) fn add_ticket(&self, digest: &str, t: &Ticket, now: i64, keep: u32) -> R<()> {
        self.run("DELETE FROM tickets WHERE expires_at <= ?", vec![int(now)])?;
        self.run(
            "DELETE FROM tickets WHERE session = ? AND rowid NOT IN
               (SELECT rowid FROM tickets WHERE session = ? ORDER BY rowid DESC LIMIT ?)",
            vec![
                t.session.as_str().into(),
                t.session.as_str().into(),
                int(keep.saturating_sub(1)),
            ],
        )?;
        self.run(
            "INSERT INTO tickets (digest, account, session, device, epoch, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                digest.into(),
                t.account.as_str().into(),
                t.session.as_str().into(),
                int(t.device.0),
                int(t.epoch.0),
                int(t.expires_at),
            ],
        )
    }

    /// Takes the ticket with this digest: it is deleted before anything else looks at it, so
    /// it is gone whatever the caller then decides (single use, expired or not).
    pub(crate) fn take_ticket(&self, digest: &str) -> R<Option<Ticket>> {
        let row: Option<Row> = self.first(
            "SELECT account, session, device, epoch, expires_at FROM tickets WHERE digest = ?",
            vec![digest.into()],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        self.run("DELETE FROM tickets WHERE digest = ?", vec![digest.into()])?;
        Ok(Some(Ticket {
            account: id(&r.account, AccountId::new)?,
            session: id(&r.session, SessionId::new)?,
            device: DeviceSlot(u16::try_from(r.device).map_err(db)?),
            epoch: Epoch(u32::try_from(r.epoch).map_err(db)?),
            expires_at: r.expires_at,
        }))
    }
}
