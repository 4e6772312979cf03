//! Data-driven Ed25519 vectors pinning exactly which edge cases strict verification accepts.
//! Sources and licences: tests/vectors/README.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use epochgate::{verify_raw, verify_raw_pieces, KeySet, PrivateKey, PublicKey};
use serde_json::Value;

fn load(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn arr<const N: usize>(hex_text: &str) -> Option<[u8; N]> {
    hex::decode(hex_text).ok()?.try_into().ok()
}

/// Strict verification of one vector, by the one-shot path and by the in-pieces path (the
/// revocation updates' path) cut several ways: they must agree on every vector of every set.
fn strict(pk: &str, msg: &[u8], sig: &str) -> bool {
    let (Some(pk), Some(sig)) = (arr::<32>(pk), arr::<64>(sig)) else {
        return false;
    };
    let whole = verify_raw(&pk, msg, &sig);
    for size in [1, 7, 64, msg.len().max(1)] {
        assert_eq!(
            verify_raw_pieces(&pk, msg.chunks(size), &sig),
            whole,
            "pieces of {size} bytes disagree with one-shot verification on {}",
            hex::encode(sig)
        );
    }
    assert_eq!(
        verify_raw_pieces(&pk, [&b""[..], msg, &b""[..]], &sig),
        whole
    );
    // A key that loads is verified without tables for its first uses, then over its own tables
    // (src/ed25519.rs), not by verify_strict: the same answer both ways, one-shot and in pieces.
    if let Ok(key) = PublicKey::from_bytes("v", &pk) {
        for tables in [false, true] {
            if tables {
                key.precompute();
            }
            for _ in 0..2 {
                assert_eq!(
                    key.verify(msg, &sig),
                    whole,
                    "a key (tables: {tables}) disagrees with verify_strict on {}",
                    hex::encode(sig)
                );
                assert_eq!(key.verify_pieces(msg.chunks(7), &sig), whole);
            }
        }
    }
    whole
}

#[test]
fn wycheproof_every_result_matches() {
    let doc: Value = serde_json::from_str(&load("wycheproof_ed25519_test.json")).unwrap();
    let (mut total, mut valid) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let pk = group["publicKey"]["pk"].as_str().unwrap();
        for t in group["tests"].as_array().unwrap() {
            let msg = hex::decode(t["msg"].as_str().unwrap()).unwrap();
            let expected = t["result"] == "valid";
            assert_eq!(
                strict(pk, &msg, t["sig"].as_str().unwrap()),
                expected,
                "tcId {}",
                t["tcId"]
            );
            total += 1;
            valid += usize::from(expected);
        }
    }
    assert_eq!((total, valid), (151, 88));
}

#[test]
fn ring_and_rfc8032_all_verify_and_sign_identically() {
    let text = load("ring_ed25519_tests.txt");
    let mut count = 0;
    let mut block: Vec<(&str, &str)> = Vec::new();
    let mut check = |block: &[(&str, &str)]| {
        let get = |k: &str| {
            block
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| *v)
                .unwrap()
        };
        let seed: [u8; 32] = arr(get("SEED")).unwrap();
        let msg = hex::decode(get("MESSAGE")).unwrap();
        assert!(strict(get("PUB"), &msg, get("SIG")), "PUB {}", get("PUB"));
        let key = PrivateKey::from_seed("k", &seed).unwrap();
        assert_eq!(hex::encode(key.public().to_bytes()), get("PUB"));
        assert_eq!(hex::encode(key.sign(&msg)), get("SIG"));
        count += 1;
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((name, value)) = line.split_once('=') {
            // Empty inputs are written as "".
            let value = if value.trim() == "\"\"" { "" } else { value };
            block.push((name.trim(), value.trim()));
            if name.trim() == "SIG" {
                check(&block);
                block.clear();
            }
        }
    }
    assert_eq!(count, 514);
}

#[test]
fn speccheck_only_case_3_is_accepted() {
    let cases: Value = serde_json::from_str(&load("speccheck_cases.json")).unwrap();
    let accepted: Vec<usize> = cases
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let msg = hex::decode(c["message"].as_str().unwrap()).unwrap();
            strict(
                c["pub_key"].as_str().unwrap(),
                &msg,
                c["signature"].as_str().unwrap(),
            )
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(accepted, vec![3]);
}

