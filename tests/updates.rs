//! Revocation updates end to end: log → signed bytes → validator, and every refusal leaving the
//! view exactly as it was.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use epochgate::{
    AccountKey, AccountState, DeviceSlot, Epoch, KeySet, Options, PrivateKey, Reason, Record,
    RevocationLog, SlotSet, Update, UpdateKind, Validator, UPDATE_DOMAIN, UPDATE_VERSION,
};

/// An account id known to be well-formed.
fn id(account: &str) -> epochgate::AccountId {
    epochgate::AccountId::new(account).unwrap()
}

fn view_fingerprint(v: &Validator) -> (u64, Option<i64>, usize, u64, Option<i64>) {
    (
        v.revocation_seq(),
        v.view().newest_created_at(),
        v.view().len(),
        v.view_generation(),
        v.fresh_until(),
    )
}

fn refuse(v: &mut Validator, bytes: &[u8], now: i64, code: &str) {
    let before = view_fingerprint(v);
    let err = v.apply_revocation(bytes, now).unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    assert!(!err.message().is_empty());
    assert_eq!(
        view_fingerprint(v),
        before,
        "a refused update changes nothing"
    );
}

#[test]
fn snapshot_then_deltas() {
    let mut log = RevocationLog::new(update_key());
    let mut v = validator();
    let a0 = log.allocate_device(&id("a")).unwrap();
    let a1 = log.allocate_device(&id("a")).unwrap();
    let b0 = log.allocate_device(&id("b")).unwrap();
    let ta0 = mint("a", "s0", a0.0.into(), 0, NOW);
    let ta1 = mint("a", "s1", a1.0.into(), 0, NOW);
    let tb0 = mint("b", "s2", b0.0.into(), 0, NOW);
    assert_eq!(
        v.apply_revocation(&log.snapshot(NOW).unwrap(), NOW)
            .unwrap(),
        0
    );

    log.revoke_device(&id("a"), a0).unwrap();
    let seq = v
        .apply_revocation(&log.delta_since(v.revocation_seq(), NOW).unwrap(), NOW)
        .unwrap();
    assert_eq!(seq, 1);
    assert_eq!(v.validate(&ta0, NOW).reason(), Some(Reason::RevokedDevice));
    assert_eq!(v.validate(&ta1, NOW).reason(), None);

    log.revoke_all(&id("b")).unwrap();
    log.revoke_device(&id("a"), a0).unwrap(); // repeating changes nothing
    assert_eq!(log.seq().unwrap(), 2);
    v.apply_revocation(&log.delta_since(1, NOW + 1).unwrap(), NOW + 1)
        .unwrap();
    assert_eq!(v.validate(&tb0, NOW).reason(), Some(Reason::RevokedAll));
    // Re-login after sign-out-all: slot 0 of the new epoch is a new device and works.
    let nb = log.allocate_device(&id("b")).unwrap();
    assert_eq!(nb, DeviceSlot(0));
    assert_eq!(
        v.validate(&mint("b", "s3", nb.0.into(), 1, NOW), NOW)
            .reason(),
        None
    );

    // A fresh validator catches up from one snapshot.
    let mut fresh = validator();
    fresh
        .apply_revocation(&log.snapshot(NOW + 2).unwrap(), NOW + 2)
        .unwrap();
    assert_eq!(fresh.revocation_seq(), 2);
    assert_eq!(
        fresh.validate(&ta0, NOW).reason(),
        Some(Reason::RevokedDevice)
    );
    assert_eq!(fresh.validate(&tb0, NOW).reason(), Some(Reason::RevokedAll));
    assert_eq!(fresh.validate(&ta1, NOW).reason(), None);
}

