//! Where an account lives: accounts are spread over `ORIGIN_SHARDS` SQLite-backed `Origin`
//! objects by a hash of the account id, and emails over as many `Directory` objects by a hash of
//! the normalised email. The count is fixed for a deployment — changing it moves accounts to
//! other objects, which nothing here migrates.
//!
//! Choosing it: each object serves one request at a time, so the count bounds how many account
//! transitions run at once; docs/BENCHMARKS.md (Capacity) derives it from measured costs. An idle
//! object costs nothing, so erring high is cheap; past a few thousand, admin listings that visit
//! every shard get slow.

use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The default count.
pub const DEFAULT_SHARDS: u32 = 8;
/// The largest count accepted.
pub const MAX_SHARDS: u32 = 4096;

/// The deployment's shard count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shards(u32);

/// A uniform number from `label` and `key`, so account and email placements are independent.
fn spread(label: &str, key: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(first)
}

impl Shards {
    /// `count` shards, 1 to [`MAX_SHARDS`].
    pub fn new(count: u64) -> Result<Self, ApiError> {
        match u32::try_from(count) {
            Ok(n) if (1..=MAX_SHARDS).contains(&n) => Ok(Shards(n)),
            _ => Err(ApiError::not_configured(format!(
                "ORIGIN_SHARDS is {count}; it must be 1 to {MAX_SHARDS}"
            ))),
        }
    }

    /// How many.
    pub fn count(self) -> u32 {
        self.0
    }

    /// The shard of an account.
    pub fn of_account(self, account: &str) -> u32 {
        (spread("epochgate account shard", account) % u64::from(self.0)) as u32
    }

    /// The directory shard of an email (`email` already normalised).
    pub fn of_email(self, email: &str) -> u32 {
        (spread("epochgate email shard", email) % u64::from(self.0)) as u32
    }

    /// The name of origin shard `i`. With one shard it is `origin`, the single object's name
    /// from before sharding.
    pub fn origin_name(self, i: u32) -> String {
        if self.0 == 1 {
            "origin".to_owned()
        } else {
            format!("origin-{i}-of-{}", self.0)
        }
    }

    /// The name of directory shard `i`.
    pub fn directory_name(self, i: u32) -> String {
        format!("directory-{i}-of-{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outside_the_range_are_refused() {
        assert!(Shards::new(0).is_err());
        assert!(Shards::new(u64::from(MAX_SHARDS) + 1).is_err());
        assert_eq!(Shards::new(8).unwrap().count(), 8);
    }

    #[test]
    fn placement_is_stable_and_spread() {
        let k = Shards::new(8).unwrap();
        let mut per_shard = [0u32; 8];
        for i in 0..8000 {
            let s = k.of_account(&format!("acct_{i}"));
            assert_eq!(s, k.of_account(&format!("acct_{i}")));
            per_shard[s as usize] += 1;
        }
        // 1000 expected each; a fair spread stays well within ±15 %.
        assert!(
            per_shard.iter().all(|&n| (850..1150).contains(&n)),
            "{per_shard:?}"
        );
        // Accounts and emails are placed independently.
        let same = (0..1000)
            .filter(|i| {
                let key = format!("k{i}");
                k.of_account(&key) == k.of_email(&key)
            })
            .count();
        assert!((60..200).contains(&same), "{same}");
    }

    #[test]
    fn one_shard_keeps_the_old_name() {
        let one = Shards::new(1).unwrap();
        assert_eq!(one.of_account("acct_x"), 0);
        assert_eq!(one.origin_name(0), "origin");
        assert_eq!(Shards::new(8).unwrap().origin_name(3), "origin-3-of-8");
    }
}
