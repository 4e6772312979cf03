//! Keeping the isolate's view fresh: the schedule and the fetch rule are the core's
//! [`Follower`](epochgate::Follower); this file only drives it — asks it what to do, fetches
//! what it asks for, feeds the answers back — without holding the isolate's state across an
//! `await`.
//!
//! Requests never await another request's promise (workerd forbids cross-request I/O): a request
//! with no usable view while another one refreshes polls every 10 ms, for at most 5 s.

use epochgate::{Answer, Error, Next, Plan, UpdateBytes};

use crate::error::ApiError;

type R<T> = std::result::Result<T, ApiError>;

/// How long a request with no usable view waits for another request's refresh.
pub(super) const WAIT_FOR_VIEW_MS: i64 = 5000;
/// How often a waiting request looks again.
const POLL_MS: u64 = 10;

/// What one fetch of the update since some sequence came back with.
pub(super) enum Fetched {
    /// 200: the update's bytes, read in pieces.
    Update(UpdateBytes),
    /// 409: the origin has not reached that sequence.
    SinceAhead,
    /// Anything else; already logged.
    Failed,
}

/// What the driver needs from the isolate. Each call borrows the isolate's state for itself
/// only.
pub(super) trait Viewer {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;
    /// The follower's plan at `now_ms`.
    fn plan(&self, now_ms: i64) -> R<Plan>;
    /// Feeds a fetch's outcome to the follower.
    fn answer(&self, answer: Answer<'_>, now_ms: i64) -> R<Next>;
    /// A refresh ended without applying an update.
    fn failed(&self, error: &Error);
    /// Fetches the update since `since` (0: a snapshot).
    async fn fetch(&self, since: u64) -> Fetched;
    /// Waits `ms` milliseconds.
    async fn sleep(&self, ms: u64);
}

/// Makes the view fresh enough for this request: refreshes it when this request is the first
/// to find it due, waits for another request's refresh only when there is no usable view.
pub(super) async fn ensure_fresh(v: &impl Viewer) -> R<()> {
    let started = v.now_ms();
    loop {
        match v.plan(v.now_ms())? {
            Plan::Use => return Ok(()),
            Plan::Fetch(since) => return refresh(v, since).await,
            Plan::Wait if v.now_ms() - started > WAIT_FOR_VIEW_MS => return Ok(()),
            Plan::Wait => v.sleep(POLL_MS).await,
        }
    }
}

/// One refresh: fetches until the follower is done (a delta, then a snapshot when the delta did
/// not fit or the origin is behind). A refused update changes nothing; it is counted and logged.
async fn refresh(v: &impl Viewer, mut since: u64) -> R<()> {
    loop {
        let answer = match v.fetch(since).await {
            Fetched::Update(received) => Answer::Received(received),
            Fetched::SinceAhead => Answer::SinceAhead,
            Fetched::Failed => Answer::Failed,
        };
        match v.answer(answer, v.now_ms())? {
            Next::Done(_) => return Ok(()),
            Next::Fetch(next) => since = next,
            Next::Failed(e) => {
                v.failed(&e);
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;

    use epochgate::{
        AccountId, Follower, FollowerOptions, KeySet, Options, PrivateKey, RevocationLog, Validator,
    };
    use futures_util::FutureExt;

    use super::*;

    fn update(bytes: Vec<u8>) -> Fetched {
        Fetched::Update(UpdateBytes::from_slice(&bytes).unwrap())
    }

    /// A viewer with a scripted origin and a clock that moves only when told (or when sleeping).
    struct Script {
        state: RefCell<(Follower, Validator)>,
        clock: Cell<i64>,
        answers: RefCell<VecDeque<Fetched>>,
        asked: RefCell<Vec<u64>>,
        failures: RefCell<Vec<&'static str>>,
    }

    impl Script {
        fn new() -> Self {
            let token_key = PrivateKey::from_seed("t", &[1; 32]).unwrap();
            let revocation_key = PrivateKey::from_seed("r", &[2; 32]).unwrap();
            let validator = Validator::new(
                Options {
                    issuer: "i".into(),
                    audience: "a".into(),
                    ..Options::default()
                },
                KeySet::new(vec![token_key.public()]).unwrap(),
                Some(KeySet::new(vec![revocation_key.public()]).unwrap()),
                [0; 16],
            )
            .unwrap();
            Script {
                state: RefCell::new((
                    Follower::new(FollowerOptions::default()).unwrap(),
                    validator,
                )),
                clock: Cell::new(1_700_000_000_000),
                answers: RefCell::new(VecDeque::new()),
                asked: RefCell::new(Vec::new()),
                failures: RefCell::new(Vec::new()),
            }
        }

        fn will_answer(&self, fetched: Fetched) {
            self.answers.borrow_mut().push_back(fetched);
        }

        fn seq(&self) -> u64 {
            self.state.borrow().1.revocation_seq()
        }

        fn run(&self) {
            ensure_fresh(self).now_or_never().unwrap().unwrap();
        }
    }

    impl Viewer for Script {
        fn now_ms(&self) -> i64 {
            self.clock.get()
        }
        fn plan(&self, now_ms: i64) -> R<Plan> {
            let (f, v) = &mut *self.state.borrow_mut();
            Ok(f.plan(v, now_ms))
        }
        fn answer(&self, answer: Answer<'_>, now_ms: i64) -> R<Next> {
            let (f, v) = &mut *self.state.borrow_mut();
            Ok(f.answer(v, answer, now_ms))
        }
        fn failed(&self, error: &Error) {
            self.failures.borrow_mut().push(error.code());
        }
        async fn fetch(&self, since: u64) -> Fetched {
            self.asked.borrow_mut().push(since);
            self.answers
                .borrow_mut()
                .pop_front()
                .unwrap_or(Fetched::Failed)
        }
        async fn sleep(&self, ms: u64) {
            self.clock.set(self.clock.get() + ms as i64);
        }
    }

    fn origin() -> (RevocationLog, AccountId) {
        let log = RevocationLog::new(PrivateKey::from_seed("r", &[2; 32]).unwrap());
        (log, AccountId::new("acct_1").unwrap())
    }

    #[test]
    fn cold_start_loads_a_snapshot_then_uses_it_until_due() {
        let (mut log, alice) = origin();
        log.revoke_all(&alice).unwrap();
        let s = Script::new();
        let now_s = s.now_ms() / 1000;
        s.will_answer(update(log.update_since(0, now_s).unwrap()));
        s.run();
        assert_eq!((s.seq(), s.asked.take()), (1, vec![0]));
        // Within the staleness target: no fetch.
        s.clock.set(s.clock.get() + 500);
        s.run();
        assert!(s.asked.take().is_empty());
        // Due: a delta since the view's sequence.
        log.revoke_all(&alice).unwrap();
        s.clock.set(s.clock.get() + 500);
        s.will_answer(update(log.update_since(1, now_s).unwrap()));
        s.run();
        assert_eq!((s.seq(), s.asked.take()), (2, vec![1]));
        assert!(s.failures.take().is_empty());
    }

    #[test]
    fn a_gap_or_since_ahead_is_followed_by_a_snapshot() {
        let (mut log, alice) = origin();
        log.revoke_all(&alice).unwrap();
        let s = Script::new();
        let now_s = s.now_ms() / 1000;
        s.will_answer(update(log.update_since(0, now_s).unwrap()));
        s.run();
        s.asked.take();
        log.revoke_all(&alice).unwrap();
        log.revoke_all(&alice).unwrap();
        // A delta that starts past the view's sequence does not fit.
        s.clock.set(s.clock.get() + 1000);
        s.will_answer(update(log.update_since(2, now_s).unwrap()));
        s.will_answer(update(log.update_since(0, now_s).unwrap()));
        s.run();
        assert_eq!((s.seq(), s.asked.take()), (3, vec![1, 0]));
        // An origin behind the view answers since-ahead; the snapshot then decides.
        log.revoke_all(&alice).unwrap();
        s.clock.set(s.clock.get() + 1000);
        s.will_answer(Fetched::SinceAhead);
        s.will_answer(update(log.update_since(0, now_s).unwrap()));
        s.run();
        assert_eq!((s.seq(), s.asked.take()), (4, vec![3, 0]));
        assert!(s.failures.take().is_empty());
    }

    #[test]
    fn refused_and_failed_fetches_change_nothing_and_are_counted() {
        let (mut log, alice) = origin();
        log.revoke_all(&alice).unwrap();
        let s = Script::new();
        let now_s = s.now_ms() / 1000;
        s.will_answer(update(log.update_since(0, now_s).unwrap()));
        s.run();
        s.asked.take();
        s.clock.set(s.clock.get() + 1000);
        s.will_answer(update(b"garbage".to_vec()));
        s.run();
        s.clock.set(s.clock.get() + 1000);
        s.will_answer(Fetched::Failed);
        s.run();
        assert_eq!(s.seq(), 1);
        assert_eq!(s.asked.take(), vec![1, 1]);
        assert_eq!(
            s.failures.take(),
            vec!["update_malformed", "update_unavailable"]
        );
    }

    #[test]
    fn with_no_usable_view_a_request_waits_for_another_refresh_then_takes_it_over() {
        let s = Script::new();
        // Another request started the first refresh and never answered (it was cancelled).
        assert_eq!(s.plan(s.now_ms()).unwrap(), Plan::Fetch(0));
        let start = s.now_ms();
        s.run();
        // This one polled until the refresh timed out, then fetched the snapshot itself.
        let waited = s.now_ms() - start;
        assert!((5000..5000 + 20).contains(&waited), "{waited}");
        assert_eq!(s.asked.take(), vec![0]);
        assert_eq!(s.failures.take(), vec!["update_unavailable"]);
    }
}
