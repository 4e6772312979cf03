//! Ed25519 keys as JWK (RFC 8037 OKP keys) and JWKS (RFC 7517), looked up by `kid`.
//!
//! Loading is where weak keys are stopped: a small-order public key would let a forger sign
//! anything, so it is refused here rather than trusted at verification time.

use std::fmt;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{json, Map, Value};

use crate::b64;
use crate::ed25519::{strict_parts, Verifier};
use crate::error::{Error, KeyError};
use crate::ids::KeyId;
use crate::json;

/// A public Ed25519 key with its key id.
#[derive(Clone)]
pub struct PublicKey {
    kid: KeyId,
    key: VerifyingKey,
    verifier: Verifier,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.key == other.key
    }
}

impl Eq for PublicKey {}

/// A private Ed25519 key with its key id. Its `Debug` shows only the key id and the secret is
/// zeroized when dropped.
#[derive(Clone)]
pub struct PrivateKey {
    kid: KeyId,
    key: SigningKey,
}

/// A set of public keys, at most one per key id, so keys can be rotated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<PublicKey>,
}

/// Verifies `signature` over `message` with the raw 32-byte public key under strict rules
/// (ed25519-dalek `verify_strict`: canonical `S`, no small-order `R` or `A`).
/// This is the primitive the vectors pin; keys loaded through JWK are additionally checked.
pub fn verify_raw(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(public)
        .map(|key| {
            key.verify_strict(message, &Signature::from_bytes(signature))
                .is_ok()
        })
        .unwrap_or(false)
}

/// A host's own Ed25519 verification (Node's `crypto.verify`, say), given the raw public key,
/// the message and the signature: `true` when RFC 8032's equation holds. It is trusted for the
/// equation only; every refusal of `verify_strict` that goes beyond RFC 8032 is made in Rust
/// before it is asked ([`PublicKey::verify_with_host`]).
pub type HostVerify<'a> = &'a dyn Fn(&[u8; 32], &[u8], &[u8; 64]) -> bool;

/// [`verify_raw`] over a message given in pieces (their concatenation is the message), under the
/// same rules. The pieces are hashed one by one, so a long message (a revocation snapshot) is
/// neither copied nor hashed in one call, which a WebAssembly engine would run in its baseline
/// tier from start to end.
pub fn verify_raw_pieces<'a>(
    public: &[u8; 32],
    pieces: impl IntoIterator<Item = &'a [u8]>,
    signature: &[u8; 64],
) -> bool {
    VerifyingKey::from_bytes(public)
        .map(|key| verify_pieces(&key, pieces, signature))
        .unwrap_or(false)
}

/// `verify_strict` for a message in pieces: the streaming verifier checks the canonical `S` and
/// the equation; the refusals it leaves out, `R` or `A` of small order (or `R` not a point), are
/// made here first.
fn verify_pieces<'a>(
    key: &VerifyingKey,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    signature: &[u8; 64],
) -> bool {
    let signature = Signature::from_bytes(signature);
    let small = |bytes: [u8; 32]| {
        CompressedEdwardsY(bytes)
            .decompress()
            .is_none_or(|p| p.is_small_order())
    };
    if small(*signature.r_bytes()) || small(key.to_bytes()) {
        return false;
    }
    let Ok(mut stream) = key.verify_stream(&signature) else {
        return false;
    };
    for piece in pieces {
        stream.update(piece);
    }
    stream.finalize_and_verify().is_ok()
}

