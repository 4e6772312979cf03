//! What retention buys at scale: snapshot bytes, view memory and cold-start time (decode, verify,
//! apply) with and without the horizon, under a stated churn, against the 128 MB isolate limit.
//!
//! Run: `cargo run --release --example retention -- [accounts...]` (default 1000000 10000000).
//!
//! Churn: every day 2 % of accounts, drawn uniformly, sign out — half of them one device (a slot
//! below 8 of the current epoch), half every device (the epoch moves). Tokens live 30 days, the
//! clock tolerance is 60 s, so the horizon is 30 days + 120 s. In steady state an account has a
//! record in the horizon when it signed out at least once in the last 30 days: 1 − 0.98³⁰ ≈ 45.5 %
//! of accounts. Without retention, after a year 1 − 0.98³⁶⁵ ≈ 99.9 % of them have one.
//!
//! Part 1 drives the real log over 60 days at the first size (records leave snapshots, and a warm
//! view following daily deltas drops them too); part 2 builds the steady-state snapshot directly
//! (the log's memory store would need gigabytes at 10⁷) with keys drawn uniformly over the whole
//! key space, as hashed account ids are, and measures the cold start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use epochgate::{
    retention_horizon, AccountId, AccountKey, AccountState, DeviceSlot, Epoch, KeySet, Options,
    PrivateKey, Record, RevocationLog, SlotSet, UnverifiedUpdate, Update, UpdateBytes, UpdateKind,
    Validator,
};

const DAY: i64 = 86_400;
const TTL: u64 = 30 * DAY as u64;
const TOLERANCE: u64 = 60;
const CHURN: f64 = 0.02;
const START: i64 = 1_800_000_000;

/// splitmix64: a fixed, seedable stream, so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn validator(key: &PrivateKey) -> Validator {
    let token = PrivateKey::from_seed("tokens", &[1; 32]).unwrap();
    Validator::new(
        Options {
            issuer: "https://id.example".into(),
            audience: "app".into(),
            clock_tolerance: TOLERANCE,
            ..Options::default()
        },
        KeySet::new(vec![token.public()]).unwrap(),
        Some(KeySet::new(vec![key.public()]).unwrap()),
        [3; 16],
    )
    .unwrap()
}

/// Resident set and its peak since the last reset, in bytes (Linux).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Part 1: the real log and a warm view over 60 days of churn.
fn simulate(accounts: u64, key: &PrivateKey) {
    let horizon = retention_horizon(TTL, TOLERANCE);
    let mut log = RevocationLog::new(key.clone()).with_horizon(horizon);
    let mut warm = validator(key);
    let mut rng = Rng(42);
    let ids: Vec<AccountId> = (0..accounts)
        .map(|i| AccountId::new(&format!("acct-{i}")).unwrap())
        .collect();
    let per_day = (accounts as f64 * CHURN) as u64;
    println!(
        "part 1: the log, {accounts} accounts, {per_day} sign-outs a day, horizon {horizon} s"
    );
    println!("| day | records in a snapshot | share of accounts | warm view's accounts | delta records / expired |");
    println!("|---:|---:|---:|---:|---:|");
    for day in 1..=60i64 {
        for _ in 0..per_day {
            let id = &ids[rng.below(accounts) as usize];
            if rng.next() & 1 == 0 {
                log.revoke_all(id).unwrap();
            } else {
                let slot = log.allocate_device(id).unwrap();
                log.revoke_device(id, DeviceSlot(slot.0)).unwrap();
            }
        }
        let now = START + day * DAY;
        let delta = log.update_since(warm.revocation_seq(), now).unwrap();
        let d = UnverifiedUpdate::decode(&delta).unwrap();
        let (n_records, n_expired) = {
            let keys = KeySet::new(vec![key.public()]).unwrap();
            let u = d.verify(&keys).unwrap();
            (u.records.len(), u.expired.len())
        };
        warm.apply_revocation(&delta, now).unwrap();
        if day % 10 == 0 || day == 31 {
            let snapshot = log.snapshot(now).unwrap();
            let mut cold = validator(key);
            cold.apply_revocation(&snapshot, now).unwrap();
            println!(
                "| {day} | {} | {:.1} % | {} | {n_records} / {n_expired} |",
                cold.view().len(),
                100.0 * cold.view().len() as f64 / accounts as f64,
                warm.view().len(),
            );
        }
    }
}

/// A steady-state record: half the accounts last signed out one device, half every device.
fn state(rng: &mut Rng) -> AccountState {
    if rng.next() & 1 == 0 {
        AccountState {
            epoch: Epoch(1 + rng.below(3) as u32),
            revoked: SlotSet::new(),
        }
    } else {
        AccountState {
            epoch: Epoch(rng.below(3) as u32),
            revoked: SlotSet::from_slots([rng.below(8) as u16]),
        }
    }
}

/// The key of account `i`: uniform, as hashed account ids are.
fn account_key(i: u64) -> AccountKey {
    AccountKey(Rng(i.wrapping_mul(0xA24B_AED4_963E_E407)).next())
}

