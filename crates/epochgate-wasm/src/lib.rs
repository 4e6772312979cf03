//! The WebAssembly face of epochgate for browsers and Node (docs/CONTRACT.md section 3).
//!
//! It only translates: plain JS objects and JSON text in, the core's values out as plain JS
//! objects, and the core's errors as JS `Error`s whose `.code` is the core's stable code. It
//! supplies what the core leaves to its callers — the clock (`now` defaults to `Date.now()`, in
//! whole seconds) and randomness (`crypto.getRandomValues`) for new keys and the validator's
//! hash seed. No rule about tokens or revocation lives here.
//!
//! Codes added by this face, for problems only JS callers can cause:
//! `invalid_option` (an option of the wrong type, unknown or out of range), `invalid_claim`
//! (a mint request field of the wrong type), `invalid_argument` (a method argument of the wrong
//! type or range, such as a non-finite `now`) and `no_randomness` (no `crypto.getRandomValues`).

mod error;
mod follower;
mod issuer;
mod keys;
mod log;
mod read;
mod types;
mod update_bytes;
mod validator;

pub use follower::Follower;
pub use issuer::Issuer;
pub use keys::{generate_key_pair, verify_ed25519};
pub use log::RevocationLog;
pub use update_bytes::UpdateBytes;
pub use validator::Validator;
