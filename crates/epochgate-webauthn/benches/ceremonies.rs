//! What a passkey costs the account object that checks it: a whole assertion (clientData,
//! authenticator data, signature, counter, challenge spend) for ES256 and EdDSA, next to the
//! bare signature check, and the bare check beside `ring`, the verifier a Rust user would pick
//! instead (C and assembly inside, so it cannot run in the Worker's wasm; this crate's must).
//!
//! `cargo bench -p epochgate-webauthn --bench ceremonies`. Results: docs/BENCHMARKS.md.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use epochgate_webauthn::{b64url, MemorySpent, Purpose, RelyingParty, StoredKey, StoredPasskey};
use serde_json::Value;
use sha2::{Digest, Sha256};

struct Case {
    rp: RelyingParty,
    key: [u8; 32],
    now: i64,
    purpose: Purpose,
    binding: Vec<u8>,
    stored: StoredPasskey,
    raw_key: Vec<u8>,
    client_data_json: Vec<u8>,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
}

fn case(name: &str) -> Case {
    let v: Value = serde_json::from_str(include_str!("../tests/vectors/assertion.json")).unwrap();
    let c = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap();
    let bytes = |f: &str| b64url::decode(c[f].as_str().unwrap()).unwrap();
    let credential = c["credential"].as_str().unwrap();
    let stored = hex::decode(v["credentials"][credential]["stored_key"].as_str().unwrap()).unwrap();
    // The stored form is the algorithm byte and the raw key: `7 ‖ x ‖ y` or `8 ‖ A`.
    let raw_key = if stored[0] == 7 {
        [&[4u8][..], &stored[1..]].concat()
    } else {
        stored[1..].to_vec()
    };
    let mut key = [0u8; 32];
    key.copy_from_slice(&hex::decode(v["challenge_key"].as_str().unwrap()).unwrap());
    Case {
        rp: RelyingParty::new(
            v["rp_id"].as_str().unwrap(),
            &[v["origin"].as_str().unwrap()],
        ),
        key,
        now: v["now"].as_i64().unwrap(),
        purpose: if c["purpose"] == "login" {
            Purpose::Login
        } else {
            Purpose::Reauthentication
        },
        binding: c["binding"].as_str().unwrap().as_bytes().to_vec(),
        stored: StoredPasskey {
            key: StoredKey::from_bytes(&stored).unwrap(),
            sign_count: c["stored_sign_count"].as_u64().unwrap() as u32,
        },
        raw_key,
        client_data_json: bytes("client_data_json"),
        authenticator_data: bytes("authenticator_data"),
        signature: bytes("signature"),
    }
}

fn bench(c: &mut Criterion) {
    for (alg, name) in [("ES256", "es256_login"), ("EdDSA", "eddsa_login")] {
        let k = case(name);
        let mut g = c.benchmark_group(alg);
        g.bench_function("epochgate-webauthn: whole assertion", |b| {
            b.iter(|| {
                let mut spent = MemorySpent::new();
                k.rp.verify_assertion(
                    &k.key,
                    k.purpose,
                    &k.binding,
                    k.now,
                    &k.stored,
                    black_box(&k.client_data_json),
                    black_box(&k.authenticator_data),
                    black_box(&k.signature),
                    &mut spent,
                )
                .unwrap()
            })
        });
        let mut message = k.authenticator_data.clone();
        message.extend_from_slice(&Sha256::digest(&k.client_data_json));
        let peer_alg: &dyn ring::signature::VerificationAlgorithm = if alg == "ES256" {
            &ring::signature::ECDSA_P256_SHA256_ASN1
        } else {
            &ring::signature::ED25519
        };
        let peer = ring::signature::UnparsedPublicKey::new(peer_alg, &k.raw_key);
        peer.verify(&message, &k.signature).unwrap();
        g.bench_function("ring: signature only", |b| {
            b.iter(|| {
                peer.verify(black_box(&message), black_box(&k.signature))
                    .unwrap()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
