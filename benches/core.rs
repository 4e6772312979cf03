//! Core benchmarks: `cargo bench --bench core`. Figures go to docs/BENCHMARKS.md.
// criterion_group! declares an undocumented public function.
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use epochgate::{
    verify_raw, AccountKey, AccountState, DeviceSlot, Epoch, Issuer, KeySet, MintRequest, Options,
    PrivateKey, PublicKey, Record, SlotSet, UnverifiedToken, UnverifiedUpdate, Update, UpdateKind,
    Validator,
};
use rand::{Rng, SeedableRng};

const NOW: i64 = 1_800_000_000;

fn keys() -> (PrivateKey, PrivateKey) {
    (
        PrivateKey::from_seed("tok-1", &[7; 32]).unwrap(),
        PrivateKey::from_seed("upd-1", &[9; 32]).unwrap(),
    )
}

fn validator(cache_size: usize) -> Validator {
    let (tok, upd) = keys();
    let options = Options {
        issuer: "https://id.example".into(),
        audience: "app".into(),
        cache_size,
        ..Options::default()
    };
    Validator::new(
        options,
        KeySet::new(vec![tok.public()]).unwrap(),
        Some(KeySet::new(vec![upd.public()]).unwrap()),
        [1; 16],
    )
    .unwrap()
}

fn tokens(n: usize) -> Vec<String> {
    let issuer = Issuer::new("https://id.example", "app", keys().0, None, None).unwrap();
    (0..n)
        .map(|i| {
            let (account, session) = (format!("acct-{i:08}"), format!("sess-{i:08}-7f3a9c1e"));
            issuer
                .mint(&MintRequest {
                    account: &account,
                    session: &session,
                    device: 3,
                    epoch: 1,
                    now: NOW,
                    ttl: None,
                    jti: None,
                    auth_time: None,
                    amr: None,
                })
                .unwrap()
        })
        .collect()
}

fn tokens_and_verify(c: &mut Criterion) {
    let toks = tokens(512);
    let mut g = c.benchmark_group("token");
    g.measurement_time(Duration::from_secs(4));

    // Raw verify_strict over the same signing input a token carries.
    let (tok_key, _) = keys();
    let public = tok_key.public();
    let (input, sig) = toks[0].rsplit_once('.').unwrap();
    let sig: [u8; 64] = URL_SAFE_NO_PAD.decode(sig).unwrap().try_into().unwrap();
    let raw = public.to_bytes();
    g.bench_function("verify_strict (raw)", |b| {
        b.iter(|| assert!(verify_raw(&raw, black_box(input.as_bytes()), &sig)))
    });
    // The same decision over the key's own tables (src/ed25519.rs), built after its first uses.
    assert!(public.verify(input.as_bytes(), &sig));
    g.bench_function("key tables (PublicKey::verify)", |b| {
        b.iter(|| assert!(public.verify(black_box(input.as_bytes()), &sig)))
    });
    g.bench_function("key load + first verification (no tables yet)", |b| {
        b.iter(|| {
            let key = PublicKey::from_bytes("k", black_box(&raw)).unwrap();
            assert!(key.verify(input.as_bytes(), &sig))
        })
    });
    g.bench_function("key load + its tables + first verification", |b| {
        b.iter(|| {
            let key = PublicKey::from_bytes("k", black_box(&raw)).unwrap();
            key.precompute();
            assert!(key.verify(input.as_bytes(), &sig))
        })
    });

    // The token path without the cache, time or revocation: its time minus the raw
    // verify_strict above is the overhead to keep within 5 %. (Claims are out of reach without
    // the signature check, so the overhead cannot be timed alone.)
    let keyset = KeySet::new(vec![public.clone()]).unwrap();
    g.bench_function("parse + verify + claims + account key", |b| {
        b.iter(|| {
            let session = UnverifiedToken::parse(black_box(&toks[0]), "session+jwt")
                .unwrap()
                .verify(&keyset)
                .unwrap();
            black_box(AccountKey::of(session.account.as_str()))
        })
    });

    let mut cold = validator(0);
    let mut i = 0;
    g.bench_function("validate cold (cache off)", |b| {
        b.iter(|| {
            i = (i + 1) % toks.len();
            assert!(cold.validate(black_box(&toks[i]), NOW).session().is_some());
        })
    });
    let mut warm = validator(10_000);
    for t in &toks {
        warm.validate(t, NOW);
    }
    g.bench_function("validate cached", |b| {
        b.iter(|| {
            i = (i + 1) % toks.len();
            assert!(warm.validate(black_box(&toks[i]), NOW).session().is_some());
        })
    });
    g.finish();
}

