//! Why a WebAuthn ceremony was refused, with a stable snake_case code per reason.
//!
//! The faces map [`Error::code`] into API messages (`invalid_passkey`, `invalid_credentials`, …)
//! and logs; the codes never change once published, while the messages may be improved.

use core::convert::Infallible;
use core::fmt;

/// A refused registration or assertion.
///
/// `E` is the error of the caller's [`SpentChallenges`](crate::SpentChallenges) store; it is
/// [`Infallible`] for [`MemorySpent`](crate::MemorySpent) and for everything that touches no store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error<E = Infallible> {
    /// The clientDataJSON, CBOR, authenticator data or signature encoding is not well formed.
    Malformed,
    /// clientData `type` is not the ceremony's (`webauthn.create` / `webauthn.get`).
    WrongType,
    /// The challenge does not open: bad length, version, purpose, binding or tag.
    ChallengeInvalid,
    /// The challenge is authentic but its lifetime has passed.
    ChallengeExpired,
    /// The challenge's nonce was already spent by an earlier ceremony.
    ChallengeReplayed,
    /// clientData `origin` is not one of the relying party's origins.
    WrongOrigin,
    /// clientData says the ceremony ran in a cross-origin frame.
    CrossOrigin,
    /// The authenticator data's RP id hash is not SHA-256 of the relying party's id.
    WrongRpId,
    /// The UP flag is not set.
    UserNotPresent,
    /// The UV flag is not set: user verification is required.
    UserNotVerified,
    /// The credential's COSE algorithm is neither ES256 (-7) nor EdDSA (-8).
    UnsupportedAlgorithm,
    /// The public key is malformed, off the curve, or a weak Ed25519 key.
    InvalidKey,
    /// The assertion signature does not verify under the stored key.
    BadSignature,
    /// The signature counter did not increase: the authenticator may have been cloned.
    CounterRegressed,
    /// No stored credential has the presented id. Never returned by this crate (the caller looks
    /// credentials up); here so every face reports it with the same code.
    UnknownCredential,
    /// The caller's spent-challenge store failed; says nothing about the credential.
    Store(E),
}

impl<E> Error<E> {
    /// The stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Error::Malformed => "malformed",
            Error::WrongType => "wrong_type",
            Error::ChallengeInvalid => "challenge_invalid",
            Error::ChallengeExpired => "challenge_expired",
            Error::ChallengeReplayed => "challenge_replayed",
            Error::WrongOrigin => "wrong_origin",
            Error::CrossOrigin => "cross_origin",
            Error::WrongRpId => "wrong_rp_id",
            Error::UserNotPresent => "user_not_present",
            Error::UserNotVerified => "user_not_verified",
            Error::UnsupportedAlgorithm => "unsupported_algorithm",
            Error::InvalidKey => "invalid_key",
            Error::BadSignature => "bad_signature",
            Error::CounterRegressed => "counter_regressed",
            Error::UnknownCredential => "unknown_credential",
            Error::Store(_) => "store_failed",
        }
    }

    /// A human-readable explanation, for logs and API messages; never contains key material.
    pub const fn message(&self) -> &'static str {
        match self {
            Error::Malformed => "the WebAuthn response is not well formed",
            Error::WrongType => "clientDataJSON has the wrong type for this ceremony",
            Error::ChallengeInvalid => "the challenge was not issued for this ceremony",
            Error::ChallengeExpired => "the challenge has expired",
            Error::ChallengeReplayed => "the challenge was already used",
            Error::WrongOrigin => "the origin is not allowed",
            Error::CrossOrigin => "cross-origin ceremonies are not allowed",
            Error::WrongRpId => "the authenticator data is for another relying party",
            Error::UserNotPresent => "the authenticator did not report user presence",
            Error::UserNotVerified => "the authenticator did not verify the user",
            Error::UnsupportedAlgorithm => "only ES256 and EdDSA credentials are supported",
            Error::InvalidKey => "the credential public key is invalid",
            Error::BadSignature => "the signature does not verify",
            Error::CounterRegressed => "the signature counter went back; the passkey may be cloned",
            Error::UnknownCredential => "no passkey has this credential id",
            Error::Store(_) => "the spent-challenge store failed",
        }
    }

    /// The same refusal with the store error converted; every other variant is unchanged.
    pub fn map_store<F>(self, f: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Malformed => Error::Malformed,
            Error::WrongType => Error::WrongType,
            Error::ChallengeInvalid => Error::ChallengeInvalid,
            Error::ChallengeExpired => Error::ChallengeExpired,
            Error::ChallengeReplayed => Error::ChallengeReplayed,
            Error::WrongOrigin => Error::WrongOrigin,
            Error::CrossOrigin => Error::CrossOrigin,
            Error::WrongRpId => Error::WrongRpId,
            Error::UserNotPresent => Error::UserNotPresent,
            Error::UserNotVerified => Error::UserNotVerified,
            Error::UnsupportedAlgorithm => Error::UnsupportedAlgorithm,
            Error::InvalidKey => Error::InvalidKey,
            Error::BadSignature => Error::BadSignature,
            Error::CounterRegressed => Error::CounterRegressed,
            Error::UnknownCredential => Error::UnknownCredential,
            Error::Store(e) => Error::Store(f(e)),
        }
    }
}

impl Error<Infallible> {
    /// Widens a store-free refusal into any store's error type.
    pub fn widen<F>(self) -> Error<F> {
        self.map_store(|never| match never {})
    }
}

impl<E> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl<E: fmt::Debug> std::error::Error for Error<E> {}
