//! The checked-in golden samples still validate and apply as they did when they were made.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use epochgate::{KeySet, Options, Reason, Validator};

const NOW: i64 = 1_800_000_000;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(sample(name)).unwrap()
}

#[test]
fn samples_validate_and_apply() {
    let keys = KeySet::from_jwks(&text("token-keys.jwks.json")).unwrap();
    let updates = KeySet::from_jwks(&text("update-keys.jwks.json")).unwrap();
    let options = Options {
        issuer: "https://id.example".into(),
        audience: "app".into(),
        ..Options::default()
    };
    let mut v = Validator::new(options, keys, Some(updates), [0; 16]).unwrap();
    let (phone, tv, laptop) = (
        text("token-alice-phone.jwt"),
        text("token-alice-tv.jwt"),
        text("token-bob-laptop.jwt"),
    );
    for t in [&phone, &tv, &laptop] {
        assert_eq!(v.validate(t, NOW).reason(), None);
    }
    assert_eq!(
        v.apply_revocation(&sample("snapshot-seq0.bin"), NOW)
            .unwrap(),
        0
    );
    assert_eq!(
        v.apply_revocation(&sample("delta-0-1.bin"), NOW + 1)
            .unwrap(),
        1
    );
    assert_eq!(v.validate(&tv, NOW).reason(), Some(Reason::RevokedDevice));
    assert_eq!(v.validate(&phone, NOW).reason(), None);
    assert_eq!(
        v.apply_revocation(&sample("delta-1-2.bin"), NOW + 2)
            .unwrap(),
        2
    );
    assert_eq!(v.validate(&laptop, NOW).reason(), Some(Reason::RevokedAll));
    assert_eq!(
        v.apply_revocation(&sample("snapshot-seq2.bin"), NOW + 3)
            .unwrap(),
        2
    );
    assert_eq!(
        v.validate(&phone, NOW + 3600 + 30).reason(),
        Some(Reason::Expired)
    );
    // Past the horizon (an hour's tokens, 30 s tolerance): alice and bob are forgotten, carol
    // signed a device out.
    let late = NOW + 3 + 3660 + 1;
    assert_eq!(v.view().len(), 2);
    assert_eq!(
        v.apply_revocation(&sample("delta-2-3-expired.bin"), late)
            .unwrap(),
        3
    );
    assert_eq!((v.view().len(), v.view().horizon()), (1, 3660));
    assert_eq!(v.validate(&laptop, late).reason(), Some(Reason::Expired));
    let mut cold = Validator::new(
        Options {
            issuer: "https://id.example".into(),
            audience: "app".into(),
            ..Options::default()
        },
        KeySet::from_jwks(&text("token-keys.jwks.json")).unwrap(),
        Some(KeySet::from_jwks(&text("update-keys.jwks.json")).unwrap()),
        [0; 16],
    )
    .unwrap();
    assert_eq!(
        cold.apply_revocation(&sample("snapshot-seq3.bin"), late + 1)
            .unwrap(),
        3
    );
    assert_eq!(cold.view().len(), 1, "the snapshot holds carol alone");
}
