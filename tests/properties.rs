//! Property tests: codec round trips, a model of the revocation semantics, and arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;

use common::*;
use epochgate::{
    AccountKey, AccountState, DeviceSlot, Epoch, MintRequest, Reason, Record, RevocationLog,
    SlotSet, UnverifiedUpdate, Update, UpdateKind,
};
use proptest::prelude::*;

/// An account id known to be well-formed.
fn id(account: &str) -> epochgate::AccountId {
    epochgate::AccountId::new(account).unwrap()
}

/// The model's own record of the accounts: per account, its epoch, the slots signed out in that
/// epoch, and the next slot the origin hands out.
type Expected = HashMap<String, (u32, Vec<u16>, u16)>;

/// Signs out one of `account`'s slots at the log and in the model (nothing when it has none).
fn model_sign_out_device(log: &mut RevocationLog, current: &mut Expected, account: u8, pick: u8) {
    let name = format!("acct-{account}");
    if let Some(entry) = current.get_mut(&name) {
        if entry.2 > 0 {
            let slot = u16::from(pick) % entry.2;
            log.revoke_device(&id(&name), DeviceSlot(slot)).unwrap();
            if !entry.1.contains(&slot) {
                entry.1.push(slot);
            }
        }
    }
}

/// Signs out every device of `account` at the log and in the model; the epochs must agree.
fn model_sign_out_all(
    log: &mut RevocationLog,
    current: &mut Expected,
    account: u8,
) -> Result<(), TestCaseError> {
    let name = format!("acct-{account}");
    let e = log.revoke_all(&id(&name)).unwrap();
    let entry = current.entry(name).or_insert((0, vec![], 0));
    *entry = (entry.0 + 1, vec![], 0);
    prop_assert_eq!(e.0, entry.0);
    Ok(())
}

fn account_state() -> impl Strategy<Value = AccountState> {
    (0u32..400, prop::collection::vec(0u16..200, 0..6))
        .prop_map(|(e, slots)| AccountState {
            epoch: Epoch(e),
            revoked: SlotSet::from_slots(slots),
        })
        .prop_filter("never the default state", |s| !s.is_default())
}

