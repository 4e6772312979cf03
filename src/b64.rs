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

/// Decodes strict base64url; `None` for anything else, including the empty string.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    // A last group of one character cannot hold a byte.
    if bytes.is_empty() || bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    let mut bits = 0u32;
    let mut held = 0;
    for &c in bytes {
        let v = DECODE.get(usize::from(c)).copied().unwrap_or(INVALID);
        if v == INVALID {
            return None;
        }
        bits = (bits << 6) | u32::from(v);
        held += 1;
        if held == 4 {
            out.push((bits >> 16) as u8);
            out.push((bits >> 8) as u8);
            out.push(bits as u8);
            held = 0;
        }
    }
    match held {
        0 => {}
        // 18 bits: two bytes and two bits that must be zero.
        3 if bits & 0b11 == 0 => out.extend_from_slice(&[(bits >> 10) as u8, (bits >> 2) as u8]),
        // 12 bits: one byte and four bits that must be zero.
        2 if bits & 0b1111 == 0 => out.push((bits >> 4) as u8),
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
