//! Refusal reasons for tokens and errors for everything else, each with a stable snake_case code.
//!
//! Bindings map [`Reason::code`] and [`Error::code`] to JS `Error.code`, verdict objects and HTTP
//! bodies; the codes never change once published, while messages may be improved.

use core::fmt;
use std::borrow::Cow;

/// Why a token was refused. Exactly one reason is reported per refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Not a well-formed compact JWS with JSON header and claims.
    Malformed,
    /// Longer than the configured maximum token size.
    TooLarge,
    /// `alg` is missing or is not `EdDSA` / `Ed25519`.
    UnsupportedAlgorithm,
    /// The header carries a member this profile forbids (`crit`, `jwk`, `x5c`, ...).
    ForbiddenHeader,
    /// No configured key has the token's `kid`.
    UnknownKey,
    /// The Ed25519 signature does not verify under strict rules.
    BadSignature,
    /// `typ` is missing or differs from the configured type.
    WrongType,
    /// A required claim is absent.
    MissingClaim,
    /// `exp` has passed (beyond the clock tolerance).
    Expired,
    /// `nbf` is still in the future (beyond the clock tolerance).
    NotYetValid,
    /// `iat` is in the future (beyond the clock tolerance).
    IssuedInFuture,
    /// `iss` differs from the configured issuer.
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    WrongAudience,
    /// The account signed out of all devices after this token was issued.
    RevokedAll,
    /// This device was signed out.
    RevokedDevice,
    /// The revocation view is older than the configured maximum age; failing closed.
    StateStale,
    /// The token is valid, but the user's authentication is older or made with other methods
    /// than a step-up asks for (`auth_time`, `amr`): authenticate again. Only produced when a
    /// step-up is asked, and only for a token that passed everything else.
    InsufficientUserAuthentication,
}

impl Reason {
    /// Every reason, in the order of the token path.
    pub const ALL: [Reason; 17] = [
        Reason::TooLarge,
        Reason::Malformed,
        Reason::UnsupportedAlgorithm,
        Reason::ForbiddenHeader,
        Reason::WrongType,
        Reason::UnknownKey,
        Reason::BadSignature,
        Reason::MissingClaim,
        Reason::WrongIssuer,
        Reason::WrongAudience,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::IssuedInFuture,
        Reason::RevokedAll,
        Reason::RevokedDevice,
        Reason::StateStale,
        Reason::InsufficientUserAuthentication,
    ];

    /// The stable machine-readable code (docs/CONTRACT.md section 3).
    pub const fn code(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::TooLarge => "too_large",
            Reason::UnsupportedAlgorithm => "unsupported_algorithm",
            Reason::ForbiddenHeader => "forbidden_header",
            Reason::UnknownKey => "unknown_key",
            Reason::BadSignature => "bad_signature",
            Reason::WrongType => "wrong_type",
            Reason::MissingClaim => "missing_claim",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::IssuedInFuture => "issued_in_future",
            Reason::WrongIssuer => "wrong_issuer",
            Reason::WrongAudience => "wrong_audience",
            Reason::RevokedAll => "revoked_all",
            Reason::RevokedDevice => "revoked_device",
            Reason::StateStale => "state_stale",
            Reason::InsufficientUserAuthentication => "insufficient_user_authentication",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refused token: the reason and a human-readable explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The machine-readable reason.
    pub reason: Reason,
    /// What was wrong, for logs and developers; never contains key material.
    pub message: Cow<'static, str>,
}

impl Refusal {
    pub(crate) fn new(reason: Reason, message: impl Into<Cow<'static, str>>) -> Self {
        Refusal {
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.message)
    }
}

/// Everything that is not a token verdict: loading keys, options, revocation updates and the
/// origin-side log. Each variant's [`Error::code`] is stable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A JWK or JWKS could not be used.
    Key(KeyError, Cow<'static, str>),
    /// An option or an input to issuing is out of range.
    Config(ConfigError, Cow<'static, str>),
    /// A revocation update was refused; the view is unchanged.
    Update(UpdateError, Cow<'static, str>),
    /// An origin-side revocation log operation was refused; the log is unchanged.
    Log(LogError, Cow<'static, str>),
}

/// Key loading errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyError {
    /// Not valid JSON, or not a JSON object of the expected shape.
    InvalidJwk,
    /// Not an OKP Ed25519 key.
    UnsupportedKeyType,
    /// The key has no `kid`.
    MissingKid,
    /// `kid` is empty, not a string or longer than 64 bytes.
    InvalidKid,
    /// `x` or `d` is not 32 bytes of strict base64url, or `x` is not a canonical point.
    InvalidKeyEncoding,
    /// The public key is of small order and would accept forged signatures.
    WeakKey,
    /// `d` does not derive `x`.
    KeyMismatch,
    /// Two keys in one set share a `kid`.
    DuplicateKid,
    /// A key set holds no usable Ed25519 key.
    NoUsableKey,
    /// A private key (`d`) was required.
    MissingPrivateKey,
}

/// Option and issuing input errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigError {
    /// An option is missing, empty or out of range.
    InvalidOption,
    /// A revocation-update key is also a token key.
    KeyReuse,
    /// A claim given to the issuer is out of range.
    InvalidClaim,
}

/// Revocation update errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateError {
    /// Truncated, trailing bytes, non-canonical or otherwise garbled.
    Malformed,
    /// A format version this build does not read.
    UnsupportedVersion,
    /// No revocation key with the update's key id.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// The validator was built without revocation keys.
    NoRevocationKeys,
    /// Older than, or a replay of, what the view already holds.
    Stale,
    /// A delta that does not start at the view's sequence: a snapshot is needed.
    Gap,
    /// Created further in the future than the clock tolerance allows.
    FromFuture,
    /// No update could be fetched (the transport failed); the view is unchanged.
    Unavailable,
}

/// Origin-side log errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogError {
    /// The account id is empty or longer than 128 bytes.
    InvalidAccount,
    /// The device slot was never handed out in the account's current epoch.
    UnknownDevice,
    /// All 65536 slots of the current epoch are used; sign out of all devices to start anew.
    SlotsExhausted,
    /// The epoch counter is at its maximum.
    EpochExhausted,
    /// A viewer asked for changes since a sequence the log has not reached: it followed another
    /// origin, or this one lost state, and needs a snapshot.
    SinceAhead,
    /// The revocation sequence is at its maximum.
    SeqExhausted,
}

