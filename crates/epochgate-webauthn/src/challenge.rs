//! Stateless, self-describing challenges: what a ceremony is for, whom it binds and until when,
//! authenticated by an HMAC so that the origin stores nothing until the challenge is spent.
//!
//! `challenge = version(1) ‖ purpose(1) ‖ expires_at(i64 LE) ‖ nonce(16) ‖ tag(16)`, where
//! `tag = HMAC-SHA256(key, DOMAIN ‖ first 26 bytes ‖ binding)[..16]`. The binding (an account id
//! for registration and re-authentication, empty for login) is MAC'd but not carried, so a
//! challenge issued for one account cannot be used for another.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Error;

/// Length of an encoded challenge.
pub const CHALLENGE_LEN: usize = 42;
/// How long a challenge may be answered, in seconds (the page's `timeout` is the same 300 000 ms).
pub const CHALLENGE_LIFETIME: i64 = 300;
/// Version byte of the only challenge layout.
pub const CHALLENGE_VERSION: u8 = 1;
/// Domain separation for the tag: a MAC key shared with other uses can never produce one.
pub const CHALLENGE_DOMAIN: &[u8] = b"epochgate webauthn challenge v1\0";

const SIGNED_LEN: usize = 26;
const TAG_LEN: usize = 16;
const _: () = assert!(SIGNED_LEN + TAG_LEN == CHALLENGE_LEN);

/// What a challenge may be used for; a challenge of one purpose never passes for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Creating a passkey for a signed-in account (binding: the account id).
    Registration = 1,
    /// Signing in with a discoverable passkey (binding: empty).
    Login = 2,
    /// Proving presence again inside a session (binding: the account id).
    Reauthentication = 3,
}

impl Purpose {
    /// The purpose's byte in the challenge.
    pub const fn byte(self) -> u8 {
        self as u8
    }
}

/// A challenge that opened: the nonce to spend and when it stops being acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The single-use nonce, to give to [`SpentChallenges::spend`](crate::SpentChallenges::spend).
    pub nonce: [u8; 16],
    /// Unix seconds after which the challenge is expired; the spent record may be dropped then.
    pub expires_at: i64,
}

/// The challenge codec; it has no values, only [`Challenge::issue`] and [`Challenge::open`].
#[derive(Debug)]
pub enum Challenge {}

impl Challenge {
    /// A new challenge for `purpose` and `binding`, valid for [`CHALLENGE_LIFETIME`] seconds from
    /// `now`. The nonce must be fresh random bytes from the caller.
    pub fn issue(
        key: &[u8; 32],
        purpose: Purpose,
        binding: &[u8],
        now: i64,
        nonce: [u8; 16],
    ) -> [u8; CHALLENGE_LEN] {
        let mut out = [0u8; CHALLENGE_LEN];
        let expires_at = now.saturating_add(CHALLENGE_LIFETIME);
        let (signed, tag) = out.split_at_mut(SIGNED_LEN);
        let (head, rest) = signed.split_at_mut(2);
        let (expires, nonce_out) = rest.split_at_mut(8);
        head.copy_from_slice(&[CHALLENGE_VERSION, purpose.byte()]);
        expires.copy_from_slice(&expires_at.to_le_bytes());
        nonce_out.copy_from_slice(&nonce);
        let mac = mac(key, signed, binding).finalize().into_bytes();
        for (t, m) in tag.iter_mut().zip(mac.iter()) {
            *t = *m;
        }
        out
    }

