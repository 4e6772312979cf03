//! Tests of the JS face through its exported API, with real JS values: options objects, JWKs as
//! objects and as text, `Uint8Array` updates, and verdicts and errors read back as JS objects.
//! Every test passes `now` explicitly except the one about the default clock.

use std::collections::BTreeSet;

use epochgate::PrivateKey;
use epochgate_wasm::{generate_key_pair, Follower, Issuer, RevocationLog, UpdateBytes, Validator};
use js_sys::{Array, Object, Reflect, Uint8Array, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

mod step_up;

/// Unpadded base64url, for building tokens by hand (the core keeps its own codec private).
mod b64 {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    pub fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

const NOW: f64 = 1_800_000_000.0;
const ISS: &str = "https://id.example";
const AUD: &str = "app";
const KID: &str = "tokens-1";

const ALL_REASONS: [&str; 17] = [
    "malformed",
    "too_large",
    "unsupported_algorithm",
    "forbidden_header",
    "unknown_key",
    "bad_signature",
    "wrong_type",
    "missing_claim",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "wrong_issuer",
    "wrong_audience",
    "revoked_all",
    "revoked_device",
    "state_stale",
    "insufficient_user_authentication",
];

fn obj(members: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (name, value) in members {
        Reflect::set(&o, &JsValue::from_str(name), value).unwrap();
    }
    o.into()
}

fn get(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

fn text(value: &JsValue, name: &str) -> String {
    get(value, name)
        .as_string()
        .unwrap_or_else(|| panic!("{name} is not a string"))
}

fn num(value: &JsValue, name: &str) -> f64 {
    get(value, name)
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is not a number"))
}

fn stringify(value: &JsValue) -> String {
    JSON::stringify(value).unwrap().as_string().unwrap()
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

fn n(number: f64) -> JsValue {
    JsValue::from_f64(number)
}

/// The `.code` of a thrown value, after checking it is a JS `Error` with a message.
fn code<T: std::fmt::Debug>(result: Result<T, JsValue>) -> String {
    let error = result.expect_err("expected a thrown Error");
    assert!(error.is_instance_of::<js_sys::Error>(), "not an Error");
    let message = text(&error, "message");
    assert!(!message.is_empty(), "an Error without a message");
    text(&error, "code")
}

struct World {
    tokens: JsValue,
    updates: JsValue,
    issuer: Issuer,
    log: RevocationLog,
}

fn world() -> World {
    let tokens = generate_key_pair(s(KID)).unwrap();
    let updates = generate_key_pair(s("updates-1")).unwrap();
    let issuer = Issuer::new(obj(&[
        ("issuer", s(ISS)),
        ("audience", s(AUD)),
        ("privateJwk", get(&tokens, "privateJwk")),
    ]))
    .unwrap();
    // The log's key as JSON text: both forms are accepted.
    let log = RevocationLog::new(obj(&[(
        "privateJwk",
        s(&stringify(&get(&updates, "privateJwk"))),
    )]))
    .unwrap();
    World {
        tokens,
        updates,
        issuer,
        log,
    }
}

impl World {
    fn validator(&self, extra: &[(&str, JsValue)]) -> Validator {
        let mut members = vec![
            ("issuer", s(ISS)),
            ("audience", s(AUD)),
            (
                "keys",
                obj(&[("keys", Array::of1(&get(&self.tokens, "publicJwk")).into())]),
            ),
            ("revocationKeys", get(&self.updates, "publicJwk")),
        ];
        members.extend(extra.iter().cloned());
        Validator::new(obj(&members)).unwrap()
    }

    fn mint(&self, account: &str, session: &str, device: u16, epoch: u32, now: f64) -> String {
        self.issuer
            .mint(obj(&[
                ("account", s(account)),
                ("session", s(session)),
                ("device", n(device.into())),
                ("epoch", n(epoch.into())),
                ("now", n(now)),
            ]))
            .unwrap()
    }

    /// Logs a device in: a slot in the account's current epoch and a token for it.
    fn login(&mut self, account: &str, session: &str, now: f64) -> String {
        let device = self.log.allocate_device(s(account)).unwrap();
        let epoch = self.log.epoch_of(s(account)).unwrap();
        self.mint(account, session, device, epoch, now)
    }

    /// Brings `validator` up to date with a delta since its sequence, made at `now`.
    fn sync(&mut self, validator: &mut Validator, now: f64) -> f64 {
        let delta = self
            .log
            .delta_since(validator.revocation_seq(), Some(now))
            .unwrap();
        validator
            .apply_revocation(Uint8Array::from(delta.as_slice()).into(), Some(now))
            .unwrap()
    }

    fn signing_key(&self) -> PrivateKey {
        PrivateKey::from_jwk(&stringify(&get(&self.tokens, "privateJwk"))).unwrap()
    }
}

fn check(validator: &mut Validator, token: &str, now: f64) -> JsValue {
    validator.validate(s(token), Some(now), None).unwrap()
}

/// `None` for a valid token, else the refusal's reason (after checking the refusal's shape).
fn reason(validator: &mut Validator, token: &str, now: f64) -> Option<String> {
    let verdict = check(validator, token, now);
    if get(&verdict, "valid") == JsValue::TRUE {
        return None;
    }
    assert_eq!(get(&verdict, "valid"), JsValue::FALSE);
    assert!(!text(&verdict, "message").is_empty());
    Some(text(&verdict, "reason"))
}

/// A compact JWS signed by hand, for the tokens `Issuer` will not make.
fn craft(key: &PrivateKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(payload.as_bytes())
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64::encode(&signature))
}

fn header(extra: &str) -> String {
    format!(r#"{{"alg":"EdDSA","kid":"{KID}","typ":"session+jwt"{extra}}}"#)
}

fn payload(extra: &str) -> String {
    format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"acct-h","sid":"s-h","dev":0,"epo":0,"iat":{now},"exp":{exp}{extra}}}"#,
        now = NOW as i64,
        exp = NOW as i64 + 3600
    )
}

#[wasm_bindgen_test]
fn generate_key_pair_makes_fresh_ed25519_jwks() {
    let a = generate_key_pair(s("k-a")).unwrap();
    let b = generate_key_pair(s("k-a")).unwrap();
    let (private, public) = (get(&a, "privateJwk"), get(&a, "publicJwk"));
    for jwk in [&private, &public] {
        assert_eq!(text(jwk, "kty"), "OKP");
        assert_eq!(text(jwk, "crv"), "Ed25519");
        assert_eq!(text(jwk, "kid"), "k-a");
        assert_eq!(text(jwk, "x").len(), 43);
    }
    assert_eq!(text(&private, "d").len(), 43);
    assert!(get(&public, "d").is_undefined());
    assert_eq!(text(&private, "x"), text(&public, "x"));
    let other = get(&b, "publicJwk");
    assert_ne!(
        text(&public, "x"),
        text(&other, "x"),
        "two key pairs are equal"
    );
    assert_eq!(code(generate_key_pair(s(""))), "invalid_kid");
    assert_eq!(code(generate_key_pair(n(7.0))), "invalid_argument");
}

#[wasm_bindgen_test]
fn a_minted_token_is_valid_with_its_identity() {
    let w = world();
    let token = w
        .issuer
        .mint(obj(&[
            ("account", s("acct-1")),
            ("session", s("sess-1")),
            ("device", n(3.0)),
            ("epoch", n(7.0)),
            ("now", n(NOW + 0.9)),
            ("ttl", n(600.0)),
            ("jti", s("j-1")),
        ]))
        .unwrap();
    let verdict = check(&mut w.validator(&[]), &token, NOW);
    assert_eq!(get(&verdict, "valid"), JsValue::TRUE);
    assert_eq!(text(&verdict, "account"), "acct-1");
    assert_eq!(text(&verdict, "session"), "sess-1");
    assert_eq!(num(&verdict, "device"), 3.0);
    assert_eq!(num(&verdict, "epoch"), 7.0);
    // `now` is floored to whole seconds.
    assert_eq!(num(&verdict, "issuedAt"), NOW);
    assert_eq!(num(&verdict, "expiresAt"), NOW + 600.0);
    let claims = get(&verdict, "claims");
    assert_eq!(text(&claims, "iss"), ISS);
    assert_eq!(text(&claims, "aud"), AUD);
    assert_eq!(text(&claims, "sub"), "acct-1");
    assert_eq!(text(&claims, "sid"), "sess-1");
    assert_eq!(num(&claims, "dev"), 3.0);
    assert_eq!(num(&claims, "epo"), 7.0);
    assert_eq!(text(&claims, "jti"), "j-1");
}

#[wasm_bindgen_test]
fn the_clock_is_used_when_now_is_omitted() {
    let w = world();
    let token = w
        .issuer
        .mint(obj(&[
            ("account", s("acct-c")),
            ("session", s("sess-c")),
            ("device", n(0.0)),
            ("epoch", n(0.0)),
        ]))
        .unwrap();
    let mut validator = w.validator(&[]);
    let verdict = validator.validate(s(&token), None, None).unwrap();
    assert_eq!(
        get(&verdict, "valid"),
        JsValue::TRUE,
        "{}",
        stringify(&verdict)
    );
    // The same token judged at a fixed time far before it was issued is refused.
    assert_eq!(
        reason(&mut validator, &token, 1_000_000_000.0).as_deref(),
        Some("issued_in_future")
    );
}

#[wasm_bindgen_test]
fn every_reason_is_reachable_from_js() {
    let mut w = world();
    let key = w.signing_key();
    let stranger = PrivateKey::from_seed(KID, &[9; 32]).unwrap();
    let other_issuer = |issuer: &str, audience: &str| {
        Issuer::new(obj(&[
            ("issuer", s(issuer)),
            ("audience", s(audience)),
            ("privateJwk", get(&w.tokens, "privateJwk")),
        ]))
        .unwrap()
    };
    let request = |now: f64, ttl: f64| {
        obj(&[
            ("account", s("acct-x")),
            ("session", s("sess-x")),
            ("device", n(0.0)),
            ("epoch", n(0.0)),
            ("now", n(now)),
            ("ttl", n(ttl)),
        ])
    };
    let mut seen = BTreeSet::new();
    let mut expect = |validator: &mut Validator, token: &str, want: &str| {
        assert_eq!(
            reason(validator, token, NOW).as_deref(),
            Some(want),
            "{token}"
        );
        seen.insert(want.to_owned());
    };

    let mut v = w.validator(&[]);
    expect(&mut v, &"a".repeat(5000), "too_large");
    expect(&mut v, "not-a-token", "malformed");
    expect(&mut v, "a.b.c", "malformed");
    let hs256 = r#"{"alg":"HS256","kid":"tokens-1","typ":"session+jwt"}"#;
    expect(
        &mut v,
        &craft(&key, hs256, &payload("")),
        "unsupported_algorithm",
    );
    let crit = header(r#","crit":["exp"]"#);
    expect(
        &mut v,
        &craft(&key, &crit, &payload("")),
        "forbidden_header",
    );
    let jwt = r#"{"alg":"EdDSA","kid":"tokens-1","typ":"JWT"}"#;
    expect(&mut v, &craft(&key, jwt, &payload("")), "wrong_type");
    let nokey = r#"{"alg":"EdDSA","kid":"nope","typ":"session+jwt"}"#;
    expect(&mut v, &craft(&key, nokey, &payload("")), "unknown_key");
    expect(
        &mut v,
        &craft(&stranger, &header(""), &payload("")),
        "bad_signature",
    );
    let no_sid = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"a","dev":0,"epo":0,"iat":{0},"exp":{1}}}"#,
        NOW as i64,
        NOW as i64 + 60
    );
    expect(&mut v, &craft(&key, &header(""), &no_sid), "missing_claim");
    let nbf = payload(&format!(r#","nbf":{}"#, NOW as i64 + 1000));
    expect(&mut v, &craft(&key, &header(""), &nbf), "not_yet_valid");
    expect(
        &mut v,
        &w.issuer.mint(request(NOW - 100.0, 50.0)).unwrap(),
        "expired",
    );
    expect(
        &mut v,
        &w.issuer.mint(request(NOW + 1000.0, 60.0)).unwrap(),
        "issued_in_future",
    );
    let evil = other_issuer("https://evil.example", AUD);
    expect(
        &mut v,
        &evil.mint(request(NOW, 60.0)).unwrap(),
        "wrong_issuer",
    );
    let elsewhere = other_issuer(ISS, "other-app");
    expect(
        &mut v,
        &elsewhere.mint(request(NOW, 60.0)).unwrap(),
        "wrong_audience",
    );
    // The hand-made token with nothing wrong is valid: the crafting itself is sound.
    assert_eq!(
        reason(&mut v, &craft(&key, &header(""), &payload("")), NOW),
        None
    );

    let phone = w.login("acct-r", "s-phone", NOW);
    let laptop = w.login("acct-r", "s-laptop", NOW);
    w.log.revoke_device(s("acct-r"), 0.0, Some(NOW)).unwrap();
    w.sync(&mut v, NOW);
    expect(&mut v, &phone, "revoked_device");
    assert_eq!(reason(&mut v, &laptop, NOW), None);
    w.log.revoke_all(s("acct-r"), Some(NOW)).unwrap();
    w.sync(&mut v, NOW);
    expect(&mut v, &laptop, "revoked_all");

    let mut strict = w.validator(&[("maxStateAge", n(60.0))]);
    expect(
        &mut strict,
        &w.issuer.mint(request(NOW, 60.0)).unwrap(),
        "state_stale",
    );

    let mut stepping = w.validator(&[("maxAuthAge", n(300.0))]);
    expect(
        &mut stepping,
        &w.issuer.mint(request(NOW, 60.0)).unwrap(),
        "insufficient_user_authentication",
    );

    let all: BTreeSet<String> = ALL_REASONS.iter().map(|r| (*r).to_owned()).collect();
    assert_eq!(seen, all);
}

#[wasm_bindgen_test]
fn validate_never_throws_for_odd_input() {
    let w = world();
    let mut v = w.validator(&[]);
    let odd = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        "\u{0}.\u{0}.\u{0}".into(),
        "é.ü.ß".into(),
        "eyJ.eyJ.eyJ".into(),
        "=.=.=".into(),
        format!(
            "{}.{}.{}",
            b64::encode(b"{}"),
            b64::encode(b"{}"),
            b64::encode(&[0; 64])
        ),
        format!("{}.e30.{}", b64::encode(b"[1,2]"), b64::encode(&[1; 64])),
        format!("{}.e30.AA", b64::encode(header("").as_bytes())),
        format!(
            "{}.e30.{}",
            b64::encode(&[0xff, 0xfe]),
            b64::encode(&[1; 64])
        ),
        format!("{}.{}.x", "[".repeat(1000), "{".repeat(1000)),
        "\u{feff}".repeat(1500),
        "a".repeat(4097),
        "a".repeat(1 << 20),
    ];
    for token in odd {
        let verdict = v
            .validate(s(&token), Some(NOW), None)
            .expect("validate threw");
        assert_eq!(get(&verdict, "valid"), JsValue::FALSE);
        let why = text(&verdict, "reason");
        assert!(ALL_REASONS.contains(&why.as_str()), "{why}");
    }
    for value in [
        JsValue::UNDEFINED,
        JsValue::NULL,
        n(42.0),
        JsValue::TRUE,
        Object::new().into(),
        Array::new().into(),
    ] {
        let verdict = v.validate(value, Some(NOW), None).expect("validate threw");
        assert_eq!(text(&verdict, "reason"), "malformed");
    }
    // Only a `now` that is not a finite number is a caller error.
    assert_eq!(
        code(v.validate(s("a.b.c"), Some(f64::NAN), None)),
        "invalid_argument"
    );
    assert_eq!(
        code(v.validate(s("a.b.c"), Some(f64::INFINITY), None)),
        "invalid_argument"
    );
}