impl PublicKey {
    /// Wraps a raw public key, refusing non-canonical encodings and weak (small-order) keys.
    pub fn from_bytes(kid: &str, bytes: &[u8; 32]) -> Result<Self, Error> {
        let kid = parse_kid(kid)?;
        let Some(point) = CompressedEdwardsY(*bytes)
            .decompress()
            .filter(|p| p.compress().to_bytes() == *bytes)
        else {
            return Err(Error::key(
                KeyError::InvalidKeyEncoding,
                format!("key {kid}: x is not the canonical encoding of a curve point"),
            ));
        };
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| {
            Error::key(
                KeyError::InvalidKeyEncoding,
                format!("key {kid}: x is not a valid Ed25519 public key"),
            )
        })?;
        if key.is_weak() {
            return Err(Error::key(
                KeyError::WeakKey,
                format!("key {kid}: x is a small-order (weak) Ed25519 key that would accept forged signatures"),
            ));
        }
        Ok(PublicKey {
            kid,
            key,
            verifier: Verifier::new(*bytes, &point),
        })
    }

    /// Reads a public OKP/Ed25519 JWK given as JSON text.
    pub fn from_jwk(text: &str) -> Result<Self, Error> {
        Self::from_jwk_value(&parse_jwk_text(text)?)
    }

    fn from_jwk_value(jwk: &Map<String, Value>) -> Result<Self, Error> {
        check_okp(jwk)?;
        let kid = jwk_kid(jwk)?;
        if jwk.contains_key("d") {
            return Err(Error::key(
                KeyError::InvalidJwk,
                format!("key {kid}: a public key set must not hold a private key (member \"d\"); publish only the public half"),
            ));
        }
        let x = jwk_bytes(jwk, "x", &kid)?.ok_or_else(|| {
            Error::key(
                KeyError::InvalidJwk,
                format!("key {kid}: the public key member \"x\" is missing"),
            )
        })?;
        Self::from_bytes(kid.as_str(), &x)
    }

    /// The key id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The raw 32-byte public key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public JWK (`kty` OKP, `crv` Ed25519, `alg` EdDSA, `use` sig).
    pub fn to_jwk(&self) -> Value {
        json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "kid": self.kid.as_str(), "x": b64::encode(self.key.as_bytes()),
        })
    }

    /// Strict verification of `signature` over `message`: the same answer as ed25519-dalek's
    /// `verify_strict`, computed over tables of this key once it has made four verifications
    /// ([`crate::ed25519`]; each then takes less than half the time).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.verifier.verify([message], signature)
    }

    /// Builds this key's verification tables now (80 KB, shared by its clones; about five
    /// verifications' time) instead of after its first four verifications: for a long-lived key
    /// whose first verifications should already be fast.
    pub fn precompute(&self) {
        self.verifier.precompute();
    }

    /// [`Self::verify`] with the equation left to `host`: the same accept/reject as
    /// `verify_strict` for a key that loaded (canonical, not weak) whenever `host` computes
    /// RFC 8032's equation and compares `R` by its encoding, as OpenSSL does. What
    /// `verify_strict` refuses beyond that equation is refused here first: `S` not below the
    /// group order, `R` not a point or of small order (`A` of small order or not canonical
    /// never got this far: [`Self::from_bytes`] refuses it).
    pub fn verify_with_host(
        &self,
        message: &[u8],
        signature: &[u8; 64],
        host: HostVerify<'_>,
    ) -> bool {
        // verify_strict decompresses R to see its order, a square root in the field; comparing
        // bytes gives the same answer here: an R that is no point, or not canonical, can never
        // equal the encoding the equation recomputes, so the host refuses it.
        strict_parts(signature).is_some() && host(self.key.as_bytes(), message, signature)
    }

    /// [`Self::verify`] over a message given in pieces ([`verify_raw_pieces`]).
    pub fn verify_pieces<'a>(
        &self,
        pieces: impl IntoIterator<Item = &'a [u8]>,
        signature: &[u8; 64],
    ) -> bool {
        self.verifier.verify(pieces, signature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("x", &b64::encode(self.key.as_bytes()))
            .finish()
    }
}

impl PrivateKey {
    /// A key from a 32-byte seed (RFC 8032 private key). Callers supply the randomness, which
    /// keeps this crate free of any source of entropy or I/O.
    pub fn from_seed(kid: &str, seed: &[u8; 32]) -> Result<Self, Error> {
        Ok(PrivateKey {
            kid: parse_kid(kid)?,
            key: SigningKey::from_bytes(seed),
        })
    }

    /// Reads a private OKP/Ed25519 JWK (with `d`) given as JSON text; `x`, when present, must match.
    pub fn from_jwk(text: &str) -> Result<Self, Error> {
        let jwk = parse_jwk_text(text)?;
        check_okp(&jwk)?;
        let kid = jwk_kid(&jwk)?;
        let d = jwk_bytes(&jwk, "d", &kid)?.ok_or_else(|| {
            Error::key(
                KeyError::MissingPrivateKey,
                format!("key {kid}: a private JWK with member \"d\" is required"),
            )
        })?;
        let key = PrivateKey {
            kid,
            key: SigningKey::from_bytes(&d),
        };
        if let Some(x) = jwk_bytes(&jwk, "x", &key.kid)? {
            if x != key.key.verifying_key().to_bytes() {
                return Err(Error::key(
                    KeyError::KeyMismatch,
                    format!("key {}: \"x\" is not the public key of \"d\"", key.kid),
                ));
            }
        }
        Ok(key)
    }

    /// The key id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The public half. A key derived from a seed is never of small order.
    pub fn public(&self) -> PublicKey {
        let key = self.key.verifying_key();
        PublicKey {
            kid: self.kid.clone(),
            verifier: Verifier::new(key.to_bytes(), &key.to_edwards()),
            key,
        }
    }

    /// The private JWK, including `d`. Handle it as a secret.
    pub fn to_jwk(&self) -> Value {
        let mut jwk = self.public().to_jwk();
        if let Value::Object(map) = &mut jwk {
            map.insert("d".into(), Value::String(b64::encode(self.key.as_bytes())));
        }
        jwk
    }

