//! Step-up through the JS face: `authTime` and `amr` minted and read back, `maxAuthAge` and
//! `requiredAmr` per validator and per call, what a refusal says was asked, and unusable
//! step-ups refused with codes.

use super::*;

const REFUSED: &str = "insufficient_user_authentication";

fn strings(list: &[&str]) -> JsValue {
    list.iter().map(|m| s(m)).collect::<Array>().into()
}

/// The strings of the array member `name`, `None` when the member is absent.
fn list(value: &JsValue, name: &str) -> Option<Vec<String>> {
    if !Reflect::has(value, &s(name)).unwrap() {
        return None;
    }
    let array: Array = get(value, name).dyn_into().expect("not an array");
    Some(array.iter().map(|m| m.as_string().unwrap()).collect())
}

/// A token of `acct-u` issued at `NOW`, with `authTime` and `amr` when given.
fn mint_auth(w: &World, auth_time: Option<f64>, amr: Option<&[&str]>) -> String {
    let mut members = vec![
        ("account", s("acct-u")),
        ("session", s("sess-u")),
        ("device", n(0.0)),
        ("epoch", n(0.0)),
        ("now", n(NOW)),
    ];
    if let Some(t) = auth_time {
        members.push(("authTime", n(t)));
    }
    if let Some(methods) = amr {
        members.push(("amr", strings(methods)));
    }
    w.issuer.mint(obj(&members)).unwrap()
}

/// A `stepUp` argument.
fn step(max_age: Option<f64>, amr: &[&str]) -> Option<JsValue> {
    let mut members = vec![];
    if let Some(age) = max_age {
        members.push(("maxAuthAge", n(age)));
    }
    if !amr.is_empty() {
        members.push(("requiredAmr", strings(amr)));
    }
    Some(obj(&members))
}

fn stepped(v: &mut Validator, token: &str, now: f64, step_up: Option<JsValue>) -> JsValue {
    v.validate(s(token), Some(now), step_up).unwrap()
}

/// The refusal's reason, `maxAge` and `requiredAmr`; `None` when valid.
fn refusal(verdict: &JsValue) -> Option<(String, Option<f64>, Option<Vec<String>>)> {
    if get(verdict, "valid") == JsValue::TRUE {
        return None;
    }
    assert!(!text(verdict, "message").is_empty());
    let max_age = Reflect::has(verdict, &s("maxAge"))
        .unwrap()
        .then(|| num(verdict, "maxAge"));
    Some((
        text(verdict, "reason"),
        max_age,
        list(verdict, "requiredAmr"),
    ))
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|m| (*m).to_owned()).collect()
}

#[wasm_bindgen_test]
fn minted_auth_time_and_amr_show_in_the_verdict() {
    let w = world();
    let mut v = w.validator(&[]);
    let token = mint_auth(&w, Some(NOW - 10.0), Some(&["hwk", "user", "mfa"]));
    let verdict = check(&mut v, &token, NOW);
    assert_eq!(get(&verdict, "valid"), JsValue::TRUE);
    assert_eq!(num(&verdict, "authTime"), NOW - 10.0);
    assert_eq!(list(&verdict, "amr"), Some(owned(&["hwk", "user", "mfa"])));
    let claims = get(&verdict, "claims");
    assert_eq!(num(&claims, "auth_time"), NOW - 10.0);
    assert_eq!(list(&claims, "amr"), Some(owned(&["hwk", "user", "mfa"])));

    // A token without them: the verdict has no such members at all.
    let old = mint_auth(&w, None, None);
    let verdict = check(&mut v, &old, NOW);
    assert_eq!(get(&verdict, "valid"), JsValue::TRUE);
    for name in ["authTime", "amr"] {
        assert!(!Reflect::has(&verdict, &s(name)).unwrap(), "{name}");
        assert!(!Reflect::has(&get(&verdict, "claims"), &s(name)).unwrap());
    }
    // Each alone.
    let verdict = check(&mut v, &mint_auth(&w, Some(NOW), None), NOW);
    assert_eq!(num(&verdict, "authTime"), NOW);
    assert_eq!(list(&verdict, "amr"), None);
    let verdict = check(&mut v, &mint_auth(&w, None, Some(&["a b", "~"])), NOW);
    assert!(!Reflect::has(&verdict, &s("authTime")).unwrap());
    assert_eq!(list(&verdict, "amr"), Some(owned(&["a b", "~"])));
}

#[wasm_bindgen_test]
fn step_up_per_call_and_what_the_refusal_says() {
    let mut w = world();
    let mut v = w.validator(&[]);
    let token = mint_auth(&w, Some(NOW - 300.0), Some(&["pwd", "otp", "mfa"]));
    assert_eq!(
        refusal(&stepped(&mut v, &token, NOW, step(Some(300.0), &[]))),
        None
    );
    assert_eq!(
        refusal(&stepped(&mut v, &token, NOW + 1.0, step(Some(300.0), &[]))),
        Some((REFUSED.into(), Some(300.0), None))
    );
    assert_eq!(
        refusal(&stepped(&mut v, &token, NOW, step(None, &["mfa"]))),
        None
    );
    assert_eq!(
        refusal(&stepped(&mut v, &token, NOW, step(None, &["hwk", "mfa"]))),
        Some((REFUSED.into(), None, Some(owned(&["hwk", "mfa"]))))
    );
    assert_eq!(
        refusal(&stepped(
            &mut v,
            &token,
            NOW + 1.0,
            step(Some(60.0), &["hwk"])
        )),
        Some((REFUSED.into(), Some(60.0), Some(owned(&["hwk"]))))
    );
    // No step-up, an empty one, null and undefined all ask nothing: an old token is valid.
    let old = mint_auth(&w, None, None);
    for nothing in [
        None,
        step(None, &[]),
        Some(JsValue::NULL),
        Some(JsValue::UNDEFINED),
    ] {
        assert_eq!(refusal(&stepped(&mut v, &old, NOW, nothing)), None);
    }
    assert_eq!(
        refusal(&stepped(&mut v, &old, NOW, step(Some(1e6), &[]))),
        Some((REFUSED.into(), Some(1e6), None))
    );
    // Another refusal keeps its reason and says nothing of a step-up.
    let phone = w.login("acct-s", "s-phone", NOW);
    w.log.revoke_all(s("acct-s"), Some(NOW)).unwrap();
    w.sync(&mut v, NOW);
    let verdict = stepped(&mut v, &phone, NOW, step(Some(1.0), &["hwk"]));
    assert_eq!(refusal(&verdict), Some(("revoked_all".into(), None, None)));
}

