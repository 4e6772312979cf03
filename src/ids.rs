//! Newtypes for values that must not be mixed up.

use std::fmt;

use sha2::{Digest, Sha256};

/// Longest account or session id, in bytes (docs/CONTRACT.md section 1).
pub const MAX_ID_BYTES: usize = 128;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Box<str>);

        impl $name {
            /// Checks the length (1 to 128 bytes) and wraps the id.
            pub fn new(id: &str) -> Option<Self> {
                (!id.is_empty() && id.len() <= MAX_ID_BYTES).then(|| $name(id.into()))
            }

            /// What [`Self::new`] requires, for error messages.
            pub const RULE: &'static str = concat!($what, " must be 1 to 128 bytes long");

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// An account id: the token's `sub`.
    AccountId,
    "an account id"
);
string_id!(
    /// A session id: the token's `sid`.
    SessionId,
    "a session id"
);

/// A device slot within an account's epoch: the token's `dev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceSlot(pub u16);

/// An account's revocation epoch: the token's `epo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Epoch(pub u32);

/// The 64-bit key under which revocation updates and views store an account.
///
/// It is the first 8 bytes of SHA-256 over a domain prefix and the account id, so views never
/// hold account ids. Finding an id that collides with a given account costs about 2^64 hashes; a
/// collision between two accounts an attacker controls only lets those two refuse each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey(pub u64);

impl AccountKey {
    const DOMAIN: &'static [u8] = b"epochgate account key v1\0";

    /// The key of an account id.
    pub fn of(account: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(Self::DOMAIN)
            .chain_update(account.as_bytes())
            .finalize();
        let bytes: [u8; 32] = digest.into();
        let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = bytes;
        AccountKey(u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7]))
    }
}

/// A key id (`kid`): 1 to 64 bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Box<str>);

impl KeyId {
    /// Longest accepted key id, in bytes.
    pub const MAX_BYTES: usize = 64;

    /// Checks the length and wraps the key id.
    pub fn new(kid: &str) -> Option<Self> {
        (!kid.is_empty() && kid.len() <= Self::MAX_BYTES).then(|| KeyId(kid.into()))
    }

    /// The key id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
