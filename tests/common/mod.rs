//! Shared fixtures for the integration tests: fixed keys and a hand-rolled JWS builder that can
//! produce every malformed shape the validator must refuse.
#![allow(dead_code)]

use epochgate::{Issuer, KeySet, MintRequest, Options, PrivateKey, Validator};

/// Unpadded base64url as tokens carry it, for building tokens by hand (the core keeps its own
/// strict codec private).
pub mod b64 {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    pub fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(text).ok()
    }
}

pub const ISS: &str = "https://id.example";
pub const AUD: &str = "app";
pub const NOW: i64 = 1_800_000_000;

pub fn token_key() -> PrivateKey {
    PrivateKey::from_seed("tok-1", &[7; 32]).unwrap()
}

pub fn update_key() -> PrivateKey {
    PrivateKey::from_seed("upd-1", &[9; 32]).unwrap()
}

pub fn options() -> Options {
    Options {
        issuer: ISS.into(),
        audience: AUD.into(),
        ..Options::default()
    }
}

pub fn validator_with(options: Options) -> Validator {
    let keys = KeySet::new(vec![token_key().public()]).unwrap();
    let updates = KeySet::new(vec![update_key().public()]).unwrap();
    Validator::new(options, keys, Some(updates), [3; 16]).unwrap()
}

pub fn validator() -> Validator {
    validator_with(options())
}

pub fn issuer() -> Issuer {
    Issuer::new(ISS, AUD, token_key(), None, None).unwrap()
}

pub fn mint(account: &str, session: &str, device: u32, epoch: u64, now: i64) -> String {
    issuer()
        .mint(&MintRequest {
            account,
            session,
            device,
            epoch,
            now,
            ttl: None,
            jti: None,
            auth_time: None,
            amr: None,
        })
        .unwrap()
}

/// The claims JSON of a normal token, for editing.
pub fn claims_json() -> serde_json::Value {
    serde_json::json!({
        "iss": ISS, "aud": AUD, "sub": "acct", "sid": "sess", "dev": 0, "epo": 0,
        "iat": NOW, "exp": NOW + 3600,
    })
}

pub fn header_json() -> serde_json::Value {
    serde_json::json!({ "alg": "EdDSA", "kid": "tok-1", "typ": "session+jwt" })
}

/// Signs raw header and payload bytes with `key`.
pub fn sign_raw(key: &PrivateKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64::encode(&sig))
}

pub fn sign_json(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    sign_raw(
        &token_key(),
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}
