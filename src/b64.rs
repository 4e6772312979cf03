//! Strict unpadded base64url (RFC 7515 section 2): no padding, no `+` or `/`, no whitespace and
//! no non-zero trailing bits, so every byte string has exactly one accepted encoding.
//!
//! Written out here rather than taken from the `base64` crate: its general engine was about 4 KB
//! of the gzipped browser module, this is a few hundred bytes, and tokens are short. A property
//! test holds it to the crate's `URL_SAFE_NO_PAD` on every input (tests/properties.rs).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Each byte's 6-bit value, or `INVALID`. Built at compile time, where an index out of range
/// fails the build rather than a run.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const INVALID: u8 = 0xff;

/// Each character's 6-bit value, or `INVALID` (which has the top bits set).
fn sextet(c: u8) -> u8 {
    DECODE.get(usize::from(c)).copied().unwrap_or(INVALID)
}

/// Decodes strict base64url; `None` for anything else, including the empty string.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    // A last group of one character cannot hold a byte.
    if bytes.is_empty() || bytes.len() % 4 == 1 {
        return None;
    }
    let groups = bytes.chunks_exact(4);
    let rest = groups.remainder();
    let whole = bytes.len() / 4 * 3;
    // Sized once: the groups write into it without a capacity check per byte.
    let mut out = vec![0u8; whole + rest.len().saturating_sub(1)];
    let (body, tail) = out.split_at_mut_checked(whole)?;
    for (group, bytes) in groups.zip(body.chunks_exact_mut(3)) {
        let (&[a, b, c, d], [x, y, z]) = (group, bytes) else {
            return None;
        };
        let (a, b, c, d) = (sextet(a), sextet(b), sextet(c), sextet(d));
        // Valid values are below 64: one test for the four.
        if (a | b | c | d) & !0x3f != 0 {
            return None;
        }
        let bits = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        (*x, *y, *z) = ((bits >> 16) as u8, (bits >> 8) as u8, bits as u8);
    }
    match (rest, tail) {
        (&[], []) => {}
        // 18 bits: two bytes and two bits that must be zero.
        (&[a, b, c], [x, y]) => {
            let (a, b, c) = (sextet(a), sextet(b), sextet(c));
            let bits = u32::from(a) << 12 | u32::from(b) << 6 | u32::from(c);
            if (a | b | c) & !0x3f != 0 || bits & 0b11 != 0 {
                return None;
            }
            (*x, *y) = ((bits >> 10) as u8, (bits >> 2) as u8);
        }
        // 12 bits: one byte and four bits that must be zero.
        (&[a, b], [x]) => {
            let (a, b) = (sextet(a), sextet(b));
            let bits = u32::from(a) << 6 | u32::from(b);
            if (a | b) & !0x3f != 0 || bits & 0b1111 != 0 {
                return None;
            }
            *x = (bits >> 4) as u8;
        }
        _ => return None,
    }
    Some(out)
}

/// Decodes strict base64url into exactly `N` bytes.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}

/// Encodes unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let mut bits = 0u32;
        for (i, &b) in group.iter().enumerate() {
            bits |= u32::from(b) << (16 - 8 * i);
        }
        // One byte gives two characters, two give three, three give four.
        for i in 0..=group.len() {
            let index = (bits >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(*ALPHABET.get(index as usize).unwrap_or(&b'A')));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(decode("AQ").as_deref(), Some(&[1u8][..]));
        assert_eq!(decode("AR"), None, "non-zero trailing bits");
        assert_eq!(decode("AQ=="), None, "padding");
        assert_eq!(decode("A+"), None);
        assert_eq!(decode("A/"), None);
        assert_eq!(decode("A Q"), None);
        assert_eq!(decode("A"), None);
        assert_eq!(decode("AQAB0"), None);
        assert_eq!(decode(""), None);
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("AQI"), Some(vec![1, 2]));
        assert_eq!(
            decode("AQJ"),
            None,
            "non-zero trailing bits after two bytes"
        );
        assert_eq!(decode("AQID"), Some(vec![1, 2, 3]));
        assert_eq!(decode("AQIDé"), None);
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[1]), "AQ");
        assert_eq!(encode(&[1, 2]), "AQI");
        assert_eq!(encode(&[1, 2, 3]), "AQID");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }
}
