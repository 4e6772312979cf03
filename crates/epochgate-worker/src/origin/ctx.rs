//! What one request at the origin works with: the object's settings built once ([`Ready`]),
//! the per-request context every handler is a method on ([`Ctx`]), and the caller's identity
//! before ([`Claimed`]) and after ([`Caller`]) the origin checked it against its own state.

use std::cell::{RefCell, RefMut};

use epochgate::{AccountId, DeviceSlot, Epoch, Issuer, Reason, RevocationLog, SessionId};
use worker::Request;

use super::push::Sockets;
use super::store::{ClientInfo, Revocations, SessionRow, Store};
use crate::config::TokenProfile;
use crate::error::ApiError;
use crate::http::{header, internal};
use crate::sealed::DataKey;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// What the object builds once: the store, the revocation log, keys and settings.
pub(crate) struct Ready {
    pub(super) store: Store,
    pub(super) log: RefCell<RevocationLog<Revocations>>,
    pub(super) issuer: Issuer,
    pub(super) profile: TokenProfile,
    pub(super) last_seen_interval: i64,
    /// How long a password check's reservation holds its place, ms
    /// (`PASSWORD_CHECK_TIMEOUT_MS`, `passwords.rs`).
    pub(super) reservation_ms: i64,
    /// Lifetime of a WebSocket ticket, seconds (`EVENTS_TICKET_TTL_SECONDS`).
    pub(super) ticket_ttl: i64,
    /// Seals secrets and hashes codes at rest (`DATA_KEY`); the store holds a share of it.
    pub(super) data_key: DataKey,
    /// Mail settings and the outbox's alarm flag.
    pub(super) mail: super::mail::Outbox,
    /// Revocation changes on their way to the feed (`handover.rs`).
    pub(super) handover: super::handover::Handover,
    /// The WebAuthn relying party (`RP_ID`, `RP_ORIGINS`, `RP_NAME`), and its verifier.
    pub(super) rp: crate::rp::RpSettings,
    pub(super) relying_party: epochgate_webauthn::RelyingParty,
}

/// One request at the origin, its body already read: every handler is a method on it and none
/// awaits.
pub(crate) struct Ctx<'a> {
    pub(super) ready: &'a Ready,
    pub(super) sockets: Sockets<'a>,
    pub(super) client: ClientInfo,
    /// Unix time in seconds (rows, tokens).
    pub(super) now: i64,
    /// The same instant in milliseconds (throttles, whose first wait is one second).
    pub(super) now_ms: i64,
    /// The edge's check of the request's password (`passwords.rs`).
    pub(super) verdict: Option<super::passwords::Verdict>,
    /// The hash the edge made of the request's new password.
    pub(super) new_hash: Option<String>,
}

impl Ctx<'_> {
    pub(super) fn store(&self) -> &Store {
        &self.ready.store
    }

    /// Records `kind` in the account's activity log with this request's client details, made
    /// by `session` when a session made it.
    pub(super) fn note(
        &self,
        account: &AccountId,
        kind: ActivityKind,
        session: Option<&SessionId>,
    ) -> R<()> {
        self.store()
            .log(account, kind, session, &self.client, self.now)
    }
}

impl Ready {
    /// The revocation log's sequence (to tell whether a request made a visible change).
    pub(super) fn seq(&self) -> R<u64> {
        self.log.try_borrow().map_err(ApiError::internal)?.seq()
    }
}

impl Ctx<'_> {
    /// The revocation log, for one transition (no handler holds it across another call).
    pub(super) fn log(&self) -> R<RefMut<'_, RevocationLog<Revocations>>> {
        self.ready.log.try_borrow_mut().map_err(ApiError::internal)
    }
}

/// The identity the edge says it verified, not yet checked against the origin's own state.
pub(super) struct Claimed {
    pub(super) account: AccountId,
    pub(super) session: SessionId,
    pub(super) device: DeviceSlot,
    pub(super) epoch: Epoch,
}

/// A caller whose identity the origin checked ([`Ctx::authorize`]): its account, and its
/// session's row as it stood.
pub(crate) struct Caller {
    pub(super) account: AccountId,
    pub(super) session: SessionRow,
}

/// A request that reached the origin without the identity its route needs: only a bug in the
/// edge can send one.
pub(super) fn no_identity() -> ApiError {
    ApiError::refused(Reason::Malformed, "no verified identity reached the origin")
}

impl Claimed {
    pub(super) fn from_headers(req: &Request) -> R<Self> {
        let missing = no_identity;
        Ok(Claimed {
            account: header(req, internal::ACCOUNT)
                .and_then(|a| AccountId::new(&a))
                .ok_or_else(missing)?,
            session: header(req, internal::SESSION)
                .and_then(|s| SessionId::new(&s))
                .ok_or_else(missing)?,
            device: header(req, internal::DEVICE)
                .and_then(|d| d.parse().ok())
                .map(DeviceSlot)
                .ok_or_else(missing)?,
            epoch: header(req, internal::EPOCH)
                .and_then(|e| e.parse().ok())
                .map(Epoch)
                .ok_or_else(missing)?,
        })
    }
}

pub(super) fn client_info(req: &Request) -> ClientInfo {
    ClientInfo {
        ip: header(req, internal::IP),
        location: header(req, internal::LOCATION),
        user_agent: header(req, internal::USER_AGENT),
    }
}
