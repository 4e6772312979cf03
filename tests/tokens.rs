//! The JWS/JWT negative suite: every rejection the token path makes, each pinned to its reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use epochgate::{KeySet, Options, PrivateKey, Reason, UnverifiedToken, Validator, DEFAULT_TYPE};
use serde_json::json;
use sha2::{Digest, Sha256};

/// An account id known to be well-formed.
fn id(account: &str) -> epochgate::AccountId {
    epochgate::AccountId::new(account).unwrap()
}

fn reason(token: &str) -> Option<Reason> {
    validator().validate(token, NOW).reason()
}

fn with_claims(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
    let mut c = claims_json();
    edit(c.as_object_mut().unwrap());
    sign_json(&header_json(), &c)
}

fn with_header(edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> String {
    let mut h = header_json();
    edit(h.as_object_mut().unwrap());
    sign_json(&h, &claims_json())
}

#[test]
fn a_good_token_is_valid_with_its_identity() {
    let token = mint("acct-9", "sess-9", 12, 4, NOW);
    let verdict = validator().validate(&token, NOW);
    let s = verdict.session().unwrap();
    assert_eq!(
        (
            s.account.as_str(),
            s.session.as_str(),
            s.device.0,
            s.epoch.0
        ),
        ("acct-9", "sess-9", 12, 4)
    );
    assert_eq!((s.issued_at, s.expires_at), (NOW, NOW + 2_592_000));
    assert_eq!(s.claims["iss"], ISS);
    assert_eq!(reason(&sign_json(&header_json(), &claims_json())), None);
}

#[test]
fn the_session_keeps_the_payload_text_it_was_parsed_from() {
    // Member order, escapes and spacing as the issuer wrote them: the text, not a re-encoding.
    let payload = format!(
        r#"{{ "sub":"acct-\u0041","iss":"{ISS}","aud":"{AUD}","sid":"s","dev":1,"epo":2,"iat":{NOW},"exp":{},"x":[1.50,{{}}] }}"#,
        NOW + 60
    );
    let token = sign_raw(
        &token_key(),
        serde_json::to_string(&header_json()).unwrap().as_bytes(),
        payload.as_bytes(),
    );
    let verdict = validator().validate(&token, NOW);
    let s = verdict.session().unwrap();
    assert_eq!(s.payload_json(), payload);
    assert_eq!(s.account.as_str(), "acct-A");
    assert_eq!(
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s.payload_json())
            .unwrap(),
        s.claims
    );
    // A cache hit hands back the same text.
    let mut v = validator();
    v.validate(&token, NOW);
    assert_eq!(
        v.validate(&token, NOW).session().unwrap().payload_json(),
        payload
    );
}

#[test]
fn claims_are_read_only_through_the_signature_check() {
    let token = mint("acct-9", "sess-9", 12, 4, NOW);
    let parse = || UnverifiedToken::parse(&token, DEFAULT_TYPE).unwrap();
    assert_eq!(parse().kid(), "tok-1");
    let keys = |kid: &str, seed: u8| {
        KeySet::new(vec![PrivateKey::from_seed(kid, &[seed; 32])
            .unwrap()
            .public()])
        .unwrap()
    };
    let refusal = parse().verify(&keys("tok-2", 7)).unwrap_err();
    assert_eq!(refusal.reason, Reason::UnknownKey);
    let refusal = parse().verify(&keys("tok-1", 8)).unwrap_err();
    assert_eq!(refusal.reason, Reason::BadSignature);
    let s = parse().verify(&keys("tok-1", 7)).unwrap();
    assert_eq!(
        (s.issuer.as_str(), s.audience.as_slice()),
        (ISS, &[AUD.to_owned()][..])
    );
    assert_eq!(
        (s.account.as_str(), s.device.0, s.epoch.0),
        ("acct-9", 12, 4)
    );
    // Issuer and audience are the validator's to check, not the token's.
    let stranger =
        UnverifiedToken::parse(&with_claims(|c| c["iss"] = json!("other")), DEFAULT_TYPE)
            .unwrap()
            .verify(&keys("tok-1", 7))
            .unwrap();
    assert_eq!(stranger.issuer, "other");
}

#[test]
fn structure() {
    let good = sign_json(&header_json(), &claims_json());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for bad in [
        String::new(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}..{s}"),
        format!(".{p}.{s}"),
        format!("{h}.{p}."),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}.{s}=="),
        format!("{h} .{p}.{s}"),
        format!("{h}.{p}\n.{s}"),
        format!("{h}.+{p}.{s}"),
        format!("{h}.{p}/.{s}"),
        format!("{h}.{p}.{}", &s[..s.len() - 1]),
        format!("{h}.{p}.{}A", s),
        "...".into(),
        "a.b.c".into(),
        "not a token".into(),
    ] {
        assert_eq!(reason(&bad), Some(Reason::Malformed), "{bad:?}");
    }
    // Non-zero trailing bits: an 86-character signature's last character carries 2 data bits
    // and 4 spare bits that must be zero.
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = ALPHABET.find(s.chars().last().unwrap()).unwrap();
    assert_eq!(last & 0b1111, 0);
    let spare = ALPHABET.chars().nth(last | 1).unwrap();
    let t = format!("{h}.{p}.{}{spare}", &s[..s.len() - 1]);
    assert_eq!(reason(&t), Some(Reason::Malformed));
}