#[wasm_bindgen_test]
fn signing_out_one_device_leaves_the_others() {
    let mut w = world();
    let mut v = w.validator(&[]);
    let phone = w.login("acct-1", "s-phone", NOW);
    let laptop = w.login("acct-1", "s-laptop", NOW);
    let stranger = w.login("acct-2", "s-other", NOW);
    assert_eq!(reason(&mut v, &phone, NOW), None);
    w.log.revoke_device(s("acct-1"), 0.0, Some(NOW)).unwrap();
    // Repeating it is harmless and changes nothing.
    let seq = w.log.seq();
    w.log.revoke_device(s("acct-1"), 0.0, Some(NOW)).unwrap();
    assert_eq!(w.log.seq(), seq);
    assert_eq!(w.sync(&mut v, NOW + 1.0), seq);
    assert_eq!(v.revocation_seq(), seq);
    assert_eq!(
        reason(&mut v, &phone, NOW + 2.0).as_deref(),
        Some("revoked_device")
    );
    assert_eq!(reason(&mut v, &laptop, NOW + 2.0), None);
    assert_eq!(reason(&mut v, &stranger, NOW + 2.0), None);
}

#[wasm_bindgen_test]
fn signing_out_all_devices_then_logging_in_again() {
    let mut w = world();
    let mut v = w.validator(&[]);
    let phone = w.login("acct-1", "s-phone", NOW);
    let laptop = w.login("acct-1", "s-laptop", NOW);
    assert_eq!(w.log.revoke_all(s("acct-1"), Some(NOW)).unwrap(), 1);
    assert_eq!(w.log.epoch_of(s("acct-1")).unwrap(), 1);
    w.sync(&mut v, NOW);
    for token in [&phone, &laptop] {
        assert_eq!(reason(&mut v, token, NOW).as_deref(), Some("revoked_all"));
    }
    // Re-login after signing out: a new token in the new epoch works.
    let again = w.login("acct-1", "s-phone-2", NOW + 5.0);
    assert_eq!(reason(&mut v, &again, NOW + 5.0), None);
    // Signing out that one device, then logging in on it again, also works.
    w.log.revoke_device(s("acct-1"), 0.0, Some(NOW)).unwrap();
    w.sync(&mut v, NOW + 6.0);
    assert_eq!(
        reason(&mut v, &again, NOW + 6.0).as_deref(),
        Some("revoked_device")
    );
    let third = w.login("acct-1", "s-phone-3", NOW + 7.0);
    assert_eq!(reason(&mut v, &third, NOW + 7.0), None);
}

