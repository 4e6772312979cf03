//! Base64url without padding, the encoding of every binary member of the WebAuthn JSON forms;
//! here so the faces decode exactly as strictly as the challenge check does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; padding, other alphabets and non-zero trailing bits are
/// refused (`None`), so every byte string has exactly one accepted text form.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn strict_round_trip() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode("-_8="), None);
        assert_eq!(decode("+/8"), None);
        assert_eq!(decode("-_9"), None);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }
}