#[test]
fn header_and_payload_must_be_strict_json_objects() {
    let key = token_key();
    let claims = claims_json().to_string();
    let header = header_json().to_string();
    let dup_header = r#"{"alg":"EdDSA","kid":"tok-1","typ":"session+jwt","kid":"tok-1"}"#;
    let escaped_dup = r#"{"alg":"EdDSA","kid":"tok-1","typ":"session+jwt","\u006bid":"tok-1"}"#;
    let dup_claims = claims.replacen('{', r#"{"sub":"other","#, 1);
    let bom = format!("\u{feff}{claims}");
    let deep = claims.replacen(
        '{',
        &format!(r#"{{"x":{}1{},"#, "[".repeat(40), "]".repeat(40)),
        1,
    );
    let huge = claims.replacen('{', r#"{"x":1e999,"#, 1);
    let cases: Vec<(&[u8], &[u8])> = vec![
        (dup_header.as_bytes(), claims.as_bytes()),
        (escaped_dup.as_bytes(), claims.as_bytes()),
        (header.as_bytes(), dup_claims.as_bytes()),
        (header.as_bytes(), bom.as_bytes()),
        (header.as_bytes(), deep.as_bytes()),
        (header.as_bytes(), huge.as_bytes()),
        (b"[1]", claims.as_bytes()),
        (b"null", claims.as_bytes()),
        (header.as_bytes(), b"[]"),
        (header.as_bytes(), b"not json"),
        (
            b"{\"alg\":\"EdDSA\",\"kid\":\"tok-1\",\"typ\":\"session+jwt\"} {}",
            claims.as_bytes(),
        ),
        (b"\xff\xfe{}", claims.as_bytes()),
        (header.as_bytes(), b"{\"sub\":\"\xc3\x28\"}"),
    ];
    for (h, p) in cases {
        let t = sign_raw(&key, h, p);
        assert_eq!(
            reason(&t),
            Some(Reason::Malformed),
            "header {:?} payload {:?}",
            String::from_utf8_lossy(h),
            String::from_utf8_lossy(p)
        );
    }
}

#[test]
fn algorithms() {
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("alg".into(), json!("Ed25519"));
        })),
        None,
        "RFC 9864 name"
    );
    for alg in [
        json!("none"),
        json!("HS256"),
        json!("RS256"),
        json!("ES256"),
        json!("eddsa"),
        json!(["EdDSA"]),
        json!(null),
        json!(1),
    ] {
        assert_eq!(
            reason(&with_header(|h| {
                h.insert("alg".into(), alg.clone());
            })),
            Some(Reason::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    assert_eq!(
        reason(&with_header(|h| {
            h.remove("alg");
        })),
        Some(Reason::UnsupportedAlgorithm)
    );
    // alg none with an empty signature is malformed before its alg is even read.
    let none = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none"}"#),
        b64::encode(claims_json().to_string().as_bytes())
    );
    assert_eq!(reason(&none), Some(Reason::Malformed));
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let public = token_key().public().to_bytes();
    let mut h = header_json();
    h["alg"] = json!("HS256");
    let input = format!(
        "{}.{}",
        b64::encode(h.to_string().as_bytes()),
        b64::encode(claims_json().to_string().as_bytes())
    );
    let mac = hmac_sha256(&public, input.as_bytes());
    // A 32-byte MAC is not even an Ed25519 signature; padded to 64 it is still refused by alg.
    assert_eq!(
        reason(&format!("{input}.{}", b64::encode(&mac))),
        Some(Reason::Malformed)
    );
    let mut padded = mac.clone();
    padded.extend_from_slice(&mac);
    assert_eq!(
        reason(&format!("{input}.{}", b64::encode(&padded))),
        Some(Reason::UnsupportedAlgorithm)
    );
}

#[test]
fn forbidden_headers() {
    for name in ["crit", "b64", "jwk", "jku", "x5u", "x5c", "x5t"] {
        assert_eq!(
            reason(&with_header(|h| {
                h.insert(name.into(), json!(["x"]));
            })),
            Some(Reason::ForbiddenHeader),
            "{name}"
        );
    }
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("cty".into(), json!("JWT"));
            h.insert("x-custom".into(), json!(1));
        })),
        None,
        "other names are ignored"
    );
}

#[test]
fn key_ids() {
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("kid".into(), json!("other"));
        })),
        Some(Reason::UnknownKey)
    );
    assert_eq!(
        reason(&with_header(|h| {
            h.remove("kid");
        })),
        Some(Reason::UnknownKey)
    );
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("kid".into(), json!("k".repeat(65)));
        })),
        Some(Reason::UnknownKey)
    );
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("kid".into(), json!(1));
        })),
        Some(Reason::Malformed)
    );
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("kid".into(), json!(null));
        })),
        Some(Reason::Malformed)
    );
    // Signed by another key that claims our kid.
    let impostor = PrivateKey::from_seed("tok-1", &[8; 32]).unwrap();
    let t = sign_raw(
        &impostor,
        header_json().to_string().as_bytes(),
        claims_json().to_string().as_bytes(),
    );
    assert_eq!(reason(&t), Some(Reason::BadSignature));
}

