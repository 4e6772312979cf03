//! Strict Ed25519 verification for a loaded key: ed25519-dalek's `verify_strict` decisions, with
//! the work a long-lived key allows done once.
//!
//! `verify_strict` recomputes `R' = [s]B - [k]A` with `k = SHA-512(R || A || M)` and compares
//! `R'`'s encoding with `R`'s, after refusing an `S` not below the group order and an `R` or `A`
//! of small order. Per verification it decompresses `R` (a field square root, only to see its
//! order) and builds a table of multiples of `A`, then runs 253 doublings. Here a key that
//! loaded already had `A` checked, `R` is checked by its encoding ([`SMALL_ORDER`]), and `s` and
//! `k` are cut into eight 32-bit pieces over tables of `2^(32j) B` and `2^(32j) (-A)`: 32
//! doublings, and an addition per nonzero digit. The tables of `B` are built once per process
//! and those of `-A` once per key, after the key's first [`WARM_UP`] verifications (which use
//! curve25519-dalek's double-base product, as `verify_strict` does): a key used once or twice
//! never pays for the tables. Same answers on every input:
//! `tests/vectors.rs` runs every vector set through all three, and `tests/properties.rs` random
//! and tampered signatures.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use group::Group;
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

/// Width of the signed digits scalars are written in: every digit is zero or odd with
/// `|d| < 2^(WINDOW-1)`, and a nonzero digit is followed by at least `WINDOW - 1` zeros, so a
/// 253-bit scalar has about 253 / (WINDOW + 1) of them. Each table holds the `2^(WINDOW-2)`
/// odd multiples `P, 3P, ..., (2^(WINDOW-1) - 1)P`.
const WINDOW: usize = 8;
const ODD: usize = 1 << (WINDOW - 2);
/// Scalars are cut into `PARTS` pieces of `SPAN` bits: `[x]P` is the sum of `[x_j](2^(SPAN j) P)`,
/// and the pieces share one chain of `SPAN` doublings instead of 253. The additions stay as
/// many as the digits; what more pieces cost is memory (64 points of 160 bytes a piece) and
/// the time to build the tables. Eight gave the fastest verification (docs/BENCHMARKS.md).
const PARTS: usize = 8;
const SPAN: usize = 32;

/// How many verifications a key makes before its tables are built. Building them (~130 µs
/// natively) costs about what four verifications without them lose (~33 µs each, 57 against
/// 24), so a key used once or twice never pays for them and a long-lived one pays at most
/// twice the least it could have.
pub(crate) const WARM_UP: u32 = 4;

/// The odd multiples of `P`, `2^32 P`, ..., `2^224 P`: [`PARTS`] tables of [`ODD`] points
/// (512 points, 80 KB), on the heap.
type Tables = Box<[[EdwardsPoint; ODD]]>;

/// The tables of the base point, built on the first verification and shared by every key.
static BASE: OnceLock<Tables> = OnceLock::new();

fn tables(point: &EdwardsPoint) -> Tables {
    let mut part_base = *point;
    let mut out = Vec::with_capacity(PARTS);
    for _ in 0..PARTS {
        let two = part_base.double();
        let mut next = part_base;
        out.push(core::array::from_fn(|_| {
            let this = next;
            next += two;
            this
        }));
        for _ in 0..SPAN {
            part_base = part_base.double();
        }
    }
    out.into_boxed_slice()
}

