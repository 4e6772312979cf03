//! WebSocket tickets. A browser cannot set `Authorization` on a WebSocket, and a session token
//! valid for weeks must not travel in a URL (proxies, logs and history keep URLs), so a session
//! asks `POST /v1/events/ticket` for a ticket and opens `GET /v1/events?ticket=`.
//!
//! A ticket is 32 random bytes, single use, valid `EVENTS_TICKET_TTL_SECONDS` (30 s), stored
//! only as its keyed digest (`DATA_KEY`) and bound to the session and to the slot and epoch of
//! the token that asked for it: redeeming deletes it first, then checks that token's identity
//! against the origin's state exactly as a token-carrying request is checked
//! ([`Ctx::authorize`]), so a signed-out session's ticket opens nothing. A session holds at most
//! [`MAX_LIVE`] live tickets; asking for more forgets its oldest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::Serialize;
use worker::{Request, Response};

use super::ctx::{Caller, Claimed, Ctx};
use super::store::Ticket;
use super::wire::Empty;
use crate::error::{ApiCode, ApiError};
use crate::host::random_bytes;
use crate::http::{header, json, parse_json};

type R<T> = std::result::Result<T, ApiError>;

/// The digest label of tickets, apart from every other kind of code.
const PURPOSE: &str = "events-ticket";
/// Live tickets one session may hold.
pub(super) const MAX_LIVE: u32 = 4;
/// Random bytes in a ticket.
const TICKET_BYTES: usize = 32;

/// 201 of `POST /v1/events/ticket`.
#[derive(Serialize)]
struct Issued {
    ticket: String,
    expires_in: i64,
}

fn invalid_ticket() -> ApiError {
    ApiError::new(
        ApiCode::InvalidTicket,
        "the ticket is unknown, used or expired: get a new one with POST /v1/events/ticket",
    )
}

/// The `ticket` query parameter, when the request has exactly one.
fn ticket_of(req: &Request) -> Option<String> {
    let url = req.url().ok()?;
    let mut tickets = url.query_pairs().filter(|(k, _)| k == "ticket");
    match (tickets.next(), tickets.next()) {
        (Some((_, t)), None) if !t.is_empty() => Some(t.into_owned()),
        _ => None,
    }
}

impl Ctx<'_> {
    fn ticket_digest(&self, ticket: &str) -> String {
        self.ready.data_key.hash_token(PURPOSE, ticket)
    }

    /// `POST /v1/events/ticket`: a single-use ticket for the caller's session.
    pub(super) fn events_ticket(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let Empty {} = parse_json(body)?;
        // The account first, so the edge knows which shard redeems it.
        let ticket = format!(
            "{}.{}",
            c.account.as_str(),
            B64.encode(random_bytes::<TICKET_BYTES>()?)
        );
        let ttl = self.ready.ticket_ttl;
        let bound = Ticket {
            account: c.account.clone(),
            session: c.session.id.clone(),
            device: c.session.slot,
            epoch: c.session.epoch,
            expires_at: self.now.saturating_add(ttl),
        };
        self.store()
            .add_ticket(&self.ticket_digest(&ticket), &bound, self.now, MAX_LIVE)?;
        Ok(json(
            201,
            &Issued {
                ticket,
                expires_in: ttl,
            },
        )?)
    }

    /// `GET /v1/events?ticket=` (no `Authorization`; the edge passed no identity): redeems the
    /// ticket, then accepts the WebSocket as for a token.
    pub(super) fn events_by_ticket(&self, req: &Request) -> R<Response> {
        let ticket = ticket_of(req).ok_or_else(invalid_ticket)?;
        let t = self
            .store()
            .take_ticket(&self.ticket_digest(&ticket))?
            .filter(|t| self.now < t.expires_at)
            .ok_or_else(invalid_ticket)?;
        let c = self.authorize(Claimed {
            account: t.account,
            session: t.session,
            device: t.device,
            epoch: t.epoch,
        })?;
        self.sockets
            .accept(&c.account, &c.session.id, header(req, "upgrade"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sealed::DataKey;

    #[test]
    fn tickets_are_kept_as_keyed_digests_of_their_own_kind() {
        let key = DataKey::from_secret(Some(&B64.encode([1u8; 32]))).unwrap();
        let other = DataKey::from_secret(Some(&B64.encode([2u8; 32]))).unwrap();
        let ticket = B64.encode([7u8; TICKET_BYTES]);
        let digest = key.hash_token(PURPOSE, &ticket);
        assert_ne!(digest, ticket);
        assert!(!digest.contains(&ticket[..8]));
        assert_eq!(
            digest,
            key.hash_token(PURPOSE, &ticket),
            "looked up by digest"
        );
        assert_ne!(digest, other.hash_token(PURPOSE, &ticket), "keyed");
        assert_ne!(
            digest,
            key.hash_token("recovery", &ticket),
            "purpose-separated"
        );
        // Exact: a ticket differing only in case is another ticket.
        assert_ne!(digest, key.hash_token(PURPOSE, &ticket.to_uppercase()));
    }
}