#[test]
fn types() {
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("typ".into(), json!("JWT"));
        })),
        Some(Reason::WrongType)
    );
    assert_eq!(
        reason(&with_header(|h| {
            h.remove("typ");
        })),
        Some(Reason::WrongType)
    );
    assert_eq!(
        reason(&with_header(|h| {
            h.insert("typ".into(), json!(1));
        })),
        Some(Reason::WrongType)
    );
    let mut v = validator_with(Options {
        token_type: "at+jwt".into(),
        ..options()
    });
    assert_eq!(
        v.validate(
            &with_header(|h| {
                h.insert("typ".into(), json!("at+jwt"));
            }),
            NOW
        )
        .reason(),
        None
    );
    assert_eq!(
        v.validate(&mint("a", "s", 0, 0, NOW), NOW).reason(),
        Some(Reason::WrongType)
    );
}

#[test]
fn signatures_cover_header_and_payload() {
    let a = sign_json(&header_json(), &claims_json());
    let b = with_claims(|c| {
        c.insert("sub".into(), json!("victim"));
    });
    let (ah, rest) = a.split_once('.').unwrap();
    let (_, asig) = rest.split_once('.').unwrap();
    let (_, brest) = b.split_once('.').unwrap();
    let (bp, _) = brest.split_once('.').unwrap();
    assert_eq!(
        reason(&format!("{ah}.{bp}.{asig}")),
        Some(Reason::BadSignature),
        "valid signature over a different payload"
    );
    let mut flipped = b64::decode(asig).unwrap();
    flipped[10] ^= 1;
    assert_eq!(
        reason(&format!(
            "{ah}.{}.{}",
            &rest[..rest.find('.').unwrap()],
            b64::encode(&flipped)
        )),
        Some(Reason::BadSignature)
    );
}

#[test]
fn required_claims() {
    for name in ["iss", "aud", "sub", "sid", "dev", "epo", "iat", "exp"] {
        assert_eq!(
            reason(&with_claims(|c| {
                c.remove(name);
            })),
            Some(Reason::MissingClaim),
            "{name}"
        );
    }
    assert_eq!(
        reason(&with_claims(|c| {
            c.remove("nbf");
            c.remove("jti");
        })),
        None,
        "nbf and jti are optional"
    );
}

#[test]
fn claim_types_and_ranges() {
    let bad: Vec<(&str, serde_json::Value)> = vec![
        ("iss", json!(1)),
        ("aud", json!(1)),
        ("aud", json!([])),
        ("aud", json!([AUD, 1])),
        ("sub", json!("")),
        ("sub", json!("x".repeat(129))),
        ("sub", json!(5)),
        ("sid", json!("")),
        ("sid", json!(null)),
        ("dev", json!(65536)),
        ("dev", json!(-1)),
        ("dev", json!(1.5)),
        ("dev", json!("1")),
        ("epo", json!(4_294_967_296u64)),
        ("epo", json!(-1)),
        ("iat", json!(1.0e9)),
        ("iat", json!("1800000000")),
        ("exp", json!(18e17)),
        ("exp", json!(u64::MAX)),
        ("nbf", json!(true)),
        ("jti", json!(7)),
    ];
    for (name, value) in bad {
        assert_eq!(
            reason(&with_claims(|c| {
                c.insert(name.into(), value.clone());
            })),
            Some(Reason::Malformed),
            "{name}: {value}"
        );
    }
    assert_eq!(
        reason(&with_claims(|c| {
            c.insert("sub".into(), json!("x".repeat(128)));
            c.insert("dev".into(), json!(65535));
            c.insert("epo".into(), json!(4_294_967_295u64));
        })),
        None
    );
    // A huge integer literal is parsed as a float and refused as a time.
    let t = sign_raw(
        &token_key(),
        header_json().to_string().as_bytes(),
        claims_json()
            .to_string()
            .replace(
                &format!("\"exp\":{}", NOW + 3600),
                "\"exp\":123456789012345678901234567890",
            )
            .as_bytes(),
    );
    assert_eq!(reason(&t), Some(Reason::Malformed));
}

#[test]
fn issuer_and_audience() {
    assert_eq!(
        reason(&with_claims(|c| {
            c.insert("iss".into(), json!("https://evil.example"));
        })),
        Some(Reason::WrongIssuer)
    );
    assert_eq!(
        reason(&with_claims(|c| {
            c.insert("aud".into(), json!("other"));
        })),
        Some(Reason::WrongAudience)
    );
    assert_eq!(
        reason(&with_claims(|c| {
            c.insert("aud".into(), json!(["other", "more"]));
        })),
        Some(Reason::WrongAudience)
    );
    assert_eq!(
        reason(&with_claims(|c| {
            c.insert("aud".into(), json!(["other", AUD]));
        })),
        None
    );
}

