//! The `events` table: the account's activity log.

use epochgate::{AccountId, SessionId};
use serde::{Deserialize, Serialize};

use super::{int, opt, ClientInfo, Store, R};
use crate::vocab::ActivityKind;

/// One activity-log entry, as stored and as answered.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct Event {
    /// An [`ActivityKind`] word.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The session concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<String>,
    /// Unix seconds.
    pub(crate) at: i64,
    /// Client IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
    /// Coarse location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<String>,
    /// User agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
}

impl Store {
    /// Appends an event.
    pub(crate) fn log(
        &self,
        account: &AccountId,
        kind: ActivityKind,
        session: Option<&SessionId>,
        client: &ClientInfo,
        now: i64,
    ) -> R<()> {
        self.run(
            "INSERT INTO events (account, type, session, at, ip, location, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                account.as_str().into(),
                kind.as_str().into(),
                session.map(|s| s.as_str().to_owned()).into(),
                int(now),
                opt(&client.ip),
                opt(&client.location),
                opt(&client.user_agent),
            ],
        )
    }

    /// The newest events of `account`, newest first.
    pub(crate) fn events(&self, account: &AccountId) -> R<Vec<Event>> {
        self.all(
            "SELECT type, session, at, ip, location, user_agent FROM events WHERE account = ? ORDER BY id DESC LIMIT 200",
            vec![account.as_str().into()],
        )
    }
}
