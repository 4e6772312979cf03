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

fn view_fingerprint(v: &Validator) -> (u64, Option<i64>, usize) {
    (
        v.revocation_seq(),
        v.view().newest_created_at(),
        v.view().len(),
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
    flipped[n - 70] ^= 1;
    refuse(&mut v, &flipped, NOW, "update_bad_signature");
    let mut version = second.clone();
    version[0] = UPDATE_VERSION + 1;
    refuse(&mut v, &version, NOW, "update_unsupported_version");
    let mut kind = second.clone();
    kind[1] = 9;
    refuse(&mut v, &kind, NOW, "update_malformed");

    // Wrong signer under the right kid, an unknown kid, and the token key itself.
    let stranger = RevocationLog::new(PrivateKey::from_seed("upd-1", &[10; 32]).unwrap());
    refuse(
        &mut v,
        &stranger.delta_since(0, NOW).unwrap(),
        NOW,
        "update_bad_signature",
    );
    let other_kid = RevocationLog::new(PrivateKey::from_seed("upd-2", &[9; 32]).unwrap());
    refuse(
        &mut v,
        &other_kid.delta_since(0, NOW).unwrap(),
        NOW,
        "update_unknown_key",
    );
    let token_key_as_update_kid =
        RevocationLog::new(PrivateKey::from_seed("upd-1", &[7; 32]).unwrap());
    refuse(
        &mut v,
        &token_key_as_update_kid.delta_since(0, NOW).unwrap(),
        NOW,
        "update_bad_signature",
    );
    let token_kid = RevocationLog::new(token_key());
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
    v.apply_revocation(&log.snapshot(NOW).unwrap(), NOW)
        .unwrap();
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
