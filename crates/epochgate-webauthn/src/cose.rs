//! Credential public keys: the strict COSE_Key parse at registration, the stored form, and the
//! signature check at assertion.
//!
//! Only two algorithms are accepted, both pure Rust: ES256 (COSE -7, P-256 ECDSA with SHA-256,
//! ASN.1 DER signatures) and EdDSA (COSE -8, Ed25519 verified with `verify_strict`). Everything
//! else a browser may offer (RS256, ES384, …) is refused, which is why the registration options
//! list exactly these two.

use core::fmt;

use p256::ecdsa::signature::Verifier as _;

use crate::cbor::Value;
use crate::Error;

/// A signature algorithm a passkey may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (COSE -7).
    Es256,
    /// Ed25519 (COSE -8).
    EdDsa,
}

impl Algorithm {
    /// The JOSE/WebAuthn name: `"ES256"` or `"EdDSA"`.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// The COSE algorithm identifier, as in `pubKeyCredParams`.
    pub const fn cose(self) -> i64 {
        match self {
            Algorithm::Es256 => -7,
            Algorithm::EdDsa => -8,
        }
    }

    /// The first byte of [`StoredKey::to_bytes`]: the COSE identifier negated.
    const fn tag(self) -> u8 {
        match self {
            Algorithm::Es256 => 7,
            Algorithm::EdDsa => 8,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A verified credential public key, as the origin stores it.
///
/// Only keys that passed the registration checks (on the curve, not weak) can exist; the byte
/// form is `alg ‖ raw key` — `7 ‖ x ‖ y` (65 bytes) for ES256, `8 ‖ A` (33 bytes) for EdDSA — so
/// a SQLite BLOB holds it and [`StoredKey::from_bytes`] repeats every check on the way back.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey(Key);

#[derive(Clone, PartialEq, Eq)]
enum Key {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_dalek::VerifyingKey),
}

impl StoredKey {
    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.0 {
            Key::Es256(_) => Algorithm::Es256,
            Key::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    /// The stored form: algorithm byte, then the raw key.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.algorithm().tag()];
        match &self.0 {
            Key::Es256(key) => {
                let point = key.to_encoded_point(false);
                out.extend_from_slice(point.as_bytes().get(1..).unwrap_or_default());
            }
            Key::EdDsa(key) => out.extend_from_slice(key.as_bytes()),
        }
        out
    }

    /// Reads [`StoredKey::to_bytes`], refusing (`invalid_key`) anything it could not have made.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoredKey, Error> {
        match bytes.split_first() {
            Some((7, xy)) if xy.len() == 64 => {
                let (x, y) = xy.split_at(32);
                es256(x, y)
            }
            Some((8, a)) => ed25519(a),
            _ => Err(Error::InvalidKey),
        }
    }

    /// Checks `signature` over `message` (authenticatorData ‖ SHA-256(clientDataJSON)).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        match &self.0 {
            Key::Es256(key) => {
                let (r, s) = der_signature(signature).ok_or(Error::BadSignature)?;
                let sig =
                    p256::ecdsa::Signature::from_scalars(r, s).map_err(|_| Error::BadSignature)?;
                key.verify(message, &sig).map_err(|_| Error::BadSignature)
            }
            Key::EdDsa(key) => {
                let bytes: [u8; 64] = signature.try_into().map_err(|_| Error::BadSignature)?;
                let sig = ed25519_dalek::Signature::from_bytes(&bytes);
                // verify_strict, unlike verify, also refuses small-order R and weak keys.
                key.verify_strict(message, &sig)
                    .map_err(|_| Error::BadSignature)
            }
        }
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoredKey")
            .field(&self.algorithm().name())
            .finish()
    }
}

fn es256(x: &[u8], y: &[u8]) -> Result<StoredKey, Error> {
    if x.len() != 32 || y.len() != 32 {
        return Err(Error::InvalidKey);
    }
    let mut sec1 = [4u8; 65];
    for (out, b) in sec1.iter_mut().skip(1).zip(x.iter().chain(y.iter())) {
        *out = *b;
    }
    // Decoding an uncompressed point checks that it lies on the curve.
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map(|key| StoredKey(Key::Es256(key)))
        .map_err(|_| Error::InvalidKey)
}

fn ed25519(a: &[u8]) -> Result<StoredKey, Error> {
    let bytes: [u8; 32] = a.try_into().map_err(|_| Error::InvalidKey)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| Error::InvalidKey)?;
    if key.is_weak() {
        return Err(Error::InvalidKey);
    }
    Ok(StoredKey(Key::EdDsa(key)))
}

/// COSE_Key labels (RFC 9052/9053).
const KTY: i64 = 1;
const KID: i64 = 2;
const ALG: i64 = 3;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;