fn random_view_records(n: usize, seed: u64) -> Vec<Record> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut records: Vec<Record> = (0..n)
        .map(|_| {
            let slots: Vec<u16> = (0..rng.gen_range(0..4))
                .map(|_| rng.gen_range(0..64))
                .collect();
            let epoch = rng.gen_range(1..200);
            Record {
                account: AccountKey(rng.gen()),
                state: AccountState {
                    epoch: Epoch(epoch),
                    revoked: SlotSet::from_slots(slots),
                },
            }
        })
        .collect();
    records.sort_unstable_by_key(|r| r.account);
    records.dedup_by_key(|r| r.account);
    records
}

fn snapshot(records: Vec<Record>) -> Update {
    Update {
        kind: UpdateKind::Snapshot,
        from_seq: 0,
        seq: 1,
        created_at: NOW,
        horizon: 0,
        expired: vec![],
        records,
    }
}

fn view(c: &mut Criterion) {
    let (_, upd) = keys();
    let mut g = c.benchmark_group("view");
    for n in [1_000usize, 1_000_000] {
        let records = random_view_records(n, n as u64);
        let probes: Vec<AccountKey> = records
            .iter()
            .step_by((n / 4096).max(1))
            .map(|r| r.account)
            .collect();
        let mut v = validator(0);
        v.apply_revocation(&snapshot(records).sign(&upd).unwrap(), NOW)
            .unwrap();
        let view = v.view();
        eprintln!(
            "view of {n} accounts: {} heap bytes, {:.2} bytes/account",
            view.memory_bytes(),
            view.memory_bytes() as f64 / n as f64
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let misses: Vec<AccountKey> = (0..4096).map(|_| AccountKey(rng.gen())).collect();
        let mut i = 0;
        g.bench_function(format!("lookup hit, {n} accounts"), |b| {
            b.iter(|| {
                i = (i + 1) % probes.len();
                black_box(view.check(black_box(probes[i]), Epoch(100), DeviceSlot(5)))
            })
        });
        g.bench_function(format!("lookup miss, {n} accounts"), |b| {
            b.iter(|| {
                i = (i + 1) % misses.len();
                black_box(view.check(black_box(misses[i]), Epoch(100), DeviceSlot(5)))
            })
        });
        let names: Vec<String> = (0..4096).map(|i| format!("acct-{i:08}")).collect();
        g.bench_function(
            format!("lookup with account-key hashing, {n} accounts"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % names.len();
                    black_box(view.check(
                        AccountKey::of(black_box(&names[i])),
                        Epoch(100),
                        DeviceSlot(5),
                    ))
                })
            },
        );
    }
    g.finish();
}

fn snapshots(c: &mut Criterion) {
    let (_, upd) = keys();
    let keyset = KeySet::new(vec![upd.public()]).unwrap();
    let mut g = c.benchmark_group("snapshot 1e6 accounts");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let update = snapshot(random_view_records(1_000_000, 42));
    let bytes = update.sign(&upd).unwrap();
    eprintln!(
        "snapshot of {} accounts: {} bytes ({:.2} bytes/account)",
        update.records.len(),
        bytes.len(),
        bytes.len() as f64 / 1e6
    );
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode + sign", |b| {
        b.iter(|| black_box(update.sign(&upd).unwrap()))
    });
    g.bench_function("decode + verify", |b| {
        b.iter(|| {
            black_box(
                UnverifiedUpdate::decode(&bytes)
                    .unwrap()
                    .verify(&keyset)
                    .unwrap(),
            )
        })
    });
    g.bench_function("apply to an empty view (decode + verify + build)", |b| {
        b.iter_batched(
            || validator(0),
            |mut v| black_box(v.apply_revocation(&bytes, NOW).unwrap()),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, tokens_and_verify, view, snapshots);
criterion_main!(benches);
