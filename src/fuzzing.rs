//! Entry points for the fuzz targets in `fuzz/`: each target is one call into here, so the code
//! under test is exactly the library's.

use crate::{KeySet, Options, PrivateKey, RevocationLog, Validator};

const NOW: i64 = 1_800_000_000;

fn validator() -> Option<Validator> {
    let token = PrivateKey::from_seed("tok-1", &[7; 32]).ok()?;
    let update = PrivateKey::from_seed("upd-1", &[9; 32]).ok()?;
    let options = Options {
        issuer: "https://id.example".into(),
        audience: "app".into(),
        ..Options::default()
    };
    Validator::new(
        options,
        KeySet::new(vec![token.public()]).ok()?,
        Some(KeySet::new(vec![update.public()]).ok()?),
        [0; 16],
    )
    .ok()
}

/// Validates arbitrary text as a token, twice (the second time through the cache).
pub fn validate_token(data: &[u8]) {
    if let (Ok(text), Some(mut v)) = (std::str::from_utf8(data), validator()) {
        let first = v.validate(text, NOW);
        assert_eq!(first, v.validate(text, NOW), "the cache changed a verdict");
    }
}

/// Applies arbitrary bytes as a revocation update; a refusal must leave the view unchanged.
pub fn apply_update(data: &[u8]) {
    if let Some(mut v) = validator() {
        let before = v.revocation_seq();
        if v.apply_revocation(data, NOW).is_err() {
            assert_eq!(v.revocation_seq(), before);
            assert!(v.view().is_empty());
        }
    }
}

/// Loads arbitrary text as a JWKS and as a private JWK.
pub fn load_keys(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = KeySet::from_jwks(text);
        let _ = PrivateKey::from_jwk(text);
    }
}

/// Decodes a signed update's structure and, when a real log made it, checks it round-trips;
/// the log runs with a short retention horizon and a clock that advances, so its deltas name
/// expired accounts, and a viewer following them must accept every one.
pub fn decode_update(data: &[u8]) {
    if let Ok(update) = crate::UnverifiedUpdate::decode(data) {
        let _ = update.kid();
    }
    let (Ok(key), Some(mut viewer)) = (PrivateKey::from_seed("upd-1", &[9; 32]), validator())
    else {
        return;
    };
    let mut log = RevocationLog::new(key).with_horizon(120);
    let mut now = NOW;
    for (i, b) in data.iter().take(64).enumerate() {
        let Some(account) = crate::AccountId::new(&format!("a{}", b % 8)) else {
            continue;
        };
        let _ = match i % 4 {
            0 => log.allocate_device(&account).map(|_| ()),
            1 => log
                .revoke_device(&account, crate::DeviceSlot(u16::from(*b % 4)))
                .map(|_| ()),
            2 => log.revoke_all(&account).map(|_| ()),
            _ => {
                now += i64::from(*b);
                match log.update_since(viewer.revocation_seq(), now) {
                    Ok(bytes) => {
                        assert!(crate::UnverifiedUpdate::decode(&bytes).is_ok());
                        assert!(viewer.apply_revocation(&bytes, now).is_ok());
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        };
    }
    if let Ok(bytes) = log.snapshot(now) {
        assert!(crate::UnverifiedUpdate::decode(&bytes).is_ok());
    }
}

/// The base64url codec (`src/b64.rs`), for the property test that holds it to the `base64`
/// crate: strict decoding, then encoding.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    crate::b64::decode(text)
}

/// See [`base64url_decode`].
pub fn base64url_encode(bytes: &[u8]) -> String {
    crate::b64::encode(bytes)
}
