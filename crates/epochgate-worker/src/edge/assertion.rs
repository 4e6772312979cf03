//! The upstream assertion: a JWS the edge signs for every request it forwards to `/app`'s
//! upstream (`Epochgate-Assertion`), so the upstream can know who calls without trusting
//! headers that anything on the way could have set.
//!
//! EdDSA under `UPSTREAM_SIGNING_JWK` (a key of its own, published at
//! `/.well-known/upstream-jwks.json`), `typ` [`TYPE`], and claims that tie it to one request:
//! `htm` is the method and `htu` the path and query as the upstream receives them, so an
//! assertion copied onto another request does not fit it, and it lives [`LIFETIME`] seconds.
//! `jti` is random, for upstreams that want to refuse a replay within that minute.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use epochgate::{PrivateKey, Session};
use serde::Serialize;
use worker::Url;

/// The request header that carries the assertion.
pub(super) const HEADER: &str = "epochgate-assertion";
/// Its header `typ`.
pub(super) const TYPE: &str = "epochgate-assertion+jwt";
/// Its `aud`.
pub(super) const AUDIENCE: &str = "upstream";
/// Its lifetime in seconds: `exp = iat + LIFETIME`.
pub(super) const LIFETIME: i64 = 60;

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// The claims of one assertion.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(super) struct Claims<'a> {
    iss: &'a str,
    aud: &'static str,
    sub: &'a str,
    sid: &'a str,
    dev: u16,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    /// The token's `auth_time` and `amr`, when it has them: the upstream may ask for a recent
    /// or strong authentication too.
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<&'a [String]>,
}

impl<'a> Claims<'a> {
    /// The claims for the verified `session` calling `htm htu` at `now` (Unix seconds), issued
    /// by `issuer` (the token issuer, `ISSUER`).
    pub(super) fn new(
        issuer: &'a str,
        session: &'a Session,
        htm: &'a str,
        htu: &'a str,
        now: i64,
        jti: &'a str,
    ) -> Self {
        Claims {
            iss: issuer,
            aud: AUDIENCE,
            sub: session.account.as_str(),
            sid: session.session.as_str(),
            dev: session.device.0,
            auth_time: session.auth_time,
            amr: session.amr.as_deref(),
            htm,
            htu,
            iat: now,
            exp: now.saturating_add(LIFETIME),
            jti,
        }
    }
}

/// `htu`: the path and query of the URL the upstream is sent, as it will read them from its
/// request line.
pub(super) fn target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The compact JWS of `claims` under `key`.
pub(super) fn sign(key: &PrivateKey, claims: &Claims<'_>) -> serde_json::Result<String> {
    let header = serde_json::to_vec(&Header {
        alg: "EdDSA",
        typ: TYPE,
        kid: key.kid().as_str(),
    })?;
    let mut jws = B64.encode(header);
    jws.push('.');
    jws.push_str(&B64.encode(serde_json::to_vec(claims)?));
    let signature = key.sign(jws.as_bytes());
    jws.push('.');
    jws.push_str(&B64.encode(signature));
    Ok(jws)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use epochgate::{Issuer, KeySet, MintRequest, Options, Validator, Verdict};
    use serde_json::{json, Value};
    use std::sync::Arc;

    const NOW: i64 = 1_800_000_000;

    /// A verified session, the way the edge gets one: minted, then validated.
    fn session() -> Arc<Session> {
        let key = PrivateKey::from_seed("tokens-1", &[7; 32]).unwrap();
        let keys = KeySet::new(vec![key.public()]).unwrap();
        let issuer = Issuer::new("epochgate", "epochgate", key, None, None).unwrap();
        let token = issuer
            .mint(&MintRequest {
                account: "acct_1",
                session: "s_1",
                device: 3,
                epoch: 2,
                now: NOW,
                ttl: None,
                jti: None,
                auth_time: None,
                amr: None,
            })
            .unwrap();
        let mut validator = Validator::new(options(), keys, None, [0; 16]).unwrap();
        match validator.validate(&token, NOW) {
            Verdict::Valid(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn options() -> Options {
        Options {
            issuer: "epochgate".into(),
            audience: "epochgate".into(),
            ..Options::default()
        }
    }

    fn part(jws: &str, n: usize) -> Vec<u8> {
        B64.decode(jws.split('.').nth(n).unwrap()).unwrap()
    }

    #[test]
    fn claims_name_the_caller_and_the_request() {
        let s = session();
        let claims = Claims::new("epochgate", &s, "POST", "/orders?x=1", NOW, "j1");
        assert_eq!(
            serde_json::to_value(&claims).unwrap(),
            json!({
                "iss": "epochgate", "aud": "upstream", "sub": "acct_1", "sid": "s_1", "dev": 3,
                "htm": "POST", "htu": "/orders?x=1", "iat": NOW, "exp": NOW + 60, "jti": "j1",
            })
        );
    }

    #[test]
    fn htu_keeps_the_query_as_sent() {
        let url = |u: &str| Url::parse(u).unwrap();
        assert_eq!(target(&url("https://up.example/orders")), "/orders");
        assert_eq!(
            target(&url("https://up.example/v2/orders?x=1&y=%20")),
            "/v2/orders?x=1&y=%20"
        );
        assert_eq!(target(&url("https://up.example/a%2Fb?")), "/a%2Fb?");
        assert_eq!(target(&url("https://up.example")), "/");
    }

    #[test]
    fn signed_with_its_own_key_and_type() {
        let key = PrivateKey::from_seed("upstream-1", &[9; 32]).unwrap();
        let s = session();
        let claims = Claims::new("epochgate", &s, "GET", "/", NOW, "j2");
        let jws = sign(&key, &claims).unwrap();
        assert_eq!(jws.split('.').count(), 3);
        let header: Value = serde_json::from_slice(&part(&jws, 0)).unwrap();
        assert_eq!(
            header,
            json!({ "alg": "EdDSA", "typ": "epochgate-assertion+jwt", "kid": "upstream-1" })
        );
        let payload: Value = serde_json::from_slice(&part(&jws, 1)).unwrap();
        assert_eq!(payload, serde_json::to_value(&claims).unwrap());
        let signature: [u8; 64] = part(&jws, 2).try_into().unwrap();
        let (input, _) = jws.rsplit_once('.').unwrap();
        assert!(key.public().verify(input.as_bytes(), &signature));
        // Not a session token: the token validator refuses it, even under the same key.
        let keys = KeySet::new(vec![key.public()]).unwrap();
        let mut validator = Validator::new(options(), keys, None, [0; 16]).unwrap();
        match validator.validate(&jws, NOW) {
            Verdict::Refused(r) => assert_eq!(r.reason.code(), "wrong_type"),
            other => panic!("{other:?}"),
        }
    }
}
