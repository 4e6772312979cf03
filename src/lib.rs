//! epochgate: "sign out of all devices" for Ed25519 session tokens validated far from the origin.
//!
//! The crate is the pure core: it does no I/O and reads no clock — keys, bytes and `now` are
//! arguments — and builds natively and for `wasm32-unknown-unknown` without any JS binding in scope.
//! The WebAssembly package and the Workers origin/edge are thin faces over it.
//!
//! ```
//! use epochgate::{Issuer, KeySet, MintRequest, Options, PrivateKey, RevocationLog, Validator, Reason};
//!
//! let token_key = PrivateKey::from_seed("tokens-1", &[7; 32])?;
//! let update_key = PrivateKey::from_seed("updates-1", &[9; 32])?;
//! let issuer = Issuer::new("https://id.example", "app", token_key.clone(), None, None)?;
//! let mut log = RevocationLog::new(update_key.clone());
//!
//! let now = 1_800_000_000;
//! let device = log.allocate_device("acct-1")?;
//! let token = issuer.mint(&MintRequest {
//!     account: "acct-1", session: "s-1", device: device.0.into(),
//!     epoch: log.epoch_of("acct-1")?.0.into(), now, ttl: None, jti: None,
//! })?;
//!
//! let options = Options { issuer: "https://id.example".into(), audience: "app".into(), ..Options::default() };
//! let updates = KeySet::new(vec![update_key.public()])?;
//! let mut validator = Validator::new(options, KeySet::new(vec![token_key.public()])?, Some(updates), [42; 16])?;
//! assert!(validator.validate(&token, now).session().is_some());
//!
//! log.revoke_all("acct-1")?;
//! validator.apply_revocation(&log.delta_since(validator.revocation_seq(), now)?, now)?;
//! assert_eq!(validator.validate(&token, now).reason(), Some(Reason::RevokedAll));
//! # Ok::<(), epochgate::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod b64;
mod cache;
pub mod epochs;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
pub mod issuer;
pub mod json;
pub mod keys;
pub mod log;
pub mod token;
pub mod update;
pub mod validator;
pub mod view;

pub use epochs::{AccountState, OriginAccount, SlotSet};
pub use error::{ConfigError, Error, KeyError, LogError, Reason, Refusal, UpdateError};
pub use ids::{AccountId, AccountKey, DeviceSlot, Epoch, KeyId, SessionId};
pub use issuer::{Issuer, MintRequest};
pub use keys::{KeySet, PrivateKey, PublicKey};
pub use log::RevocationLog;
pub use update::{UnverifiedUpdate, Update, UpdateKind};
pub use validator::{Options, Session, Validator, Verdict};
pub use view::RevocationView;