#[test]
fn time_boundaries_at_exactly_the_tolerance() {
    let tol = 30;
    let at = |edit: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>), now: i64| {
        let mut c = claims_json();
        edit(c.as_object_mut().unwrap());
        validator()
            .validate(&sign_json(&header_json(), &c), now)
            .reason()
    };
    let exp = NOW + 3600;
    assert_eq!(at(&|_| {}, exp + tol - 1), None);
    assert_eq!(at(&|_| {}, exp + tol), Some(Reason::Expired));
    let nbf = |c: &mut serde_json::Map<String, serde_json::Value>| {
        c.insert("nbf".into(), json!(NOW + 100));
    };
    assert_eq!(at(&nbf, NOW + 100 - tol), None);
    assert_eq!(at(&nbf, NOW + 100 - tol - 1), Some(Reason::NotYetValid));
    assert_eq!(
        at(&|_| {}, NOW - tol),
        None,
        "iat exactly tolerance ahead of now"
    );
    assert_eq!(at(&|_| {}, NOW - tol - 1), Some(Reason::IssuedInFuture));
    // With tolerance 0 the boundaries move with it.
    let mut strict = validator_with(Options {
        clock_tolerance: 0,
        ..options()
    });
    let t = sign_json(&header_json(), &claims_json());
    assert_eq!(strict.validate(&t, exp - 1).reason(), None);
    assert_eq!(strict.validate(&t, exp).reason(), Some(Reason::Expired));
    assert_eq!(
        strict.validate(&t, NOW - 1).reason(),
        Some(Reason::IssuedInFuture)
    );
}

#[test]
fn size_cap_comes_first() {
    let big = format!(
        "{}.{}.{}",
        "A".repeat(3000),
        "A".repeat(1000),
        "A".repeat(200)
    );
    assert_eq!(reason(&big), Some(Reason::TooLarge));
    let padded = with_claims(|c| {
        c.insert("pad".into(), json!("x".repeat(4000)));
    });
    assert_eq!(reason(&padded), Some(Reason::TooLarge));
    let mut roomy = validator_with(Options {
        max_token_bytes: 16_384,
        ..options()
    });
    assert_eq!(roomy.validate(&padded, NOW).reason(), None);
    assert_eq!(reason(&"x".repeat(4096)), Some(Reason::Malformed));
    assert_eq!(reason(&"x".repeat(4097)), Some(Reason::TooLarge));
}

#[test]
fn options_are_checked() {
    let keys = || KeySet::new(vec![token_key().public()]).unwrap();
    let build = |o: Options| {
        Validator::new(o, keys(), None, [0; 16])
            .map(|_| ())
            .unwrap_err()
            .code()
    };
    assert_eq!(
        build(Options {
            issuer: String::new(),
            ..options()
        }),
        "invalid_option"
    );
    assert_eq!(
        build(Options {
            audience: String::new(),
            ..options()
        }),
        "invalid_option"
    );
    assert_eq!(
        build(Options {
            clock_tolerance: 61,
            ..options()
        }),
        "invalid_option"
    );
    assert_eq!(
        build(Options {
            max_token_bytes: 0,
            ..options()
        }),
        "invalid_option"
    );
    assert_eq!(
        build(Options {
            token_type: String::new(),
            ..options()
        }),
        "invalid_option"
    );
    assert!(Validator::new(
        Options {
            clock_tolerance: 60,
            ..options()
        },
        keys(),
        None,
        [0; 16]
    )
    .is_ok());
    let reuse = Validator::new(options(), keys(), Some(keys()), [0; 16]).unwrap_err();
    assert_eq!(reuse.code(), "key_reuse");
}

#[test]
fn key_rotation_by_kid() {
    let old = PrivateKey::from_seed("tok-0", &[5; 32]).unwrap();
    let keys = KeySet::new(vec![old.public(), token_key().public()]).unwrap();
    let mut v = Validator::new(options(), keys, None, [0; 16]).unwrap();
    let old_token = epochgate::Issuer::new(ISS, AUD, old, None, None)
        .unwrap()
        .mint(&epochgate::MintRequest {
            account: "a",
            session: "s",
            device: 0,
            epoch: 0,
            now: NOW,
            ttl: None,
            jti: Some("j-1"),
            auth_time: None,
            amr: None,
        })
        .unwrap();
    assert_eq!(v.validate(&old_token, NOW).reason(), None);
    assert_eq!(v.validate(&mint("a", "s", 0, 0, NOW), NOW).reason(), None);
}

