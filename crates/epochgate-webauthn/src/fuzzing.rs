//! The entry point of the fuzz target in `fuzz/`: arbitrary bytes through the CBOR decoder and
//! both ceremonies, so the code under test is exactly the library's.
//!
//! Input: one selector byte, then length-prefixed fields (u16 big-endian length, then the
//! bytes; a missing field is empty): stored key, clientDataJSON, authenticatorData, signature,
//! attestationObject. The challenge key, time and binding are those of `tests/vectors/`, so the
//! seeds `make.mjs` writes from the vectors reach every check, down to the signature.

use crate::{MemorySpent, Purpose, RelyingParty, StoredKey, StoredPasskey};

const NOW: i64 = 1_800_000_000;
const BINDING: &[u8] = b"acct-1";

fn challenge_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    for (i, k) in (0u8..).zip(key.iter_mut()) {
        *k = i;
    }
    key
}

fn field<'a>(data: &mut &'a [u8]) -> &'a [u8] {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        *data = &[];
        return &[];
    };
    let len = usize::from(u16::from_be_bytes(*len));
    let (out, rest) = rest.split_at(len.min(rest.len()));
    *data = rest;
    out
}

/// Runs `data` through the CBOR decoder, a registration and an assertion; none may panic, and a
/// verified assertion must have a counter that went up (or stayed at zero).
pub fn ceremonies(data: &[u8]) {
    let _ = crate::cbor::decode(data);
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let stored_key = field(&mut rest);
    let client_data = field(&mut rest);
    let authenticator_data = field(&mut rest);
    let signature = field(&mut rest);
    let attestation_object = field(&mut rest);
    let key = challenge_key();
    let rp = RelyingParty::new("example.com", &["https://example.com"]);
    let mut spent = MemorySpent::new();
    let _ = rp.verify_registration(
        &key,
        BINDING,
        NOW,
        client_data,
        attestation_object,
        &mut spent,
    );
    let (purpose, binding) = if selector & 1 == 0 {
        (Purpose::Login, &b""[..])
    } else {
        (Purpose::Reauthentication, BINDING)
    };
    if let Ok(key_bytes) = StoredKey::from_bytes(stored_key) {
        let stored = StoredPasskey {
            key: key_bytes,
            sign_count: u32::from(selector >> 1),
        };
        if let Ok(asserted) = rp.verify_assertion(
            &key,
            purpose,
            binding,
            NOW,
            &stored,
            client_data,
            authenticator_data,
            signature,
            &mut spent,
        ) {
            assert!(asserted.sign_count > stored.sign_count || asserted.sign_count == 0);
        }
    }
}