/// `scalar` (little-endian, below 2^253) in signed digits of width [`WINDOW`], least
/// significant first, laid out by position within a piece: `digits[i][j]` is the digit of
/// `2^(SPAN j + i)`.
fn digits(scalar: &[u8; 32]) -> [[i8; PARTS]; SPAN] {
    let mut limbs = [0u64; 5];
    for (limb, chunk) in limbs.iter_mut().zip(scalar.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(word);
    }
    let mut out = [[0i8; PARTS]; SPAN];
    let mask = (1u64 << WINDOW) - 1;
    // Adding `carry` at `position` stands for the 2^WINDOW subtracted by the last negative digit.
    let mut carry = 0u64;
    let mut position = 0usize;
    while position < PARTS * SPAN {
        let (limb, bit) = (position / 64, position % 64);
        let low = limbs.get(limb).copied().unwrap_or(0);
        let high = limbs.get(limb + 1).copied().unwrap_or(0);
        let window = ((u128::from(high) << 64 | u128::from(low)) >> bit) as u64 & mask;
        let value = window + carry;
        if value & 1 == 0 {
            // A zero digit: an odd-plus-carry even window still carries into the next bit.
            position += 1;
            continue;
        }
        let digit = if value < 1 << (WINDOW - 1) {
            carry = 0;
            value as i64
        } else {
            carry = 1;
            value as i64 - (1i64 << WINDOW)
        };
        if let Some(slot) = out
            .get_mut(position % SPAN)
            .and_then(|row| row.get_mut(position / SPAN))
        {
            *slot = digit as i8;
        }
        position += WINDOW;
    }
    out
}

/// `acc + [digit]P`, reading `|digit| P` (odd) from `odd`; `None` is the identity.
fn add_digit(acc: &mut Option<EdwardsPoint>, digit: i8, odd: &[EdwardsPoint]) {
    if digit == 0 {
        return;
    }
    let Some(point) = odd.get(usize::from(digit.unsigned_abs() / 2)) else {
        return;
    };
    *acc = Some(match (acc.as_ref(), digit > 0) {
        (None, true) => *point,
        (None, false) => -point,
        (Some(sum), true) => sum + point,
        (Some(sum), false) => sum - point,
    });
}

/// `[s]B + [k]P` over the tables of `B` and of `P`, in variable time.
fn combination(
    s: &Scalar,
    base: &[[EdwardsPoint; ODD]],
    k: &Scalar,
    point: &[[EdwardsPoint; ODD]],
) -> EdwardsPoint {
    let (s, k) = (digits(s.as_bytes()), digits(k.as_bytes()));
    let mut acc: Option<EdwardsPoint> = None;
    for (s, k) in s.iter().zip(&k).rev() {
        if let Some(sum) = acc.as_mut() {
            *sum = sum.double();
        }
        for (((&ds, b), &dk), p) in s.iter().zip(base).zip(k).zip(point) {
            add_digit(&mut acc, ds, b);
            add_digit(&mut acc, dk, p);
        }
    }
    acc.unwrap_or_else(<EdwardsPoint as Group>::identity)
}

/// The per-key part of verification: the key's encoding, and the tables of `-A` once the key
/// has made [`WARM_UP`] verifications. Cloning shares the tables and the count.
#[derive(Clone)]
pub(crate) struct Verifier {
    public: [u8; 32],
    minus_a: EdwardsPoint,
    tables: Arc<OnceLock<Tables>>,
    uses: Arc<AtomicU32>,
}

impl Verifier {
    /// For a key [`crate::PublicKey::from_bytes`] accepted (a canonical point, not of small
    /// order): `a` is the point `public` encodes.
    pub(crate) fn new(public: [u8; 32], a: &EdwardsPoint) -> Self {
        Verifier {
            public,
            minus_a: -a,
            tables: Arc::new(OnceLock::new()),
            uses: Arc::new(AtomicU32::new(0)),
        }
    }

