//! The WebAuthn verifier against the fixed vectors of `tests/vectors/` (made by `make.mjs`, a
//! software authenticator in Node): every case's expected verdict, then refusals made by
//! changing one thing in a valid response, replay and expiry, counters, and the stored key form.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use epochgate_webauthn::{
    b64url, Algorithm, Asserted, Challenge, Error, MemorySpent, NewPasskey, Purpose, RelyingParty,
    SpentChallenges, StoredKey, StoredPasskey,
};
use serde_json::Value;

struct Vectors {
    json: Value,
}

impl Vectors {
    fn load(text: &str) -> Vectors {
        Vectors {
            json: serde_json::from_str(text).unwrap(),
        }
    }
    fn rp(&self) -> RelyingParty {
        RelyingParty::new(
            self.json["rp_id"].as_str().unwrap(),
            &[self.json["origin"].as_str().unwrap()],
        )
    }
    fn key(&self) -> [u8; 32] {
        hex::decode(self.json["challenge_key"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    }
    fn now(&self) -> i64 {
        self.json["now"].as_i64().unwrap()
    }
    fn binding(&self) -> Vec<u8> {
        self.json["binding"].as_str().unwrap().as_bytes().to_vec()
    }
    fn case(&self, name: &str) -> &Value {
        self.cases()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}"))
    }
    fn cases(&self) -> &Vec<Value> {
        self.json["cases"].as_array().unwrap()
    }
    fn stored_key(&self, credential: &str) -> StoredKey {
        let hex_key = self.json["credentials"][credential]["stored_key"]
            .as_str()
            .unwrap();
        StoredKey::from_bytes(&hex::decode(hex_key).unwrap()).unwrap()
    }
}

fn registrations() -> Vectors {
    Vectors::load(include_str!("vectors/registration.json"))
}

fn assertions() -> Vectors {
    Vectors::load(include_str!("vectors/assertion.json"))
}

fn bytes(case: &Value, field: &str) -> Vec<u8> {
    b64url::decode(case[field].as_str().unwrap()).unwrap()
}

fn register(
    v: &Vectors,
    case: &Value,
    binding: &[u8],
    now: i64,
    spent: &mut MemorySpent,
) -> Result<NewPasskey, Error> {
    v.rp().verify_registration(
        &v.key(),
        binding,
        now,
        &bytes(case, "client_data_json"),
        &bytes(case, "attestation_object"),
        spent,
    )
}

/// One assertion: the case's fields, with the parts a test wants to change passed in.
struct Attempt {
    purpose: Purpose,
    binding: Vec<u8>,
    now: i64,
    stored: StoredPasskey,
    client_data_json: Vec<u8>,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
}

fn attempt(v: &Vectors, name: &str) -> Attempt {
    let case = v.case(name);
    let purpose = match case["purpose"].as_str().unwrap() {
        "login" => Purpose::Login,
        "reauthentication" => Purpose::Reauthentication,
        "registration" => Purpose::Registration,
        other => panic!("purpose {other}"),
    };
    Attempt {
        purpose,
        binding: case["binding"].as_str().unwrap().as_bytes().to_vec(),
        now: v.now(),
        stored: StoredPasskey {
            key: v.stored_key(case["credential"].as_str().unwrap()),
            sign_count: case["stored_sign_count"].as_u64().unwrap() as u32,
        },
        client_data_json: bytes(case, "client_data_json"),
        authenticator_data: bytes(case, "authenticator_data"),
        signature: bytes(case, "signature"),
    }
}

impl Attempt {
    fn run(&self, v: &Vectors, spent: &mut MemorySpent) -> Result<Asserted, Error> {
        v.rp().verify_assertion(
            &v.key(),
            self.purpose,
            &self.binding,
            self.now,
            &self.stored,
            &self.client_data_json,
            &self.authenticator_data,
            &self.signature,
            spent,
        )
    }
    fn verify(&self, v: &Vectors) -> Result<Asserted, Error> {
        self.run(v, &mut MemorySpent::new())
    }
}

fn verdict<T>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn every_registration_case_has_its_expected_verdict() {
    let v = registrations();
    assert!(v.cases().len() >= 20);
    for case in v.cases() {
        let result = register(&v, case, &v.binding(), v.now(), &mut MemorySpent::new());
        assert_eq!(verdict(&result), case["expect"], "{}", case["name"]);
        if let Ok(passkey) = result {
            assert_eq!(
                b64url::encode(&passkey.credential_id),
                case["credential_id"],
                "{}",
                case["name"]
            );
            assert_eq!(
                hex::encode(passkey.public_key.to_bytes()),
                case["stored_key"]
            );
            assert_eq!(u64::from(passkey.sign_count), case["sign_count"]);
            assert_eq!(passkey.backup_eligible, case["backup_eligible"]);
            assert_eq!(passkey.backed_up, case["backed_up"]);
            assert_eq!(hex::encode(passkey.aaguid), case["aaguid"]);
        }
    }
}

#[test]
fn every_assertion_case_has_its_expected_verdict() {
    let v = assertions();
    assert!(v.cases().len() >= 14);
    for case in v.cases() {
        let result = attempt(&v, case["name"].as_str().unwrap()).verify(&v);
        assert_eq!(verdict(&result), case["expect"], "{}", case["name"]);
    }
}

#[test]
fn a_valid_registration_for_each_algorithm() {
    let v = registrations();
    let es = register(
        &v,
        v.case("es256"),
        &v.binding(),
        v.now(),
        &mut MemorySpent::new(),
    )
    .unwrap();
    assert_eq!(es.public_key.algorithm(), Algorithm::Es256);
    assert_eq!(es.public_key.algorithm().name(), "ES256");
    assert!(!es.backup_eligible && !es.backed_up);
    let ed = register(
        &v,
        v.case("eddsa_backed_up"),
        &v.binding(),
        v.now(),
        &mut MemorySpent::new(),
    )
    .unwrap();
    assert_eq!(ed.public_key.algorithm(), Algorithm::EdDsa);
    assert_eq!(ed.public_key.algorithm().name(), "EdDSA");
    assert!(ed.backup_eligible && ed.backed_up);
    // The stored form round-trips and is what the assertion vectors use.
    for (passkey, credential) in [(&es, "a"), (&ed, "b")] {
        let bytes = passkey.public_key.to_bytes();
        assert_eq!(StoredKey::from_bytes(&bytes).unwrap(), passkey.public_key);
        assert_eq!(passkey.public_key, assertions().stored_key(credential));
    }
}

#[test]
fn a_valid_assertion_for_each_algorithm() {
    let v = assertions();
    for (name, algorithm) in [
        ("es256_login", Algorithm::Es256),
        ("eddsa_login", Algorithm::EdDsa),
        ("es256_reauthentication", Algorithm::Es256),
        ("eddsa_reauthentication", Algorithm::EdDsa),
    ] {
        let a = attempt(&v, name);
        assert_eq!(a.stored.key.algorithm(), algorithm);
        assert!(a.verify(&v).is_ok(), "{name}");
    }
    let ed = attempt(&v, "eddsa_login").verify(&v).unwrap();
    assert!(ed.backed_up && ed.backup_eligible);
    assert_eq!(
        attempt(&v, "es256_reauthentication")
            .verify(&v)
            .unwrap()
            .sign_count,
        11
    );
}

#[test]
fn a_high_s_ecdsa_signature_is_accepted() {
    let v = assertions();
    let a = attempt(&v, "es256_high_s");
    let der = &a.signature;
    let s_len = usize::from(der[5 + usize::from(der[3])]);
    let s = &der[der.len() - s_len..];
    // n / 2 of P-256 begins 0x7fffffff80: a high S is at or above that.
    assert!(s_len == 33 || s[0] >= 0x80, "the vector's S is not high");
    assert!(a.verify(&v).is_ok());
}

#[test]
fn registration_refusals_from_the_caller_side() {
    let v = registrations();
    let case = v.case("es256");
    let spent = &mut MemorySpent::new();
    // Another account's binding, and an expired challenge (lifetime 300 s, inclusive).
    assert_eq!(
        register(&v, case, b"acct-2", v.now(), spent),
        Err(Error::ChallengeInvalid)
    );
    assert_eq!(
        register(&v, case, b"", v.now(), spent),
        Err(Error::ChallengeInvalid)
    );
    assert_eq!(
        register(&v, case, &v.binding(), v.now() + 301, spent),
        Err(Error::ChallengeExpired)
    );
    assert!(spent.is_empty(), "a refusal spent the nonce");
    assert!(register(&v, case, &v.binding(), v.now() + 300, spent).is_ok());
    // Replayed.
    assert_eq!(
        register(&v, case, &v.binding(), v.now(), spent),
        Err(Error::ChallengeReplayed)
    );
    // The origin is compared exactly: not a prefix, not another port or scheme.
    for origin in [
        "https://example.com/",
        "http://example.com",
        "https://example.com:8443",
        "https://www.example.com",
    ] {
        let rp = RelyingParty::new("example.com", &[origin]);
        let result = rp.verify_registration(
            &v.key(),
            &v.binding(),
            v.now(),
            &bytes(case, "client_data_json"),
            &bytes(case, "attestation_object"),
            &mut MemorySpent::new(),
        );
        assert_eq!(result, Err(Error::WrongOrigin), "{origin}");
    }
    // The RP id hash is of the exact id.
    let rp = RelyingParty::new("www.example.com", &["https://example.com"]);
    let result = rp.verify_registration(
        &v.key(),
        &v.binding(),
        v.now(),
        &bytes(case, "client_data_json"),
        &bytes(case, "attestation_object"),
        &mut MemorySpent::new(),
    );
    assert_eq!(result, Err(Error::WrongRpId));
}

#[test]
fn an_assertion_challenge_is_bound_to_purpose_and_account() {
    let v = assertions();
    // A login challenge is not a re-authentication one, nor the other way round.
    let mut a = attempt(&v, "es256_login");
    a.purpose = Purpose::Reauthentication;
    assert_eq!(a.verify(&v), Err(Error::ChallengeInvalid));
    a.binding = v.binding();
    assert_eq!(a.verify(&v), Err(Error::ChallengeInvalid));
    let mut r = attempt(&v, "eddsa_reauthentication");
    r.binding = b"acct-2".to_vec();
    assert_eq!(r.verify(&v), Err(Error::ChallengeInvalid));
    r.binding = v.binding();
    r.purpose = Purpose::Login;
    assert_eq!(r.verify(&v), Err(Error::ChallengeInvalid));
    // A registration purpose never passes an assertion, even with a registration challenge.
    r.purpose = Purpose::Registration;
    assert_eq!(r.verify(&v), Err(Error::ChallengeInvalid));
    r.purpose = Purpose::Reauthentication;
    assert!(r.verify(&v).is_ok());
}

#[test]
fn a_registration_challenge_cannot_sign_in() {
    // The same key, a registration challenge in a `webauthn.get` response: the purpose byte is
    // authentic, so only the purpose check refuses it.
    let v = assertions();
    let reg = Challenge::issue(&v.key(), Purpose::Registration, b"", v.now(), [0xee; 16]);
    assert!(Challenge::open(&v.key(), &reg, Purpose::Registration, b"", v.now()).is_ok());
    assert_eq!(
        Challenge::open(&v.key(), &reg, Purpose::Login, b"", v.now()),
        Err(Error::ChallengeInvalid)
    );
}

#[test]
fn expired_and_replayed_assertions() {
    let v = assertions();
    let mut a = attempt(&v, "es256_login");
    a.now = v.now() + 301;
    assert_eq!(a.verify(&v), Err(Error::ChallengeExpired));
    a.now = v.now() + 300;
    let spent = &mut MemorySpent::new();
    assert!(a.run(&v, spent).is_ok());
    assert_eq!(a.run(&v, spent), Err(Error::ChallengeReplayed));
    assert_eq!(spent.len(), 1);
}

#[test]
fn a_forged_assertion_does_not_spend_the_nonce() {
    let v = assertions();
    let good = attempt(&v, "eddsa_login");
    let spent = &mut MemorySpent::new();
    let mut bad = attempt(&v, "eddsa_login");
    bad.signature[10] ^= 1;
    assert_eq!(bad.run(&v, spent), Err(Error::BadSignature));
    assert!(spent.is_empty());
    assert!(good.run(&v, spent).is_ok());
    assert_eq!(good.run(&v, spent), Err(Error::ChallengeReplayed));
}

/// A replayed answer repeats the counter the origin stored after its first use: it must read
/// as a replay, never as a cloned authenticator. A real regression burns its signed challenge.
#[test]
fn a_replay_is_a_replay_not_a_counter_regression() {
    let v = assertions();
    let spent = &mut MemorySpent::new();
    let mut first = attempt(&v, "es256_counter_5");
    first.stored.sign_count = 4;
    let asserted = first.run(&v, spent).unwrap();
    let mut replay = attempt(&v, "es256_counter_5");
    replay.stored.sign_count = asserted.sign_count;
    assert_eq!(replay.run(&v, spent), Err(Error::ChallengeReplayed));

    let spent = &mut MemorySpent::new();
    let mut regressed = attempt(&v, "eddsa_login");
    regressed.stored.sign_count = u32::MAX;
    assert_eq!(regressed.run(&v, spent), Err(Error::CounterRegressed));
    assert_eq!(spent.len(), 1);
}

#[test]
fn one_flipped_bit_breaks_the_signature() {
    let v = assertions();
    for name in ["es256_login", "eddsa_login"] {
        let a = attempt(&v, name);
        assert!(a.verify(&v).is_ok());
        // In the signature: every byte of it.
        for i in 0..a.signature.len() {
            let mut b = attempt(&v, name);
            b.signature[i] ^= 0x01;
            assert_eq!(
                b.verify(&v),
                Err(Error::BadSignature),
                "{name} signature byte {i}"
            );
        }
        // In authenticatorData: a reserved flag bit, and the counter's top bit (still higher).
        for (i, bit) in [(32, 0x20), (33, 0x80), (36, 0x01)] {
            let mut b = attempt(&v, name);
            b.authenticator_data[i] ^= bit;
            assert_eq!(
                b.verify(&v),
                Err(Error::BadSignature),
                "{name} authData byte {i}"
            );
        }
        // In clientDataJSON: a letter of a member no check reads.
        let mut b = attempt(&v, name);
        let at = b
            .client_data_json
            .windows(8)
            .position(|w| w == b"template")
            .unwrap();
        b.client_data_json[at] ^= 0x01;
        assert_eq!(
            b.verify(&v),
            Err(Error::BadSignature),
            "{name} clientDataJSON"
        );
        // A signature of the wrong length or form, and an empty one.
        let mut b = attempt(&v, name);
        b.signature.push(0);
        assert_eq!(b.verify(&v), Err(Error::BadSignature));
        b.signature.clear();
        assert_eq!(b.verify(&v), Err(Error::BadSignature));
    }
}

#[test]
fn another_credentials_key_does_not_verify() {
    // The origin looks the passkey up by credential id; an id it does not have is
    // `unknown_credential`, reported by the origin itself (this crate never sees the id). Given
    // another credential's key by mistake, the verifier must still refuse.
    let v = assertions();
    for (name, other) in [
        ("es256_login", "c"),
        ("es256_login", "b"),
        ("eddsa_login", "a"),
    ] {
        let mut a = attempt(&v, name);
        a.stored.key = v.stored_key(other);
        assert_eq!(
            a.verify(&v),
            Err(Error::BadSignature),
            "{name} under {other}"
        );
    }
    assert_eq!(
        Error::<core::convert::Infallible>::UnknownCredential.code(),
        "unknown_credential"
    );
}

#[test]
fn the_counter_must_increase_unless_both_are_zero() {
    let v = assertions();
    let with = |name: &str, stored: u32| {
        let mut a = attempt(&v, name);
        a.stored.sign_count = stored;
        a.verify(&v)
    };
    // New count 5.
    assert_eq!(with("es256_counter_5", 10), Err(Error::CounterRegressed));
    assert_eq!(with("es256_counter_5", 5), Err(Error::CounterRegressed));
    assert_eq!(with("es256_counter_5", 4).unwrap().sign_count, 5);
    assert_eq!(with("es256_counter_5", 0).unwrap().sign_count, 5);
    // New count 0: fine only while the stored one is 0 too.
    assert_eq!(with("es256_login", 0).unwrap().sign_count, 0);
    assert_eq!(with("es256_login", 1), Err(Error::CounterRegressed));
}

#[test]
fn refusal_codes_are_stable() {
    let codes: Vec<&str> = [
        Error::Malformed,
        Error::WrongType,
        Error::ChallengeInvalid,
        Error::ChallengeExpired,
        Error::ChallengeReplayed,
        Error::WrongOrigin,
        Error::CrossOrigin,
        Error::WrongRpId,
        Error::UserNotPresent,
        Error::UserNotVerified,
        Error::UnsupportedAlgorithm,
        Error::InvalidKey,
        Error::BadSignature,
        Error::CounterRegressed,
        Error::UnknownCredential,
    ]
    .iter()
    .map(Error::<core::convert::Infallible>::code)
    .collect();
    assert_eq!(
        codes.join(" "),
        "malformed wrong_type challenge_invalid challenge_expired challenge_replayed \
         wrong_origin cross_origin wrong_rp_id user_not_present user_not_verified \
         unsupported_algorithm invalid_key bad_signature counter_regressed unknown_credential"
    );
    assert_eq!(
        Error::<()>::BadSignature.to_string(),
        "bad_signature: the signature does not verify"
    );
}

/// A store that fails: its error comes back as `Store`, and nothing is accepted.
struct Broken;

impl SpentChallenges for Broken {
    type Error = &'static str;
    fn spend(&mut self, _: [u8; 16], _: i64) -> Result<bool, &'static str> {
        Err("disk on fire")
    }
}

#[test]
fn a_failing_store_refuses_with_its_error() {
    let v = assertions();
    let a = attempt(&v, "es256_login");
    let result = v.rp().verify_assertion(
        &v.key(),
        a.purpose,
        &a.binding,
        a.now,
        &a.stored,
        &a.client_data_json,
        &a.authenticator_data,
        &a.signature,
        &mut Broken,
    );
    assert_eq!(result, Err(Error::Store("disk on fire")));
    assert_eq!(result.unwrap_err().code(), "store_failed");
}

#[test]
fn the_fuzz_seeds_run_clean() {
    let seeds =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/seeds")).unwrap();
    let mut count = 0;
    for seed in seeds {
        let bytes = std::fs::read(seed.unwrap().path()).unwrap();
        epochgate_webauthn::fuzzing::ceremonies(&bytes);
        count += 1;
    }
    assert!(count >= 9);
}
