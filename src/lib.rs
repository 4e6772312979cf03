#![doc = include_str!("../README.md")]
// Lints are set once for the workspace, in the root Cargo.toml.

mod b64;
mod cache;
mod ed25519;
mod epochs;
mod error;
mod follower;
#[doc(hidden)]
pub mod fuzzing;
mod hash;
mod ids;
mod issuer;
mod json;
mod keys;
mod log;
mod session;
mod step_up;
mod token;
mod update;
mod update_bytes;
mod validator;
mod view;

pub use epochs::{AccountState, OriginAccount, SlotSet, SLOTS_PER_EPOCH};
pub use error::{ConfigError, Error, KeyError, LogError, Reason, Refusal, UpdateError};
pub use follower::{Answer, Follower, FollowerOptions, FollowerStats, Next, Plan};
pub use ids::{AccountId, AccountKey, DeviceSlot, Epoch, KeyId, SessionId, MAX_ID_BYTES};
pub use issuer::{Issuer, MintRequest, DEFAULT_TTL};
pub use keys::{verify_raw, verify_raw_pieces, HostVerify, KeySet, PrivateKey, PublicKey};
pub use log::{retention_horizon, MemoryStore, RevocationLog, RevocationStore};
pub use session::Session;
pub use step_up::{Insufficient, StepUp, MAX_AMR_METHODS, MAX_AMR_METHOD_BYTES, MAX_AUTH_TIME};
pub use token::{UnverifiedToken, DEFAULT_TYPE, FORBIDDEN_HEADERS};
pub use update::{
    Record, UnverifiedUpdate, Update, UpdateKind, MAX_UPDATE_BYTES, UPDATE_DOMAIN, UPDATE_VERSION,
};
pub use update_bytes::UpdateBytes;
pub use validator::{Options, Validator, Verdict, MAX_CACHE_SIZE, MAX_CLOCK_TOLERANCE};
pub use view::RevocationView;
