//! The isolate's budget for password hashing: a token bucket of estimated CPU milliseconds. A
//! flood of logins or sign-ups from many addresses — which no per-address limit stops — is shed
//! with 503 `overloaded` and `Retry-After` once the isolate has spent its share, so validation
//! and the revocation feed keep the rest of the isolate's time.
//!
//! The cost of a hash is estimated from its Argon2 parameters, not timed: inside a Worker the
//! clock does not move while code runs, so a measured duration would read zero.

use crate::password::Argon2Params;

/// Estimated nanoseconds of wasm Argon2id per KiB of memory per pass (one lane): about 45 ms
/// for OWASP's 19 MiB × 2 passes.
const NS_PER_KIB_PASS: u64 = 1_150;

/// The estimated CPU cost of one hash or verification with `p`, ms (at least 1).
pub(crate) fn hash_cost_ms(p: &Argon2Params) -> f64 {
    let kib_passes = u64::from(p.memory_kib) * u64::from(p.iterations);
    (kib_passes.saturating_mul(NS_PER_KIB_PASS) as f64 / 1e6).max(1.0)
}

/// A token bucket: `per_second` ms of hashing each second, at most one second's worth saved.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    per_second: f64,
    left: f64,
    at_ms: f64,
}

impl Budget {
    /// A full budget of `per_second` ms per second (0 turns hashing off).
    pub(crate) fn new(per_second: u64, now_ms: f64) -> Self {
        let per_second = per_second as f64;
        Budget {
            per_second,
            left: per_second,
            at_ms: now_ms,
        }
    }

    /// Spends `cost` ms at `now_ms`, or answers how many whole seconds until it could be spent.
    /// A cost above a whole second's budget is allowed once the budget is full, so expensive
    /// parameters slow hashing down instead of stopping it.
    pub(crate) fn spend(&mut self, cost: f64, now_ms: f64) -> Result<(), u64> {
        self.check(cost, now_ms)?;
        self.left -= cost;
        Ok(())
    }

    /// Whether `cost` could be spent at `now_ms`, spending nothing: lets a request that would be
    /// shed anyway be answered before it costs anything else (a rate limiter call).
    pub(crate) fn check(&mut self, cost: f64, now_ms: f64) -> Result<(), u64> {
        if self.per_second <= 0.0 {
            return Err(60);
        }
        let elapsed = (now_ms - self.at_ms).max(0.0);
        self.left = (self.left + elapsed / 1000.0 * self.per_second).min(self.per_second);
        self.at_ms = self.at_ms.max(now_ms);
        let need = cost.min(self.per_second);
        if self.left >= need {
            return Ok(());
        }
        let seconds = (need - self.left) / self.per_second;
        Err((seconds.ceil() as u64).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: f64 = 1_700_000_000_000.0;

    #[test]
    fn owasp_parameters_cost_tens_of_milliseconds_and_test_ones_almost_nothing() {
        let owasp = hash_cost_ms(&Argon2Params::default());
        assert!((40.0..60.0).contains(&owasp), "{owasp}");
        let fast = Argon2Params {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        };
        assert_eq!(hash_cost_ms(&fast), 1.0);
    }

    #[test]
    fn a_second_of_budget_is_spent_then_refills_with_time() {
        let mut b = Budget::new(500, T);
        for _ in 0..10 {
            assert_eq!(b.spend(50.0, T), Ok(()));
        }
        assert_eq!(b.spend(50.0, T), Err(1));
        // A tenth of a second later, 50 ms have come back: one more hash.
        assert_eq!(b.spend(50.0, T + 100.0), Ok(()));
        assert_eq!(b.spend(50.0, T + 100.0), Err(1));
        // Savings stop at one second's worth.
        let mut idle = Budget::new(500, T);
        assert_eq!(idle.spend(500.0, T + 60_000.0), Ok(()));
        assert_eq!(idle.spend(1.0, T + 60_000.0), Err(1));
    }

    #[test]
    fn a_check_spends_nothing() {
        let mut b = Budget::new(100, T);
        for _ in 0..5 {
            assert_eq!(b.check(100.0, T), Ok(()));
        }
        assert_eq!(b.spend(100.0, T), Ok(()));
        assert_eq!(b.check(1.0, T), Err(1));
    }

    #[test]
    fn a_hash_dearer_than_the_budget_runs_once_it_is_full() {
        let mut b = Budget::new(100, T);
        assert_eq!(b.spend(250.0, T), Ok(()));
        // It borrowed from the future: nothing for the next 2.5 s.
        assert_eq!(b.spend(250.0, T + 1000.0), Err(2));
        assert_eq!(b.spend(250.0, T + 3500.0), Ok(()));
    }

    #[test]
    fn a_clock_going_back_gives_nothing_back_and_zero_turns_hashing_off() {
        let mut b = Budget::new(100, T);
        assert_eq!(b.spend(100.0, T), Ok(()));
        assert_eq!(b.spend(10.0, T - 5000.0), Err(1));
        assert_eq!(Budget::new(0, T).spend(1.0, T), Err(60));
    }
}
