//! Secrets at rest, under the `DATA_KEY` secret: values the origin must read back (TOTP
//! secrets) are sealed with ChaCha20-Poly1305, and codes and tokens it only has to recognise
//! (recovery codes, email and reset codes, secure-account tokens, WebSocket tickets) are kept
//! as HMAC-SHA256 digests. A copy of the database alone then yields neither a second factor nor
//! a usable code.
//!
//! Two subkeys are derived from `DATA_KEY` with distinct labels, so the cipher and the MAC never
//! share key material. A sealed value is `v1.<nonce>.<ciphertext>` (base64url, no padding) with a
//! random 12-byte nonce; its associated data names the row and column it belongs to, so a value
//! copied into another row or column does not open. Values without the `v1.` prefix are read as
//! legacy plaintext: base32 secrets never contain a dot, so the two cannot be confused.
//!
//! No I/O and no clock here; the only thing taken from the host is the nonce's randomness.

use std::fmt;
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::host::random_bytes;

/// The name of the secret.
pub const DATA_KEY: &str = "DATA_KEY";

/// The version prefix of a sealed value.
const V1: &str = "v1.";
/// Labels of the subkeys derived from `DATA_KEY`.
const SEAL_LABEL: &[u8] = b"epochgate data key v1: seal";
const HASH_LABEL: &[u8] = b"epochgate data key v1: code hash";
const CHALLENGE_LABEL: &[u8] = b"epochgate data key v1: webauthn challenge";
/// Nonce and tag lengths of ChaCha20-Poly1305.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// No sealed value the origin writes comes near this; longer input is refused before decoding.
const MAX_SEALED_LEN: usize = 4096;

/// Why `DATA_KEY` cannot be used; the message names the variable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret is not set.
    Missing,
    /// The value is not base64url.
    NotBase64Url,
    /// The value decodes to this many bytes instead of 32.
    WrongLength(usize),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Missing => write!(
                f,
                "the secret {DATA_KEY} is not set; for local development run \
                 `node scripts/gen-dev-vars.mjs`"
            ),
            KeyError::NotBase64Url => write!(
                f,
                "{DATA_KEY} is not base64url; it must be 32 random bytes in base64url \
                 (43 characters of A-Z a-z 0-9 - _)"
            ),
            KeyError::WrongLength(n) => write!(
                f,
                "{DATA_KEY} decodes to {n} bytes; it must be 32 random bytes in base64url"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// Why a stored value could not be sealed or opened. Never a panic: a row that does not open is
/// a storage fault the caller answers with a 500.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// Not `v1.<nonce>.<ciphertext>`, or too long.
    Malformed,
    /// The ciphertext does not authenticate: another `DATA_KEY`, another row or column, or
    /// altered bytes.
    Refused,
    /// It authenticated but is not UTF-8 (only a sealer with the same key could write it).
    NotText,
    /// No secure randomness for a nonce.
    Randomness,
}

impl SealError {
    /// A stable machine-readable reason.
    pub fn code(self) -> &'static str {
        match self {
            SealError::Malformed => "sealed_malformed",
            SealError::Refused => "sealed_refused",
            SealError::NotText => "sealed_not_text",
            SealError::Randomness => "no_randomness",
        }
    }
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SealError::Malformed => "a sealed value is not v1.<nonce>.<ciphertext>",
            SealError::Refused => {
                "a sealed value does not open with DATA_KEY for its row \
                 (another key, another row or column, or altered bytes)"
            }
            SealError::NotText => "a sealed value opened to bytes that are not UTF-8",
            SealError::Randomness => "no secure randomness for a nonce",
        })
    }
}

impl std::error::Error for SealError {}

impl From<SealError> for ApiError {
    fn from(e: SealError) -> Self {
        ApiError::internal(format!("{}: {e}", e.code()))
    }
}

struct Keys {
    /// Zeroizes its key on drop.
    seal: ChaCha20Poly1305,
    hash: Zeroizing<[u8; 32]>,
    challenge: Zeroizing<[u8; 32]>,
}

/// The subkeys derived from `DATA_KEY`. Cloning shares them (no copy of the key material).
#[derive(Clone)]
pub struct DataKey(Rc<Keys>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").finish_non_exhaustive()
    }
}

