//! The session token: a compact JWS (RFC 7515) signed with Ed25519 (RFC 8037),
//! docs/CONTRACT.md section 1. Two types keep the order the validator needs:
//! [`UnverifiedToken::parse`] checks the structure and header and yields a token whose claims
//! cannot be read; [`UnverifiedToken::verify`] checks the key and signature and only then parses
//! the claims into a [`Session`].

use serde::Serialize;
use serde_json::Value;

use crate::b64;
use crate::error::{Reason, Refusal};
use crate::ids::{AccountId, DeviceSlot, Epoch, KeyId, SessionId};
use crate::json;
use crate::keys::{HostVerify, KeySet, PrivateKey};
use crate::session::Session;
use crate::step_up::{amr_problem, MAX_AUTH_TIME};

/// Header members that are refused: each would change how the token is processed or let the
/// token choose its own key.
pub const FORBIDDEN_HEADERS: [&str; 7] = ["crit", "b64", "jwk", "jku", "x5u", "x5c", "x5t"];

/// The `typ` tokens carry unless configured otherwise.
pub const DEFAULT_TYPE: &str = "session+jwt";

/// A token whose structure and header are valid but whose signature is not checked yet. Its
/// claims are out of reach until [`verify`](UnverifiedToken::verify) succeeds.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    /// The `kid` of the key that must have signed it.
    kid: String,
    /// The bytes the signature covers: `base64url(header) "." base64url(payload)`.
    signing_input: &'a [u8],
    /// The decoded payload, parsed only after verification.
    payload: Vec<u8>,
    /// The 64-byte Ed25519 signature.
    signature: [u8; 64],
}

fn refuse<T>(
    reason: Reason,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> Result<T, Refusal> {
    Err(Refusal::new(reason, message))
}

impl<'a> UnverifiedToken<'a> {
    /// Splits the token, decodes its segments and checks the header against `typ`.
    /// The caller has already checked the length cap.
    pub fn parse(token: &'a str, typ: &str) -> Result<Self, Refusal> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return refuse(
                Reason::Malformed,
                "a token is three base64url segments separated by two dots",
            );
        };
        let segment = |text: &str, name: &'static str| {
            b64::decode(text).ok_or_else(|| {
                Refusal::new(
                    Reason::Malformed,
                    format!("the {name} is not non-empty unpadded base64url"),
                )
            })
        };
        let header = segment(h, "header")?;
        let payload = segment(p, "payload")?;
        let signature: [u8; 64] = segment(s, "signature")?.try_into().map_err(|_| {
            Refusal::new(
                Reason::Malformed,
                "an Ed25519 signature is exactly 64 bytes",
            )
        })?;

        let header = std::str::from_utf8(&header)
            .map_err(|_| Refusal::new(Reason::Malformed, "the header is not UTF-8"))
            .and_then(|text| {
                json::parse_object(text)
                    .map_err(|e| Refusal::new(Reason::Malformed, format!("header: {e}")))
            })?;
        match header.get("alg") {
            Some(Value::String(alg)) if alg == "EdDSA" || alg == "Ed25519" => {}
            Some(Value::String(alg)) => {
                return refuse(
                    Reason::UnsupportedAlgorithm,
                    format!("alg {alg:?} is not accepted; only \"EdDSA\" (or \"Ed25519\") is"),
                )
            }
            Some(_) => {
                return refuse(
                    Reason::UnsupportedAlgorithm,
                    "alg must be the string \"EdDSA\"",
                )
            }
            None => return refuse(Reason::UnsupportedAlgorithm, "the header has no alg"),
        }
        if let Some(name) = FORBIDDEN_HEADERS
            .iter()
            .find(|name| header.contains_key(**name))
        {
            return refuse(
                Reason::ForbiddenHeader,
                format!("the header member {name:?} is not allowed"),
            );
        }
        match header.get("typ") {
            Some(Value::String(t)) if t == typ => {}
            Some(Value::String(t)) => {
                return refuse(Reason::WrongType, format!("typ is {t:?}, expected {typ:?}"))
            }
            Some(_) => return refuse(Reason::WrongType, "typ must be a string"),
            None => {
                return refuse(
                    Reason::WrongType,
                    format!("the header has no typ; expected {typ:?}"),
                )
            }
        }
        let kid = match header.get("kid") {
            Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= KeyId::MAX_BYTES => {
                kid.clone()
            }
            Some(Value::String(_)) => {
                return refuse(Reason::UnknownKey, "kid must be 1 to 64 bytes long")
            }
            Some(_) => return refuse(Reason::Malformed, "kid must be a string"),
            None => return refuse(Reason::UnknownKey, "the header has no kid"),
        };
        let signing_input = token
            .get(..h.len() + 1 + p.len())
            .unwrap_or_default()
            .as_bytes();
        Ok(UnverifiedToken {
            kid,
            signing_input,
            payload,
            signature,
        })
    }

    /// The `kid` of the key that must have signed the token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Finds the key by `kid` (`unknown_key`), checks the signature (`bad_signature`) and only
    /// then parses the claims (`missing_claim`, `malformed`). Issuer, audience, time and
    /// revocation are the validator's to check.
    pub fn verify(self, keys: &KeySet) -> Result<Session, Refusal> {
        self.verify_with(keys, None)
    }

    /// [`Self::verify`], with the signature's equation left to `host` when given
    /// ([`PublicKey::verify_with_host`](crate::PublicKey::verify_with_host)).
    pub fn verify_with(
        self,
        keys: &KeySet,
        host: Option<HostVerify<'_>>,
    ) -> Result<Session, Refusal> {
        let key = keys.get(&self.kid).ok_or_else(|| {
            Refusal::new(
                Reason::UnknownKey,
                format!("no configured key has the kid {:?}", self.kid),
            )
        })?;
        let good = match host {
            None => key.verify(self.signing_input, &self.signature),
            Some(host) => key.verify_with_host(self.signing_input, &self.signature, host),
        };
        if !good {
            return refuse(Reason::BadSignature, "the signature does not verify");
        }
        parse_claims(&self.payload)
    }
}

