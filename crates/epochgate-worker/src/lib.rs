//! The Workers face of epochgate: one Worker script holding
//!
//! - the **edge** (`edge/`): the `fetch` handler that validates session tokens inside the
//!   isolate with the core [`epochgate::Validator`], keeps a revocation view fresh from the
//!   origin with the core [`epochgate::Follower`] and forwards authenticated calls with the
//!   verified identity;
//! - the **origin** ([`Origin`], `origin/`): one SQLite-backed Durable Object that owns
//!   accounts, devices, the core [`epochgate::RevocationLog`] over its rows, the activity log,
//!   rate limits and TOTP.
//!
//! Neither holds a token or revocation rule of its own: they translate HTTP, SQLite rows and
//! configuration into calls on the core and map its verdicts and errors onto HTTP. Both
//! dispatch by one route table ([`routes`]) and answer errors through one boundary
//! ([`error`]); the words they write are in [`vocab`].
// Lints are set once for the workspace, in the root Cargo.toml.

mod client;
pub mod config;
mod edge;
pub mod error;
mod host;
mod host_ed25519;
mod http;
mod origin;
mod password;
pub mod routes;
pub mod rp;
mod sealed;
pub mod shards;
pub mod step_up;
mod totp;
pub mod vocab;

pub use error::{ApiCode, ApiError};
pub use origin::Feed;
pub use origin::{Directory, Origin};
pub use routes::{Access, Route, Server};
pub use vocab::{ActivityKind, SessionStatus, SignOutScope};