#[wasm_bindgen_test]
fn a_password_change_keeps_the_current_device_with_a_fresh_token() {
    let mut w = world();
    let mut v = w.validator(&[]);
    let current = w.login("acct-p", "s-current", NOW);
    let other = w.login("acct-p", "s-other", NOW);
    assert_eq!(reason(&mut v, &current, NOW), None);
    // The password change bumps the epoch; the current device gets a fresh token in it.
    let epoch = w.log.revoke_all(s("acct-p"), Some(NOW + 10.0)).unwrap();
    let slot = w.log.allocate_device(s("acct-p")).unwrap();
    let fresh = w.mint("acct-p", "s-current", slot, epoch, NOW + 10.0);
    w.sync(&mut v, NOW + 10.0);
    assert_eq!(
        reason(&mut v, &current, NOW + 11.0).as_deref(),
        Some("revoked_all")
    );
    assert_eq!(
        reason(&mut v, &other, NOW + 11.0).as_deref(),
        Some("revoked_all")
    );
    let verdict = check(&mut v, &fresh, NOW + 11.0);
    assert_eq!(get(&verdict, "valid"), JsValue::TRUE);
    assert_eq!(num(&verdict, "epoch"), 1.0);
}

#[wasm_bindgen_test]
fn an_offline_device_is_refused_on_first_use() {
    let mut w = world();
    let mut edge = w.validator(&[]);
    let online = w.login("acct-o", "s-online", NOW);
    // The tablet got its token, then went offline before ever reaching this validator.
    let tablet = w.login("acct-o", "s-tablet", NOW);
    assert_eq!(reason(&mut edge, &online, NOW), None);
    w.log
        .revoke_device(s("acct-o"), 1.0, Some(NOW + 60.0))
        .unwrap();
    w.sync(&mut edge, NOW + 60.0);
    // Days later, still within the token's lifetime, the tablet comes back.
    let later = NOW + 5.0 * 86_400.0;
    assert_eq!(
        reason(&mut edge, &tablet, later).as_deref(),
        Some("revoked_device")
    );
    assert_eq!(reason(&mut edge, &online, later), None);
    // A validator that starts later learns the same from a snapshot.
    let mut fresh = w.validator(&[]);
    let snapshot = w.log.snapshot(Some(later)).unwrap();
    fresh
        .apply_revocation(Uint8Array::from(snapshot.as_slice()).into(), Some(later))
        .unwrap();
    assert_eq!(
        reason(&mut fresh, &tablet, later).as_deref(),
        Some("revoked_device")
    );
}

