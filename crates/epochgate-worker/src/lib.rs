//! The Workers face of epochgate: one Worker script holding
//!
//! - the **edge** ([`edge`]): the `fetch` handler that validates session tokens inside the
//!   isolate with the core [`epochgate::Validator`], keeps a revocation view fresh from the origin
//!   and forwards authenticated calls with the verified identity;
//! - the **origin** ([`origin::Origin`]): one SQLite-backed Durable Object that owns accounts,
//!   devices, epochs, the revocation sequence, the activity log, rate limits and TOTP.
//!
//! Neither holds a token or revocation rule of its own: they translate HTTP, SQLite rows and
//! configuration into calls on the core and map its verdicts and errors onto HTTP.
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

pub mod config;
pub mod edge;
pub mod http;
pub mod origin;
pub mod password;
pub mod store;
pub mod totp;

use worker::{event, Context, Env, Request, Response, Result};

/// The Worker's entry point: every HTTP request the edge receives.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    edge::handle(req, env, ctx).await
}