fn update() -> impl Strategy<Value = Update> {
    (
        any::<bool>(),
        0u64..1000,
        0u64..1000,
        0i64..4_000_000_000,
        prop::collection::btree_map(any::<u64>(), account_state(), 0..20),
    )
        .prop_map(|(snapshot, a, b, created_at, records)| {
            let (kind, from_seq) = if snapshot {
                (UpdateKind::Snapshot, 0)
            } else {
                (UpdateKind::Delta, a.min(b))
            };
            let records = records
                .into_iter()
                .map(|(k, state)| Record {
                    account: AccountKey(k),
                    state,
                })
                .collect();
            Update {
                kind,
                from_seq,
                seq: a.max(b),
                created_at,
                horizon: 0,
                expired: vec![],
                records,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn update_round_trip(u in update()) {
        let key = update_key();
        let bytes = u.sign(&key).unwrap();
        let decoded = UnverifiedUpdate::decode(&bytes).unwrap().verify(&epochgate::KeySet::new(vec![key.public()]).unwrap()).unwrap();
        prop_assert_eq!(&decoded, &u);
        prop_assert_eq!(decoded.sign(&key).unwrap(), bytes);
    }

    #[test]
    fn token_round_trip(
        account in "[a-zA-Z0-9@._ -]{1,40}",
        session in "\\PC{1,30}",
        device in 0u32..=65535,
        epoch in 0u64..=4_294_967_295,
        now in 0i64..4_000_000_000,
        ttl in 1u64..10_000_000,
        auth_time in prop::option::of(prop_oneof![0i64..4_000_000_000, Just(epochgate::MAX_AUTH_TIME)]),
        amr in prop::option::of(prop::collection::btree_set("[ -~]{1,32}", 1..=16)),
    ) {
        let methods: Option<Vec<&str>> = amr.as_ref().map(|m| m.iter().map(String::as_str).collect());
        let token = issuer().mint(&MintRequest {
            account: &account, session: &session, device, epoch, now, ttl: Some(ttl), jti: None,
            auth_time, amr: methods.as_deref(),
        }).unwrap();
        let verdict = validator().validate(&token, now);
        let s = verdict.session().unwrap();
        prop_assert_eq!(s.account.as_str(), account.as_str());
        prop_assert_eq!(s.session.as_str(), session.as_str());
        prop_assert_eq!((u32::from(s.device.0), u64::from(s.epoch.0), s.issued_at, s.expires_at), (device, epoch, now, now + ttl as i64));
        prop_assert_eq!(s.auth_time, auth_time);
        prop_assert_eq!(s.amr.as_ref().map(|m| m.iter().map(String::as_str).collect::<Vec<_>>()), methods.clone());
        // encode(decode(x)) == x: minting the decoded claims again gives the same token.
        let decoded: Option<Vec<&str>> = s.amr.as_ref().map(|m| m.iter().map(String::as_str).collect());
        let again = issuer().mint(&MintRequest {
            account: s.account.as_str(), session: s.session.as_str(), device: s.device.0.into(), epoch: s.epoch.0.into(),
            now: s.issued_at, ttl: Some((s.expires_at - s.issued_at) as u64), jti: None,
            auth_time: s.auth_time, amr: decoded.as_deref(),
        }).unwrap();
        prop_assert_eq!(again, token);
    }

    #[test]
    fn validate_never_panics_on_any_string(s in "\\PC{0,300}") {
        let v = validator().validate(&s, NOW);
        prop_assert!(v.reason().is_some());
    }

    #[test]
    fn mutated_tokens_are_refused(pos in 0usize..1000, byte in any::<u8>()) {
        let token = mint("acct", "sess", 1, 2, NOW);
        let mut bytes = token.clone().into_bytes();
        let at = pos % bytes.len();
        bytes[at] = byte;
        if let Ok(t) = String::from_utf8(bytes) {
            if t != token {
                prop_assert!(validator().validate(&t, NOW).reason().is_some(), "{}", t);
            }
        }
    }

    /// The fuzz targets' bodies hold on arbitrary input (a short run of what `fuzz/` runs long).
    #[test]
    fn fuzz_bodies_hold(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        epochgate::fuzzing::decode_update(&bytes);
        epochgate::fuzzing::apply_update(&bytes);
    }

    #[test]
    fn apply_never_panics_and_refusals_change_nothing(bytes in prop::collection::vec(any::<u8>(), 0..400), flip in any::<(usize, u8)>()) {
        let mut v = validator();
        prop_assert!(v.apply_revocation(&bytes, NOW).is_err());
        prop_assert_eq!(v.revocation_seq(), 0);
        // Flipping any byte of a real update is refused.
        let mut log = RevocationLog::new(update_key());
        let d = log.allocate_device(&id("a")).unwrap();
        log.revoke_device(&id("a"), d).unwrap();
        let mut real = log.delta_since(0, NOW).unwrap();
        let at = flip.0 % real.len();
        let x = if flip.1 == 0 { 1 } else { flip.1 };
        real[at] ^= x;
        prop_assert!(v.apply_revocation(&real, NOW).is_err());
        prop_assert!(v.view().is_empty());
    }
}

/// One step of the model test.
#[derive(Clone, Debug)]
enum Op {
    /// A sign-in; `auth` makes its token carry `auth_time` (`now` minus `ago`, which may be
    /// negative: a clock ahead) and the methods `AMRS[amr]`.
    SignIn {
        account: u8,
        auth: Option<(i64, usize)>,
    },
    SignOutDevice {
        account: u8,
        pick: u8,
    },
    SignOutAll {
        account: u8,
    },
    /// The origin publishes a delta since the viewer's sequence (held back in flight).
    PublishDelta,
    /// The origin publishes a delta since an arbitrary earlier sequence.
    PublishDeltaSince {
        back: u8,
    },
    PublishSnapshot,
    /// Deliver one in-flight update (any of them: reordering), or drop it.
    Deliver {
        pick: u8,
        drop: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..4, prop::option::of((-40i64..=40, 0..AMRS.len()))).prop_map(|(account, auth)| Op::SignIn { account, auth }),
        2 => (0u8..4, any::<u8>()).prop_map(|(account, pick)| Op::SignOutDevice { account, pick }),
        1 => (0u8..4).prop_map(|account| Op::SignOutAll { account }),
        2 => Just(Op::PublishDelta),
        1 => (0u8..5).prop_map(|back| Op::PublishDeltaSince { back }),
        1 => Just(Op::PublishSnapshot),
        3 => (any::<u8>(), prop::bool::weighted(0.2)).prop_map(|(pick, drop)| Op::Deliver { pick, drop }),
    ]
}

struct Minted {
    token: String,
    account: String,
    device: DeviceSlot,
    epoch: Epoch,
    auth_time: Option<i64>,
    amr: Option<&'static [&'static str]>,
}

/// The methods tokens of the model carry (docs/CONTRACT.md section 1), and none.
const AMRS: [Option<&[&str]>; 5] = [
    None,
    Some(&["pwd"]),
    Some(&["pwd", "otp", "mfa"]),
    Some(&["otp"]),
    Some(&["hwk", "user", "mfa"]),
];

/// A step-up the model asks: small ages, so tokens of the run both meet and miss them.
fn step_up() -> impl Strategy<Value = epochgate::StepUp> {
    (
        prop::option::of(0u64..40),
        prop::sample::subsequence(vec!["pwd", "otp", "mfa", "hwk"], 0..=2),
    )
        .prop_map(|(max_age, methods)| epochgate::StepUp {
            max_age,
            required_amr: methods.into_iter().map(str::to_owned).collect(),
        })
}

/// The model of a step-up: the age `now − auth_time` at most `max_age`, `auth_time` not beyond
/// `now + tolerance`, every asked method in `amr`.
fn meets(step: &epochgate::StepUp, t: &Minted, now: i64, tolerance: i64) -> bool {
    let age_ok = step.max_age.is_none_or(|max| {
        t.auth_time
            .is_some_and(|at| at <= now + tolerance && now - at <= max as i64)
    });
    let amr_ok = step
        .required_amr
        .iter()
        .all(|m| t.amr.is_some_and(|amr| amr.contains(&m.as_str())));
    age_ok && amr_ok
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Replays random sign-ins, sign-outs, snapshots and (reordered, dropped) deltas against a
    /// reference model that keeps the origin's state at every sequence. At every step the
    /// validator must judge every token exactly as the model does at the validator's sequence:
    /// no token revoked in an applied update is accepted, and no unrevoked token is refused.
    /// Tokens carry random `auth_time`/`amr`, and a random step-up — asked by the validator's
    /// options or per call — refuses exactly the unrevoked tokens the step-up model says miss it.
    #[test]
    fn revocation_model(ops in prop::collection::vec(op(), 1..60), cached in any::<bool>(), step in step_up(), in_options in any::<bool>()) {
        let mut log = RevocationLog::new(update_key());
        let mut v = validator_with(epochgate::Options {
            cache_size: if cached { 100 } else { 0 },
            max_auth_age: if in_options { step.max_age } else { None },
            required_amr: if in_options { step.required_amr.clone() } else { vec![] },
            ..options()
        });
        let tolerance = options().clock_tolerance as i64;
        // The reference: per sequence, each account's (epoch, revoked slots).
        let mut history: Vec<HashMap<String, (u32, Vec<u16>)>> = vec![HashMap::new()];
        let mut current: Expected = HashMap::new();
        let mut tokens: Vec<Minted> = Vec::new();
        let mut in_flight: Vec<Vec<u8>> = Vec::new();
        let mut now = NOW;

        for op in ops {
            now += 1;
            let before_seq = log.seq().unwrap();
            match op {
                Op::SignIn { account, auth } => {
                    let name = format!("acct-{account}");
                    let slot = log.allocate_device(&id(&name)).unwrap();
                    let entry = current.entry(name.clone()).or_insert((0, vec![], 0));
                    prop_assert_eq!(slot.0, entry.2, "slots are handed out increasing, never reused");
                    entry.2 += 1;
                    let epoch = log.epoch_of(&id(&name)).unwrap();
                    prop_assert_eq!(epoch.0, entry.0);
                    let auth_time = auth.map(|(ago, _)| now - ago);
                    let amr = auth.and_then(|(_, pick)| AMRS[pick]);
                    let token = issuer().mint(&MintRequest {
                        account: &name, session: &format!("s{}", tokens.len()), device: slot.0.into(),
                        epoch: epoch.0.into(), now, ttl: None, jti: None, auth_time, amr,
                    }).unwrap();
                    tokens.push(Minted { token, account: name, device: slot, epoch, auth_time, amr });
                }
                Op::SignOutDevice { account, pick } => {
                    model_sign_out_device(&mut log, &mut current, account, pick);
                }
                Op::SignOutAll { account } => model_sign_out_all(&mut log, &mut current, account)?,
                Op::PublishDelta => in_flight.push(log.delta_since(v.revocation_seq().min(log.seq().unwrap()), now).unwrap()),
                Op::PublishDeltaSince { back } => {
                    in_flight.push(log.delta_since(log.seq().unwrap().saturating_sub(u64::from(back)), now).unwrap())
                }
                Op::PublishSnapshot => in_flight.push(log.snapshot(now).unwrap()),
                Op::Deliver { pick, drop } => {
                    if !in_flight.is_empty() {
                        let update = in_flight.remove(usize::from(pick) % in_flight.len());
                        if !drop {
                            let seq_before = v.revocation_seq();
                            match v.apply_revocation(&update, now) {
                                Ok(seq) => prop_assert!(seq >= seq_before),
                                Err(e) => {
                                    prop_assert!(matches!(e.code(), "update_gap" | "update_stale"), "{}", e);
                                    prop_assert_eq!(v.revocation_seq(), seq_before);
                                }
                            }
                        }
                    }
                }
            }
            if log.seq().unwrap() != before_seq {
                prop_assert_eq!(log.seq().unwrap(), before_seq + 1);
                history.push(current.iter().map(|(k, (e, r, _))| (k.clone(), (*e, r.clone()))).collect());
            }
            prop_assert_eq!(history.len() as u64, log.seq().unwrap() + 1);

            // The viewer's verdicts equal the model's at the viewer's sequence.
            let seen = &history[v.revocation_seq() as usize];
            for t in &tokens {
                let expected = seen.get(&t.account).and_then(|(e, r)| {
                    if t.epoch.0 < *e {
                        Some(Reason::RevokedAll)
                    } else if t.epoch.0 == *e && r.contains(&t.device.0) {
                        Some(Reason::RevokedDevice)
                    } else {
                        None
                    }
                });
                let insufficient = (!meets(&step, t, now, tolerance)).then_some(Reason::InsufficientUserAuthentication);
                let asked = if in_options { expected.or(insufficient) } else { expected };
                prop_assert_eq!(v.validate(&t.token, now).reason(), asked, "token of {} dev {} epo {}", t.account, t.device.0, t.epoch.0);
                prop_assert_eq!(v.validate_with(&t.token, now, &step).reason(), expected.or(insufficient),
                    "token of {} auth_time {:?} amr {:?} at {} under {:?}", t.account, t.auth_time, t.amr, now, step);
            }
        }

        // Catching up with a snapshot makes the viewer agree with the origin now.
        v.apply_revocation(&log.snapshot(now).unwrap(), now).unwrap();
        for t in &tokens {
            let state = log.state_of(&id(&t.account)).unwrap().state;
            let insufficient = (!meets(&step, t, now, tolerance)).then_some(Reason::InsufficientUserAuthentication);
            prop_assert_eq!(v.validate_with(&t.token, now, &step).reason(), state.check(t.epoch, t.device).or(insufficient));
        }
    }
}

/// Longest token lifetime and clock tolerance of the model with time: small, so that random
/// clock steps land on the horizon's last seconds often.
const TTL_MAX: u64 = 10;
const TOLERANCE: u64 = 2;

/// One step of the model test with time.
#[derive(Clone, Debug)]
enum TimedOp {
    /// A sign-in whose token claims to be issued `age` seconds ago and lives `ttl` seconds.
    SignIn {
        account: u8,
        age: u8,
        ttl: u64,
    },
    SignOutDevice {
        account: u8,
        pick: u8,
    },
    SignOutAll {
        account: u8,
    },
    /// The clocks advance.
    Advance {
        seconds: u64,
    },
    PublishDelta,
    PublishDeltaSince {
        back: u8,
    },
    PublishSnapshot,
    Deliver {
        pick: u8,
        drop: bool,
    },
    /// A follower's refresh: a delta since the viewer's sequence, applied at once.
    Refresh,
}

fn timed_op() -> impl Strategy<Value = TimedOp> {
    prop_oneof![
        3 => (0u8..4, prop_oneof![Just(0u8), 0u8..5], prop_oneof![Just(TTL_MAX), 1..=TTL_MAX])
            .prop_map(|(account, age, ttl)| TimedOp::SignIn { account, age, ttl }),
        2 => (0u8..4, any::<u8>()).prop_map(|(account, pick)| TimedOp::SignOutDevice { account, pick }),
        1 => (0u8..4).prop_map(|account| TimedOp::SignOutAll { account }),
        4 => prop_oneof![4 => 1u64..=2, 1 => 1u64..=(3 * TTL_MAX)].prop_map(|seconds| TimedOp::Advance { seconds }),
        3 => Just(TimedOp::Refresh),
        2 => Just(TimedOp::PublishDelta),
        1 => (0u8..5).prop_map(|back| TimedOp::PublishDeltaSince { back }),
        1 => Just(TimedOp::PublishSnapshot),
        3 => (any::<u8>(), prop::bool::weighted(0.2)).prop_map(|(pick, drop)| TimedOp::Deliver { pick, drop }),
    ]
}

struct TimedToken {
    token: String,
    account: String,
    device: DeviceSlot,
    epoch: Epoch,
    issued_at: i64,
    expires_at: i64,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The revocation model with time and expiry: tokens minted with random lifetimes and issue
    /// times, clocks that advance (the viewer's off the origin's by up to the tolerance either
    /// way), and a log whose records leave updates a horizon after their last change. At every
    /// step, every token still unexpired at the viewer's time is judged exactly as the origin's
    /// authoritative state at the viewer's sequence judges it: a dropped record never refused an
    /// unexpired token.
    #[test]
    fn retention_model(
        ops in prop::collection::vec(timed_op(), 1..80),
        skew in prop_oneof![Just(-(TOLERANCE as i64)), Just(TOLERANCE as i64), -(TOLERANCE as i64)..=(TOLERANCE as i64)],
        cached in any::<bool>(),
    ) {
        let horizon = epochgate::retention_horizon(TTL_MAX, TOLERANCE);
        let mut log = RevocationLog::new(update_key()).with_horizon(horizon);
        let mut v = validator_with(epochgate::Options {
            cache_size: if cached { 100 } else { 0 },
            clock_tolerance: TOLERANCE,
            ..options()
        });
        let mut history: Vec<HashMap<String, (u32, Vec<u16>)>> = vec![HashMap::new()];
        let mut current: Expected = HashMap::new();
        let mut tokens: Vec<TimedToken> = Vec::new();
        let mut in_flight: Vec<Vec<u8>> = Vec::new();
        let mut now = NOW;

        for op in ops {
            let before_seq = log.seq().unwrap();
            match op {
                TimedOp::SignIn { account, age, ttl } => {
                    let name = format!("acct-{account}");
                    let slot = log.allocate_device(&id(&name)).unwrap();
                    let entry = current.entry(name.clone()).or_insert((0, vec![], 0));
                    prop_assert_eq!(slot.0, entry.2, "slots are never reused, also after a record expired");
                    entry.2 += 1;
                    let epoch = log.epoch_of(&id(&name)).unwrap();
                    prop_assert_eq!(epoch.0, entry.0, "the origin never loses an epoch");
                    let issued = now - i64::from(age);
                    let token = issuer().mint(&MintRequest {
                        account: &name, session: &format!("s{}", tokens.len()), device: slot.0.into(),
                        epoch: epoch.0.into(), now: issued, ttl: Some(ttl), jti: None, auth_time: None, amr: None,
                    }).unwrap();
                    tokens.push(TimedToken { token, account: name, device: slot, epoch, issued_at: issued, expires_at: issued + ttl as i64 });
                }
                TimedOp::SignOutDevice { account, pick } => {
                    model_sign_out_device(&mut log, &mut current, account, pick);
                }
                TimedOp::SignOutAll { account } => model_sign_out_all(&mut log, &mut current, account)?,
                TimedOp::Advance { seconds } => now += seconds as i64,
                TimedOp::PublishDelta => {
                    let since = v.revocation_seq().min(log.seq().unwrap());
                    in_flight.push(log.delta_since(since, now).unwrap());
                }
                TimedOp::PublishDeltaSince { back } => {
                    let since = log.seq().unwrap().saturating_sub(u64::from(back));
                    in_flight.push(log.delta_since(since, now).unwrap());
                }
                TimedOp::PublishSnapshot => in_flight.push(log.snapshot(now).unwrap()),
                TimedOp::Refresh => {
                    let update = log.delta_since(v.revocation_seq(), now).unwrap();
                    v.apply_revocation(&update, now + skew).unwrap();
                }
                TimedOp::Deliver { pick, drop } => {
                    if !in_flight.is_empty() {
                        let update = in_flight.remove(usize::from(pick) % in_flight.len());
                        if !drop {
                            let seq_before = v.revocation_seq();
                            match v.apply_revocation(&update, now + skew) {
                                Ok(seq) => prop_assert!(seq >= seq_before),
                                Err(e) => {
                                    prop_assert!(matches!(e.code(), "update_gap" | "update_stale"), "{}", e);
                                    prop_assert_eq!(v.revocation_seq(), seq_before);
                                }
                            }
                        }
                    }
                }
            }
            if log.seq().unwrap() != before_seq {
                history.push(current.iter().map(|(k, (e, r, _))| (k.clone(), (*e, r.clone()))).collect());
            }
            prop_assert_eq!(history.len() as u64, log.seq().unwrap() + 1);

            // Judged at the viewer's time, and at the earliest time a viewer could have applied
            // its newest update (its clock the tolerance behind that update's creation).
            let seen = &history[v.revocation_seq() as usize];
            let earliest = v.view().newest_created_at().map(|c| c - TOLERANCE as i64);
            for at in std::iter::once(now + skew).chain(earliest.filter(|&e| e < now + skew)) {
                let live = |t: &&TimedToken| at < t.expires_at + TOLERANCE as i64 && t.issued_at <= at + TOLERANCE as i64;
                for t in tokens.iter().filter(live) {
                    let expected = seen.get(&t.account).and_then(|(e, r)| {
                        if t.epoch.0 < *e {
                            Some(Reason::RevokedAll)
                        } else if t.epoch.0 == *e && r.contains(&t.device.0) {
                            Some(Reason::RevokedDevice)
                        } else {
                            None
                        }
                    });
                    prop_assert_eq!(v.validate(&t.token, at).reason(), expected,
                        "unexpired token of {} dev {} epo {} exp {} at {}", t.account, t.device.0, t.epoch.0, t.expires_at, at);
                }
            }
        }

        // A cold viewer's snapshot agrees with the origin on every unexpired token, and holds no
        // account whose last change is past the horizon.
        let mut cold = validator_with(epochgate::Options { clock_tolerance: TOLERANCE, ..options() });
        cold.apply_revocation(&log.snapshot(now).unwrap(), now + skew).unwrap();
        for t in tokens.iter().filter(|t| now + skew < t.expires_at + TOLERANCE as i64) {
            let state = log.state_of(&id(&t.account)).unwrap().state;
            prop_assert_eq!(cold.validate(&t.token, now + skew).reason(), state.check(t.epoch, t.device));
        }
        let later = now + horizon as i64 + 1;
        let mut colder = validator_with(epochgate::Options { clock_tolerance: TOLERANCE, ..options() });
        colder.apply_revocation(&log.snapshot(later).unwrap(), later).unwrap();
        prop_assert!(colder.view().is_empty(), "every record expired");
        // A warm viewer learns the same from a delta.
        let since = v.revocation_seq();
        if v.apply_revocation(&log.delta_since(since, later).unwrap(), later).is_ok() {
            prop_assert!(v.view().is_empty(), "a delta names every expired record the viewer holds");
        }
    }
}

/// One step of an account shard whose changes are handed to a feed.
#[derive(Clone, Debug)]
enum ShardOp {
    NewDevice { account: u8 },
    RevokeDevice { account: u8, pick: u8 },
    RevokeAll { account: u8 },
}

fn shard_op() -> impl Strategy<Value = ShardOp> {
    prop_oneof![
        3 => (0u8..5).prop_map(|account| ShardOp::NewDevice { account }),
        2 => (0u8..5, any::<u8>()).prop_map(|(account, pick)| ShardOp::RevokeDevice { account, pick }),
        1 => (0u8..5).prop_map(|account| ShardOp::RevokeAll { account }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// An account shard hands each visible change over as the account's whole state (its
    /// outbox); the feed receives those states in any order, some twice, some superseded before
    /// delivery. Once every account's latest state arrived, the feed's snapshot carries exactly
    /// the shard's own records, and the feed took a sequence number only for a visible change.
    #[test]
    fn publishing_in_any_order_gives_the_shard_view(
        ops in prop::collection::vec(shard_op(), 1..60),
        order in prop::collection::vec(any::<u16>(), 0..80),
    ) {
        let mut shard = RevocationLog::new(update_key());
        let mut current: Expected = HashMap::new();
        let mut handed: Vec<(String, AccountState)> = Vec::new();
        for op in ops {
            let before = shard.seq().unwrap();
            let name = match op {
                ShardOp::NewDevice { account } => {
                    let name = format!("acct-{account}");
                    shard.allocate_device(&id(&name)).unwrap();
                    current.entry(name.clone()).or_insert((0, vec![], 0)).2 += 1;
                    name
                }
                ShardOp::RevokeDevice { account, pick } => {
                    model_sign_out_device(&mut shard, &mut current, account, pick);
                    format!("acct-{account}")
                }
                ShardOp::RevokeAll { account } => {
                    model_sign_out_all(&mut shard, &mut current, account)?;
                    format!("acct-{account}")
                }
            };
            if shard.seq().unwrap() != before {
                handed.push((name.clone(), shard.state_of(&id(&name)).unwrap().state));
            }
        }
        // Deliveries: a shuffle with repeats, then every account's latest state (what the
        // outbox still holds until the feed acknowledged it).
        let mut deliveries: Vec<(String, AccountState)> = Vec::new();
        if !handed.is_empty() {
            for i in &order {
                deliveries.push(handed[usize::from(*i) % handed.len()].clone());
            }
        }
        let mut latest: HashMap<String, AccountState> = HashMap::new();
        for (name, state) in &handed {
            latest.insert(name.clone(), state.clone());
        }
        let mut names: Vec<&String> = latest.keys().collect();
        names.sort();
        for name in names.into_iter().rev() {
            deliveries.push((name.clone(), latest[name].clone()));
        }

        let mut feed = RevocationLog::new(update_key());
        for (name, state) in &deliveries {
            let before = feed.seq().unwrap();
            let changed = feed.publish(&id(name), state).unwrap();
            prop_assert_eq!(feed.seq().unwrap(), before + u64::from(changed));
        }
        let keys = epochgate::KeySet::new(vec![update_key().public()]).unwrap();
        let open = |bytes: Vec<u8>| UnverifiedUpdate::decode(&bytes).unwrap().verify(&keys).unwrap().records;
        prop_assert_eq!(open(feed.snapshot(NOW).unwrap()), open(shard.snapshot(NOW).unwrap()));
        // Publishing everything again changes nothing.
        let seq = feed.seq().unwrap();
        for (name, state) in &deliveries {
            prop_assert!(!feed.publish(&id(name), state).unwrap());
        }
        prop_assert_eq!(feed.seq().unwrap(), seq);
    }
}

/// A large account state: mostly what packs into the view's array (epoch below 255, slots below
/// 64), sometimes what does not.
fn wide_state() -> impl Strategy<Value = AccountState> {
    prop_oneof![
        8 => (0u32..255, prop::collection::vec(0u16..64, 0..5)),
        1 => (255u32..100_000, prop::collection::vec(0u16..64, 0..3)),
        1 => (0u32..300, prop::collection::vec(0u16..2000, 1..4)),
    ]
    .prop_map(|(e, slots)| AccountState {
        epoch: Epoch(e),
        revoked: SlotSet::from_slots(slots),
    })
    .prop_filter("never the default state", |s| !s.is_default())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A snapshot received in pieces and decoded where it lies gives exactly the states its
    /// records hold, the same view a delta of the same records gives (merged account by
    /// account), whatever the pieces, small or past the array's threshold.
    #[test]
    fn snapshot_decoded_in_place_holds_its_records(
        records in any::<bool>().prop_flat_map(|big| prop::collection::btree_map(
            any::<u64>(), wide_state(), if big { 4097..9000 } else { 0..60 })),
        absent in prop::collection::vec(any::<u64>(), 50),
        cuts in prop::collection::vec(1usize..70_000, 0..12),
        warm in any::<bool>(),
    ) {
        let key = update_key();
        let records: Vec<Record> = records
            .into_iter()
            .map(|(k, state)| Record { account: AccountKey(k), state })
            .collect();
        let update = |kind, from_seq, seq| Update {
            kind, from_seq, seq, created_at: NOW, horizon: 0, expired: vec![], records: records.clone(),
        };
        let snapshot = update(UpdateKind::Snapshot, 0, 7).sign(&key).unwrap();
        let mut received = epochgate::UpdateBytes::new();
        let mut at = 0;
        for cut in cuts {
            let end = (at + cut).min(snapshot.len());
            received.push(&snapshot[at..end]).unwrap();
            at = end;
        }
        received.push(&snapshot[at..]).unwrap();
        prop_assert_eq!(received.as_bytes(), &snapshot[..]);

        let mut in_place = validator();
        if warm {
            // A warm view: what it held before is replaced, not merged.
            let mut log = RevocationLog::new(update_key());
            let d = log.allocate_device(&id("old")).unwrap();
            log.revoke_device(&id("old"), d).unwrap();
            in_place.apply_revocation(&log.delta_since(0, NOW).unwrap(), NOW).unwrap();
        }
        prop_assert_eq!(in_place.apply_received(received, NOW).unwrap(), 7);
        let mut merged = validator();
        merged.apply_revocation(&update(UpdateKind::Delta, 0, 7).sign(&key).unwrap(), NOW).unwrap();

        prop_assert_eq!(in_place.view().len(), records.len());
        for r in &records {
            prop_assert_eq!(in_place.view().state(r.account), r.state.clone());
            prop_assert_eq!(merged.view().state(r.account), r.state.clone());
        }
        for k in absent {
            let expected = records.binary_search_by_key(&AccountKey(k), |r| r.account)
                .map(|i| records[i].state.clone()).unwrap_or_default();
            prop_assert_eq!(in_place.view().state(AccountKey(k)), expected);
        }
        // An older snapshot is refused and changes nothing.
        let older = Update { seq: 6, ..update(UpdateKind::Snapshot, 0, 6) }.sign(&key).unwrap();
        let e = in_place.apply_received(epochgate::UpdateBytes::from_slice(&older).unwrap(), NOW).unwrap_err();
        prop_assert_eq!(e.code(), "update_stale");
        prop_assert_eq!((in_place.revocation_seq(), in_place.view().len()), (7, records.len()));
    }
}

/// The group order L, little-endian: an `S` of L or more is refused by `verify_strict`.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Adds `b` to the 256-bit little-endian `a` (wrapping).
fn add_le(a: &mut [u8], b: &[u8; 32]) {
    let mut carry = 0u16;
    for (x, y) in a.iter_mut().zip(b) {
        let sum = u16::from(*x) + u16::from(*y) + carry;
        *x = sum as u8;
        carry = sum >> 8;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A loaded key's own verification (src/ed25519.rs: per-key tables, `R` checked by its
    /// encoding) agrees with ed25519-dalek's `verify_strict` on genuine signatures and on every
    /// way of spoiling one: a flipped bit anywhere, `S + L` (the malleable twin), `R` swapped for
    /// a small-order point, the message or the key changed.
    #[test]
    fn key_tables_agree_with_verify_strict(
        seed in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
        message in prop::collection::vec(any::<u8>(), 0..300),
        flip in any::<(usize, u8)>(),
        spoil in 0u8..6,
    ) {
        let private = epochgate::PrivateKey::from_seed("p", &seed).unwrap();
        let key = private.public();
        let mut signature = private.sign(&message);
        let mut public = key.to_bytes();
        let mut message = message;
        match spoil {
            0 => {}
            1 => signature[flip.0 % 64] ^= flip.1 | 1,
            2 => add_le(&mut signature[32..], &GROUP_ORDER),
            3 => signature[..32].copy_from_slice(
                curve25519_dalek::constants::EIGHT_TORSION[usize::from(flip.1) % 8].compress().as_bytes(),
            ),
            4 => message.push(flip.1),
            _ => public = epochgate::PrivateKey::from_seed("o", &other).unwrap().public().to_bytes(),
        }
        let key = epochgate::PublicKey::from_bytes("k", &public).unwrap();
        let reference = epochgate::verify_raw(&public, &message, &signature);
        // Without tables (a key's first uses), then over them.
        prop_assert_eq!(key.verify(&message, &signature), reference);
        key.precompute();
        prop_assert_eq!(key.verify(&message, &signature), reference);
        prop_assert_eq!(key.verify_pieces(message.chunks(5), &signature), reference);
        if spoil == 0 {
            prop_assert!(reference, "a genuine signature must verify");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The own base64url codec (src/b64.rs) decides exactly as the `base64` crate's strict
    /// `URL_SAFE_NO_PAD` on any text (the empty string aside, which tokens never hold), and
    /// encodes as it does.
    #[test]
    fn base64url_is_the_crates_url_safe_no_pad(
        bytes in prop::collection::vec(any::<u8>(), 0..80),
        text in "[A-Za-z0-9_+/= -]{0,40}",
        cut in any::<usize>(),
    ) {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        use epochgate::fuzzing::{base64url_decode, base64url_encode};
        let encoded = base64url_encode(&bytes);
        prop_assert_eq!(&encoded, &URL_SAFE_NO_PAD.encode(&bytes));
        if !bytes.is_empty() {
            prop_assert_eq!(base64url_decode(&encoded), Some(bytes.clone()));
        }
        // Every near miss of a real encoding (cut short, a character changed) and arbitrary text.
        let mut near = encoded.clone().into_bytes();
        if !near.is_empty() {
            let at = cut % near.len();
            near[at] = b"A-_=+/ Q"[cut % 8];
            near.truncate(near.len() - cut % 3);
        }
        for candidate in [String::from_utf8(near).unwrap(), text] {
            let reference = URL_SAFE_NO_PAD.decode(&candidate).ok().filter(|_| !candidate.is_empty());
            prop_assert_eq!(base64url_decode(&candidate), reference, "{:?}", candidate);
        }
    }
}