#[wasm_bindgen_test]
fn step_up_per_validator_and_a_call_adds_to_it() {
    let w = world();
    let mut v = w.validator(&[("maxAuthAge", n(300.0)), ("requiredAmr", strings(&["mfa"]))]);
    let passkey = mint_auth(&w, Some(NOW), Some(&["hwk", "user", "mfa"]));
    let password = mint_auth(&w, Some(NOW), Some(&["pwd"]));
    assert_eq!(reason(&mut v, &passkey, NOW + 300.0), None);
    assert_eq!(
        refusal(&check(&mut v, &passkey, NOW + 301.0)),
        Some((REFUSED.into(), Some(300.0), Some(owned(&["mfa"]))))
    );
    assert_eq!(
        refusal(&check(&mut v, &password, NOW)),
        Some((REFUSED.into(), Some(300.0), Some(owned(&["mfa"]))))
    );
    // The call cannot relax the validator's step-up, only add to it.
    assert_eq!(
        refusal(&stepped(
            &mut v,
            &passkey,
            NOW + 301.0,
            step(Some(1000.0), &[])
        )),
        Some((REFUSED.into(), Some(300.0), Some(owned(&["mfa"]))))
    );
    assert_eq!(
        refusal(&stepped(
            &mut v,
            &passkey,
            NOW + 61.0,
            step(Some(60.0), &["hwk"])
        )),
        Some((REFUSED.into(), Some(60.0), Some(owned(&["mfa", "hwk"]))))
    );
    assert_eq!(
        refusal(&stepped(
            &mut v,
            &passkey,
            NOW + 60.0,
            step(Some(60.0), &["hwk"])
        )),
        None
    );
}

#[wasm_bindgen_test]
fn unusable_step_ups_and_claims_throw_with_codes() {
    let w = world();
    let seventeen: Vec<String> = (0..17).map(|i| format!("m{i}")).collect();
    let seventeen: Vec<&str> = seventeen.iter().map(String::as_str).collect();
    let bad_lists = [
        s("hwk"),
        Array::of1(&n(1.0)).into(),
        Array::of1(&JsValue::NULL).into(),
        strings(&[""]),
        strings(&["hwk", "hwk"]),
        strings(&["x".repeat(33).as_str()]),
        strings(&["new\nline"]),
        strings(&seventeen),
        obj(&[]),
    ];
    let bad_ages = [
        n(-1.0),
        n(1.5),
        s("300"),
        n(f64::NAN),
        n(9_007_199_254_740_992.0),
    ];

    let options = |extra: (&str, JsValue)| {
        Validator::new(obj(&[
            ("issuer", s(ISS)),
            ("audience", s(AUD)),
            ("keys", get(&w.tokens, "publicJwk")),
            extra,
        ]))
    };
    for age in &bad_ages {
        assert_eq!(code(options(("maxAuthAge", age.clone()))), "invalid_option");
    }
    for amr in &bad_lists {
        assert_eq!(
            code(options(("requiredAmr", amr.clone()))),
            "invalid_option",
            "{amr:?}"
        );
    }
    assert!(options(("requiredAmr", strings(&seventeen[..16]))).is_ok());
    assert!(options(("maxAuthAge", n(0.0))).is_ok());

    let mut v = w.validator(&[]);
    let token = mint_auth(&w, Some(NOW), Some(&["hwk"]));
    let mut call = |step_up: JsValue| v.validate(s(&token), Some(NOW), Some(step_up));
    for age in &bad_ages {
        assert_eq!(
            code(call(obj(&[("maxAuthAge", age.clone())]))),
            "invalid_option"
        );
    }
    for amr in &bad_lists {
        assert_eq!(
            code(call(obj(&[("requiredAmr", amr.clone())]))),
            "invalid_option",
            "{amr:?}"
        );
    }
    for odd in [
        n(5.0),
        s("hwk"),
        Array::new().into(),
        obj(&[("maxAge", n(1.0))]),
    ] {
        assert_eq!(code(call(odd.clone())), "invalid_option", "{odd:?}");
    }

    let mint = |extra: (&str, JsValue)| {
        w.issuer.mint(obj(&[
            ("account", s("a")),
            ("session", s("s")),
            ("device", n(0.0)),
            ("epoch", n(0.0)),
            ("now", n(NOW)),
            extra,
        ]))
    };
    for age in &bad_ages {
        assert_eq!(code(mint(("authTime", age.clone()))), "invalid_claim");
    }
    let empty: JsValue = Array::new().into();
    for amr in bad_lists.iter().chain(std::iter::once(&empty)) {
        assert_eq!(code(mint(("amr", amr.clone()))), "invalid_claim", "{amr:?}");
    }
    assert!(mint(("amr", strings(&seventeen[..16]))).is_ok());
    assert!(mint(("authTime", n(9_007_199_254_740_991.0))).is_ok());
}