#[test]
fn refused_updates_change_nothing() {
    let mut log = RevocationLog::new(update_key());
    let d = log.allocate_device(&id("a")).unwrap();
    let token = mint("a", "s", d.0.into(), 0, NOW);
    let mut v = validator();
    log.revoke_device(&id("a"), d).unwrap();
    let first = log.delta_since(0, NOW).unwrap();
    log.revoke_all(&id("a")).unwrap();
    let second = log.delta_since(1, NOW).unwrap();
    let snapshot_at_2 = log.snapshot(NOW).unwrap();

    refuse(&mut v, &second, NOW, "update_gap");
    assert_eq!(v.validate(&token, NOW).reason(), None);
    v.apply_revocation(&first, NOW).unwrap();
    refuse(&mut v, &first, NOW, "update_stale"); // a replay after the view moved on
    v.apply_revocation(&second, NOW).unwrap();
    assert_eq!(v.validate(&token, NOW).reason(), Some(Reason::RevokedAll));

    // An older snapshot never rolls the view back; one at the same sequence changes nothing.
    let older = RevocationLog::new(update_key()).snapshot(NOW).unwrap();
    refuse(&mut v, &older, NOW, "update_stale");
    v.apply_revocation(&snapshot_at_2, NOW).unwrap();
    assert_eq!(v.validate(&token, NOW).reason(), Some(Reason::RevokedAll));

    // Truncated anywhere.
    for cut in [0, 1, 3, 10, 40, second.len() - 65, second.len() - 1] {
        refuse(&mut v, &second[..cut], NOW, "update_malformed");
    }
    // Trailing bytes before the signature, garbled body, unknown version.
    let mut trailing = second.clone();
    trailing.insert(second.len() - 64, 0);
    refuse(&mut v, &trailing, NOW, "update_malformed");
    let mut flipped = second.clone();
    let n = flipped.len();
    flipped[n - 74] ^= 1; // an epoch byte: still well-formed
    refuse(&mut v, &flipped, NOW, "update_bad_signature");
    let mut version = second.clone();
    version[0] = UPDATE_VERSION + 1;
    refuse(&mut v, &version, NOW, "update_unsupported_version");
    let mut kind = second.clone();
    kind[1] = 9;
    refuse(&mut v, &kind, NOW, "update_malformed");

    // Wrong signer under the right kid, an unknown kid, and the token key itself.
    let mut stranger = RevocationLog::new(PrivateKey::from_seed("upd-1", &[10; 32]).unwrap());
    refuse(
        &mut v,
        &stranger.delta_since(0, NOW).unwrap(),
        NOW,
        "update_bad_signature",
    );
    let mut other_kid = RevocationLog::new(PrivateKey::from_seed("upd-2", &[9; 32]).unwrap());
    refuse(
        &mut v,
        &other_kid.delta_since(0, NOW).unwrap(),
        NOW,
        "update_unknown_key",
    );
    let mut token_key_as_update_kid =
        RevocationLog::new(PrivateKey::from_seed("upd-1", &[7; 32]).unwrap());
    refuse(
        &mut v,
        &token_key_as_update_kid.delta_since(0, NOW).unwrap(),
        NOW,
        "update_bad_signature",
    );
    let mut token_kid = RevocationLog::new(token_key());
    refuse(
        &mut v,
        &token_kid.delta_since(0, NOW).unwrap(),
        NOW,
        "update_unknown_key",
    );

    // Created beyond the clock tolerance in the future.
    refuse(
        &mut v,
        &log.delta_since(2, NOW + 31).unwrap(),
        NOW,
        "update_from_future",
    );
    v.apply_revocation(&log.delta_since(2, NOW + 30).unwrap(), NOW)
        .unwrap();

    let keys = KeySet::new(vec![token_key().public()]).unwrap();
    let mut no_keys = Validator::new(options(), keys, None, [0; 16]).unwrap();
    assert_eq!(
        no_keys.apply_revocation(&second, NOW).unwrap_err().code(),
        "no_revocation_keys"
    );
}

