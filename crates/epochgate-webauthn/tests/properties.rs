//! Arbitrary bytes never panic either ceremony, whichever part of the response they replace.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use epochgate_webauthn::{
    b64url, Challenge, MemorySpent, Purpose, RelyingParty, StoredKey, StoredPasskey,
};
use proptest::prelude::*;

const KEY: [u8; 32] = [7; 32];
const NOW: i64 = 1_800_000_000;

fn client_data(kind: &str) -> Vec<u8> {
    let purpose = if kind == "webauthn.create" {
        Purpose::Registration
    } else {
        Purpose::Login
    };
    let binding: &[u8] = if kind == "webauthn.create" {
        b"acct"
    } else {
        b""
    };
    let c = b64url::encode(&Challenge::issue(&KEY, purpose, binding, NOW, [1; 16]));
    format!(r#"{{"type":"{kind}","challenge":"{c}","origin":"https://example.com"}}"#).into_bytes()
}

fn stored() -> StoredPasskey {
    let text = include_str!("vectors/assertion.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    let hex_key = json["credentials"]["a"]["stored_key"].as_str().unwrap();
    StoredPasskey {
        key: StoredKey::from_bytes(&hex::decode(hex_key).unwrap()).unwrap(),
        sign_count: 0,
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic_registration(
        attestation in proptest::collection::vec(any::<u8>(), 0..512),
        json in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let rp = RelyingParty::new("example.com", &["https://example.com"]);
        let cd = client_data("webauthn.create");
        prop_assert!(rp.verify_registration(&KEY, b"acct", NOW, &cd, &attestation, &mut MemorySpent::new()).is_err());
        let _ = rp.verify_registration(&KEY, b"acct", NOW, &json, &attestation, &mut MemorySpent::new());
    }

    #[test]
    fn random_bytes_never_panic_assertion(
        auth in proptest::collection::vec(any::<u8>(), 0..256),
        signature in proptest::collection::vec(any::<u8>(), 0..96),
        json in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let rp = RelyingParty::new("example.com", &["https://example.com"]);
        let cd = client_data("webauthn.get");
        let stored = stored();
        prop_assert!(rp.verify_assertion(&KEY, Purpose::Login, b"", NOW, &stored, &cd, &auth, &signature, &mut MemorySpent::new()).is_err());
        let _ = rp.verify_assertion(&KEY, Purpose::Login, b"", NOW, &stored, &json, &auth, &signature, &mut MemorySpent::new());
    }

    #[test]
    fn random_stored_keys_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(key) = StoredKey::from_bytes(&bytes) {
            prop_assert_eq!(key.to_bytes(), bytes);
        }
    }
}
