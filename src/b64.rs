//! Strict unpadded base64url (RFC 7515 section 2): no padding, no `+` or `/`, no whitespace and
//! no non-zero trailing bits, so every byte string has exactly one accepted encoding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Decodes strict base64url; `None` for anything else, including the empty string.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() {
        return None;
    }
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Decodes strict base64url into exactly `N` bytes.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}

/// Encodes unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
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
        assert_eq!(decode(""), None);
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
    }
}
