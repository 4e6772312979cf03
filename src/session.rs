//! The verified claims of a session token: what a token proves once its signature has been
//! checked. The only way to get one from a token is
//! [`UnverifiedToken::verify`](crate::UnverifiedToken::verify), so holding a `Session` means the
//! signature was good.

use serde_json::{Map, Value};

use crate::ids::{AccountId, DeviceSlot, Epoch, SessionId};

/// The claims of a token whose signature verified, checked for presence, type and range.
///
/// From [`UnverifiedToken::verify`](crate::UnverifiedToken::verify) it is not yet checked for
/// issuer, audience, time or revocation; a [`Verdict::Valid`](crate::Verdict::Valid) session
/// passed all of them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Session {
    /// `iss`.
    pub issuer: String,
    /// `aud`, as a list.
    pub audience: Vec<String>,
    /// `sub`.
    pub account: AccountId,
    /// `sid`.
    pub session: SessionId,
    /// `dev`.
    pub device: DeviceSlot,
    /// `epo`.
    pub epoch: Epoch,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// `nbf`, when present.
    pub not_before: Option<i64>,
    /// `auth_time`, when present: when the user last authenticated (Unix seconds, 0 to 2⁵³ − 1),
    /// which a re-authentication moves while the session stays.
    pub auth_time: Option<i64>,
    /// `amr`, when present: the methods of that authentication (RFC 8176 names such as `pwd`,
    /// `otp`, `hwk`), 1 to 16 distinct names.
    pub amr: Option<Vec<String>>,
    /// Every claim of the token, for applications that read their own claims.
    pub claims: Map<String, Value>,
    /// The payload's JSON text, as signed: what [`Session::claims`] was parsed from.
    pub(crate) payload: Box<str>,
}

impl Session {
    /// The payload's JSON text exactly as the token carries it and its signature covers, which
    /// strict parsing turned into [`Session::claims`] (no duplicate member, nesting bounded).
    /// A host with its own JSON parser builds the claims from it in one step (the wasm face
    /// hands it to `JSON.parse`) instead of converting the map member by member.
    pub fn payload_json(&self) -> &str {
        &self.payload
    }
}
