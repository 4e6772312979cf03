//! Strict Ed25519 verification for a loaded key: ed25519-dalek's `verify_strict` decisions, with
//! the work a long-lived key allows done once.
//!
//! `verify_strict` recomputes `R' = [s]B - [k]A` with `k = SHA-512(R || A || M)` and compares
//! `R'`'s encoding with `R`'s, after refusing an `S` not below the group order and an `R` or `A`
//! of small order. Per verification it decompresses `R` (a field square root, only to see its
//! order) and builds a table of multiples of `A` (and of `B`, without the `fast` tables). Here
//! a key that loaded already had `A` checked, `R` is checked by its encoding ([`SMALL_ORDER`]),
//! and the multiples of `B` and `-A` are built once per key, in affine form, on the key's first
//! verification. Same answers on every input: `tests/vectors.rs` runs every vector set through
//! both, and `tests/properties.rs` random and tampered signatures.

use std::sync::{Arc, OnceLock};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{EdwardsPoint, VartimeEdwardsPrecomputation};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimePrecomputedMultiscalarMul;
use sha2::{Digest, Sha512};

/// The canonical encodings of the eight points of small order (the identity, the point of
/// order 2, two of order 4, four of order 8), pinned against curve25519-dalek's `EIGHT_TORSION`
/// by a test. A non-canonical encoding of one never equals the canonical encoding RFC 8032's
/// equation recomputes `R` as, so only these need refusing before the equation is computed.
#[rustfmt::skip]
pub(crate) const SMALL_ORDER: [[u8; 32]; 8] = [
    [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    [0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80],
    [0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05],
    [0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x85],
    [0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a],
    [0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa],
];

/// `R` and `S` of a signature that passes `verify_strict`'s checks beyond RFC 8032's equation:
/// `S` below the group order and `R` not one of the small-order points. `None` refuses it.
pub(crate) fn strict_parts(signature: &[u8; 64]) -> Option<([u8; 32], Scalar)> {
    let (r, s) = signature.split_at(32);
    let r = <[u8; 32]>::try_from(r).ok()?;
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(<[u8; 32]>::try_from(s).ok()?))?;
    (!SMALL_ORDER.contains(&r)).then_some((r, s))
}

/// The per-key part of verification: the key's encoding, and the odd multiples of the base
/// point and of `-A` (64 of each, about 15 KB) once the first signature asks for them. Cloning
/// shares the tables.
#[derive(Clone)]
pub(crate) struct Verifier {
    public: [u8; 32],
    minus_a: EdwardsPoint,
    tables: Arc<OnceLock<VartimeEdwardsPrecomputation>>,
}

impl Verifier {
    /// For a key [`crate::PublicKey::from_bytes`] accepted (a canonical point, not of small
    /// order): `a` is the point `public` encodes.
    pub(crate) fn new(public: [u8; 32], a: &EdwardsPoint) -> Self {
        Verifier {
            public,
            minus_a: -a,
            tables: Arc::new(OnceLock::new()),
        }
    }

    /// RFC 8032's equation under `verify_strict`'s rules, for a message given in pieces (their
    /// concatenation is the message).
    pub(crate) fn verify<'a>(
        &self,
        pieces: impl IntoIterator<Item = &'a [u8]>,
        signature: &[u8; 64],
    ) -> bool {
        // Only the hashing depends on how the message comes; the rest is compiled once.
        let mut hash = Sha512::new();
        hash.update(signature.get(..32).unwrap_or_default());
        hash.update(self.public);
        for piece in pieces {
            hash.update(piece);
        }
        self.check(hash, signature)
    }

    /// The rest of [`Self::verify`], given `SHA-512(R || A || M)` still open.
    fn check(&self, hash: Sha512, signature: &[u8; 64]) -> bool {
        let Some((r, s)) = strict_parts(signature) else {
            return false;
        };
        let tables = self.tables.get_or_init(|| {
            VartimeEdwardsPrecomputation::new([ED25519_BASEPOINT_POINT, self.minus_a])
        });
        let Ok(wide) = <[u8; 64]>::try_from(hash.finalize().as_slice()) else {
            return false;
        };
        let k = Scalar::from_bytes_mod_order_wide(&wide);
        // [s]B + [k](-A), each scalar in width-5 NAF over the key's affine tables.
        tables.vartime_multiscalar_mul([s, k]).compress().to_bytes() == r
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::SMALL_ORDER;
    use curve25519_dalek::constants::EIGHT_TORSION;

    #[test]
    fn small_order_encodings_are_the_eight_torsion_points() {
        let mut computed: Vec<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|p| p.compress().to_bytes())
            .collect();
        let mut pinned = SMALL_ORDER.to_vec();
        computed.sort_unstable();
        pinned.sort_unstable();
        assert_eq!(computed, pinned);
    }
}
