//! [`Follower`]: how a viewer — an edge isolate, a page, a Node backend — keeps a validator's
//! revocation view following the origin. One rule for all of them, pure: the caller does the
//! fetching and passes the time in.
//!
//! Freshness: when the newest applied update was fetched longer ago than the staleness target,
//! the next request starts a refresh while every other one carries on with the current view —
//! one refresh at a time. The refresh starts early by the duration of the last one plus a tenth
//! of the target (at most half the target), so that under steady traffic the new view is in
//! place before the current one reaches the target age. A refresh still running after the
//! timeout is presumed lost (its request was cancelled) and the next request starts another.
//! Only a request with no usable view waits.
//!
//! Fetching: a delta since the view's sequence (0, a snapshot, before anything was applied); a
//! delta that does not fit (`update_gap`) or a `since` the origin has not reached (since-ahead)
//! is followed by a snapshot. A refused update changes nothing and is counted.
//!
//! Failing closed is not the follower's: it is the validator's `max_state_age`, judged on the
//! newest update's signed creation time, so a view that stops following refuses valid tokens
//! with `state_stale` whatever this schedule does.

use crate::{ConfigError, Error, LogError, UpdateBytes, UpdateError, Validator};

/// The largest staleness target and refresh timeout accepted: a day, in milliseconds.
const MAX_MS: u64 = 86_400_000;

/// How eagerly a [`Follower`] refreshes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowerOptions {
    /// Refresh the view when the newest applied update was fetched longer ago than this
    /// (milliseconds, less the early lead). 0 refreshes on every request, one at a time.
    /// Default 1000.
    pub staleness_target_ms: u64,
    /// A refresh running longer than this (milliseconds) is presumed lost. 1 to 86400000;
    /// default 5000.
    pub refresh_timeout_ms: u64,
}

impl Default for FollowerOptions {
    fn default() -> Self {
        FollowerOptions {
            staleness_target_ms: 1000,
            refresh_timeout_ms: 5000,
        }
    }
}

/// What a request should do about the view, from [`Follower::plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Validate with the current view.
    Use,
    /// Fetch the update since this sequence (0: a snapshot) and report the outcome to
    /// [`Follower::answer`]; a refresh is now in flight.
    Fetch(u64),
    /// There is no usable view and another request's refresh is in flight: wait and plan again.
    Wait,
}

/// What the fetch a [`Follower`] asked for came back with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// The bytes of a signed update (HTTP 200).
    Update(&'a [u8]),
    /// The same, received in pieces into an [`UpdateBytes`]: applied without a copy
    /// ([`Validator::apply_received`]), which is what lets a cold view load a large snapshot.
    Received(UpdateBytes),
    /// The origin has not reached the `since` asked for (`since_ahead`, HTTP 409).
    SinceAhead,
    /// The fetch failed: no connection, a timeout, another status.
    Failed,
}

/// What to do after an [`Answer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// The update applied; the view is at this sequence and the refresh is over.
    Done(u64),
    /// Fetch the update since this sequence (0: a snapshot) and answer again.
    Fetch(u64),
    /// The refresh is over and the view unchanged: the update was refused (its error), the
    /// fetch failed (`update_unavailable`) or the origin refused a snapshot (`since_ahead`).
    Failed(Error),
}

/// What a [`Follower`] counted since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowerStats {
    /// Fetches asked for.
    pub fetches: u64,
    /// Of those, snapshots (since 0).
    pub snapshots: u64,
    /// Updates the validator applied.
    pub applied: u64,
    /// Updates the validator refused (a delta that did not fit included).
    pub refused: u64,
    /// Fetches that failed, and since-ahead answers to a snapshot.
    pub failures: u64,
}

/// The refresh in flight.
#[derive(Clone, Copy, Debug)]
struct Refresh {
    /// When its first fetch was asked for (ms): it times out from there, and it is when the
    /// update it brings was fetched.
    started_ms: i64,
    /// The `since` of the fetch being waited for.
    since: u64,
}

/// Keeps one validator's revocation view following the origin; see the module documentation.
#[derive(Clone, Debug)]
pub struct Follower {
    options: FollowerOptions,
    /// When the fetch of the newest applied update started (ms).
    fetched_at_ms: Option<i64>,
    refresh: Option<Refresh>,
    /// How long the last successful refresh took (ms).
    last_fetch_ms: i64,
    stats: FollowerStats,
}