/// Parses a credential's COSE_Key strictly: integer labels only, the algorithm first (anything
/// but -7/-8 is `unsupported_algorithm`), then exactly the members that algorithm needs with
/// the right types and sizes (`invalid_key` otherwise). A `kid` is tolerated and ignored.
pub(crate) fn parse_cose_key(value: &Value<'_>) -> Result<StoredKey, Error> {
    let Value::Map(entries) = value else {
        return Err(Error::InvalidKey);
    };
    let mut labels = Vec::with_capacity(entries.len());
    for (label, item) in entries {
        labels.push((label.as_int().ok_or(Error::InvalidKey)?, item));
    }
    let get = |wanted: i64| {
        labels
            .iter()
            .find(|(label, _)| *label == wanted)
            .map(|(_, item)| *item)
    };
    let int = |wanted: i64| get(wanted).and_then(Value::as_int);
    let bytes = |wanted: i64| match get(wanted) {
        Some(Value::Bytes(b)) => Ok(*b),
        _ => Err(Error::InvalidKey),
    };
    let alg = match get(ALG) {
        Some(item) => item.as_int().ok_or(Error::InvalidKey)?,
        None => return Err(Error::InvalidKey),
    };
    let (kty, crv, members): (i64, i64, &[i64]) = match alg {
        -7 => (2, 1, &[KTY, KID, ALG, CRV, X, Y]),
        -8 => (1, 6, &[KTY, KID, ALG, CRV, X]),
        _ => return Err(Error::UnsupportedAlgorithm),
    };
    if int(KTY) != Some(kty) || int(CRV) != Some(crv) {
        return Err(Error::InvalidKey);
    }
    if labels.iter().any(|(label, _)| !members.contains(label)) {
        return Err(Error::InvalidKey);
    }
    if let Some(kid) = get(KID) {
        if !matches!(kid, Value::Bytes(_)) {
            return Err(Error::InvalidKey);
        }
    }
    match alg {
        -7 => es256(bytes(X)?, bytes(Y)?),
        _ => ed25519(bytes(X)?),
    }
}

/// Reads a canonical DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` into two
/// 32-byte big-endian scalars. Canonical means: short-form lengths (the whole thing is at most
/// 72 bytes), no superfluous leading zero, no negative integer, nothing after the sequence.
/// Range checks (0 < r, s < n) are left to `Signature::from_scalars`.
fn der_signature(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    if tag != 0x30 || len >= 0x80 || usize::from(len) != body.len() {
        return None;
    }
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    rest.is_empty().then_some((r, s))
}

