//! The follower: the one freshness schedule and fetch rule of every viewer, driven with real
//! keys, real signed updates from a `RevocationLog` and a real validator.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use epochgate::{
    AccountId, Answer, Follower, FollowerOptions, FollowerStats, Next, Options, Plan, Reason,
    RevocationLog, Validator,
};

/// `NOW` in milliseconds.
const T0: i64 = NOW * 1000;

fn id(account: &str) -> AccountId {
    AccountId::new(account).unwrap()
}

fn follower() -> Follower {
    Follower::new(FollowerOptions::default()).unwrap()
}

/// What the origin answers to `since` at `now_ms`, as the transport would hand it over.
fn serve(log: &mut RevocationLog, since: u64, now_ms: i64) -> Result<Vec<u8>, ()> {
    match log.update_since(since, now_ms.div_euclid(1000)) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.code() == "since_ahead" => Err(()),
        Err(e) => panic!("the log refused since={since}: {e}"),
    }
}

/// Answers every fetch from `log` until the refresh ends.
fn finish(
    f: &mut Follower,
    v: &mut Validator,
    log: &mut RevocationLog,
    mut since: u64,
    now_ms: i64,
) -> Next {
    loop {
        let next = match serve(log, since, now_ms) {
            Ok(bytes) => f.answer(v, Answer::Update(&bytes), now_ms),
            Err(()) => f.answer(v, Answer::SinceAhead, now_ms),
        };
        match next {
            Next::Fetch(s) => since = s,
            done => return done,
        }
    }
}

/// Plans at `now_ms` and, when that asks for a fetch, answers it from `log`.
fn refresh(
    f: &mut Follower,
    v: &mut Validator,
    log: &mut RevocationLog,
    now_ms: i64,
) -> Option<Next> {
    match f.plan(v, now_ms) {
        Plan::Fetch(since) => Some(finish(f, v, log, since, now_ms)),
        _ => None,
    }
}

fn view_of(v: &Validator) -> (u64, Option<i64>, usize) {
    (
        v.revocation_seq(),
        v.view().newest_created_at(),
        v.view().len(),
    )
}

/// A log where "a" signed in on two devices and signed the first out (sequence 1).
fn origin() -> (RevocationLog, String, String) {
    let mut log = RevocationLog::new(update_key());
    let phone = log.allocate_device(&id("a")).unwrap();
    let laptop = log.allocate_device(&id("a")).unwrap();
    log.revoke_device(&id("a"), phone).unwrap();
    (
        log,
        mint("a", "s-phone", phone.0.into(), 0, NOW),
        mint("a", "s-laptop", laptop.0.into(), 0, NOW),
    )
}

#[test]
fn options_are_checked() {
    assert_eq!(
        *follower().options(),
        FollowerOptions {
            staleness_target_ms: 1000,
            refresh_timeout_ms: 5000
        }
    );
    for bad in [
        FollowerOptions {
            refresh_timeout_ms: 0,
            ..FollowerOptions::default()
        },
        FollowerOptions {
            refresh_timeout_ms: 86_400_001,
            ..FollowerOptions::default()
        },
        FollowerOptions {
            staleness_target_ms: 86_400_001,
            ..FollowerOptions::default()
        },
    ] {
        assert_eq!(Follower::new(bad).unwrap_err().code(), "invalid_option");
    }
    let always = FollowerOptions {
        staleness_target_ms: 0,
        refresh_timeout_ms: 1,
    };
    assert!(Follower::new(always).is_ok());
}