/// A count of milliseconds or seconds as `i64`, saturating.
fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Follower {
    /// A follower that has fetched nothing yet. Errors: `invalid_option` for a staleness target
    /// over a day, or a refresh timeout of 0 or over a day.
    pub fn new(options: FollowerOptions) -> Result<Self, Error> {
        if options.staleness_target_ms > MAX_MS {
            return Err(Error::config(
                ConfigError::InvalidOption,
                format!(
                    "stalenessTargetMs is {}; use 0 to {MAX_MS}",
                    options.staleness_target_ms
                ),
            ));
        }
        if options.refresh_timeout_ms == 0 || options.refresh_timeout_ms > MAX_MS {
            return Err(Error::config(
                ConfigError::InvalidOption,
                format!(
                    "refreshTimeoutMs is {}; use 1 to {MAX_MS}",
                    options.refresh_timeout_ms
                ),
            ));
        }
        Ok(Follower {
            options,
            fetched_at_ms: None,
            refresh: None,
            last_fetch_ms: 0,
            stats: FollowerStats::default(),
        })
    }

    /// The options.
    pub fn options(&self) -> &FollowerOptions {
        &self.options
    }

    /// What a request should do at `now_ms` (Unix milliseconds). `Fetch` also marks a refresh in
    /// flight: the caller must then report every answer until `Done` or `Failed`.
    pub fn plan(&mut self, validator: &Validator, now_ms: i64) -> Plan {
        if self
            .fetched_at_ms
            .is_some_and(|t| now_ms.saturating_sub(t) < self.refresh_after_ms())
        {
            return Plan::Use;
        }
        if !self.in_flight(now_ms) {
            let since = self.since(validator);
            return Plan::Fetch(self.fetch(now_ms, since));
        }
        if self.usable(validator, now_ms) {
            Plan::Use
        } else {
            Plan::Wait
        }
    }

    /// Feeds in what the fetch asked for by [`Self::plan`] or by a previous answer came back
    /// with; applies an update to `validator` (at `now_ms / 1000` seconds) and says what next.
    /// An answer with no refresh in flight (one presumed lost, say) is taken as the answer to
    /// the fetch `plan` would ask for now.
    pub fn answer(&mut self, validator: &mut Validator, answer: Answer<'_>, now_ms: i64) -> Next {
        let refresh = self.refresh.take().unwrap_or(Refresh {
            started_ms: now_ms,
            since: self.since(validator),
        });
        match answer {
            Answer::Failed => {
                self.stats.failures += 1;
                Next::Failed(Error::update(
                    UpdateError::Unavailable,
                    format!(
                        "the update since {} could not be fetched; the view is unchanged",
                        refresh.since
                    ),
                ))
            }
            Answer::SinceAhead if refresh.since != 0 => {
                Next::Fetch(self.fetch(refresh.started_ms, 0))
            }
            Answer::SinceAhead => {
                self.stats.failures += 1;
                Next::Failed(Error::log(
                    LogError::SinceAhead,
                    "the origin answered since-ahead to a snapshot request (since=0)",
                ))
            }
            Answer::Update(bytes) => {
                let applied = validator.apply_revocation(bytes, now_ms.div_euclid(1000));
                self.applied(refresh, applied, now_ms)
            }
            Answer::Received(received) => {
                let applied = validator.apply_received(received, now_ms.div_euclid(1000));
                self.applied(refresh, applied, now_ms)
            }
        }
    }

    /// The end of an answer that carried an update: what applying it gave.
    fn applied(&mut self, refresh: Refresh, applied: Result<u64, Error>, now_ms: i64) -> Next {
        match applied {
            Ok(seq) => {
                self.stats.applied += 1;
                self.fetched_at_ms = Some(refresh.started_ms);
                self.last_fetch_ms = now_ms.saturating_sub(refresh.started_ms).max(0);
                Next::Done(seq)
            }
            Err(e) => {
                self.stats.refused += 1;
                if matches!(e, Error::Update(UpdateError::Gap, _)) && refresh.since != 0 {
                    Next::Fetch(self.fetch(refresh.started_ms, 0))
                } else {
                    Next::Failed(e)
                }
            }
        }
    }

    /// What was counted so far.
    pub fn stats(&self) -> FollowerStats {
        self.stats
    }

    /// When the fetch of the newest applied update started (Unix ms); `None` before the first.
    pub fn fetched_at_ms(&self) -> Option<i64> {
        self.fetched_at_ms
    }

    /// How long the last successful refresh took (ms), every fetch of it included.
    pub fn last_fetch_ms(&self) -> i64 {
        self.last_fetch_ms
    }

    /// Whether a refresh is in flight at `now_ms` (one older than the timeout is presumed lost).
    pub fn in_flight(&self, now_ms: i64) -> bool {
        let timeout = ms(self.options.refresh_timeout_ms);
        self.refresh
            .is_some_and(|r| now_ms.saturating_sub(r.started_ms) < timeout)
    }

    /// How long after a fetch started the next refresh is due: the target less the early lead
    /// (the last refresh's duration plus a tenth of the target, at most half the target).
    fn refresh_after_ms(&self) -> i64 {
        let target = ms(self.options.staleness_target_ms);
        let lead = self
            .last_fetch_ms
            .saturating_add(target / 10)
            .clamp(0, target / 2);
        target - lead
    }

    /// The `since` of a refresh starting now: 0 (a snapshot) until this follower applied one.
    fn since(&self, validator: &Validator) -> u64 {
        self.fetched_at_ms.map_or(0, |_| validator.revocation_seq())
    }

    /// Marks a fetch since `since` in flight, as part of a refresh that started at `started_ms`.
    fn fetch(&mut self, started_ms: i64, since: u64) -> u64 {
        self.refresh = Some(Refresh { started_ms, since });
        self.stats.fetches += 1;
        if since == 0 {
            self.stats.snapshots += 1;
        }
        since
    }

    /// Whether the view may serve while a refresh is in flight: this follower applied an
    /// update, and it is within the validator's `max_state_age` (when one is set).
    fn usable(&self, validator: &Validator, now_ms: i64) -> bool {
        let max = validator.options().max_state_age;
        match (self.fetched_at_ms, validator.view().newest_created_at()) {
            (Some(_), Some(created)) => {
                max == 0 || now_ms.div_euclid(1000).saturating_sub(created) <= ms(max)
            }
            _ => false,
        }
    }
}