#[wasm_bindgen_test]
fn snapshot_then_deltas_and_gaps_are_refused() {
    let mut w = world();
    let a = w.login("acct-a", "s-a", NOW);
    let b = w.login("acct-b", "s-b", NOW);
    w.log.revoke_device(s("acct-a"), 0.0, Some(NOW)).unwrap();
    let old_snapshot = w.log.snapshot(Some(NOW)).unwrap();
    assert_eq!(w.log.seq(), 1.0);

    let mut v = w.validator(&[]);
    assert_eq!(v.revocation_seq(), 0.0);
    let applied = v
        .apply_revocation(Uint8Array::from(old_snapshot.as_slice()).into(), Some(NOW))
        .unwrap();
    assert_eq!(applied, 1.0);
    assert_eq!(reason(&mut v, &a, NOW).as_deref(), Some("revoked_device"));
    assert_eq!(reason(&mut v, &b, NOW), None);

    w.log.revoke_all(s("acct-b"), Some(NOW + 1.0)).unwrap();
    w.log.revoke_all(s("acct-b"), Some(NOW + 2.0)).unwrap();
    assert_eq!(w.log.seq(), 3.0);
    // A delta that does not start at the validator's sequence is a gap.
    let ahead = w.log.delta_since(2.0, Some(NOW + 3.0)).unwrap();
    let gap = v.apply_revocation(Uint8Array::from(ahead.as_slice()).into(), Some(NOW + 3.0));
    assert_eq!(code(gap), "update_gap");
    assert_eq!(v.revocation_seq(), 1.0, "a refused update changed the view");
    assert_eq!(reason(&mut v, &b, NOW + 3.0), None);
    // The delta from its own sequence applies; an ArrayBuffer is accepted too.
    let delta = w.log.delta_since(1.0, Some(NOW + 3.0)).unwrap();
    let buffer = Uint8Array::from(delta.as_slice()).buffer();
    assert_eq!(
        v.apply_revocation(buffer.into(), Some(NOW + 3.0)).unwrap(),
        3.0
    );
    assert_eq!(
        reason(&mut v, &b, NOW + 3.0).as_deref(),
        Some("revoked_all")
    );
    // An older snapshot never rolls the validator back.
    let stale = v.apply_revocation(
        Uint8Array::from(old_snapshot.as_slice()).into(),
        Some(NOW + 4.0),
    );
    assert_eq!(code(stale), "update_stale");
    assert_eq!(v.revocation_seq(), 3.0);
    // A validator behind by a gap catches up with a fresh snapshot.
    let mut behind = w.validator(&[]);
    let gap = behind.apply_revocation(Uint8Array::from(ahead.as_slice()).into(), Some(NOW + 3.0));
    assert_eq!(code(gap), "update_gap");
    let snapshot = w.log.snapshot(Some(NOW + 3.0)).unwrap();
    let caught_up = behind
        .apply_revocation(
            Uint8Array::from(snapshot.as_slice()).into(),
            Some(NOW + 3.0),
        )
        .unwrap();
    assert_eq!(caught_up, 3.0);
    assert_eq!(
        reason(&mut behind, &b, NOW + 3.0).as_deref(),
        Some("revoked_all")
    );
    assert_eq!(
        reason(&mut behind, &a, NOW + 3.0).as_deref(),
        Some("revoked_device")
    );
    // The log refuses a delta from a sequence it has not reached.
    assert_eq!(code(w.log.delta_since(4.0, Some(NOW))), "update_gap");
}

#[wasm_bindgen_test]
fn max_state_age_fails_closed_and_recovers_after_a_fresh_delta() {
    let mut w = world();
    let token = w.login("acct-s", "s-s", NOW);
    let mut v = w.validator(&[("maxStateAge", n(60.0))]);
    // No update applied yet: fail closed.
    assert_eq!(reason(&mut v, &token, NOW).as_deref(), Some("state_stale"));
    w.sync(&mut v, NOW);
    assert_eq!(reason(&mut v, &token, NOW + 60.0), None);
    assert_eq!(
        reason(&mut v, &token, NOW + 61.0).as_deref(),
        Some("state_stale")
    );
    // A delta with no changes is valid and refreshes the view.
    let seq = v.revocation_seq();
    assert_eq!(w.sync(&mut v, NOW + 100.0), seq);
    assert_eq!(reason(&mut v, &token, NOW + 101.0), None);
    assert_eq!(
        reason(&mut v, &token, NOW + 161.0).as_deref(),
        Some("state_stale")
    );
    // Refusals other than staleness keep their own reason.
    assert_eq!(
        reason(&mut v, "x", NOW + 161.0).as_deref(),
        Some("malformed")
    );
}