#[test]
fn the_first_plan_fetches_a_snapshot_then_the_view_is_used() {
    let (mut log, phone, laptop) = origin();
    let mut v = validator();
    let mut f = follower();
    assert_eq!(f.fetched_at_ms(), None);
    assert_eq!(f.plan(&v, T0), Plan::Fetch(0));
    assert!(f.in_flight(T0));
    let bytes = log.update_since(0, NOW).unwrap();
    assert_eq!(
        f.answer(&mut v, Answer::Update(&bytes), T0 + 40),
        Next::Done(1)
    );
    assert!(!f.in_flight(T0 + 40));
    assert_eq!(f.fetched_at_ms(), Some(T0), "when the fetch started");
    assert_eq!(f.last_fetch_ms(), 40);
    assert_eq!(
        f.stats(),
        FollowerStats {
            fetches: 1,
            snapshots: 1,
            applied: 1,
            refused: 0,
            failures: 0
        }
    );
    assert_eq!(f.plan(&v, T0 + 100), Plan::Use);
    assert_eq!(
        v.validate(&phone, NOW).reason(),
        Some(Reason::RevokedDevice)
    );
    assert_eq!(v.validate(&laptop, NOW).reason(), None);
}

#[test]
fn a_delta_since_the_view_applies() {
    let (mut log, _, laptop) = origin();
    let mut v = validator();
    let mut f = follower();
    assert_eq!(refresh(&mut f, &mut v, &mut log, T0), Some(Next::Done(1)));
    log.revoke_all(&id("a")).unwrap();
    let later = T0 + 1000;
    assert_eq!(f.plan(&v, later), Plan::Fetch(1));
    let delta = log.update_since(1, NOW + 1).unwrap();
    assert_eq!(
        f.answer(&mut v, Answer::Update(&delta), later),
        Next::Done(2)
    );
    assert_eq!(
        v.validate(&laptop, NOW + 1).reason(),
        Some(Reason::RevokedAll)
    );
    let stats = f.stats();
    assert_eq!((stats.fetches, stats.snapshots, stats.applied), (2, 1, 2));
}

#[test]
fn a_gap_is_followed_by_a_snapshot() {
    let (mut log, _, laptop) = origin();
    let mut v = validator();
    let mut f = follower();
    refresh(&mut f, &mut v, &mut log, T0);
    log.revoke_all(&id("b")).unwrap();
    log.revoke_all(&id("a")).unwrap();
    let later = T0 + 1000;
    assert_eq!(f.plan(&v, later), Plan::Fetch(1));
    // A delta that does not start at the view's sequence (a cache served an older request's).
    let misfit = log.delta_since(2, NOW + 1).unwrap();
    assert_eq!(
        f.answer(&mut v, Answer::Update(&misfit), later),
        Next::Fetch(0)
    );
    assert!(f.in_flight(later), "the refresh goes on");
    assert_eq!(v.revocation_seq(), 1);
    let snapshot = log.update_since(0, NOW + 1).unwrap();
    assert_eq!(
        f.answer(&mut v, Answer::Update(&snapshot), later + 30),
        Next::Done(3)
    );
    assert_eq!(f.fetched_at_ms(), Some(later));
    assert_eq!(f.last_fetch_ms(), 30, "both fetches of the refresh");
    assert_eq!(
        v.validate(&laptop, NOW + 1).reason(),
        Some(Reason::RevokedAll)
    );
    let stats = f.stats();
    assert_eq!(
        (stats.fetches, stats.snapshots, stats.applied, stats.refused),
        (3, 2, 2, 1)
    );
}

