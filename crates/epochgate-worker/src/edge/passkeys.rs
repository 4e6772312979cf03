//! Passkey sign-in at the edge. A sign-in challenge is issued here from the isolate alone —
//! it is authenticated under a key derived from `DATA_KEY`, so no object stores it — and the
//! answer goes to the shard of the account its user handle names, which checks the whole
//! ceremony and spends the challenge.
//!
//! Before any object sees an answer, the edge counts it against the client network's password
//! limit (a passkey sign-in is a sign-in attempt) and checks that it answers a sign-in
//! challenge this deployment issued and that has not expired: a flood of made-up answers costs
//! the isolate a hash each and never reaches a Durable Object.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use epochgate::AccountId;
use epochgate_webauthn::{Challenge, Purpose};
use serde_json::{json, Value};
use worker::{Env, Response};

use super::incoming::Incoming;
use super::passwords::{admit, Limit};
use crate::config;
use crate::error::{ApiCode, ApiError};
use crate::host::now_secs;
use crate::http::json as respond_json;
use crate::rp::{new_challenge, RpSettings, CEREMONY_TIMEOUT_MS};

type R<T> = std::result::Result<T, ApiError>;

/// `POST /v1/login/passkey-options`: options for a discoverable credential.
pub(super) fn login_options(env: &Env) -> R<Response> {
    let rp = RpSettings::from_env(env)?;
    let key = config::data_key(env)?;
    let challenge = new_challenge(key.challenge_key(), Purpose::Login, &[], now_secs())?;
    Ok(respond_json(
        200,
        &json!({ "publicKey": {
            "challenge": challenge,
            "rpId": rp.id,
            "timeout": CEREMONY_TIMEOUT_MS,
            "userVerification": "required",
            "allowCredentials": [],
        }}),
    )?)
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn decode(s: &str) -> Option<Vec<u8>> {
    B64.decode(s.trim_end_matches('=')).ok()
}

/// The account a passkey sign-in names (its user handle), once the answer passed the edge's
/// checks; `Ok(None)` when the body is not one the shard could take, which the shard then
/// refuses with the specific field.
pub(super) async fn admit_login(env: &Env, req: &Incoming, body: &[u8]) -> R<Option<String>> {
    admit(env, req, &[Limit::Password], 0).await?;
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let handle = field(&v, &["credential", "response", "userHandle"]);
    let Some(account) = handle
        .and_then(decode)
        .and_then(|h| String::from_utf8(h).ok())
        .filter(|a| AccountId::new(a).is_some())
    else {
        return Err(ApiError::new(
            ApiCode::InvalidCredentials,
            "this passkey could not sign you in: it names no account of this site (sign in \
             with a passkey made here)",
        ));
    };
    let challenge = field(&v, &["credential", "response", "clientDataJSON"])
        .and_then(decode)
        .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
        .and_then(|c| c.get("challenge").and_then(Value::as_str).and_then(decode));
    let key = config::data_key(env)?;
    let opened = challenge
        .as_deref()
        .map(|c| Challenge::open(key.challenge_key(), c, Purpose::Login, &[], now_secs()));
    match opened {
        Some(Ok(_)) => Ok(Some(account)),
        Some(Err(e)) => Err(ApiError::new(
            ApiCode::InvalidChallenge,
            format!(
                "{}: the sign-in challenge is forged or expired; ask for new options and try \
                 again",
                e.code()
            ),
        )),
        None => Err(ApiError::invalid(
            "credential.response.clientDataJSON must be base64url JSON with a challenge",
        )),
    }
}