impl KeyError {
    /// Every key error.
    pub const ALL: [KeyError; 10] = [
        KeyError::InvalidJwk,
        KeyError::UnsupportedKeyType,
        KeyError::MissingKid,
        KeyError::InvalidKid,
        KeyError::InvalidKeyEncoding,
        KeyError::WeakKey,
        KeyError::KeyMismatch,
        KeyError::DuplicateKid,
        KeyError::NoUsableKey,
        KeyError::MissingPrivateKey,
    ];
}

impl ConfigError {
    /// Every option and issuing error.
    pub const ALL: [ConfigError; 3] = [
        ConfigError::InvalidOption,
        ConfigError::KeyReuse,
        ConfigError::InvalidClaim,
    ];
}

impl UpdateError {
    /// Every update error.
    pub const ALL: [UpdateError; 9] = [
        UpdateError::Malformed,
        UpdateError::UnsupportedVersion,
        UpdateError::UnknownKey,
        UpdateError::BadSignature,
        UpdateError::NoRevocationKeys,
        UpdateError::Stale,
        UpdateError::Gap,
        UpdateError::FromFuture,
        UpdateError::Unavailable,
    ];
}

impl LogError {
    /// Every log error.
    pub const ALL: [LogError; 6] = [
        LogError::InvalidAccount,
        LogError::UnknownDevice,
        LogError::SlotsExhausted,
        LogError::EpochExhausted,
        LogError::SinceAhead,
        LogError::SeqExhausted,
    ];
}

