//! Throttles on guessing: failures are counted per bucket — the email (hashed) and the client's
//! network for a login or a reset, the session for a re-authentication — never per account
//! alone, so a stranger's failures cannot block the owner's own session or address. The same
//! buckets exist for unknown emails as for real ones: the answers do not tell them apart.
//!
//! The policy ([`wait`]) is pure: [`FREE`] failures in [`WINDOW`] cost nothing; after that
//! each attempt waits `2^(n − FREE)` seconds after the last failure, up to [`MAX_DELAY`].
//! Attempts are kept in milliseconds, so a one-second wait is a whole second.

use epochgate::SessionId;

use super::ctx::Ctx;
use super::store::{ClientInfo, Store};
use crate::client::network;
use crate::error::ApiError;

type R<T> = std::result::Result<T, ApiError>;

/// Failures in the window that cost no wait.
pub(super) const FREE: usize = 5;
/// Failures older than this are forgotten, seconds.
pub(super) const WINDOW: i64 = 3600;
/// The longest wait, seconds.
pub(super) const MAX_DELAY: i64 = 15 * 60;

/// A named counter of failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Bucket(String);

impl Bucket {
    /// Logins to one email (its keyed hash) from one network.
    pub(super) fn login(email_hash: &str, client: &ClientInfo) -> Self {
        Bucket(format!(
            "login:{email_hash}:{}",
            network(client.ip.as_deref())
        ))
    }

    /// Re-authentications of one session: its owner's own bucket.
    pub(super) fn session(id: &SessionId) -> Self {
        Bucket(format!("reauth:{}", id.as_str()))
    }

    /// Password-reset confirmations for one email from one network.
    pub(super) fn reset(email_hash: &str, client: &ClientInfo) -> Self {
        Bucket(format!(
            "reset:{email_hash}:{}",
            network(client.ip.as_deref())
        ))
    }

    /// Mails sent to one account on request (email codes, reset codes).
    pub(super) fn mail(account_or_email_hash: &str) -> Self {
        Bucket(format!("mail:{account_or_email_hash}"))
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whole seconds (rounded up) until `until_ms`, when it is still ahead of `now_ms`.
pub(super) fn seconds_until(until_ms: i64, now_ms: i64) -> Option<u64> {
    let left = until_ms - now_ms;
    (left > 0).then(|| u64::try_from((left + 999) / 1000).unwrap_or(1))
}

/// Seconds to wait before the next attempt, given the times (ms) of the bucket's failures in
/// the window and how many of them are free.
pub(super) fn wait(failures_ms: &[i64], free: usize, now_ms: i64) -> Option<u64> {
    let n = failures_ms.len();
    if n < free {
        return None;
    }
    let last = failures_ms.iter().copied().max()?;
    let exponent = u32::try_from(n - free).unwrap_or(u32::MAX).min(20);
    let delay = (1_i64 << exponent).min(MAX_DELAY);
    seconds_until(last + delay * 1000, now_ms)
}

/// 429 with `Retry-After` while the bucket's failures in the window and its live reservations
/// (password checks under way at the edge, `passwords.rs`) say wait.
pub(super) fn judge(store: &Store, bucket: &Bucket, free: usize, now_ms: i64) -> R<()> {
    let mut attempts = store.attempts(bucket.as_str(), now_ms - WINDOW * 1000)?;
    attempts.extend(store.reserved(bucket.as_str(), now_ms)?);
    match wait(&attempts, free, now_ms) {
        Some(after) => Err(ApiError::rate_limited(after)),
        None => Ok(()),
    }
}

/// Counts an attempt (a failure, or a mail sent) in the bucket.
pub(super) fn count(store: &Store, bucket: &str, now_ms: i64) -> R<()> {
    store.record_attempt(bucket, now_ms, now_ms - WINDOW * 1000)
}

impl Ctx<'_> {
    /// The times (ms) of the bucket's attempts in the last `within` seconds, newest first.
    pub(super) fn recent(&self, bucket: &Bucket, within: i64) -> R<Vec<i64>> {
        self.store()
            .attempts(bucket.as_str(), self.now_ms - within * 1000)
    }

    /// [`judge`] at this request's time.
    pub(super) fn check_bucket(&self, bucket: &Bucket, free: usize) -> R<()> {
        judge(self.store(), bucket, free, self.now_ms)
    }

    /// [`Ctx::check_bucket`], unless this request holds a reservation in the bucket: it was
    /// judged when the reservation was made.
    pub(super) fn admit(&self, bucket: &Bucket, free: usize) -> R<()> {
        if self.holds(bucket)? {
            return Ok(());
        }
        self.check_bucket(bucket, free)
    }

    /// Counts an attempt (a failure, or a mail sent) in the bucket.
    pub(super) fn count(&self, bucket: &Bucket) -> R<()> {
        count(self.store(), bucket.as_str(), self.now_ms)
    }

    /// Forgets a bucket's failures after a success.
    pub(super) fn clear_bucket(&self, bucket: &Bucket) -> R<()> {
        self.store().clear_attempts(bucket.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const S: i64 = 1000;

    #[test]
    fn free_failures_cost_nothing() {
        assert_eq!(wait(&[], FREE, NOW), None);
        assert_eq!(wait(&[NOW; FREE - 1], FREE, NOW), None);
    }

    #[test]
    fn waits_double_after_the_free_ones_and_stop_growing() {
        let at = |n: usize| vec![NOW; n];
        assert_eq!(wait(&at(FREE), FREE, NOW), Some(1));
        assert_eq!(wait(&at(FREE + 1), FREE, NOW), Some(2));
        assert_eq!(wait(&at(FREE + 4), FREE, NOW), Some(16));
        assert_eq!(wait(&at(FREE + 30), FREE, NOW), Some(MAX_DELAY as u64));
        // Counted from the last failure: once the wait is over, one more try is allowed.
        assert_eq!(wait(&at(FREE + 1), FREE, NOW + 2 * S), None);
        assert_eq!(wait(&at(FREE + 1), FREE, NOW + S), Some(1));
        // A wait is never cut short by rounding: 1 ms left is a whole second to announce.
        assert_eq!(wait(&at(FREE), FREE, NOW + 999), Some(1));
        assert_eq!(wait(&at(FREE), FREE, NOW + S), None);
        assert_eq!(wait(&at(FREE + 1), FREE, NOW + 1001), Some(1));
    }

    #[test]
    fn buckets_of_a_login_differ_by_network_not_by_port_of_the_same_64() {
        let c = |ip: &str| ClientInfo {
            ip: Some(ip.into()),
            ..ClientInfo::default()
        };
        assert_ne!(
            Bucket::login("h", &c("203.0.113.7")),
            Bucket::login("h", &c("203.0.113.8"))
        );
        assert_ne!(
            Bucket::login("h", &c("203.0.113.7")),
            Bucket::reset("h", &c("203.0.113.7"))
        );
    }
}