#[test]
fn jwks_loading() {
    let jwk = token_key().public().to_jwk().to_string();
    let rsa = r#"{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}"#;
    let x25519 = r#"{"kty":"OKP","crv":"X25519","kid":"x","x":"AAAA"}"#;
    let set = KeySet::from_jwks(&format!(r#"{{"keys":[{rsa},{x25519},{jwk}]}}"#)).unwrap();
    assert_eq!(set.keys().len(), 1, "other key types are skipped");
    assert_eq!(
        KeySet::from_jwks(&format!(r#"{{"keys":[{rsa}]}}"#))
            .unwrap_err()
            .code(),
        "no_usable_key"
    );
    assert_eq!(
        KeySet::from_jwks(r#"{"keys":[]}"#).unwrap_err().code(),
        "no_usable_key"
    );
    assert_eq!(
        KeySet::from_jwks(&format!(r#"{{"keys":[{jwk},{jwk}]}}"#))
            .unwrap_err()
            .code(),
        "duplicate_kid"
    );
    assert_eq!(KeySet::from_jwks("nope").unwrap_err().code(), "invalid_jwk");
    assert_eq!(
        KeySet::from_jwks(r#"{"keys":{}}"#).unwrap_err().code(),
        "invalid_jwk"
    );
    let no_kid = jwk.replace(r#""kid":"tok-1","#, "");
    assert_eq!(
        KeySet::from_jwks(&no_kid).unwrap_err().code(),
        "missing_kid"
    );
    let short_x = jwk.replace(&b64::encode(&token_key().public().to_bytes()), "AAAA");
    assert_eq!(
        KeySet::from_jwks(&short_x).unwrap_err().code(),
        "invalid_key_encoding"
    );
    assert_eq!(
        KeySet::from_jwks(jwk.as_str()).unwrap().keys().len(),
        1,
        "a single JWK is a set of one"
    );
    // Private JWKs: round trip, mismatch, missing d.
    let private = token_key().to_jwk().to_string();
    assert_eq!(
        PrivateKey::from_jwk(&private).unwrap().public(),
        token_key().public()
    );
    let other_x = b64::encode(
        &PrivateKey::from_seed("z", &[1; 32])
            .unwrap()
            .public()
            .to_bytes(),
    );
    let mismatch = private.replace(&b64::encode(&token_key().public().to_bytes()), &other_x);
    assert_eq!(
        PrivateKey::from_jwk(&mismatch).unwrap_err().code(),
        "key_mismatch"
    );
    assert_eq!(
        PrivateKey::from_jwk(&jwk).unwrap_err().code(),
        "missing_private_key"
    );
    assert!(
        !format!("{:?}", token_key()).contains(&b64::encode(&[7; 32])),
        "Debug never shows the secret"
    );
}

#[test]
fn cache_gives_the_same_verdicts_and_still_checks_revocation() {
    let mut cached = validator();
    let mut uncached = validator_with(Options {
        cache_size: 0,
        ..options()
    });
    let mut log = epochgate::RevocationLog::new(update_key());
    let dev = log.allocate_device(&id("acct")).unwrap();
    let token = mint("acct", "s", dev.0.into(), 0, NOW);
    for v in [&mut cached, &mut uncached] {
        assert_eq!(v.validate(&token, NOW).reason(), None);
        assert_eq!(v.validate(&token, NOW).reason(), None);
    }
    assert_eq!(cached.cached_tokens(), 1);
    assert_eq!(uncached.cached_tokens(), 0);
    assert_eq!((cached.cache_hits(), uncached.cache_hits()), (1, 0));
    log.revoke_device(&id("acct"), dev).unwrap();
    for v in [&mut cached, &mut uncached] {
        v.apply_revocation(&log.delta_since(0, NOW).unwrap(), NOW)
            .unwrap();
        assert_eq!(
            v.validate(&token, NOW).reason(),
            Some(Reason::RevokedDevice)
        );
        assert_eq!(
            v.validate(&token, NOW + 2_592_000 + 30).reason(),
            Some(Reason::Expired),
            "entries expire with the token"
        );
    }
    // A bounded cache evicts instead of growing.
    let mut small = validator_with(Options {
        cache_size: 3,
        ..options()
    });
    for i in 0..10 {
        assert_eq!(
            small
                .validate(&mint("a", &format!("s{i}"), 0, 0, NOW), NOW)
                .reason(),
            None
        );
    }
    assert_eq!(small.cached_tokens(), 3);
}

/// A token for `acct` (slot 0, epoch 0, issued at `NOW`) with these authentication claims.
fn mint_auth(auth_time: Option<i64>, amr: Option<&[&str]>) -> String {
    issuer()
        .mint(&epochgate::MintRequest {
            account: "acct",
            session: "sess",
            device: 0,
            epoch: 0,
            now: NOW,
            ttl: None,
            jti: None,
            auth_time,
            amr,
        })
        .unwrap()
}

const MAX_AUTH_TIME: i64 = (1 << 53) - 1;

#[test]
fn auth_time_and_amr_are_optional_and_read_into_the_session() {
    let token = mint_auth(Some(NOW - 10), Some(&["pwd", "otp", "mfa"]));
    let verdict = validator().validate(&token, NOW);
    let s = verdict.session().unwrap();
    assert_eq!(s.auth_time, Some(NOW - 10));
    assert_eq!(
        s.amr.as_deref(),
        Some(&["pwd".to_owned(), "otp".into(), "mfa".into()][..])
    );
    assert_eq!(s.claims["auth_time"], NOW - 10);
    assert_eq!(s.claims["amr"], json!(["pwd", "otp", "mfa"]));

    // Without them (every token minted before): valid, and nothing is invented.
    let old = mint("acct", "sess", 0, 0, NOW);
    let verdict = validator().validate(&old, NOW);
    let s = verdict.session().unwrap();
    assert_eq!((s.auth_time, s.amr.as_ref()), (None, None));
    assert!(!s.claims.contains_key("auth_time") && !s.claims.contains_key("amr"));

    // The edges of what is accepted.
    let widest: Vec<String> = (0..16).map(|i| format!("m{i}")).collect();
    let good: Vec<(&str, serde_json::Value)> = vec![
        ("auth_time", json!(0)),
        ("auth_time", json!(MAX_AUTH_TIME)),
        ("amr", json!(["x"])),
        ("amr", json!(["y".repeat(32)])),
        ("amr", json!(widest)),
        ("amr", json!([" !~", "hwk"])),
    ];
    for (name, value) in good {
        assert_eq!(
            reason(&with_claims(|c| {
                c.insert(name.into(), value.clone());
            })),
            None,
            "{name}: {value}"
        );
    }
}

#[test]
fn auth_time_and_amr_of_the_wrong_type_or_range_are_malformed() {
    let too_many: Vec<String> = (0..17).map(|i| format!("m{i}")).collect();
    let bad: Vec<(&str, serde_json::Value)> = vec![
        ("auth_time", json!("1800000000")),
        ("auth_time", json!(1.5)),
        ("auth_time", json!(1.8e9)),
        ("auth_time", json!(-1)),
        ("auth_time", json!(MAX_AUTH_TIME + 1)),
        ("auth_time", json!(u64::MAX)),
        ("auth_time", json!(null)),
        ("amr", json!("pwd")),
        ("amr", json!({"0": "pwd"})),
        ("amr", json!(null)),
        ("amr", json!([])),
        ("amr", json!([1])),
        ("amr", json!(["pwd", 1])),
        ("amr", json!(["pwd", ["otp"]])),
        ("amr", json!([""])),
        ("amr", json!(["y".repeat(33)])),
        ("amr", json!(["pwd", "otp", "pwd"])),
        ("amr", json!(too_many)),
        ("amr", json!(["a\nb"])),
        ("amr", json!(["\u{7f}"])),
        ("amr", json!(["é"])),
    ];
    for (name, value) in bad {
        assert_eq!(
            reason(&with_claims(|c| {
                c.insert(name.into(), value.clone());
            })),
            Some(Reason::Malformed),
            "{name}: {value}"
        );
    }
}

#[test]
fn the_issuer_writes_auth_time_and_amr_and_checks_them() {
    let token = mint_auth(Some(NOW - 5), Some(&["hwk", "user", "mfa"]));
    let s = validator()
        .validate(&token, NOW)
        .session()
        .cloned()
        .unwrap();
    assert_eq!(s.auth_time, Some(NOW - 5));
    assert_eq!(s.amr.unwrap(), ["hwk", "user", "mfa"]);
    // Each is written only when given.
    let s = validator()
        .validate(&mint_auth(Some(NOW), None), NOW)
        .session()
        .cloned()
        .unwrap();
    assert_eq!((s.auth_time, s.amr), (Some(NOW), None));
    assert!(!s.claims.contains_key("amr"));
    let s = validator()
        .validate(&mint_auth(None, Some(&["otp"])), NOW)
        .session()
        .cloned()
        .unwrap();
    assert_eq!(s.auth_time, None);
    assert!(!s.claims.contains_key("auth_time"));

    let refuse = |auth_time: Option<i64>, amr: Option<&[&str]>| {
        issuer()
            .mint(&epochgate::MintRequest {
                account: "acct",
                session: "sess",
                device: 0,
                epoch: 0,
                now: NOW,
                ttl: None,
                jti: None,
                auth_time,
                amr,
            })
            .unwrap_err()
            .code()
    };
    let long = "y".repeat(33);
    let too_many: Vec<String> = (0..17).map(|i| format!("m{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert_eq!(refuse(Some(-1), None), "invalid_claim");
    assert_eq!(refuse(Some(MAX_AUTH_TIME + 1), None), "invalid_claim");
    assert_eq!(refuse(None, Some(&[])), "invalid_claim");
    assert_eq!(refuse(None, Some(&[""])), "invalid_claim");
    assert_eq!(refuse(None, Some(&[&long])), "invalid_claim");
    assert_eq!(refuse(None, Some(&["pwd", "pwd"])), "invalid_claim");
    assert_eq!(refuse(None, Some(&too_many)), "invalid_claim");
    assert_eq!(refuse(None, Some(&["tab\t"])), "invalid_claim");
    // The limits themselves are accepted.
    let widest = mint_auth(Some(MAX_AUTH_TIME), Some(&too_many[..16]));
    let s = validator()
        .validate(&widest, NOW)
        .session()
        .cloned()
        .unwrap();
    assert_eq!(s.amr.map(|m| m.len()), Some(16));
    let longest = mint_auth(Some(0), Some(&[&long[1..]]));
    assert_eq!(validator().validate(&longest, NOW).reason(), None);
}

fn step(max_age: Option<u64>, required_amr: &[&str]) -> epochgate::StepUp {
    epochgate::StepUp {
        max_age,
        required_amr: required_amr.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn stepped(token: &str, now: i64, step_up: &epochgate::StepUp) -> Option<Reason> {
    validator().validate_with(token, now, step_up).reason()
}

const INSUFFICIENT: Option<Reason> = Some(Reason::InsufficientUserAuthentication);

#[test]
fn step_up_max_age_counts_from_auth_time_without_tolerance() {
    let token = mint_auth(Some(NOW - 300), Some(&["pwd"]));
    let five_minutes = step(Some(300), &[]);
    assert_eq!(
        stepped(&token, NOW, &five_minutes),
        None,
        "exactly at the limit"
    );
    assert_eq!(
        stepped(&token, NOW + 1, &five_minutes),
        INSUFFICIENT,
        "one second over: the clock tolerance is not added to an age"
    );
    assert_eq!(stepped(&token, NOW + 1, &step(Some(301), &[])), None);
    assert_eq!(stepped(&token, NOW + 1, &step(None, &[])), None);
    // No auth_time: no age can be shown.
    assert_eq!(
        stepped(
            &mint_auth(None, Some(&["pwd"])),
            NOW,
            &step(Some(1_000_000), &[])
        ),
        INSUFFICIENT
    );
    // An auth_time in the future within the tolerance is a clock difference; beyond, a lie.
    let ahead = |secs: i64| mint_auth(Some(NOW + secs), None);
    assert_eq!(stepped(&ahead(30), NOW, &step(Some(0), &[])), None);
    assert_eq!(stepped(&ahead(31), NOW, &step(Some(0), &[])), INSUFFICIENT);
    assert_eq!(
        stepped(&ahead(31), NOW, &step(Some(u64::MAX), &[])),
        INSUFFICIENT
    );
    // Asking nothing: the same token is valid whatever its claims.
    assert_eq!(stepped(&ahead(31), NOW, &step(None, &[])), None);
}

#[test]
fn step_up_methods_must_all_be_in_amr() {
    let passkey = mint_auth(Some(NOW), Some(&["hwk", "user", "mfa"]));
    assert_eq!(stepped(&passkey, NOW, &step(None, &["hwk"])), None);
    assert_eq!(stepped(&passkey, NOW, &step(None, &["mfa", "hwk"])), None);
    assert_eq!(
        stepped(&passkey, NOW, &step(None, &["hwk", "otp"])),
        INSUFFICIENT
    );
    assert_eq!(stepped(&passkey, NOW, &step(None, &["pwd"])), INSUFFICIENT);
    assert_eq!(
        stepped(&mint_auth(Some(NOW), None), NOW, &step(None, &["hwk"])),
        INSUFFICIENT,
        "no amr"
    );
    // Both asked: both must hold.
    assert_eq!(stepped(&passkey, NOW + 60, &step(Some(60), &["hwk"])), None);
    assert_eq!(
        stepped(&passkey, NOW + 61, &step(Some(60), &["hwk"])),
        INSUFFICIENT
    );
    assert_eq!(
        stepped(&passkey, NOW, &step(Some(60), &["otp"])),
        INSUFFICIENT
    );
}

#[test]
fn step_up_says_what_is_missing() {
    let passkey = mint_auth(Some(NOW - 301), Some(&["hwk", "user", "mfa"]));
    let session = validator()
        .validate(&passkey, NOW)
        .session()
        .cloned()
        .unwrap();
    let old = mint_auth(None, None);
    let bare = validator().validate(&old, NOW).session().cloned().unwrap();
    use epochgate::Insufficient;
    assert_eq!(
        step(Some(300), &[]).check(&session, NOW, 30),
        Err(Insufficient::TooOld {
            age: 301,
            max_age: 300
        })
    );
    assert_eq!(
        step(Some(300), &[]).check(&bare, NOW, 30),
        Err(Insufficient::NoAuthTime)
    );
    assert_eq!(
        step(Some(300), &[]).check(&session, NOW - 332, 30),
        Err(Insufficient::InFuture {
            auth_time: NOW - 301
        })
    );
    assert_eq!(
        step(None, &["hwk"]).check(&bare, NOW, 30),
        Err(Insufficient::NoAmr)
    );
    assert_eq!(
        step(None, &["otp", "hwk", "pwd"]).check(&session, NOW, 30),
        Err(Insufficient::MissingMethods(vec![
            "otp".into(),
            "pwd".into()
        ]))
    );
    let verdict = validator().validate_with(&passkey, NOW, &step(None, &["otp"]));
    let epochgate::Verdict::Refused(refusal) = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(refusal.reason.code(), "insufficient_user_authentication");
    assert!(refusal.message.contains("otp"), "{}", refusal.message);
}

#[test]
fn step_up_comes_after_revocation_and_freshness() {
    let mut v = validator();
    let mut log = epochgate::RevocationLog::new(update_key());
    let dev = log.allocate_device(&id("acct")).unwrap();
    assert_eq!(dev.0, 0);
    let token = mint_auth(None, None);
    let demanding = step(Some(60), &["hwk"]);
    assert_eq!(
        v.validate_with(&token, NOW, &demanding).reason(),
        INSUFFICIENT
    );
    log.revoke_all(&id("acct")).unwrap();
    v.apply_revocation(&log.delta_since(0, NOW).unwrap(), NOW)
        .unwrap();
    assert_eq!(
        v.validate_with(&token, NOW, &demanding).reason(),
        Some(Reason::RevokedAll)
    );
    let mut stale = validator_with(Options {
        max_state_age: 60,
        ..options()
    });
    let good = mint_auth(Some(NOW), Some(&["hwk"]));
    assert_eq!(
        stale.validate_with(&good, NOW, &demanding).reason(),
        Some(Reason::StateStale)
    );
    assert_eq!(
        stale.validate_with(&token, NOW, &demanding).reason(),
        Some(Reason::StateStale),
        "a stale view keeps its reason even for a token that would fail the step-up"
    );
    // Expired, too: a refused token is never reported as merely insufficient.
    assert_eq!(
        v.validate_with(&token, NOW + 2_592_000 + 30, &demanding)
            .reason(),
        Some(Reason::Expired)
    );
}

#[test]
fn step_up_from_the_options_applies_to_every_validation() {
    let mut v = validator_with(Options {
        max_auth_age: Some(300),
        required_amr: vec!["mfa".into()],
        ..options()
    });
    let fresh_mfa = mint_auth(Some(NOW - 300), Some(&["pwd", "otp", "mfa"]));
    let fresh_pwd = mint_auth(Some(NOW), Some(&["pwd"]));
    let old = mint("acct", "sess", 0, 0, NOW);
    assert_eq!(v.validate(&fresh_mfa, NOW).reason(), None);
    assert_eq!(v.validate(&fresh_mfa, NOW + 1).reason(), INSUFFICIENT);
    assert_eq!(v.validate(&fresh_pwd, NOW).reason(), INSUFFICIENT);
    assert_eq!(v.validate(&old, NOW).reason(), INSUFFICIENT);
    // A call adds to the options, never relaxes them: the smaller age, every method.
    assert_eq!(
        v.validate_with(&fresh_mfa, NOW, &step(Some(1000), &[]))
            .reason(),
        None
    );
    assert_eq!(
        v.validate_with(&fresh_mfa, NOW + 1, &step(Some(1000), &[]))
            .reason(),
        INSUFFICIENT
    );
    assert_eq!(
        v.validate_with(&fresh_mfa, NOW, &step(Some(299), &[]))
            .reason(),
        INSUFFICIENT
    );
    assert_eq!(
        v.validate_with(&fresh_mfa, NOW, &step(None, &["otp"]))
            .reason(),
        None
    );
    assert_eq!(
        v.validate_with(&fresh_mfa, NOW, &step(None, &["hwk"]))
            .reason(),
        INSUFFICIENT
    );
    assert_eq!(
        v.step_up_for(&step(Some(1000), &["hwk", "mfa"])),
        step(Some(300), &["mfa", "hwk"])
    );
    assert_eq!(v.step_up_for(&step(None, &[])), step(Some(300), &["mfa"]));
    // Without options, no step-up: every token without the claims stays valid.
    assert_eq!(validator().validate(&old, NOW).reason(), None);
    assert_eq!(
        validator().step_up_for(&step(None, &[])),
        epochgate::StepUp::default()
    );
}

#[test]
fn the_cache_does_not_skip_the_step_up() {
    let mut v = validator();
    let token = mint_auth(Some(NOW - 100), Some(&["pwd"]));
    assert_eq!(v.validate(&token, NOW).reason(), None);
    assert_eq!(
        v.validate_with(&token, NOW, &step(Some(99), &[])).reason(),
        INSUFFICIENT
    );
    assert_eq!(
        v.validate_with(&token, NOW, &step(None, &["otp"])).reason(),
        INSUFFICIENT
    );
    assert_eq!(
        v.validate_with(&token, NOW, &step(Some(100), &["pwd"]))
            .reason(),
        None
    );
    assert_eq!(v.cache_hits(), 3);
}

#[test]
fn step_up_options_are_checked() {
    let keys = || KeySet::new(vec![token_key().public()]).unwrap();
    let build = |max_auth_age: Option<u64>, required_amr: &[&str]| {
        Validator::new(
            Options {
                max_auth_age,
                required_amr: required_amr.iter().map(|m| (*m).to_owned()).collect(),
                ..options()
            },
            keys(),
            None,
            [0; 16],
        )
        .map(|_| ())
        .map_err(|e| e.code())
    };
    assert_eq!(
        build(Some(MAX_AUTH_TIME as u64 + 1), &[]),
        Err("invalid_option")
    );
    assert_eq!(build(None, &[""]), Err("invalid_option"));
    assert_eq!(build(None, &["hwk", "hwk"]), Err("invalid_option"));
    assert_eq!(build(None, &["a\u{0}"]), Err("invalid_option"));
    let long = "y".repeat(33);
    assert_eq!(build(None, &[&long]), Err("invalid_option"));
    let too_many: Vec<String> = (0..17).map(|i| format!("m{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert_eq!(build(None, &too_many), Err("invalid_option"));
    assert_eq!(build(None, &too_many[..16]), Ok(()));
    assert_eq!(build(Some(0), &["hwk"]), Ok(()));
    assert_eq!(build(Some(MAX_AUTH_TIME as u64), &[]), Ok(()));
    assert_eq!(
        step(Some(1), &["pwd", ""]).checked().map_err(|e| e.code()),
        Err("invalid_option")
    );
    assert!(step(None, &[]).checked().unwrap().is_empty());
}