#[wasm_bindgen_test]
fn the_cache_gives_the_same_verdicts_as_no_cache() {
    let mut w = world();
    let mut cached = w.validator(&[]);
    let mut uncached = w.validator(&[("cacheSize", n(0.0))]);
    let key = w.signing_key();
    let mut tokens = vec![
        w.login("acct-1", "s-1", NOW),
        w.login("acct-1", "s-2", NOW),
        w.login("acct-2", "s-3", NOW),
        w.mint("acct-3", "s-4", 0, 0, NOW - 3000.0),
        craft(
            &key,
            &header(""),
            &payload(&format!(r#","nbf":{}"#, NOW as i64 + 100)),
        ),
        "garbage".into(),
    ];
    tokens.push(tokens[0].clone());
    let compare = |cached: &mut Validator, uncached: &mut Validator, now: f64| {
        let mut valid = 0;
        for token in &tokens {
            // Twice each: the second lookup of a valid token is a cache hit.
            for _ in 0..2 {
                let a = stringify(&check(cached, token, now));
                let b = stringify(&check(uncached, token, now));
                assert_eq!(a, b, "at {now}");
                valid += usize::from(a.starts_with(r#"{"valid":true"#));
            }
        }
        valid
    };
    assert_eq!(compare(&mut cached, &mut uncached, NOW), 10);
    assert!(cached.cached_tokens() >= 3.0, "the cache was not used");
    assert_eq!(uncached.cached_tokens(), 0.0);
    // After a revocation, cached tokens are judged on the new view like uncached ones.
    w.log.revoke_device(s("acct-1"), 1.0, Some(NOW)).unwrap();
    w.log.revoke_all(s("acct-2"), Some(NOW)).unwrap();
    w.sync(&mut cached, NOW + 10.0);
    w.sync(&mut uncached, NOW + 10.0);
    assert_eq!(compare(&mut cached, &mut uncached, NOW + 10.0), 6);
    // Time moves on: nbf is reached, and everything minted at NOW eventually expires.
    assert_eq!(compare(&mut cached, &mut uncached, NOW + 200.0), 8);
    let expired = NOW + 40.0 * 86_400.0;
    assert_eq!(compare(&mut cached, &mut uncached, expired), 0);
}

#[wasm_bindgen_test]
fn keys_are_read_as_objects_or_json_text() {
    let w = world();
    let token = w.mint("acct-k", "s-k", 0, 0, NOW);
    let public = get(&w.tokens, "publicJwk");
    let jwks = obj(&[("keys", Array::of1(&public).into())]);
    let rsa = obj(&[
        ("kty", s("RSA")),
        ("kid", s("r")),
        ("n", s("AQAB")),
        ("e", s("AQAB")),
    ]);
    let mixed = obj(&[("keys", Array::of2(&rsa, &public).into())]);
    for keys in [
        public.clone(),
        jwks.clone(),
        s(&stringify(&public)),
        s(&stringify(&jwks)),
        mixed,
        w.issuer.public_jwks().unwrap(),
    ] {
        let mut v = Validator::new(obj(&[
            ("issuer", s(ISS)),
            ("audience", s(AUD)),
            ("keys", keys),
        ]))
        .unwrap();
        assert_eq!(reason(&mut v, &token, NOW), None);
    }
    let published = w.issuer.public_jwks().unwrap();
    let first = Array::from(&get(&published, "keys")).get(0);
    assert_eq!(text(&first, "x"), text(&public, "x"));
    assert!(
        get(&first, "d").is_undefined(),
        "publicJwks leaks the private key"
    );
}

#[wasm_bindgen_test]
fn options_and_arguments_errors_carry_codes() {
    let mut w = world();
    let public = get(&w.tokens, "publicJwk");
    let validator = |extra: &[(&str, JsValue)]| {
        let mut members = vec![
            ("issuer", s(ISS)),
            ("audience", s(AUD)),
            ("keys", public.clone()),
        ];
        members.retain(|(name, _)| !extra.iter().any(|(e, _)| e == name));
        members.extend(extra.iter().cloned());
        Validator::new(obj(&members))
    };
    assert!(validator(&[("clockTolerance", n(60.0))]).is_ok());
    for (extra, want) in [
        (("clockTolerance", n(61.0)), "invalid_option"),
        (("clockTolerance", n(-1.0)), "invalid_option"),
        (("clockTolerance", n(1.5)), "invalid_option"),
        (("clockTolerance", s("30")), "invalid_option"),
        (("maxTokenBytes", n(10.0)), "invalid_option"),
        (("cacheSize", n(f64::NAN)), "invalid_option"),
        (("maxStateAge", JsValue::TRUE), "invalid_option"),
        (("type", s("")), "invalid_option"),
        (("type", n(1.0)), "invalid_option"),
        (("issuer", s("")), "invalid_option"),
        (("audience", n(1.0)), "invalid_option"),
        (("maxStateage", n(60.0)), "invalid_option"),
        (("keys", JsValue::NULL), "invalid_option"),
        (("keys", n(1.0)), "invalid_option"),
        (("keys", s("{not json")), "invalid_jwk"),
        (
            ("keys", obj(&[("keys", Array::new().into())])),
            "no_usable_key",
        ),
        (("revocationKeys", public.clone()), "key_reuse"),
    ] {
        assert_eq!(
            code(validator(std::slice::from_ref(&extra))),
            want,
            "{}",
            extra.0
        );
    }
    let missing = Validator::new(obj(&[("issuer", s(ISS)), ("keys", public.clone())]));
    assert_eq!(code(missing), "invalid_option");
    assert_eq!(code(Validator::new(s("{}"))), "invalid_option");
    assert_eq!(code(Validator::new(JsValue::UNDEFINED)), "invalid_option");
    assert_eq!(code(Validator::new(Array::new().into())), "invalid_option");

    // Revocation updates.
    let mut v = validator(&[("revocationKeys", get(&w.updates, "publicJwk"))]).unwrap();
    let update = |bytes: &[u8]| JsValue::from(Uint8Array::from(bytes));
    assert_eq!(
        code(v.apply_revocation(update(b"nonsense"), Some(NOW))),
        "update_malformed"
    );
    assert_eq!(
        code(v.apply_revocation(s("text"), Some(NOW))),
        "invalid_argument"
    );
    let snapshot = w.log.snapshot(Some(NOW + 3600.0)).unwrap();
    assert_eq!(
        code(v.apply_revocation(update(&snapshot), Some(NOW))),
        "update_from_future"
    );
    let mut tampered = w.log.snapshot(Some(NOW)).unwrap();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    assert_eq!(
        code(v.apply_revocation(update(&tampered), Some(NOW))),
        "update_bad_signature"
    );
    let mut foreign = RevocationLog::new(obj(&[(
        "privateJwk",
        get(&generate_key_pair(s("elsewhere")).unwrap(), "privateJwk"),
    )]))
    .unwrap();
    let foreign = foreign.snapshot(Some(NOW)).unwrap();
    assert_eq!(
        code(v.apply_revocation(update(&foreign), Some(NOW))),
        "update_unknown_key"
    );
    assert_eq!(v.revocation_seq(), 0.0);
    let mut keyless = validator(&[]).unwrap();
    let good = w.log.snapshot(Some(NOW)).unwrap();
    assert_eq!(
        code(keyless.apply_revocation(update(&good), Some(NOW))),
        "no_revocation_keys"
    );
    assert_eq!(
        code(v.apply_revocation(update(&good), Some(f64::NAN))),
        "invalid_argument"
    );

    // Issuer.
    let issuer = |key: JsValue| {
        Issuer::new(obj(&[
            ("issuer", s(ISS)),
            ("audience", s(AUD)),
            ("privateJwk", key),
        ]))
    };
    assert_eq!(code(issuer(public.clone())), "missing_private_key");
    assert_eq!(code(issuer(s("[]"))), "invalid_jwk");
    assert_eq!(code(issuer(JsValue::UNDEFINED)), "invalid_option");
    let mut mismatched = stringify(&get(&w.tokens, "privateJwk"));
    let other = get(&w.updates, "publicJwk");
    mismatched = mismatched.replace(&text(&public, "x"), &text(&other, "x"));
    assert_eq!(code(issuer(s(&mismatched))), "key_mismatch");
    let ttl = Issuer::new(obj(&[
        ("issuer", s(ISS)),
        ("audience", s(AUD)),
        ("privateJwk", get(&w.tokens, "privateJwk")),
        ("ttl", n(0.0)),
    ]));
    assert_eq!(code(ttl), "invalid_option");
    let mint = |members: &[(&str, JsValue)]| {
        let mut all = vec![
            ("account", s("a")),
            ("session", s("s")),
            ("device", n(0.0)),
            ("epoch", n(0.0)),
            ("now", n(NOW)),
        ];
        all.retain(|(name, _)| !members.iter().any(|(m, _)| m == name));
        all.extend(members.iter().cloned());
        w.issuer.mint(obj(&all))
    };
    assert!(mint(&[]).is_ok());
    for (member, want) in [
        (("device", n(65_536.0)), "invalid_claim"),
        (("device", n(1e12)), "invalid_claim"),
        (("device", n(-1.0)), "invalid_claim"),
        (("epoch", n(4_294_967_296.0)), "invalid_claim"),
        (("account", s("")), "invalid_claim"),
        (("session", s(&"x".repeat(129))), "invalid_claim"),
        (("account", n(1.0)), "invalid_claim"),
        (("now", s("soon")), "invalid_claim"),
        (("ttl", n(0.0)), "invalid_claim"),
        (("jti", n(1.0)), "invalid_claim"),
        (("nbf", n(1.0)), "invalid_claim"),
    ] {
        assert_eq!(
            code(mint(std::slice::from_ref(&member))),
            want,
            "{}",
            member.0
        );
    }
    assert_eq!(code(w.issuer.mint(JsValue::NULL)), "invalid_claim");

    // RevocationLog.
    let mut log =
        RevocationLog::new(obj(&[("privateJwk", get(&w.updates, "privateJwk"))])).unwrap();
    assert_eq!(code(RevocationLog::new(obj(&[]))), "invalid_option");
    assert_eq!(
        code(RevocationLog::new(obj(&[("privateJwk", public.clone())]))),
        "missing_private_key"
    );
    assert_eq!(code(log.allocate_device(s(""))), "invalid_account");
    assert_eq!(code(log.allocate_device(n(1.0))), "invalid_argument");
    assert_eq!(code(log.epoch_of(s(&"a".repeat(129)))), "invalid_account");
    assert_eq!(
        code(log.revoke_device(s("nobody"), 0.0, Some(NOW))),
        "unknown_device"
    );
    assert_eq!(log.allocate_device(s("acct")).unwrap(), 0);
    assert_eq!(
        code(log.revoke_device(s("acct"), 1.0, Some(NOW))),
        "unknown_device"
    );
    assert_eq!(
        code(log.revoke_device(s("acct"), 65_536.0, Some(NOW))),
        "invalid_argument"
    );
    assert_eq!(
        code(log.revoke_device(s("acct"), 0.5, Some(NOW))),
        "invalid_argument"
    );
    assert_eq!(
        code(log.revoke_all(s("acct"), Some(f64::NAN))),
        "invalid_argument"
    );
    assert_eq!(code(log.delta_since(-1.0, Some(NOW))), "invalid_argument");
    assert_eq!(code(log.delta_since(1.0, Some(NOW))), "update_gap");
    assert_eq!(
        code(log.snapshot(Some(f64::NEG_INFINITY))),
        "invalid_argument"
    );
    assert_eq!(log.seq(), 0.0, "a refused change moved the log");
}

/// `NOW` in milliseconds, for the follower.
const NOW_MS: f64 = NOW * 1000.0;

fn follower(members: &[(&str, JsValue)]) -> Follower {
    Follower::new(obj(members)).unwrap()
}

fn fetched(bytes: &[u8]) -> JsValue {
    obj(&[("update", Uint8Array::from(bytes).into())])
}

/// `Some(since)` when the plan is a fetch, `None` for "use", after checking the plan's shape.
fn planned(plan: &JsValue) -> Option<f64> {
    match text(plan, "action").as_str() {
        "fetch" => Some(num(plan, "since")),
        "use" => None,
        other => panic!("plan {other}: {}", stringify(plan)),
    }
}

/// The `.code` of a failed answer.
fn failed_code(next: &JsValue) -> String {
    assert_eq!(text(next, "next"), "failed", "{}", stringify(next));
    let error = get(next, "error");
    assert!(!text(&error, "message").is_empty());
    text(&error, "code")
}

fn stats_of(f: &Follower) -> String {
    stringify(&f.stats())
}

#[wasm_bindgen_test]
fn a_follower_takes_a_snapshot_then_deltas_and_a_snapshot_after_a_gap() {
    let mut w = world();
    let phone = w.login("acct-f", "s-phone", NOW);
    let laptop = w.login("acct-f", "s-laptop", NOW);
    w.log.revoke_device(s("acct-f"), 0.0, Some(NOW)).unwrap();
    let mut v = w.validator(&[]);
    let mut f = follower(&[]);

    assert_eq!(planned(&f.plan(&v, Some(NOW_MS)).unwrap()), Some(0.0));
    assert!(f.in_flight(Some(NOW_MS)).unwrap());
    let snapshot = w.log.update_since(0.0, Some(NOW)).unwrap();
    let next = f
        .answer(&mut v, fetched(&snapshot), Some(NOW_MS + 40.0))
        .unwrap();
    assert_eq!(stringify(&next), r#"{"next":"done","seq":1}"#);
    assert_eq!(f.fetched_at_ms(), Some(NOW_MS));
    assert_eq!(f.last_fetch_ms(), 40.0);
    assert_eq!(planned(&f.plan(&v, Some(NOW_MS + 100.0)).unwrap()), None);
    assert_eq!(
        reason(&mut v, &phone, NOW).as_deref(),
        Some("revoked_device")
    );

    // A delta since the view's sequence.
    w.log.revoke_all(s("acct-g"), Some(NOW + 1.0)).unwrap();
    let later = NOW_MS + 1000.0;
    assert_eq!(planned(&f.plan(&v, Some(later)).unwrap()), Some(1.0));
    let delta = w.log.update_since(1.0, Some(NOW + 1.0)).unwrap();
    let next = f.answer(&mut v, fetched(&delta), Some(later)).unwrap();
    assert_eq!(stringify(&next), r#"{"next":"done","seq":2}"#);

    // A delta that does not fit is followed by a snapshot.
    w.log.revoke_all(s("acct-g"), Some(NOW + 2.0)).unwrap();
    w.log.revoke_all(s("acct-f"), Some(NOW + 2.0)).unwrap();
    let again = NOW_MS + 2000.0;
    assert_eq!(planned(&f.plan(&v, Some(again)).unwrap()), Some(2.0));
    let misfit = w.log.delta_since(3.0, Some(NOW + 2.0)).unwrap();
    let next = f.answer(&mut v, fetched(&misfit), Some(again)).unwrap();
    assert_eq!(stringify(&next), r#"{"next":"fetch","since":0}"#);
    assert_eq!(v.revocation_seq(), 2.0);
    let snapshot = w.log.snapshot(Some(NOW + 2.0)).unwrap();
    let next = f.answer(&mut v, fetched(&snapshot), Some(again)).unwrap();
    assert_eq!(stringify(&next), r#"{"next":"done","seq":4}"#);
    assert_eq!(
        reason(&mut v, &laptop, NOW + 2.0).as_deref(),
        Some("revoked_all")
    );
    assert_eq!(
        stats_of(&f),
        r#"{"fetches":4,"snapshots":2,"applied":3,"refused":1,"failures":0}"#
    );
}

#[wasm_bindgen_test]
fn a_follower_takes_a_snapshot_after_since_ahead() {
    let mut w = world();
    w.login("acct-f", "s-phone", NOW);
    w.log.revoke_device(s("acct-f"), 0.0, Some(NOW)).unwrap();
    let mut v = w.validator(&[]);
    let mut f = follower(&[
        ("stalenessTargetMs", n(500.0)),
        ("refreshTimeoutMs", n(2000.0)),
    ]);
    let snapshot = w.log.snapshot(Some(NOW)).unwrap();
    f.plan(&v, Some(NOW_MS)).unwrap();
    f.answer(&mut v, fetched(&snapshot), Some(NOW_MS)).unwrap();

    // A replica behind the view answers since_ahead (409); the snapshot comes from the origin.
    let mut replica =
        RevocationLog::new(obj(&[("privateJwk", get(&w.updates, "privateJwk"))])).unwrap();
    assert_eq!(code(replica.update_since(1.0, Some(NOW))), "since_ahead");
    let later = NOW_MS + 500.0;
    assert_eq!(planned(&f.plan(&v, Some(later)).unwrap()), Some(1.0));
    let ahead = obj(&[("sinceAhead", JsValue::TRUE)]);
    let next = f.answer(&mut v, ahead.clone(), Some(later)).unwrap();
    assert_eq!(stringify(&next), r#"{"next":"fetch","since":0}"#);
    let snapshot = w.log.update_since(0.0, Some(NOW)).unwrap();
    let next = f.answer(&mut v, fetched(&snapshot), Some(later)).unwrap();
    assert_eq!(stringify(&next), r#"{"next":"done","seq":1}"#);
    assert_eq!(f.fetched_at_ms(), Some(later));

    // since_ahead in answer to a snapshot request is the origin's failure.
    let again = later + 500.0;
    f.plan(&v, Some(again)).unwrap();
    f.answer(&mut v, ahead.clone(), Some(again)).unwrap();
    let next = f.answer(&mut v, ahead, Some(again)).unwrap();
    assert_eq!(failed_code(&next), "since_ahead");
    assert!(!f.in_flight(Some(again)).unwrap());
    assert_eq!(
        stats_of(&f),
        r#"{"fetches":5,"snapshots":3,"applied":2,"refused":0,"failures":1}"#
    );
}

#[wasm_bindgen_test]
fn a_follower_counts_refused_updates_and_failed_fetches() {
    let mut w = world();
    let phone = w.login("acct-f", "s-phone", NOW);
    let mut v = w.validator(&[]);
    let mut f = follower(&[]);
    f.plan(&v, Some(NOW_MS)).unwrap();
    let snapshot = w.log.snapshot(Some(NOW)).unwrap();
    f.answer(&mut v, fetched(&snapshot), Some(NOW_MS)).unwrap();
    w.log.revoke_device(s("acct-f"), 0.0, Some(NOW)).unwrap();
    let mut tampered = w.log.update_since(0.0, Some(NOW)).unwrap();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let later = NOW_MS + 1000.0;
    for (answer, want) in [
        (fetched(&tampered), "update_bad_signature"),
        (fetched(b"garbage"), "update_malformed"),
        (obj(&[("failed", JsValue::TRUE)]), "update_unavailable"),
    ] {
        assert_eq!(planned(&f.plan(&v, Some(later)).unwrap()), Some(0.0));
        let next = f.answer(&mut v, answer, Some(later)).unwrap();
        assert_eq!(failed_code(&next), want);
        assert_eq!(v.revocation_seq(), 0.0, "a refused update changed the view");
        assert_eq!(reason(&mut v, &phone, NOW), None);
        assert!(!f.in_flight(Some(later)).unwrap());
    }
    assert_eq!(f.fetched_at_ms(), Some(NOW_MS));
    assert_eq!(
        stats_of(&f),
        r#"{"fetches":4,"snapshots":4,"applied":1,"refused":2,"failures":1}"#
    );
    // One refresh at a time: with a view, the others use it meanwhile.
    assert_eq!(planned(&f.plan(&v, Some(later)).unwrap()), Some(0.0));
    assert_eq!(text(&f.plan(&v, Some(later)).unwrap(), "action"), "use");
    // With none, they wait.
    let mut empty = w.validator(&[]);
    let mut g = follower(&[]);
    assert_eq!(planned(&g.plan(&empty, Some(later)).unwrap()), Some(0.0));
    assert_eq!(
        text(&g.plan(&empty, Some(later)).unwrap(), "action"),
        "wait"
    );
    let next = g
        .answer(&mut empty, fetched(&snapshot), Some(later))
        .unwrap();
    assert_eq!(text(&next, "next"), "done");
}

#[wasm_bindgen_test]
fn follower_errors_carry_codes() {
    let w = world();
    let mut v = w.validator(&[]);
    for options in [
        obj(&[("refreshTimeoutMs", n(0.0))]),
        obj(&[("stalenessTargetMs", n(86_400_001.0))]),
        obj(&[("stalenessTargetMs", n(-1.0))]),
        obj(&[("stalenessTargetms", n(100.0))]),
        JsValue::UNDEFINED,
    ] {
        assert_eq!(code(Follower::new(options)), "invalid_option");
    }
    let mut f = follower(&[]);
    assert_eq!(code(f.plan(&v, Some(f64::NAN))), "invalid_argument");
    for answer in [
        obj(&[]),
        obj(&[("update", s("bytes"))]),
        obj(&[("sinceAhead", JsValue::FALSE)]),
        obj(&[("failed", JsValue::TRUE), ("sinceAhead", JsValue::TRUE)]),
        obj(&[("other", JsValue::TRUE)]),
        JsValue::NULL,
    ] {
        assert_eq!(
            code(f.answer(&mut v, answer, Some(NOW_MS))),
            "invalid_argument"
        );
    }
    let ok = obj(&[("failed", JsValue::TRUE)]);
    assert_eq!(
        code(f.answer(&mut v, ok, Some(f64::INFINITY))),
        "invalid_argument"
    );
    assert_eq!(
        stats_of(&f),
        r#"{"fetches":0,"snapshots":0,"applied":0,"refused":0,"failures":0}"#
    );
}

#[wasm_bindgen_test]
fn a_log_with_a_horizon_drops_expired_records() {
    let w = world();
    let key = get(&w.updates, "privateJwk");
    assert_eq!(
        code(RevocationLog::new(obj(&[
            ("privateJwk", key.clone()),
            ("horizon", n(-1.0))
        ]))),
        "invalid_option"
    );
    let mut log = RevocationLog::new(obj(&[("privateJwk", key), ("horizon", n(100.0))])).unwrap();
    let device = log.allocate_device(s("a")).unwrap();
    let token = w.mint("a", "s1", device, 0, NOW);
    log.revoke_device(s("a"), device.into(), Some(NOW)).unwrap();
    let mut v = w.validator(&[]);
    let bytes = |b: Vec<u8>| JsValue::from(Uint8Array::from(b.as_slice()));
    v.apply_revocation(bytes(log.update_since(0.0, Some(NOW)).unwrap()), Some(NOW))
        .unwrap();
    assert_eq!(
        reason(&mut v, &token, NOW).as_deref(),
        Some("revoked_device")
    );
    // Past the horizon a snapshot leaves the account out (one record: 16 + 2 bytes), and a
    // delta that tells the view to forget it applies.
    let later = NOW + 101.0;
    let kept = log.snapshot(Some(NOW)).unwrap().len();
    let dropped = log.snapshot(Some(later)).unwrap().len();
    assert_eq!(kept - dropped, 18);
    assert_eq!(
        v.apply_revocation(
            bytes(log.update_since(1.0, Some(later)).unwrap()),
            Some(later)
        )
        .unwrap(),
        1.0
    );
}

/// An update read piece by piece into an `UpdateBytes` applies like the whole `Uint8Array`,
/// through the validator and through the follower; the buffer is spent either way.
#[wasm_bindgen_test]
fn an_update_received_in_pieces_applies_and_is_spent() {
    let mut w = world();
    let phone = w.login("acct-p", "s-phone", NOW);
    let tablet = w.login("acct-p", "s-tablet", NOW);
    w.log.revoke_device(s("acct-p"), 0.0, Some(NOW)).unwrap();
    let snapshot = w.log.snapshot(Some(NOW)).unwrap();

    let mut received = UpdateBytes::new(Some(snapshot.len() as f64)).unwrap();
    for piece in snapshot.chunks(7) {
        received.push(Uint8Array::from(piece).into()).unwrap();
    }
    received
        .push(Uint8Array::new_with_length(0).into())
        .unwrap();
    assert_eq!(received.byte_length(), snapshot.len() as f64);
    let handle = JsValue::from(received);
    let mut v = w.validator(&[]);
    assert_eq!(v.apply_revocation(handle.clone(), Some(NOW)).unwrap(), 1.0);
    assert_eq!(
        reason(&mut v, &phone, NOW).as_deref(),
        Some("revoked_device")
    );
    assert_eq!(reason(&mut v, &tablet, NOW), None);
    // Spent: the same object is no longer an update.
    assert_eq!(
        code(v.apply_revocation(handle, Some(NOW))),
        "invalid_argument"
    );

    // Through the follower: a snapshot, then a delta, each read into a buffer.
    let mut f = follower(&[]);
    let mut fresh = w.validator(&[]);
    assert_eq!(planned(&f.plan(&fresh, Some(NOW_MS)).unwrap()), Some(0.0));
    let buffer = |bytes: &[u8]| {
        let mut b = UpdateBytes::new(None).unwrap();
        for piece in bytes.chunks(5) {
            b.push(Uint8Array::from(piece).buffer().into()).unwrap();
        }
        obj(&[("update", b.into())])
    };
    let next = f
        .answer(&mut fresh, buffer(&snapshot), Some(NOW_MS))
        .unwrap();
    assert_eq!(stringify(&next), r#"{"next":"done","seq":1}"#);
    w.log.revoke_all(s("acct-p"), Some(NOW + 1.0)).unwrap();
    let delta = w.log.delta_since(1.0, Some(NOW + 1.0)).unwrap();
    assert_eq!(
        planned(&f.plan(&fresh, Some(NOW_MS + 1000.0)).unwrap()),
        Some(1.0)
    );
    let next = f
        .answer(&mut fresh, buffer(&delta), Some(NOW_MS + 1000.0))
        .unwrap();
    assert_eq!(stringify(&next), r#"{"next":"done","seq":2}"#);
    assert_eq!(
        reason(&mut fresh, &tablet, NOW + 1.0).as_deref(),
        Some("revoked_all")
    );

    // Bad input: a tampered buffer is refused and changes nothing; pieces that are not bytes
    // and a negative, fractional or too large expected length are refused.
    let mut tampered = snapshot.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let mut bad = UpdateBytes::new(None).unwrap();
    bad.push(Uint8Array::from(tampered.as_slice()).into())
        .unwrap();
    assert_eq!(
        code(fresh.apply_revocation(bad.into(), Some(NOW + 1.0))),
        "update_bad_signature"
    );
    assert_eq!(fresh.revocation_seq(), 2.0);
    let mut b = UpdateBytes::new(None).unwrap();
    assert_eq!(code(b.push(s("text"))), "invalid_argument");
    assert_eq!(b.byte_length(), 0.0);
    for length in [-1.0, 1.5, f64::NAN, 134_217_729.0] {
        assert_eq!(code(UpdateBytes::new(Some(length))), "invalid_argument");
    }
    // (The cut-off past the size limit is the core's, tested there.)
}