impl Error {
    /// The stable machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Error::Key(k, _) => match k {
                KeyError::InvalidJwk => "invalid_jwk",
                KeyError::UnsupportedKeyType => "unsupported_key_type",
                KeyError::MissingKid => "missing_kid",
                KeyError::InvalidKid => "invalid_kid",
                KeyError::InvalidKeyEncoding => "invalid_key_encoding",
                KeyError::WeakKey => "weak_key",
                KeyError::KeyMismatch => "key_mismatch",
                KeyError::DuplicateKid => "duplicate_kid",
                KeyError::NoUsableKey => "no_usable_key",
                KeyError::MissingPrivateKey => "missing_private_key",
            },
            Error::Config(c, _) => match c {
                ConfigError::InvalidOption => "invalid_option",
                ConfigError::KeyReuse => "key_reuse",
                ConfigError::InvalidClaim => "invalid_claim",
            },
            Error::Update(u, _) => match u {
                UpdateError::Malformed => "update_malformed",
                UpdateError::UnsupportedVersion => "update_unsupported_version",
                UpdateError::UnknownKey => "update_unknown_key",
                UpdateError::BadSignature => "update_bad_signature",
                UpdateError::NoRevocationKeys => "no_revocation_keys",
                UpdateError::Stale => "update_stale",
                UpdateError::Gap => "update_gap",
                UpdateError::FromFuture => "update_from_future",
                UpdateError::Unavailable => "update_unavailable",
            },
            Error::Log(l, _) => match l {
                LogError::InvalidAccount => "invalid_account",
                LogError::UnknownDevice => "unknown_device",
                LogError::SlotsExhausted => "slots_exhausted",
                LogError::EpochExhausted => "epoch_exhausted",
                LogError::SinceAhead => "since_ahead",
                LogError::SeqExhausted => "seq_exhausted",
            },
        }
    }

    /// Every code [`Error::code`] can return, for bindings and vocabulary checks.
    pub fn all_codes() -> Vec<&'static str> {
        let none = || Cow::Borrowed("");
        let key = KeyError::ALL.map(|k| Error::Key(k, none()));
        let config = ConfigError::ALL.map(|c| Error::Config(c, none()));
        let update = UpdateError::ALL.map(|u| Error::Update(u, none()));
        let log = LogError::ALL.map(|l| Error::Log(l, none()));
        key.iter()
            .chain(&config)
            .chain(&update)
            .chain(&log)
            .map(Error::code)
            .collect()
    }

    /// The human-readable message: what was wrong and what to do.
    pub fn message(&self) -> &str {
        match self {
            Error::Key(_, m) | Error::Config(_, m) | Error::Update(_, m) | Error::Log(_, m) => m,
        }
    }

    pub(crate) fn key(kind: KeyError, message: impl Into<Cow<'static, str>>) -> Self {
        Error::Key(kind, message.into())
    }
    pub(crate) fn config(kind: ConfigError, message: impl Into<Cow<'static, str>>) -> Self {
        Error::Config(kind, message.into())
    }
    pub(crate) fn update(kind: UpdateError, message: impl Into<Cow<'static, str>>) -> Self {
        Error::Update(kind, message.into())
    }
    pub(crate) fn log(kind: LogError, message: impl Into<Cow<'static, str>>) -> Self {
        Error::Log(kind, message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    // A variant added to a sub-enum fails to compile here until it gets a place; the place
    // must then be its position in that enum's `ALL`, so no list can silently miss a code.
    fn key_at(k: KeyError) -> usize {
        use KeyError::*;
        match k {
            InvalidJwk => 0,
            UnsupportedKeyType => 1,
            MissingKid => 2,
            InvalidKid => 3,
            InvalidKeyEncoding => 4,
            WeakKey => 5,
            KeyMismatch => 6,
            DuplicateKid => 7,
            NoUsableKey => 8,
            MissingPrivateKey => 9,
        }
    }
    fn config_at(c: ConfigError) -> usize {
        use ConfigError::*;
        match c {
            InvalidOption => 0,
            KeyReuse => 1,
            InvalidClaim => 2,
        }
    }
    fn update_at(u: UpdateError) -> usize {
        use UpdateError::*;
        match u {
            Malformed => 0,
            UnsupportedVersion => 1,
            UnknownKey => 2,
            BadSignature => 3,
            NoRevocationKeys => 4,
            Stale => 5,
            Gap => 6,
            FromFuture => 7,
            Unavailable => 8,
        }
    }
    fn log_at(l: LogError) -> usize {
        use LogError::*;
        match l {
            InvalidAccount => 0,
            UnknownDevice => 1,
            SlotsExhausted => 2,
            EpochExhausted => 3,
            SinceAhead => 4,
            SeqExhausted => 5,
        }
    }
    #[test]
    fn every_list_holds_every_variant_once() {
        for (i, k) in KeyError::ALL.into_iter().enumerate() {
            assert_eq!(key_at(k), i, "{k:?}");
        }
        for (i, c) in ConfigError::ALL.into_iter().enumerate() {
            assert_eq!(config_at(c), i, "{c:?}");
        }
        for (i, u) in UpdateError::ALL.into_iter().enumerate() {
            assert_eq!(update_at(u), i, "{u:?}");
        }
        for (i, l) in LogError::ALL.into_iter().enumerate() {
            assert_eq!(log_at(l), i, "{l:?}");
        }
        // Reason: 17 arms in an exhaustive match, and 17 distinct entries in ALL.
        let arms = |r: Reason| match r {
            Reason::Malformed
            | Reason::TooLarge
            | Reason::UnsupportedAlgorithm
            | Reason::ForbiddenHeader
            | Reason::UnknownKey
            | Reason::BadSignature
            | Reason::WrongType
            | Reason::MissingClaim
            | Reason::Expired
            | Reason::NotYetValid
            | Reason::IssuedInFuture
            | Reason::WrongIssuer
            | Reason::WrongAudience
            | Reason::RevokedAll
            | Reason::RevokedDevice
            | Reason::StateStale
            | Reason::InsufficientUserAuthentication => 17,
        };
        let distinct: std::collections::BTreeSet<_> =
            Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(distinct.len(), arms(Reason::Malformed));
        let codes = Error::all_codes();
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "a code is used twice");
        assert_eq!(codes.len(), 10 + 3 + 9 + 6);
    }
}