#[test]
fn domain_separation_between_tokens_and_updates() {
    let key = update_key();
    let bytes = RevocationLog::new(key.clone()).snapshot(NOW).unwrap();
    let (body, sig) = bytes.split_at(bytes.len() - 64);
    let sig: [u8; 64] = sig.try_into().unwrap();
    assert!(
        !key.public().verify(body, &sig),
        "the signature covers the domain prefix, not the bare body"
    );
    let mut msg = UPDATE_DOMAIN.to_vec();
    msg.extend_from_slice(body);
    assert!(key.public().verify(&msg, &sig));
    // A token's signing input is base64url and dots only; the prefix has a space and a NUL.
    let token = mint("a", "s", 0, 0, NOW);
    let input = token.rsplit_once('.').unwrap().0;
    assert!(input
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
    assert!(UPDATE_DOMAIN.contains(&b' ') && UPDATE_DOMAIN.contains(&0));
}

#[test]
fn freshness_and_max_state_age() {
    let mut log = RevocationLog::new(update_key());
    let d = log.allocate_device(&id("a")).unwrap();
    let token = mint("a", "s", d.0.into(), 0, NOW);
    let mut v = validator_with(Options {
        max_state_age: 10,
        ..options()
    });
    assert_eq!(
        v.validate(&token, NOW).reason(),
        Some(Reason::StateStale),
        "no update applied yet: fail closed"
    );
    assert_eq!(v.fresh_until(), Some(i64::MIN));
    assert_eq!(
        validator().fresh_until(),
        None,
        "max_state_age 0: never stale"
    );
    let generation = v.view_generation();
    v.apply_revocation(&log.snapshot(NOW).unwrap(), NOW)
        .unwrap();
    assert_ne!(
        v.view_generation(),
        generation,
        "an applied update moves the generation"
    );
    // fresh_until is the last second state_stale is not given.
    assert_eq!(v.fresh_until(), Some(NOW + 10));
    assert_eq!(v.validate(&token, NOW + 10).reason(), None);
    assert_eq!(
        v.validate(&token, NOW + 11).reason(),
        Some(Reason::StateStale)
    );
    // An empty delta refreshes freshness.
    v.apply_revocation(&log.delta_since(0, NOW + 11).unwrap(), NOW + 11)
        .unwrap();
    assert_eq!(v.validate(&token, NOW + 20).reason(), None);
    // A replayed older empty delta does not make the view look fresher.
    v.apply_revocation(&log.delta_since(0, NOW).unwrap(), NOW + 30)
        .unwrap();
    assert_eq!(
        v.validate(&token, NOW + 22).reason(),
        Some(Reason::StateStale)
    );
    // A revocation is reported even from a stale view: it is certain.
    log.revoke_device(&id("a"), d).unwrap();
    v.apply_revocation(&log.delta_since(0, NOW + 12).unwrap(), NOW + 12)
        .unwrap();
    assert_eq!(
        v.validate(&token, NOW + 100).reason(),
        Some(Reason::RevokedDevice)
    );
}

#[test]
fn large_slots_and_epochs_travel_and_check() {
    let mut records = vec![
        Record {
            account: AccountKey::of("x"),
            state: AccountState {
                epoch: Epoch(70_000),
                revoked: SlotSet::from_slots([1, 500, 65_535]),
            },
        },
        Record {
            account: AccountKey::of("y"),
            state: AccountState {
                epoch: Epoch(0),
                revoked: SlotSet::from_slots([63, 64]),
            },
        },
    ];
    records.sort_by_key(|r| r.account);
    let update = Update {
        kind: UpdateKind::Snapshot,
        from_seq: 0,
        seq: 9,
        created_at: NOW,
        horizon: 0,
        expired: vec![],
        records,
    };
    let mut v = validator();
    v.apply_revocation(&update.sign(&update_key()).unwrap(), NOW)
        .unwrap();
    let tok = |acct: &str, dev: u32, epo: u64| mint(acct, "s", dev, epo, NOW);
    assert_eq!(
        v.validate(&tok("x", 65_535, 70_000), NOW).reason(),
        Some(Reason::RevokedDevice)
    );
    assert_eq!(v.validate(&tok("x", 2, 70_000), NOW).reason(), None);
    assert_eq!(
        v.validate(&tok("x", 2, 69_999), NOW).reason(),
        Some(Reason::RevokedAll)
    );
    assert_eq!(
        v.validate(&tok("x", 2, 70_001), NOW).reason(),
        None,
        "a newer epoch than the view knows"
    );
    assert_eq!(
        v.validate(&tok("y", 64, 0), NOW).reason(),
        Some(Reason::RevokedDevice)
    );
    assert_eq!(v.validate(&tok("y", 62, 0), NOW).reason(), None);
    // Non-canonical updates are refused when signing, too.
    let bad = Update {
        kind: UpdateKind::Snapshot,
        from_seq: 3,
        seq: 9,
        created_at: NOW,
        horizon: 0,
        expired: vec![],
        records: vec![],
    };
    assert_eq!(
        bad.sign(&update_key()).unwrap_err().code(),
        "update_malformed"
    );
    let default = Update {
        kind: UpdateKind::Delta,
        from_seq: 0,
        seq: 1,
        created_at: NOW,
        horizon: 0,
        expired: vec![],
        records: vec![Record {
            account: AccountKey(1),
            state: AccountState::default(),
        }],
    };
    assert_eq!(
        default.sign(&update_key()).unwrap_err().code(),
        "update_malformed"
    );
}

#[test]
fn log_errors_change_nothing() {
    let mut log = RevocationLog::new(update_key());
    // Ids the log would refuse as `invalid_account` cannot be made: faces report that code.
    assert_eq!(epochgate::AccountId::new(""), None);
    assert_eq!(epochgate::AccountId::new(&"x".repeat(129)), None);
    assert_eq!(
        log.revoke_device(&id("nobody"), DeviceSlot(0))
            .unwrap_err()
            .code(),
        "unknown_device"
    );
    log.allocate_device(&id("a")).unwrap();
    assert_eq!(
        log.revoke_device(&id("a"), DeviceSlot(1))
            .unwrap_err()
            .code(),
        "unknown_device"
    );
    assert_eq!(log.seq().unwrap(), 0, "refused operations change nothing");
    assert_eq!(log.delta_since(5, NOW).unwrap_err().code(), "update_gap");
    assert_eq!(log.epoch_of(&id("a")).unwrap(), Epoch(0));
}

/// A v2 update body, encoded by hand so that non-canonical values can be signed: the header up
/// to `created_at`, then `horizon`, the records `(key, epoch)` (no slots) and the expired keys.
fn hand_made(
    kind: u8,
    from: u64,
    seq: u64,
    created_at: u64,
    horizon: u64,
    records: &[(u64, u32)],
    expired: &[u64],
) -> Vec<u8> {
    let key = update_key();
    let mut body = vec![UPDATE_VERSION, kind];
    let kid = key.kid().as_str().as_bytes();
    body.push(kid.len() as u8);
    body.extend_from_slice(kid);
    for n in [from, seq, created_at, horizon] {
        body.extend_from_slice(&n.to_le_bytes());
    }
    body.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for (k, epoch) in records {
        body.extend_from_slice(&k.to_le_bytes());
        body.extend_from_slice(&epoch.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
    }
    body.extend_from_slice(&(expired.len() as u32).to_le_bytes());
    for k in expired {
        body.extend_from_slice(&k.to_le_bytes());
    }
    let signature = key.sign(&[UPDATE_DOMAIN, &body].concat());
    body.extend_from_slice(&signature);
    body
}

#[test]
fn retention_fields_are_canonical_or_refused() {
    let mut v = validator();
    let now = NOW as u64;
    v.apply_revocation(&hand_made(1, 0, 1, now, 100, &[(5, 1), (7, 1)], &[]), NOW)
        .unwrap();
    assert_eq!((v.view().len(), v.view().horizon()), (2, 100));
    // Each refusal leaves the view as it was (sequence, freshness, contents).
    let cases: [(&str, Vec<u8>); 8] = [
        (
            "expired keys out of order",
            hand_made(2, 1, 2, now, 100, &[], &[7, 5]),
        ),
        (
            "an expired key twice",
            hand_made(2, 1, 2, now, 100, &[], &[5, 5]),
        ),
        (
            "a key both expired and a record",
            hand_made(2, 1, 2, now, 100, &[(5, 2)], &[5]),
        ),
        (
            "expired keys in a snapshot",
            hand_made(1, 0, 2, now, 100, &[], &[5]),
        ),
        (
            "expired keys while nothing expires",
            hand_made(2, 1, 2, now, 0, &[], &[5]),
        ),
        (
            "a horizon before 1970",
            hand_made(2, 1, 2, 50, 51, &[], &[]),
        ),
        ("an expired count past the end", {
            let mut b = hand_made(2, 1, 2, now, 100, &[], &[5]);
            let at = b.len() - 64 - 8 - 4;
            b[at] = 2;
            b
        }),
        ("trailing bytes after the expired keys", {
            let mut b = hand_made(2, 1, 2, now, 100, &[], &[5]);
            b.insert(b.len() - 64, 0);
            b
        }),
    ];
    for (what, bytes) in &cases {
        let before = (view_fingerprint(&v), v.view().horizon());
        let err = v.apply_revocation(bytes, NOW).unwrap_err();
        assert!(
            matches!(err.code(), "update_malformed" | "update_bad_signature"),
            "{what}: {err}"
        );
        assert_eq!((view_fingerprint(&v), v.view().horizon()), before, "{what}");
    }
    // The horizon is signed: changing it breaks the signature.
    let mut tampered = hand_made(2, 1, 2, now, 100, &[], &[5]);
    let at = 3 + update_key().kid().as_str().len() + 24;
    tampered[at] ^= 1;
    refuse(&mut v, &tampered, NOW, "update_bad_signature");
    // The canonical one applies and forgets account 5.
    v.apply_revocation(&hand_made(2, 1, 2, now, 100, &[], &[5]), NOW)
        .unwrap();
    assert_eq!(v.view().len(), 1);
    assert_eq!(v.view().state(AccountKey(5)), AccountState::default());
    assert_eq!(v.view().state(AccountKey(7)).epoch, Epoch(1));
}

#[test]
fn records_leave_updates_a_horizon_after_their_last_change() {
    const TTL: u64 = 3600;
    let horizon = epochgate::retention_horizon(TTL, 30);
    assert_eq!(horizon, 3660);
    let mut log = RevocationLog::new(update_key()).with_horizon(horizon);
    let mut v = validator();
    let a = log.allocate_device(&id("a")).unwrap();
    log.allocate_device(&id("b")).unwrap();
    let ta = issuer()
        .mint(&epochgate::MintRequest {
            account: "a",
            session: "s",
            device: a.0.into(),
            epoch: 0,
            now: NOW,
            ttl: Some(TTL),
            jti: None,
            auth_time: None,
            amr: None,
        })
        .unwrap();
    log.revoke_device(&id("a"), a).unwrap();
    log.revoke_all(&id("b")).unwrap();
    v.apply_revocation(&log.update_since(0, NOW).unwrap(), NOW)
        .unwrap();
    assert_eq!(v.view().len(), 2);
    // b changes again later; a does not.
    let t1 = NOW + 1000;
    log.revoke_all(&id("b")).unwrap();
    v.apply_revocation(&log.update_since(2, t1).unwrap(), t1)
        .unwrap();
    // At the end of a's horizon nothing expires yet; a second later a's record goes.
    let edge = NOW + horizon as i64;
    let kept = log.update_since(3, edge).unwrap();
    v.apply_revocation(&kept, edge).unwrap();
    assert_eq!(v.view().len(), 2);
    assert_eq!(
        v.validate(&ta, edge - 60).reason(),
        Some(Reason::RevokedDevice),
        "judged before the horizon"
    );
    let past = edge + 1;
    let update = log.update_since(3, past).unwrap();
    v.apply_revocation(&update, past).unwrap();
    assert_eq!(v.view().len(), 1, "a was forgotten, b kept");
    assert_eq!(v.validate(&ta, past).reason(), Some(Reason::Expired));
    // A cold view gets b alone; the log still knows a's state, and a new sign-out of a moves on.
    let mut cold = validator();
    cold.apply_revocation(&log.update_since(0, past).unwrap(), past)
        .unwrap();
    assert_eq!(cold.view().len(), 1);
    assert_eq!(
        log.state_of(&id("a")).unwrap().state.revoked.as_slice(),
        &[0]
    );
    let a1 = log.allocate_device(&id("a")).unwrap();
    assert_eq!(a1, DeviceSlot(1), "slots are never reused");
    assert_eq!(log.revoke_all(&id("a")).unwrap(), Epoch(1));
    v.apply_revocation(&log.update_since(3, past + 1).unwrap(), past + 1)
        .unwrap();
    assert_eq!(v.view().state(AccountKey::of("a")).epoch, Epoch(1));
    assert_eq!(v.validate(&ta, past + 1).reason(), Some(Reason::Expired));
}

/// The tightest case: a token minted and revoked at the instant of the first update after the
/// change, judged by a viewer whose clock runs the tolerance behind, at the last second of the
/// horizon. Dropping the record two seconds earlier would accept this token.
#[test]
fn a_record_stays_while_it_can_refuse_a_token() {
    const TTL: u64 = 10;
    let tolerance = options().clock_tolerance; // 30
    let horizon = epochgate::retention_horizon(TTL, tolerance);
    let mut log = RevocationLog::new(update_key()).with_horizon(horizon);
    let mut v = validator();
    let t = NOW;
    let slot = log.allocate_device(&id("a")).unwrap();
    let token = issuer()
        .mint(&epochgate::MintRequest {
            account: "a",
            session: "s",
            device: slot.0.into(),
            epoch: 0,
            now: t,
            ttl: Some(TTL),
            jti: None,
            auth_time: None,
            amr: None,
        })
        .unwrap();
    log.revoke_device(&id("a"), slot).unwrap();
    v.apply_revocation(&log.update_since(0, t).unwrap(), t)
        .unwrap();
    // An update one second before the horizon ends, applied as early as a viewer may (its
    // clock the tolerance behind): the token has a second to live there and is still refused.
    let created = t + horizon as i64 - 1;
    let at = created - tolerance as i64;
    v.apply_revocation(&log.update_since(1, created).unwrap(), at)
        .unwrap();
    assert_eq!(v.view().len(), 1);
    assert_eq!(v.validate(&token, at).reason(), Some(Reason::RevokedDevice));
    // Past the horizon the record goes: by then the token has expired for every viewer that
    // could apply the update.
    let created = t + horizon as i64 + 1;
    let at = created - tolerance as i64;
    v.apply_revocation(&log.update_since(1, created).unwrap(), at)
        .unwrap();
    assert_eq!(v.view().len(), 0);
    assert_eq!(v.validate(&token, at).reason(), Some(Reason::Expired));
}