    /// Signs `message` (deterministic Ed25519).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeySet {
    /// A set of the given keys; key ids must be unique and at least one key is required.
    pub fn new(keys: Vec<PublicKey>) -> Result<Self, Error> {
        if keys.is_empty() {
            return Err(Error::key(
                KeyError::NoUsableKey,
                "the key set holds no Ed25519 key",
            ));
        }
        for (i, key) in keys.iter().enumerate() {
            if keys.iter().skip(i + 1).any(|other| other.kid == key.kid) {
                return Err(Error::key(
                    KeyError::DuplicateKid,
                    format!("two keys share the kid {:?}", key.kid.as_str()),
                ));
            }
        }
        Ok(KeySet { keys })
    }

    /// Reads a JWKS (`{"keys": [...]}`) or a single public JWK given as JSON text.
    ///
    /// Members of other key types or curves, or marked for another `use` or `alg`, are skipped as
    /// RFC 7517 section 5 asks; a broken Ed25519 member is an error rather than silently dropped.
    pub fn from_jwks(text: &str) -> Result<Self, Error> {
        let root = parse_jwk_text(text)?;
        let members = match root.get("keys") {
            None => return Self::new(vec![PublicKey::from_jwk_value(&root)?]),
            Some(Value::Array(members)) => members,
            Some(_) => {
                return Err(Error::key(
                    KeyError::InvalidJwk,
                    "\"keys\" must be an array of JWKs",
                ))
            }
        };
        let mut keys = Vec::new();
        for member in members {
            let Value::Object(jwk) = member else {
                return Err(Error::key(
                    KeyError::InvalidJwk,
                    "every member of \"keys\" must be a JSON object",
                ));
            };
            if check_okp(jwk).is_err() {
                continue;
            }
            keys.push(PublicKey::from_jwk_value(jwk)?);
        }
        if keys.is_empty() {
            return Err(Error::key(
                KeyError::NoUsableKey,
                "the JWKS holds no usable Ed25519 key (kty \"OKP\", crv \"Ed25519\")",
            ));
        }
        Self::new(keys)
    }

    /// The key with this key id.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|key| key.kid.as_str() == kid)
    }

    /// All keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// Whether any key of `self` is also in `other` (same public key, whatever its kid).
    pub fn shares_key_with(&self, other: &KeySet) -> bool {
        self.keys
            .iter()
            .any(|a| other.keys.iter().any(|b| a.key == b.key))
    }

    /// The JWKS.
    pub fn to_jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(PublicKey::to_jwk).collect::<Vec<_>>() })
    }
}

fn parse_kid(kid: &str) -> Result<KeyId, Error> {
    KeyId::new(kid).ok_or_else(|| {
        Error::key(
            KeyError::InvalidKid,
            format!(
                "kid must be 1 to {} bytes long, got {} bytes",
                KeyId::MAX_BYTES,
                kid.len()
            ),
        )
    })
}

fn parse_jwk_text(text: &str) -> Result<Map<String, Value>, Error> {
    json::parse_object(text)
        .map_err(|e| Error::key(KeyError::InvalidJwk, format!("not a JSON object: {e}")))
}

/// Whether the JWK is an Ed25519 signing key this crate can use.
fn check_okp(jwk: &Map<String, Value>) -> Result<(), Error> {
    let member = |name| jwk.get(name).and_then(Value::as_str);
    let usable = member("kty") == Some("OKP")
        && member("crv") == Some("Ed25519")
        && jwk
            .get("alg")
            .is_none_or(|alg| matches!(alg.as_str(), Some("EdDSA" | "Ed25519")))
        && jwk.get("use").is_none_or(|u| u.as_str() == Some("sig"));
    if usable {
        Ok(())
    } else {
        Err(Error::key(
            KeyError::UnsupportedKeyType,
            "only OKP keys with crv \"Ed25519\" (alg EdDSA or Ed25519, use sig) are supported",
        ))
    }
}

fn jwk_kid(jwk: &Map<String, Value>) -> Result<KeyId, Error> {
    match jwk.get("kid") {
        None => Err(Error::key(
            KeyError::MissingKid,
            "the JWK has no \"kid\"; tokens name their key by kid",
        )),
        Some(Value::String(kid)) => parse_kid(kid),
        Some(_) => Err(Error::key(KeyError::InvalidKid, "\"kid\" must be a string")),
    }
}

fn jwk_bytes(jwk: &Map<String, Value>, name: &str, kid: &KeyId) -> Result<Option<[u8; 32]>, Error> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => b64::decode_array::<32>(text).map(Some).ok_or_else(|| {
            Error::key(
                KeyError::InvalidKeyEncoding,
                format!("key {kid}: \"{name}\" must be 32 bytes of unpadded base64url"),
            )
        }),
        Some(_) => Err(Error::key(
            KeyError::InvalidKeyEncoding,
            format!("key {kid}: \"{name}\" must be a string"),
        )),
    }
}
