//! TOTP (RFC 6238 over RFC 4226): HMAC-SHA-1, 30-second steps, 6 digits, one step of drift
//! either way, base32 secrets (RFC 4648, no padding) as authenticator apps expect.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted on either side of the current one.
pub const DRIFT: i64 = 1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn symbol(v: u32) -> char {
    ALPHABET
        .get((v & 31) as usize)
        .map_or('A', |b| char::from(*b))
}

/// Base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored); `None` on any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The HOTP value of `secret` at `counter` (RFC 4226 section 5.3).
pub fn hotp(secret: &[u8], counter: u64) -> Option<u32> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).ok()?;
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let window = digest.get(offset..offset + 4)?;
    let word = u32::from_be_bytes(window.try_into().ok()?) & 0x7fff_ffff;
    Some(word % 10u32.pow(DIGITS))
}

/// The step a time falls in.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP)
}

/// The step `code` matches within the drift window at `now`, if any and if it is later than
/// `last_used` (a code is accepted once). The comparison is constant-time.
pub fn verify(secret: &[u8], code: &str, now: i64, last_used: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut found = None;
    for step in (current - DRIFT)..=(current + DRIFT) {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let Some(value) = hotp(secret, counter) else {
            continue;
        };
        let expected = format!("{value:06}");
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && step > last_used {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI authenticator apps import.
pub fn otpauth_uri(issuer: &str, label: &str, secret_b32: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(label),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        // RFC 6238 appendix B, SHA-1, truncated to 6 digits.
        for (t, code) in [
            (59i64, 287_082u32),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            assert_eq!(hotp(secret, step_of(t) as u64), Some(code), "t = {t}");
        }
    }

    #[test]
    fn drift_and_replay() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let next = format!("{:06}", hotp(secret, step_of(now) as u64 + 1).unwrap());
        assert_eq!(verify(secret, &next, now, 0), Some(step_of(now) + 1));
        assert_eq!(verify(secret, &next, now, step_of(now) + 1), None);
        let far = format!("{:06}", hotp(secret, step_of(now) as u64 + 2).unwrap());
        assert_eq!(verify(secret, &far, now, 0), None);
        assert_eq!(verify(secret, "12345", now, 0), None);
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert!(base32_decode("M1").is_none());
    }
}