/// Parses and checks the payload of a token whose signature verified: presence, type and range
/// of every claim (not yet issuer, audience, time or revocation).
fn parse_claims(payload: &[u8]) -> Result<Session, Refusal> {
    let text = std::str::from_utf8(payload)
        .map_err(|_| Refusal::new(Reason::Malformed, "the payload is not UTF-8"))?;
    let all = json::parse_object(text)
        .map_err(|e| Refusal::new(Reason::Malformed, format!("payload: {e}")))?;
    for name in ["iss", "aud", "sub", "sid", "dev", "epo", "iat", "exp"] {
        if !all.contains_key(name) {
            return refuse(
                Reason::MissingClaim,
                format!("the required claim {name:?} is missing"),
            );
        }
    }
    let string = |name: &'static str| match all.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        _ => refuse(
            Reason::Malformed,
            format!("the claim {name:?} must be a string"),
        ),
    };
    let integer = |name: &'static str| match all.get(name) {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            Refusal::new(
                Reason::Malformed,
                format!("the claim {name:?} must be an integer number of seconds"),
            )
        }),
        _ => refuse(
            Reason::Malformed,
            format!("the claim {name:?} must be an integer"),
        ),
    };
    let ranged = |name: &'static str, max: u64| match all.get(name).and_then(Value::as_u64) {
        Some(n) if n <= max => Ok(n),
        _ => refuse(
            Reason::Malformed,
            format!("the claim {name:?} must be an integer from 0 to {max}"),
        ),
    };
    let audience = match all.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Refusal::new(
                    Reason::Malformed,
                    "every member of \"aud\" must be a string",
                )
            })?,
        _ => {
            return refuse(
                Reason::Malformed,
                "the claim \"aud\" must be a string or a non-empty array of strings",
            )
        }
    };
    let account = AccountId::new(string("sub")?)
        .ok_or_else(|| Refusal::new(Reason::Malformed, format!("sub: {}", AccountId::RULE)))?;
    let session = SessionId::new(string("sid")?)
        .ok_or_else(|| Refusal::new(Reason::Malformed, format!("sid: {}", SessionId::RULE)))?;
    let not_before = if all.contains_key("nbf") {
        Some(integer("nbf")?)
    } else {
        None
    };
    if all.contains_key("jti") {
        string("jti")?;
    }
    let auth_time = if all.contains_key("auth_time") {
        // At most 2^53 - 1, which fits an i64.
        Some(ranged("auth_time", MAX_AUTH_TIME as u64)? as i64)
    } else {
        None
    };
    let amr = match all.get("amr") {
        None => None,
        Some(Value::Array(items)) => {
            let methods = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Refusal::new(
                        Reason::Malformed,
                        "every member of \"amr\" must be a string",
                    )
                })?;
            if let Some(problem) = amr_problem(&methods) {
                return refuse(Reason::Malformed, problem);
            }
            Some(methods)
        }
        Some(_) => {
            return refuse(
                Reason::Malformed,
                "the claim \"amr\" must be an array of strings",
            )
        }
    };
    Ok(Session {
        issuer: string("iss")?.to_owned(),
        audience,
        account,
        session,
        device: DeviceSlot(ranged("dev", u64::from(u16::MAX))? as u16),
        epoch: Epoch(ranged("epo", u64::from(u32::MAX))? as u32),
        issued_at: integer("iat")?,
        expires_at: integer("exp")?,
        not_before,
        auth_time,
        amr,
        claims: all,
        payload: text.into(),
    })
}

/// What an issuer signs. Field order is the serialization order.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct NewClaims<'a> {
    /// `iss`.
    pub iss: &'a str,
    /// `aud`.
    pub aud: &'a str,
    /// `sub`.
    pub sub: &'a str,
    /// `sid`.
    pub sid: &'a str,
    /// `dev`.
    pub dev: u16,
    /// `epo`.
    pub epo: u32,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
    /// `jti`, optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<&'a str>,
    /// `auth_time`, optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// `amr`, optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<&'a [&'a str]>,
}

#[derive(Serialize)]
struct NewHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'a str,
}

/// Signs `claims` into a compact JWS with header `{"alg":"EdDSA","kid":...,"typ":...}`.
pub(crate) fn encode(key: &PrivateKey, typ: &str, claims: &NewClaims<'_>) -> String {
    let header = NewHeader {
        alg: "EdDSA",
        kid: key.kid().as_str(),
        typ,
    };
    // Serializing these plain structs cannot fail: every field is a string or an integer.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = b64::encode(&header);
    token.push('.');
    token.push_str(&b64::encode(&payload));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64::encode(&signature));
    token
}
