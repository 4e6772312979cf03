//! Writes the golden samples in `tests/samples/` from fixed keys and a fixed clock.
//! CI regenerates them and fails on any difference (`git diff --exit-code tests/samples`), so a
//! change to the token or update encoding can never slip through unnoticed.
//!
//! Run: `cargo run --example samples`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::Path;

use epochgate::{
    retention_horizon, AccountId, DeviceSlot, Issuer, KeySet, MintRequest, PrivateKey,
    RevocationLog,
};

type Error = Box<dyn std::error::Error>;

const NOW: i64 = 1_800_000_000;

fn main() -> Result<(), Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    fs::create_dir_all(&dir)?;
    let token_key = PrivateKey::from_seed("sample-tokens", &[0x11; 32])?;
    let update_key = PrivateKey::from_seed("sample-updates", &[0x22; 32])?;
    let issuer = Issuer::new(
        "https://id.example",
        "app",
        token_key.clone(),
        Some(3600),
        None,
    )?;
    // Tokens live an hour; records leave updates an hour and a minute after their last change.
    let mut log = RevocationLog::new(update_key.clone()).with_horizon(retention_horizon(3600, 30));

    let id = |account: &str| AccountId::new(account).ok_or(AccountId::RULE);
    let mint = |log: &mut RevocationLog, account: &str, session: &str| -> Result<String, Error> {
        let device = log.allocate_device(&id(account)?)?;
        let epoch = log.epoch_of(&id(account)?)?;
        Ok(issuer.mint(&MintRequest {
            account,
            session,
            device: device.0.into(),
            epoch: epoch.0.into(),
            now: NOW,
            ttl: None,
            jti: None,
            auth_time: None,
            amr: None,
        })?)
    };
    let phone = mint(&mut log, "alice", "alice-phone")?;
    let tv = mint(&mut log, "alice", "alice-tv")?;
    let laptop = mint(&mut log, "bob", "bob-laptop")?;
    let empty_snapshot = log.snapshot(NOW)?;
    log.revoke_device(&id("alice")?, DeviceSlot(1))?;
    let delta_1 = log.delta_since(0, NOW + 1)?;
    log.revoke_all(&id("bob")?)?;
    let delta_2 = log.delta_since(1, NOW + 2)?;
    let snapshot_2 = log.snapshot(NOW + 3)?;
    // Past the horizon: alice's and bob's records expire; carol signs a device out.
    let late = NOW + 3 + 3660 + 1;
    mint(&mut log, "carol", "carol-phone")?;
    log.revoke_device(&id("carol")?, DeviceSlot(0))?;
    let delta_3 = log.delta_since(2, late)?;
    let snapshot_3 = log.snapshot(late + 1)?;

    let write = |name: &str, bytes: &[u8]| fs::write(dir.join(name), bytes);
    write("token-alice-phone.jwt", phone.as_bytes())?;
    write("token-alice-tv.jwt", tv.as_bytes())?;
    write("token-bob-laptop.jwt", laptop.as_bytes())?;
    write(
        "token-keys.jwks.json",
        format!("{:#}\n", KeySet::new(vec![token_key.public()])?.to_jwks()).as_bytes(),
    )?;
    write(
        "update-keys.jwks.json",
        format!("{:#}\n", KeySet::new(vec![update_key.public()])?.to_jwks()).as_bytes(),
    )?;
    write("snapshot-seq0.bin", &empty_snapshot)?;
    write("delta-0-1.bin", &delta_1)?;
    write("delta-1-2.bin", &delta_2)?;
    write("snapshot-seq2.bin", &snapshot_2)?;
    write("delta-2-3-expired.bin", &delta_3)?;
    write("snapshot-seq3.bin", &snapshot_3)?;
    println!("wrote samples to {}", dir.display());
    Ok(())
}