/// HMAC-SHA256 with a 32-byte key. A key shorter than SHA-256's 64-byte block is zero-padded by
/// HMAC itself (RFC 2104), so keying with the padded block is the same function and cannot fail.
fn hmac(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = Zeroizing::new([0u8; 64]);
    for (b, k) in block.iter_mut().zip(key) {
        *b = *k;
    }
    <Hmac<Sha256> as KeyInit>::new(&(*block).into())
}

fn subkey(master: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = hmac(master);
    mac.update(label);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// What a human may type around a code: case, spaces and the hyphen of `xxxxx-xxxxx` are
/// not part of it.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl DataKey {
    /// From the value of the `DATA_KEY` secret (`None` when unset): 32 bytes in base64url,
    /// padding and surrounding whitespace tolerated.
    pub fn from_secret(value: Option<&str>) -> Result<Self, KeyError> {
        let text = value.map(str::trim).filter(|s| !s.is_empty());
        let text = text.ok_or(KeyError::Missing)?.trim_end_matches('=');
        let bytes = Zeroizing::new(B64.decode(text).map_err(|_| KeyError::NotBase64Url)?);
        let master: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::WrongLength(bytes.len()))?,
        );
        Ok(Self::from_bytes(&master))
    }

    fn from_bytes(master: &[u8; 32]) -> Self {
        let seal = subkey(master, SEAL_LABEL);
        DataKey(Rc::new(Keys {
            seal: ChaCha20Poly1305::new(Key::from_slice(seal.as_slice())),
            hash: subkey(master, HASH_LABEL),
            challenge: subkey(master, CHALLENGE_LABEL),
        }))
    }

    /// Seals `plaintext` for the place named by `aad` (for example `accounts.totp_secret:<id>`)
    /// under a fresh random nonce: `v1.<nonce>.<ciphertext>`.
    pub fn seal(&self, plaintext: &str, aad: &str) -> Result<String, SealError> {
        let nonce = random_bytes::<NONCE_LEN>().map_err(|_| SealError::Randomness)?;
        self.seal_with_nonce(nonce, plaintext, aad)
    }

    fn seal_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        plaintext: &str,
        aad: &str,
    ) -> Result<String, SealError> {
        let ciphertext = self
            .0
            .seal
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            // Only a message over 256 GiB makes the cipher fail.
            .map_err(|_| SealError::Malformed)?;
        Ok(format!(
            "{V1}{}.{}",
            B64.encode(nonce),
            B64.encode(ciphertext)
        ))
    }

    /// Opens what [`DataKey::seal`] wrote for the same `aad`. A value without the `v1.` prefix
    /// and without a dot is legacy plaintext and comes back as it is.
    pub fn open(&self, stored: &str, aad: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(V1) else {
            return if stored.contains('.') {
                Err(SealError::Malformed)
            } else {
                Ok(stored.to_owned())
            };
        };
        if stored.len() > MAX_SEALED_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_once('.').ok_or(SealError::Malformed)?;
        let nonce: [u8; NONCE_LEN] = B64
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(SealError::Malformed)?;
        let ciphertext = B64.decode(ciphertext).map_err(|_| SealError::Malformed)?;
        if ciphertext.len() < TAG_LEN {
            return Err(SealError::Malformed);
        }
        let plaintext = Zeroizing::new(
            self.0
                .seal
                .decrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: aad.as_bytes(),
                    },
                )
                .map_err(|_| SealError::Refused)?,
        );
        std::str::from_utf8(&plaintext)
            .map(str::to_owned)
            .map_err(|_| SealError::NotText)
    }

    /// Whether `stored` is sealed (rather than legacy plaintext).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(V1)
    }

    /// The digest to store for a code a person types (recovery, email and reset codes):
    /// HMAC-SHA256 over `purpose`, a zero byte and the code without case, spaces or hyphens,
    /// in base64url. `purpose` (a fixed label such as `"recovery"`) keeps the digests of one
    /// kind of code from matching another kind.
    pub fn hash_code(&self, purpose: &str, code: &str) -> String {
        self.hash_token(purpose, &normalise(code))
    }

    /// The digest to store for a token a program carries (secure-account link tokens,
    /// WebSocket tickets): as [`DataKey::hash_code`] but exact, since case and `-` are part of
    /// a base64url token. Look rows up by this digest.
    pub fn hash_token(&self, purpose: &str, token: &str) -> String {
        let mut mac = hmac(&self.0.hash);
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(token.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// The key WebAuthn challenges are authenticated with (`epochgate_webauthn::Challenge`):
    /// the edge issues sign-in challenges and the account's shard checks them, with no row
    /// until one is answered.
    pub fn challenge_key(&self) -> &[u8; 32] {
        &self.0.challenge
    }

    /// Whether `code` is the code whose [`DataKey::hash_code`] digest is `stored`, compared in
    /// constant time.
    pub fn code_matches(&self, purpose: &str, code: &str, stored: &str) -> bool {
        self.hash_code(purpose, code)
            .as_bytes()
            .ct_eq(stored.as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"; // bytes 0..32
    const OTHER: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"; // bytes 32..64
    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const AAD: &str = "accounts.totp_secret:acct_1";

    fn key(s: &str) -> DataKey {
        DataKey::from_secret(Some(s)).unwrap()
    }

    #[test]
    fn round_trip() {
        let k = key(KEY);
        let sealed = k.seal(SECRET, AAD).unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(DataKey::is_sealed(&sealed));
        assert!(!sealed.contains(SECRET));
        assert_eq!(k.open(&sealed, AAD).unwrap(), SECRET);
        // A fresh nonce each time: the same secret never seals to the same text.
        assert_ne!(k.seal(SECRET, AAD).unwrap(), sealed);
        assert_eq!(k.open(&k.seal("", AAD).unwrap(), AAD).unwrap(), "");
    }

    #[test]
    fn pinned_vector() {
        // Pins the format and the key derivation: an old row must keep opening.
        let sealed = key(KEY).seal_with_nonce([7; 12], SECRET, AAD).unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "v1");
        assert_eq!(parts[1], "BwcHBwcHBwcHBwcH");
        assert_eq!(B64.decode(parts[2]).unwrap().len(), SECRET.len() + TAG_LEN);
        assert_eq!(key(KEY).open(&sealed, AAD).unwrap(), SECRET);
    }

    #[test]
    fn wrong_aad_key_or_bytes_refused() {
        let k = key(KEY);
        let sealed = k.seal(SECRET, AAD).unwrap();
        // Another row, another column, another key.
        assert_eq!(
            k.open(&sealed, "accounts.totp_secret:acct_2"),
            Err(SealError::Refused)
        );
        assert_eq!(
            k.open(&sealed, "accounts.totp_pending:acct_1"),
            Err(SealError::Refused)
        );
        assert_eq!(key(OTHER).open(&sealed, AAD), Err(SealError::Refused));
        // Every single-character change of the ciphertext or nonce is refused, never a panic.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 3..sealed.len() {
            let mut bytes = sealed.clone().into_bytes();
            if bytes[i] == b'.' {
                continue;
            }
            bytes[i] = if bytes[i] == alphabet[0] {
                alphabet[1]
            } else {
                alphabet[0]
            };
            let tampered = String::from_utf8(bytes).unwrap();
            let got = k.open(&tampered, AAD);
            assert!(
                matches!(got, Err(SealError::Refused | SealError::Malformed)),
                "{tampered}: {got:?}"
            );
        }
    }

    #[test]
    fn malformed_sealed_values() {
        let k = key(KEY);
        let sealed = k.seal(SECRET, AAD).unwrap();
        let (head, _) = sealed.rsplit_once('.').unwrap();
        for bad in [
            "v1.".to_owned(),
            "v1..".to_owned(),
            "v1.AAAA".to_owned(),
            "v1.!!!.AAAA".to_owned(),
            format!("{head}."),
            format!("{head}.AAAA"),
            format!("{head}.not base64"),
            format!("{sealed}.extra"),
            format!("v1.{}.{}", "A".repeat(20), "A".repeat(40)),
            format!("v1.AAAAAAAAAAAAAAAA.{}", "A".repeat(MAX_SEALED_LEN)),
            "v2.AAAA.AAAA".to_owned(),
        ] {
            let got = k.open(&bad, AAD);
            assert!(
                matches!(got, Err(SealError::Malformed | SealError::Refused)),
                "{bad}: {got:?}"
            );
        }
        assert_eq!(k.open("v2.AAAA.AAAA", AAD), Err(SealError::Malformed));
        let e: ApiError = SealError::Refused.into();
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn legacy_plaintext_reads_as_is() {
        let k = key(KEY);
        assert_eq!(k.open(SECRET, AAD).unwrap(), SECRET);
        assert_eq!(k.open(SECRET, "anything").unwrap(), SECRET);
        assert!(!DataKey::is_sealed(SECRET));
    }

    #[test]
    fn hash_stable_and_purpose_separated() {
        let k = key(KEY);
        let h = k.hash_code("recovery", "abcde-fghij");
        assert_eq!(h, k.hash_code("recovery", "abcde-fghij"));
        assert_eq!(h.len(), 43);
        assert!(!h.contains("abcde"));
        // Pinned: stored digests must keep matching after an upgrade.
        assert_eq!(h, key(KEY).hash_token("recovery", "abcdefghij"));
        // Typed as people type it.
        assert_eq!(h, k.hash_code("recovery", " ABCDE FGHIJ "));
        assert_eq!(h, k.hash_code("recovery", "abcdefghij"));
        assert!(k.code_matches("recovery", "ABCDE-fghij", &h));
        assert!(!k.code_matches("recovery", "abcde-fghik", &h));
        assert!(!k.code_matches("recovery", "abcde-fghij", ""));
        assert!(!k.code_matches("recovery", "abcde-fghij", &h[..42]));
        // Another purpose, another key: another digest.
        assert_ne!(h, k.hash_code("email", "abcde-fghij"));
        assert!(!k.code_matches("email", "abcde-fghij", &h));
        assert_ne!(h, key(OTHER).hash_code("recovery", "abcde-fghij"));
        // The zero byte separates purpose from code.
        assert_ne!(k.hash_code("ab", "c"), k.hash_code("a", "bc"));
        // Tokens are exact.
        assert_ne!(
            k.hash_token("ticket", "Ab-c"),
            k.hash_token("ticket", "abc")
        );
    }

    #[test]
    fn subkeys_are_independent() {
        let master = [9u8; 32];
        let seal = subkey(&master, SEAL_LABEL);
        let hash = subkey(&master, HASH_LABEL);
        let challenge = subkey(&master, CHALLENGE_LABEL);
        assert_ne!(*seal, *hash);
        assert_ne!(*challenge, *hash);
        assert_ne!(*challenge, *seal);
        assert_ne!(*seal, master);
        // HMAC keyed with the padded block is HMAC keyed with the 32 bytes.
        let mut a = hmac(&master);
        a.update(b"x");
        let mut b = <Hmac<Sha256> as Mac>::new_from_slice(&master).unwrap();
        b.update(b"x");
        assert_eq!(a.finalize().into_bytes(), b.finalize().into_bytes());
    }

    #[test]
    fn data_key_errors_name_the_variable() {
        for (value, want) in [
            (None, KeyError::Missing),
            (Some(""), KeyError::Missing),
            (Some("   "), KeyError::Missing),
            (Some("not base64!"), KeyError::NotBase64Url),
            (
                Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8+"),
                KeyError::NotBase64Url,
            ),
            (Some("AAEC"), KeyError::WrongLength(3)),
            (
                Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ"),
                KeyError::WrongLength(34),
            ),
        ] {
            let e = DataKey::from_secret(value).unwrap_err();
            assert_eq!(e, want, "{value:?}");
            assert!(e.to_string().contains("DATA_KEY"), "{e}");
        }
        // Padding and surrounding whitespace are tolerated.
        let padded = format!(" {KEY}= \n");
        let k = DataKey::from_secret(Some(&padded)).unwrap();
        assert_eq!(k.hash_code("p", "c"), key(KEY).hash_code("p", "c"));
        assert_eq!(format!("{k:?}"), "DataKey { .. }");
    }
}
