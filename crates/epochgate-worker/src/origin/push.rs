//! `GET /v1/events`: WebSockets accepted with the hibernation API and tagged by session
//! (`s:<id>`) and account (`a:<id>`), told at once when their session is signed out and closed,
//! and told (left open) when another session changes the account's two-factor authentication.

use epochgate::{AccountId, SessionId};
use serde::Serialize;
use worker::{Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use crate::error::{ApiCode, ApiError};
use crate::vocab::{ActivityKind, SignOutScope};

type R<T> = std::result::Result<T, ApiError>;

/// Which sockets a sign-out concerns.
pub(crate) enum Push<'a> {
    /// One session's.
    Session(&'a SessionId),
    /// Every one of the account's but the kept session's.
    Account {
        account: &'a AccountId,
        keep: Option<&'a SessionId>,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message<'a> {
    Hello {
        session: &'a str,
    },
    SignedOut {
        scope: &'static str,
    },
    /// A change to how the account signs in, made by another session: not a sign-out.
    Security {
        event: &'static str,
    },
}

fn session_tag(id: &SessionId) -> String {
    format!("s:{}", id.as_str())
}

fn account_tag(id: &AccountId) -> String {
    format!("a:{}", id.as_str())
}

/// The object's sockets.
pub(crate) struct Sockets<'a>(&'a State);

impl<'a> Sockets<'a> {
    pub(super) fn new(state: &'a State) -> Self {
        Sockets(state)
    }

    /// Accepts a WebSocket of the (checked) `session` of `account` (101) and greets it.
    pub(super) fn accept(
        &self,
        account: &AccountId,
        session: &SessionId,
        upgrade: Option<String>,
    ) -> R<Response> {
        if !upgrade.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
            return Err(ApiError::new(
                ApiCode::UpgradeRequired,
                "GET /v1/events is a WebSocket: send Upgrade: websocket",
            ));
        }
        let pair = WebSocketPair::new()?;
        let tags = (session_tag(session), account_tag(account));
        self.0
            .accept_websocket_with_tags(&pair.server, &[&tags.0, &tags.1]);
        let hello = serde_json::to_string(&Message::Hello {
            session: session.as_str(),
        })
        .map_err(ApiError::internal)?;
        pair.server.send_with_str(hello)?;
        Ok(Response::from_websocket(pair.client)?)
    }

    /// Tells revoked sessions at once and closes their sockets.
    pub(super) fn signed_out(&self, to: Push<'_>, scope: SignOutScope) {
        let Ok(message) = serde_json::to_string(&Message::SignedOut {
            scope: scope.as_str(),
        }) else {
            return;
        };
        let sockets = match to {
            Push::Session(id) => self.0.get_websockets_with_tag(&session_tag(id)),
            Push::Account { account, keep } => self.others(account, keep),
        };
        for ws in sockets {
            // A socket that is already closing cannot be told; its session is revoked anyway.
            let _ = ws.send_with_str(&message);
            let _ = ws.close(Some(1000), Some("signed_out"));
        }
    }

    /// Tells the account's sessions other than `by` (which made the change) that its
    /// two-factor authentication changed (`event`: `totp_enabled` or `totp_disabled`). Their
    /// sockets stay open: nobody was signed out, but an owner who did not do it must learn it.
    pub(super) fn security(&self, account: &AccountId, by: &SessionId, event: ActivityKind) {
        let Ok(message) = serde_json::to_string(&Message::Security {
            event: event.as_str(),
        }) else {
            return;
        };
        for ws in self.others(account, Some(by)) {
            // A closing socket's page learns it from the activity log on its next load.
            let _ = ws.send_with_str(&message);
        }
    }

    /// The account's sockets, but not those of the session `keep`.
    fn others(&self, account: &AccountId, keep: Option<&SessionId>) -> Vec<WebSocket> {
        let keep = keep.map(session_tag);
        self.0
            .get_websockets_with_tag(&account_tag(account))
            .into_iter()
            .filter(|ws| {
                keep.as_ref()
                    .is_none_or(|k| !self.0.get_tags(ws).iter().any(|t| t == k))
            })
            .collect()
    }
}

/// Answers `ping` with `{"type":"pong"}`; ignores everything else.
pub(super) fn on_message(ws: &WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
    if let WebSocketIncomingMessage::String(s) = message {
        if s.trim() == "ping" {
            ws.send_with_str("{\"type\":\"pong\"}")?;
        }
    }
    Ok(())
}

/// Completes the close handshake the client started.
pub(super) fn on_close(ws: &WebSocket, code: usize, reason: String) {
    // Closing an already closing socket may throw; nothing is left to do then.
    let _ = ws.close(Some(close_code(code)), Some(reason));
}

/// Closes a socket that failed.
pub(super) fn on_error(ws: &WebSocket) {
    let _ = ws.close(Some(1011), Some("error"));
}

/// A close code that may be sent back: 1005, 1006 and 1015 are never sent on the wire, and
/// echoing them hangs the close handshake in workerd.
fn close_code(code: usize) -> u16 {
    match u16::try_from(code) {
        Ok(c) if (1000..=4999).contains(&c) && c != 1005 && c != 1006 && c != 1015 => c,
        _ => 1000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes() {
        assert_eq!(close_code(1000), 1000);
        assert_eq!(close_code(4001), 4001);
        for never in [1005, 1006, 1015, 999, 5000, usize::MAX] {
            assert_eq!(close_code(never), 1000);
        }
    }

    #[test]
    fn messages() {
        let m = |m: Message<'_>| serde_json::to_value(m).unwrap();
        assert_eq!(
            m(Message::SignedOut { scope: "all" }),
            serde_json::json!({ "type": "signed_out", "scope": "all" })
        );
        assert_eq!(
            m(Message::Security {
                event: ActivityKind::TotpDisabled.as_str()
            }),
            serde_json::json!({ "type": "security", "event": "totp_disabled" })
        );
        assert_eq!(
            m(Message::Hello { session: "s_1" }),
            serde_json::json!({ "type": "hello", "session": "s_1" })
        );
    }
}