fn der_integer(input: &[u8]) -> Option<([u8; 32], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if tag != 0x02 || len >= 0x80 {
        return None;
    }
    let (value, rest) = rest.split_at_checked(usize::from(len))?;
    let (&first, tail) = value.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let magnitude = if first == 0 {
        match tail.first() {
            Some(next) if next & 0x80 != 0 => tail,
            None => value,
            Some(_) => return None,
        }
    } else {
        value
    };
    let pad = 32usize.checked_sub(magnitude.len())?;
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().skip(pad).zip(magnitude.iter()) {
        *o = *b;
    }
    Some((out, rest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn int(bytes: &[u8]) -> Vec<u8> {
        [&[0x02, bytes.len() as u8][..], bytes].concat()
    }

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        let body = parts.concat();
        [vec![0x30, body.len() as u8], body].concat()
    }

    #[test]
    fn der_accepts_canonical_forms() {
        let one = seq(&[int(&[1]), int(&[0x00, 0x80])]);
        let (r, s) = der_signature(&one).unwrap();
        assert_eq!(r[31], 1);
        assert_eq!(s[31], 0x80);
        assert_eq!(s[30], 0);
        let full = seq(&[
            int(&[[0].as_slice(), &[0xff; 32]].concat()),
            int(&[0x7f; 32]),
        ]);
        let (r, s) = der_signature(&full).unwrap();
        assert_eq!(r, [0xff; 32]);
        assert_eq!(s, [0x7f; 32]);
    }

    #[test]
    fn der_refuses_non_canonical_forms() {
        let good = seq(&[int(&[1]), int(&[2])]);
        assert!(der_signature(&good).is_some());
        let cases = [
            seq(&[int(&[0, 1]), int(&[2])]),         // superfluous leading zero
            seq(&[int(&[0x80]), int(&[2])]),         // negative
            seq(&[int(&[]), int(&[2])]),             // empty integer
            seq(&[int(&[1]), int(&[1; 33])]),        // longer than 32 bytes
            seq(&[int(&[1])]),                       // one integer
            seq(&[int(&[1]), int(&[2]), int(&[3])]), // three integers
            [good.clone(), vec![0]].concat(),        // trailing byte
            [&[0x31][..], &good[1..]].concat(),      // a SET, not a SEQUENCE
            [&[0x30, 0x81, 6][..], &good[2..]].concat(), // long-form length
            good[..good.len() - 1].to_vec(),         // truncated
            vec![],
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(der_signature(case).is_none(), "case {i}");
        }
    }

    /// The P-256 base point and RFC 8032's first Ed25519 test key: valid public keys.
    const GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
    const GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
    const ED: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    /// A COSE map from (label, encoded value) pairs; labels are small integers.
    fn cose(entries: &[(i64, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0xa0 | entries.len() as u8];
        for (label, value) in entries {
            out.push(if *label >= 0 {
                *label as u8
            } else {
                0x20 | (-1 - *label) as u8
            });
            out.extend_from_slice(value);
        }
        out
    }

    fn cint(n: i64) -> Vec<u8> {
        if n >= 0 {
            vec![n as u8]
        } else {
            vec![0x20 | (-1 - n) as u8]
        }
    }

    fn bstr(hex_text: &str) -> Vec<u8> {
        let bytes = hex::decode(hex_text).unwrap();
        [vec![0x58, bytes.len() as u8], bytes].concat()
    }

    fn parse(bytes: &[u8]) -> Result<StoredKey, Error> {
        parse_cose_key(&crate::cbor::decode(bytes).unwrap())
    }

    fn ec2(change: impl FnOnce(&mut Vec<(i64, Vec<u8>)>)) -> Result<StoredKey, Error> {
        let mut entries = vec![
            (KTY, cint(2)),
            (ALG, cint(-7)),
            (CRV, cint(1)),
            (X, bstr(GX)),
            (Y, bstr(GY)),
        ];
        change(&mut entries);
        parse(&cose(&entries))
    }

    fn okp(change: impl FnOnce(&mut Vec<(i64, Vec<u8>)>)) -> Result<StoredKey, Error> {
        let mut entries = vec![
            (KTY, cint(1)),
            (ALG, cint(-8)),
            (CRV, cint(6)),
            (X, bstr(ED)),
        ];
        change(&mut entries);
        parse(&cose(&entries))
    }

    #[test]
    fn cose_keys_are_parsed_strictly() {
        assert_eq!(ec2(|_| ()).unwrap().algorithm(), Algorithm::Es256);
        assert_eq!(okp(|_| ()).unwrap().algorithm(), Algorithm::EdDsa);
        // A kid is tolerated when it is bytes.
        assert!(ec2(|e| e.push((KID, bstr("01")))).is_ok());
        assert_eq!(
            ec2(|e| e.push((KID, vec![0x61, b'k']))),
            Err(Error::InvalidKey)
        );
        // Wrong key type or curve for the algorithm.
        assert_eq!(ec2(|e| e[0] = (KTY, cint(1))), Err(Error::InvalidKey));
        assert_eq!(ec2(|e| e[2] = (CRV, cint(2))), Err(Error::InvalidKey));
        assert_eq!(okp(|e| e[0] = (KTY, cint(2))), Err(Error::InvalidKey));
        assert_eq!(okp(|e| e[2] = (CRV, cint(1))), Err(Error::InvalidKey));
        // Members the algorithm does not have.
        assert_eq!(ec2(|e| e.push((4, cint(1)))), Err(Error::InvalidKey));
        assert_eq!(okp(|e| e.push((Y, bstr(GY)))), Err(Error::InvalidKey));
        // Missing or mis-sized coordinates, a missing or non-integer algorithm.
        assert_eq!(
            ec2(|e| {
                e.pop();
            }),
            Err(Error::InvalidKey)
        );
        assert_eq!(ec2(|e| e[3] = (X, bstr(&GX[2..]))), Err(Error::InvalidKey));
        assert_eq!(okp(|e| e[3] = (X, bstr(&ED[2..]))), Err(Error::InvalidKey));
        assert_eq!(
            ec2(|e| {
                e.remove(1);
            }),
            Err(Error::InvalidKey)
        );
        assert_eq!(ec2(|e| e[1] = (ALG, bstr("07"))), Err(Error::InvalidKey));
        // Any other algorithm, whatever else the map holds.
        assert_eq!(
            ec2(|e| e[1] = (ALG, cint(-35))),
            Err(Error::UnsupportedAlgorithm)
        );
        assert_eq!(
            okp(|e| e[1] = (ALG, cint(-19))),
            Err(Error::UnsupportedAlgorithm)
        );
        // Text labels, and not a map at all.
        assert_eq!(parse(&[0xa1, 0x61, b'a', 0x01]), Err(Error::InvalidKey));
        assert_eq!(parse(&[0x80]), Err(Error::InvalidKey));
    }

    #[test]
    fn stored_keys_refuse_what_to_bytes_cannot_make() {
        assert_eq!(StoredKey::from_bytes(&[]), Err(Error::InvalidKey));
        assert_eq!(StoredKey::from_bytes(&[7; 65]), Err(Error::InvalidKey));
        assert_eq!(StoredKey::from_bytes(&[8; 32]), Err(Error::InvalidKey));
        assert_eq!(StoredKey::from_bytes(&[9; 33]), Err(Error::InvalidKey));
        // The Ed25519 identity is a weak (small-order) key.
        let mut identity = [0u8; 33];
        identity[0] = 8;
        identity[1] = 1;
        assert_eq!(StoredKey::from_bytes(&identity), Err(Error::InvalidKey));
    }
}