    /// Checks a challenge returned by the browser: its length, version, tag (under `key` and
    /// `binding`, in constant time), purpose, and then its expiry against `now`.
    pub fn open(
        key: &[u8; 32],
        bytes: &[u8],
        purpose: Purpose,
        binding: &[u8],
        now: i64,
    ) -> Result<Opened, Error> {
        if bytes.len() != CHALLENGE_LEN {
            return Err(Error::ChallengeInvalid);
        }
        let (signed, tag) = bytes.split_at(SIGNED_LEN);
        mac(key, signed, binding)
            .verify_truncated_left(tag)
            .map_err(|_| Error::ChallengeInvalid)?;
        let (head, rest) = signed.split_at(2);
        if head != [CHALLENGE_VERSION, purpose.byte()] {
            return Err(Error::ChallengeInvalid);
        }
        let (expires, nonce_bytes) = rest.split_at(8);
        let expires_at = i64::from_le_bytes(expires.try_into().map_err(|_| Error::Malformed)?);
        let nonce: [u8; 16] = nonce_bytes.try_into().map_err(|_| Error::Malformed)?;
        if now > expires_at {
            return Err(Error::ChallengeExpired);
        }
        Ok(Opened { nonce, expires_at })
    }
}

fn mac(key: &[u8; 32], signed: &[u8], binding: &[u8]) -> Hmac<Sha256> {
    // HMAC pads a key shorter than the hash's 64-byte block with zeros (RFC 2104), so the padded
    // block is the same key; taking it as a fixed-size array makes construction infallible.
    let mut block = [0u8; 64];
    for (b, k) in block.iter_mut().zip(key.iter()) {
        *b = *k;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(CHALLENGE_DOMAIN);
    mac.update(signed);
    mac.update(binding);
    mac
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn layout_and_round_trip() {
        let c = Challenge::issue(&KEY, Purpose::Reauthentication, b"acct", NOW, [9; 16]);
        assert_eq!(c[0], 1);
        assert_eq!(c[1], 3);
        assert_eq!(i64::from_le_bytes(c[2..10].try_into().unwrap()), NOW + 300);
        assert_eq!(c[10..26], [9; 16]);
        let opened = Challenge::open(&KEY, &c, Purpose::Reauthentication, b"acct", NOW).unwrap();
        assert_eq!(
            opened,
            Opened {
                nonce: [9; 16],
                expires_at: NOW + 300
            }
        );
    }

    #[test]
    fn every_field_is_checked() {
        let c = Challenge::issue(&KEY, Purpose::Login, b"", NOW, [1; 16]);
        let open = |bytes: &[u8], purpose, binding: &[u8], now| {
            Challenge::open(&KEY, bytes, purpose, binding, now)
        };
        assert!(open(&c, Purpose::Login, b"", NOW + 300).is_ok());
        assert_eq!(
            open(&c, Purpose::Login, b"", NOW + 301),
            Err(Error::ChallengeExpired)
        );
        assert_eq!(
            open(&c, Purpose::Registration, b"", NOW),
            Err(Error::ChallengeInvalid)
        );
        assert_eq!(
            open(&c, Purpose::Login, b"x", NOW),
            Err(Error::ChallengeInvalid)
        );
        assert_eq!(
            open(&c[..41], Purpose::Login, b"", NOW),
            Err(Error::ChallengeInvalid)
        );
        assert_eq!(
            Challenge::open(&[8; 32], &c, Purpose::Login, b"", NOW),
            Err(Error::ChallengeInvalid)
        );
        for i in 0..CHALLENGE_LEN {
            let mut forged = c;
            forged[i] ^= 1;
            assert_eq!(
                open(&forged, Purpose::Login, b"", NOW),
                Err(Error::ChallengeInvalid),
                "{i}"
            );
        }
    }

    #[test]
    fn a_wrong_version_is_refused_even_with_a_valid_tag() {
        let mut c = Challenge::issue(&KEY, Purpose::Login, b"", NOW, [1; 16]);
        c[0] = 2;
        let tag = mac(&KEY, &c[..SIGNED_LEN], b"").finalize().into_bytes();
        c[SIGNED_LEN..].copy_from_slice(&tag[..TAG_LEN]);
        assert_eq!(
            Challenge::open(&KEY, &c, Purpose::Login, b"", NOW),
            Err(Error::ChallengeInvalid)
        );
    }
}
