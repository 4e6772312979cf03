//! A fixed amount of validation work for instruction counting, which is repeatable on a shared
//! machine where wall-clock benchmarks move by ±15 %:
//!
//! ```sh
//! cargo build --release --example validate_loop
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/validate_loop cold
//! ```
//!
//! `none` mints 200 tokens and stops (the baseline to subtract); `cold` then validates each 5
//! times with the cache off (1000 full validations); `cached` validates each 500 times with the
//! cache on (200 misses, 99 800 hits). The program uses only API that has not changed since the
//! first release, so the same file measures older commits too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use epochgate::{Issuer, KeySet, MintRequest, Options, PrivateKey, Validator};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let key = PrivateKey::from_seed("k", &[7; 32]).unwrap();
    let issuer = Issuer::new("iss", "aud", key.clone(), None, None).unwrap();
    let now = 1_800_000_000;
    let tokens: Vec<String> = (0..200)
        .map(|i| {
            issuer
                .mint(&MintRequest {
                    account: &format!("acct-{i}"),
                    session: &format!("s-{i}"),
                    device: i,
                    epoch: 0,
                    now,
                    ttl: None,
                    jti: None,
                    auth_time: None,
                    amr: None,
                })
                .unwrap()
        })
        .collect();
    let (cache_size, rounds) = match mode.as_str() {
        "none" => (0, 0),
        "cold" => (0, 5),
        "cached" => (10_000, 500),
        _ => panic!("usage: validate_loop none|cold|cached"),
    };
    let options = Options {
        issuer: "iss".into(),
        audience: "aud".into(),
        cache_size,
        ..Options::default()
    };
    let mut v = Validator::new(
        options,
        KeySet::new(vec![key.public()]).unwrap(),
        None,
        [1; 16],
    )
    .unwrap();
    for _ in 0..rounds {
        for t in &tokens {
            black_box(v.validate(black_box(t), now));
        }
    }
}