    /// Builds the key's tables (and the base point's) now, instead of after [`WARM_UP`] uses.
    pub(crate) fn precompute(&self) {
        BASE.get_or_init(|| tables(&ED25519_BASEPOINT_POINT));
        self.tables.get_or_init(|| tables(&self.minus_a));
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
        let Ok(wide) = <[u8; 64]>::try_from(hash.finalize().as_slice()) else {
            return false;
        };
        let k = Scalar::from_bytes_mod_order_wide(&wide);
        let built = match self.tables.get() {
            Some(built) => Some(built),
            // The count stops once the tables exist, so it cannot wrap.
            None if self.uses.fetch_add(1, Ordering::Relaxed) < WARM_UP => None,
            None => Some(self.tables.get_or_init(|| tables(&self.minus_a))),
        };
        let computed = match built {
            Some(minus_a) => {
                let base = BASE.get_or_init(|| tables(&ED25519_BASEPOINT_POINT));
                combination(&s, base, &k, minus_a)
            }
            None => EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &self.minus_a, &s),
        };
        computed.compress().to_bytes() == r
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::{combination, digits, tables, Verifier, SMALL_ORDER, SPAN, WARM_UP, WINDOW};
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use proptest::prelude::*;

    /// The digits of `x`, checked for their shape, summed back.
    fn sum_of_digits(x: &Scalar) -> Scalar {
        let rows = digits(x.as_bytes());
        let mut flat = [0i8; 256];
        for (i, row) in rows.iter().enumerate() {
            for (j, &d) in row.iter().enumerate() {
                flat[SPAN * j + i] = d;
            }
        }
        let (mut sum, mut power) = (Scalar::ZERO, Scalar::ONE);
        let mut quiet = 0;
        for &d in &flat {
            if d != 0 {
                assert!(
                    quiet == 0,
                    "a nonzero digit within {WINDOW} of the last: {flat:?}"
                );
                assert!(
                    d % 2 != 0 && i32::from(d).abs() < 1 << (WINDOW - 1),
                    "digit {d}"
                );
                let magnitude = Scalar::from(u64::from(d.unsigned_abs()));
                sum += if d > 0 { magnitude } else { -magnitude } * power;
                quiet = WINDOW - 1;
            } else {
                quiet = quiet.saturating_sub(1);
            }
            power += power;
        }
        sum
    }

    #[test]
    fn digits_of_the_extremes_sum_back() {
        for x in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(u64::MAX),
        ] {
            assert_eq!(sum_of_digits(&x), x);
        }
    }

    proptest! {
        #[test]
        fn digits_sum_back_to_the_scalar(bytes in any::<[u8; 32]>()) {
            let x = Scalar::from_bytes_mod_order(bytes);
            prop_assert_eq!(sum_of_digits(&x), x);
        }

        /// The pieces over the tables against curve25519-dalek's own double-base product, for
        /// points with and without a small-order component (mixed-order keys, as in the CCTV
        /// vectors, are the case where reducing a scalar would go wrong).
        #[test]
        fn combination_is_dalek_double_base_product(
            s in any::<[u8; 32]>(),
            k in any::<[u8; 32]>(),
            r in any::<[u8; 32]>(),
            torsion in 0usize..8,
        ) {
            let (s, k) = (Scalar::from_bytes_mod_order(s), Scalar::from_bytes_mod_order(k));
            let point = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(r)) + EIGHT_TORSION[torsion];
            let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &point, &s);
            let got = combination(&s, &tables(&ED25519_BASEPOINT_POINT), &k, &tables(&point));
            prop_assert_eq!(got.compress(), expected.compress());
        }
    }

    #[test]
    fn a_key_builds_its_tables_after_its_warm_up_and_its_clones_share_them() {
        let private = crate::PrivateKey::from_seed("w", &[7; 32]).unwrap();
        let a = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order([3; 32]));
        let verifier = Verifier::new(a.compress().to_bytes(), &a);
        let clone = verifier.clone();
        let mut signature = private.sign(b"m");
        for _ in 0..WARM_UP {
            // Refused (another key's signature) or not, each counts as a use.
            assert!(!clone.verify([&b"m"[..]], &signature));
            assert!(verifier.tables.get().is_none());
        }
        signature[0] ^= 1;
        assert!(!verifier.verify([&b"m"[..]], &signature));
        assert!(clone.tables.get().is_some());
        let key = private.public();
        key.precompute();
        assert!(key.verify(b"m", &private.sign(b"m")));
    }

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