#[test]
fn since_ahead_is_followed_by_a_snapshot() {
    let (mut log, _, laptop) = origin();
    let mut v = validator();
    let mut f = follower();
    refresh(&mut f, &mut v, &mut log, T0);
    log.revoke_all(&id("a")).unwrap();
    let later = T0 + 1000;
    assert_eq!(f.plan(&v, later), Plan::Fetch(1));
    // A replica that has not caught up answers 409 since_ahead; the snapshot comes from one
    // that has.
    assert_eq!(f.answer(&mut v, Answer::SinceAhead, later), Next::Fetch(0));
    assert_eq!(finish(&mut f, &mut v, &mut log, 0, later), Next::Done(2));
    assert_eq!(
        v.validate(&laptop, NOW + 1).reason(),
        Some(Reason::RevokedAll)
    );
    assert_eq!(f.stats().failures, 0);

    // An origin that lost its state is behind the view: its snapshot would roll the view back
    // and is refused; the view stays as it was.
    let mut restarted = RevocationLog::new(update_key());
    let before = view_of(&v);
    let again = T0 + 2000;
    assert_eq!(f.plan(&v, again), Plan::Fetch(2));
    match finish(&mut f, &mut v, &mut restarted, 2, again) {
        Next::Failed(e) => assert_eq!(e.code(), "update_stale"),
        other => panic!("{other:?}"),
    }
    assert_eq!(view_of(&v), before);
    assert!(!f.in_flight(again));

    // Since-ahead in answer to a snapshot request is the origin's failure.
    assert_eq!(f.plan(&v, again), Plan::Fetch(2));
    assert_eq!(f.answer(&mut v, Answer::SinceAhead, again), Next::Fetch(0));
    match f.answer(&mut v, Answer::SinceAhead, again) {
        Next::Failed(e) => assert_eq!(e.code(), "since_ahead"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.stats().failures, 1);
    assert_eq!(view_of(&v), before);
}

#[test]
fn a_refused_update_changes_nothing_and_is_counted() {
    let (mut log, phone, laptop) = origin();
    let mut v = validator();
    let mut f = follower();
    refresh(&mut f, &mut v, &mut log, T0);
    log.revoke_all(&id("a")).unwrap();
    let before = view_of(&v);
    let fetched_at = f.fetched_at_ms();
    let mut tampered = log.update_since(1, NOW + 1).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let later = T0 + 1000;
    for (bytes, code) in [
        (&tampered[..], "update_bad_signature"),
        (&b"garbage"[..], "update_malformed"),
    ] {
        assert_eq!(f.plan(&v, later), Plan::Fetch(1));
        match f.answer(&mut v, Answer::Update(bytes), later) {
            Next::Failed(e) => assert_eq!(e.code(), code),
            other => panic!("{other:?}"),
        }
        assert_eq!(view_of(&v), before, "a refused update changed the view");
        assert_eq!(f.fetched_at_ms(), fetched_at);
        assert!(!f.in_flight(later));
    }
    assert_eq!(f.stats().refused, 2);
    assert_eq!(f.stats().applied, 1);
    assert_eq!(
        v.validate(&phone, NOW + 1).reason(),
        Some(Reason::RevokedDevice)
    );
    assert_eq!(v.validate(&laptop, NOW + 1).reason(), None);
}

#[test]
fn a_transport_failure_is_counted_and_releases_the_refresh() {
    let (mut log, _, _) = origin();
    let mut v = validator();
    let mut f = follower();
    assert_eq!(f.plan(&v, T0), Plan::Fetch(0));
    match f.answer(&mut v, Answer::Failed, T0 + 10) {
        Next::Failed(e) => assert_eq!(e.code(), "update_unavailable"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.stats().failures, 1);
    assert!(!f.in_flight(T0 + 10));
    assert_eq!(view_of(&v), (0, None, 0));
    // The next request tries again at once.
    assert_eq!(f.plan(&v, T0 + 10), Plan::Fetch(0));
    assert_eq!(finish(&mut f, &mut v, &mut log, 0, T0 + 20), Next::Done(1));
    assert_eq!(f.stats().fetches, 2);
}

#[test]
fn one_refresh_at_a_time() {
    let (mut log, _, _) = origin();
    let mut v = validator();
    let mut f = follower();
    assert_eq!(f.plan(&v, T0), Plan::Fetch(0));
    // No usable view yet: the others wait for it.
    assert_eq!(f.plan(&v, T0), Plan::Wait);
    assert_eq!(f.plan(&v, T0 + 100), Plan::Wait);
    assert_eq!(finish(&mut f, &mut v, &mut log, 0, T0 + 100), Next::Done(1));
    // Due again: one request refreshes, the others use the current view meanwhile.
    let later = T0 + 1000;
    assert_eq!(f.plan(&v, later), Plan::Fetch(1));
    assert_eq!(f.plan(&v, later), Plan::Use);
    assert_eq!(f.plan(&v, later + 50), Plan::Use);
    assert_eq!(f.stats().fetches, 2);
}

#[test]
fn a_refresh_older_than_the_timeout_is_presumed_lost() {
    let (mut log, _, _) = origin();
    let mut v = validator();
    let mut f = Follower::new(FollowerOptions {
        refresh_timeout_ms: 3000,
        ..FollowerOptions::default()
    })
    .unwrap();
    assert_eq!(f.plan(&v, T0), Plan::Fetch(0));
    assert_eq!(f.plan(&v, T0 + 2999), Plan::Wait);
    assert!(f.in_flight(T0 + 2999));
    assert!(!f.in_flight(T0 + 3000));
    assert_eq!(f.plan(&v, T0 + 3000), Plan::Fetch(0));
    assert_eq!(f.stats().fetches, 2);
    assert_eq!(
        finish(&mut f, &mut v, &mut log, 0, T0 + 3010),
        Next::Done(1)
    );
    assert_eq!(f.fetched_at_ms(), Some(T0 + 3000));
    // The lost fetch's answer, arriving late, is taken for what it is.
    let late = log.update_since(0, NOW + 3).unwrap();
    assert_eq!(
        f.answer(&mut v, Answer::Update(&late), T0 + 3020),
        Next::Done(1)
    );
}

#[test]
fn the_refresh_starts_early_by_the_last_fetch_time_and_a_tenth_of_the_target() {
    let (mut log, _, _) = origin();
    let mut v = validator();
    let mut f = follower();
    // A 200 ms refresh: lead 200 + 100, so due 700 ms after the fetch started.
    assert_eq!(f.plan(&v, T0), Plan::Fetch(0));
    finish(&mut f, &mut v, &mut log, 0, T0 + 200);
    assert_eq!(f.last_fetch_ms(), 200);
    assert_eq!(f.plan(&v, T0 + 699), Plan::Use);
    assert_eq!(f.plan(&v, T0 + 700), Plan::Fetch(1));
    // A 900 ms refresh: the lead is at most half the target.
    finish(&mut f, &mut v, &mut log, 1, T0 + 1600);
    assert_eq!(f.fetched_at_ms(), Some(T0 + 700));
    assert_eq!(f.plan(&v, T0 + 1199), Plan::Use);
    assert_eq!(f.plan(&v, T0 + 1200), Plan::Fetch(1));

    // A target of 0 refreshes on every request, one at a time.
    let mut eager = Follower::new(FollowerOptions {
        staleness_target_ms: 0,
        ..FollowerOptions::default()
    })
    .unwrap();
    let mut v = validator();
    assert_eq!(
        refresh(&mut eager, &mut v, &mut log, T0),
        Some(Next::Done(1))
    );
    assert_eq!(eager.plan(&v, T0), Plan::Fetch(1));
    assert_eq!(eager.plan(&v, T0), Plan::Use);
}

#[test]
fn a_view_that_stops_following_fails_closed_until_a_fresh_update() {
    let (mut log, _, laptop) = origin();
    let mut v = validator_with(Options {
        max_state_age: 30,
        ..options()
    });
    let mut f = follower();
    assert_eq!(v.validate(&laptop, NOW).reason(), Some(Reason::StateStale));
    refresh(&mut f, &mut v, &mut log, T0);
    assert_eq!(v.validate(&laptop, NOW + 30).reason(), None);
    // The follower is not asked again (no traffic, or every fetch hangs): the view ages out.
    assert_eq!(
        v.validate(&laptop, NOW + 31).reason(),
        Some(Reason::StateStale)
    );
    // A refresh hangs; past max_state_age the view is not usable, so requests wait.
    let later = (NOW + 31) * 1000;
    assert_eq!(f.plan(&v, later), Plan::Fetch(1));
    assert_eq!(f.plan(&v, later), Plan::Wait);
    // A fresh update (an empty delta is enough) brings it back.
    assert_eq!(finish(&mut f, &mut v, &mut log, 1, later), Next::Done(1));
    assert_eq!(v.validate(&laptop, NOW + 31).reason(), None);
    // Within max_state_age a view stays usable while a refresh is in flight.
    assert_eq!(f.plan(&v, later + 1000), Plan::Fetch(1));
    assert_eq!(f.plan(&v, later + 1000), Plan::Use);
}
