#![doc = include_str!("../README.md")]
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