/// Part 2: writes the snapshot of a data set of `accounts` of which the first `records` hold a
/// record, then measures its cold start in a fresh process (so the peak is the cold start's).
fn cold_start(label: &str, accounts: u64, records: u64, key: &PrivateKey) {
    let mut rng = Rng(accounts ^ records);
    let mut recs: Vec<Record> = (0..records)
        .map(|i| Record {
            account: account_key(i),
            state: state(&mut rng),
        })
        .collect();
    recs.sort_unstable_by_key(|r| r.account);
    recs.dedup_by_key(|r| r.account);
    let n = recs.len();
    // Created now (before START), so a Worker fed the dumped snapshot takes it as current.
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .min(START as u64) as i64;
    let signed = Update {
        kind: UpdateKind::Snapshot,
        from_seq: 0,
        seq: 1,
        created_at,
        horizon: retention_horizon(TTL, TOLERANCE),
        records: recs,
        expired: vec![],
    }
    .sign(key);
    let Ok(bytes) = signed else {
        println!("| {label} | {accounts} | {n} | over the {} MiB update cap: cannot be served | | | | | | |", epochgate::MAX_UPDATE_BYTES >> 20);
        return;
    };
    let path = std::env::temp_dir().join(format!("epochgate-retention-{accounts}-{records}.bin"));
    std::fs::write(&path, &bytes).unwrap();
    // RETENTION_DUMP=dir keeps the snapshot and its key, e.g. to time the wasm package on it.
    if let Some(dir) = std::env::var_os("RETENTION_DUMP") {
        let dir = std::path::Path::new(&dir);
        std::fs::write(
            dir.join(format!("snapshot-{accounts}-{records}.bin")),
            &bytes,
        )
        .unwrap();
        let jwks = KeySet::new(vec![key.public()]).unwrap().to_jwks();
        std::fs::write(dir.join("revocation-jwks.json"), jwks.to_string()).unwrap();
        // The example's fixed test key, so a Worker can be configured to trust the dump.
        std::fs::write(
            dir.join("revocation-private-jwk.json"),
            key.to_jwk().to_string(),
        )
        .unwrap();
    }
    drop(bytes);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["cold", &path.to_string_lossy(), &accounts.to_string()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    print!(
        "| {label} | {accounts} | {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The child of [`cold_start`]: receives the snapshot in 64 KiB pieces, as a cold isolate
/// receives a response body of known length, then verifies and applies it — once.
fn cold(path: &str, accounts: u64) {
    use std::io::Read;
    let key = PrivateKey::from_seed("revocations", &[2; 32]).unwrap();
    let mut file = std::fs::File::open(path).unwrap();
    let len = file.metadata().unwrap().len() as usize;
    let mut v = validator(&key);
    let mut piece = vec![0u8; 64 << 10];
    let (base, _) = rss();
    reset_peak();
    let t0 = Instant::now();
    let mut received = UpdateBytes::with_capacity(len);
    loop {
        let n = file.read(&mut piece).unwrap();
        if n == 0 {
            break;
        }
        received.push(&piece[..n]).unwrap();
    }
    v.apply_received(received, START).unwrap();
    let cold = t0.elapsed();
    let (_, peak) = rss();
    let n = v.view().len();
    // Lookups with keys drawn over every account of the data set, a share of them holding a
    // record.
    let mut probe = Rng(7);
    let t2 = Instant::now();
    let mut refused = 0u64;
    for _ in 0..1_000_000 {
        let k = account_key(probe.below(accounts));
        if v.view().check(k, Epoch(0), DeviceSlot(0)).is_some() {
            refused += 1;
        }
    }
    let lookup = t2.elapsed().as_nanos() as f64 / 1e6;
    println!(
        "{n} | {:.1} | {:.1} | {:.2} | {:.0} | {:.1} | {lookup:.0} | {refused} |",
        mb(len as u64),
        mb(v.view().memory_bytes() as u64),
        v.view().memory_bytes() as f64 / n as f64,
        cold.as_secs_f64() * 1e3,
        mb(peak.saturating_sub(base)),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, path, accounts] = args.as_slice() {
        if mode == "cold" {
            return cold(path, accounts.parse().unwrap());
        }
    }
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000_000, 10_000_000]
    } else {
        sizes
    };
    let key = PrivateKey::from_seed("revocations", &[2; 32]).unwrap();
    simulate(sizes[0], &key);
    let live = 1.0 - (1.0 - CHURN).powi(30);
    let year = 1.0 - (1.0 - CHURN).powi(365);
    println!();
    println!("part 2: cold start from one snapshot (live share {:.1} % with retention, {:.1} % after a year without)", live * 100.0, year * 100.0);
    println!("| case | accounts | records | snapshot MB | view MB | view B/record | cold start: receive + verify + apply, ms | peak resident growth during it, MB (native) | 10⁶ lookups ms | of them refused |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        cold_start("retention", n, (n as f64 * live) as u64, &key);
        cold_start("no retention, 1 year", n, (n as f64 * year) as u64, &key);
    }
}