#[test]
fn cctv_strict_outcomes_by_flag() {
    let cases: Value = serde_json::from_str(&load("cctv_ed25519vectors.json")).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 914);
    let mut accepted = 0;
    let mut accepted_by_flag = std::collections::BTreeMap::<String, usize>::new();
    for c in cases {
        let flags: Vec<&str> = c["flags"]
            .as_array()
            .map(|f| f.iter().map(|x| x.as_str().unwrap()).collect())
            .unwrap_or_default();
        let ok = strict(
            c["key"].as_str().unwrap(),
            c["msg"].as_str().unwrap().as_bytes(),
            c["sig"].as_str().unwrap(),
        );
        if ok {
            accepted += 1;
            for f in &flags {
                *accepted_by_flag.entry((*f).to_owned()).or_default() += 1;
            }
            if flags.is_empty() {
                *accepted_by_flag.entry("(none)".into()).or_default() += 1;
            }
        }
        // A strict verifier never accepts a small-order or non-canonical R or A.
        for never in [
            "low_order_R",
            "low_order_A",
            "non_canonical_R",
            "non_canonical_A",
            "low_order_residue",
            "reencoded_k",
        ] {
            assert!(
                !(ok && flags.contains(&never)),
                "case {} with {never} was accepted",
                c["number"]
            );
        }
    }
    assert_eq!(accepted, 43);
    let pinned: Vec<(String, usize)> = accepted_by_flag.into_iter().collect();
    let expected: Vec<(String, usize)> = EXPECTED_ACCEPTED_BY_FLAG
        .iter()
        .map(|(f, n)| ((*f).to_owned(), *n))
        .collect();
    assert_eq!(pinned, expected);
}

/// Accepted CCTV cases per flag under strict verification, as measured with ed25519-dalek
/// `verify_strict`: besides one plain case, only mixed-order (torsion component) R or A get
/// through — never a small-order or non-canonical point, nor a residue the cofactored equation
/// alone would accept.
const EXPECTED_ACCEPTED_BY_FLAG: &[(&str, usize)] = &[
    ("(none)", 1),
    ("low_order_component_A", 42),
    ("low_order_component_R", 35),
];

#[test]
fn rfc8037_a4_example_verifies_at_the_jws_layer() {
    let jwk = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    let jws = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    // The RFC's key has no kid; give it one to load it.
    let with_kid = jwk.replacen('{', r#"{"kid":"rfc8037","#, 1);
    let key = PrivateKey::from_jwk(&with_kid).unwrap();
    let (input, sig) = jws.rsplit_once('.').unwrap();
    let sig: [u8; 64] = URL_SAFE_NO_PAD.decode(sig).unwrap().try_into().unwrap();
    assert!(key.public().verify(input.as_bytes(), &sig));
    // Deterministic signing reproduces the RFC's signature.
    assert_eq!(key.sign(input.as_bytes()), sig);
    let payload = URL_SAFE_NO_PAD
        .decode(input.split_once('.').unwrap().1)
        .unwrap();
    assert_eq!(payload, b"Example of Ed25519 signing");

    // The full validator refuses it cleanly: the header has no typ or kid, and its payload is
    // not a claims set (checked under a header it accepts, signed by the same key).
    let keys = KeySet::new(vec![key.public()]).unwrap();
    let options = epochgate::Options {
        issuer: "i".into(),
        audience: "a".into(),
        ..Default::default()
    };
    let mut v = epochgate::Validator::new(options, keys, None, [0; 16]).unwrap();
    assert_eq!(
        v.validate(jws, 0).reason(),
        Some(epochgate::Reason::WrongType)
    );
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"rfc8037","typ":"session+jwt"}"#);
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&payload));
    let signed = format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()))
    );
    assert_eq!(
        v.validate(&signed, 0).reason(),
        Some(epochgate::Reason::Malformed)
    );
}

#[test]
fn weak_keys_are_refused_at_load() {
    // Every small-order point: the identity, its negation, points of order 2, 4 and 8.
    let weak = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ];
    for hex_key in weak {
        let bytes: [u8; 32] = arr(hex_key).unwrap();
        let err = PublicKey::from_bytes("w", &bytes).unwrap_err();
        assert!(
            matches!(err.code(), "weak_key" | "invalid_key_encoding"),
            "{hex_key}: {err}"
        );
        let jwk = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","kid":"w","x":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(bytes)
        );
        assert!(KeySet::from_jwks(&format!(r#"{{"keys":[{jwk}]}}"#)).is_err());
    }
    // The canonical small-order points decode and are refused as weak specifically.
    let identity: [u8; 32] = arr(weak[0]).unwrap();
    assert_eq!(
        PublicKey::from_bytes("w", &identity).unwrap_err().code(),
        "weak_key"
    );
    // A non-canonical encoding of a valid point (y + p) is refused as such.
    let mut y_plus_p: [u8; 32] =
        arr("0100000000000000000000000000000000000000000000000000000000000000").unwrap();
    y_plus_p[0] = 0xee;
    y_plus_p[31] = 0x7f;
    for b in y_plus_p.iter_mut().take(31).skip(1) {
        *b = 0xff;
    }
    assert_eq!(
        PublicKey::from_bytes("w", &y_plus_p).unwrap_err().code(),
        "invalid_key_encoding"
    );
}
