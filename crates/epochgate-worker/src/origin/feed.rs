//! The feed: one SQLite-backed Durable Object (`Feed`, named "feed") that owns the published
//! revocation state, apart from account work. Account objects hand it each account's whole
//! state through their durable outbox (`handover.rs`), it merges them into its own core
//! [`RevocationLog`] (`publish`: epochs only grow, slots unite, so order and repeats do not
//! matter) and serves every viewer's `GET /v1/revocations?since=S`: a snapshot for `S = 0`, else
//! a delta; `S` ahead of the feed is 409 `since_ahead`. A login flood at an account object
//! therefore never delays a viewer's refresh.
//!
//! Records leave updates a horizon after their last change: the token lifetime plus twice the
//! largest clock tolerance a viewer may use, as at the origin, so whatever `CLOCK_TOLERANCE` the
//! edge or a page runs with, a dropped record can refuse none of their unexpired tokens.

use std::cell::{RefCell, RefMut};

use epochgate::{
    retention_horizon, AccountId, AccountState, Epoch, RevocationLog, SlotSet, MAX_CLOCK_TOLERANCE,
};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Headers, Request, Response, Result, State};

use super::store::{Revocations, Role, Store};
use crate::config::{self, OriginKeys, TokenProfile};
use crate::error::ApiError;
use crate::host::now_secs;
use crate::http::{json, respond};
use crate::routes::{Route, Server};

type R<T> = std::result::Result<T, ApiError>;

/// Largest publication body, bytes: a batch of the outbox (`handover.rs`) with room for
/// accounts with many signed-out slots.
const MAX_PUBLICATION_BYTES: usize = 4 * 1024 * 1024;

/// One account's whole state as an account object hands it over.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct Published {
    pub(super) account: String,
    pub(super) epoch: u32,
    pub(super) revoked: Vec<u16>,
}

/// The body of `POST /internal/publish`.
#[derive(Debug, Deserialize, Serialize)]
pub(super) struct Publication {
    pub(super) states: Vec<Published>,
}

/// The `since` query parameter (0 when absent).
pub(super) fn since(req: &Request) -> R<u64> {
    let url = req.url()?;
    let mut since = 0;
    for (k, v) in url.query_pairs() {
        if k == "since" {
            since = v.parse().map_err(|_| {
                ApiError::invalid("since must be a non-negative integer sequence number")
            })?;
        }
    }
    Ok(since)
}

/// The `#[durable_object]` macro generates undocumented wasm-bindgen exports; this module
/// keeps that exception to the one struct.
#[allow(missing_docs)]
mod object {
    use super::*;

    /// The revocation feed Durable Object.
    #[durable_object]
    pub struct Feed {
        pub(super) state: State,
        pub(super) env: Env,
        pub(super) log: RefCell<Option<RevocationLog<Revocations>>>,
    }
}
pub use object::Feed;

impl DurableObject for Feed {
    fn new(state: State, env: Env) -> Self {
        Feed {
            state,
            env,
            log: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        respond(self.serve(&mut req).await)
    }
}

impl Feed {
    /// The log, built on first use; borrowed for one synchronous step only.
    fn log(&self) -> R<RefMut<'_, RevocationLog<Revocations>>> {
        let mut slot = self.log.try_borrow_mut().map_err(ApiError::internal)?;
        if slot.is_none() {
            let keys = OriginKeys::from_env(&self.env)?;
            let profile = TokenProfile::from_env(&self.env)?;
            let store = Store::open_feed(self.state.storage().sql(), config::data_key(&self.env)?)?;
            *slot = Some(
                RevocationLog::with_store(Revocations(store, Role::Feed), keys.revocation)
                    .with_horizon(retention_horizon(profile.ttl, MAX_CLOCK_TOLERANCE)),
            );
        }
        RefMut::filter_map(slot, Option::as_mut)
            .map_err(|_| ApiError::internal("the feed's log is missing"))
    }

    /// Reads the body (the only `await`), then answers from the log.
    async fn serve(&self, req: &mut Request) -> R<Response> {
        let path = req.path();
        let method = req.method();
        let route = Route::find(&method, &path).map_err(|m| m.into_error(&method, &path))?;
        if route.server() != Server::Feed {
            return Err(ApiError::not_found(&path));
        }
        match route {
            Route::Revocations => self.revocations(since(req)?),
            Route::Publish => {
                let body = req.bytes().await?;
                if body.len() > MAX_PUBLICATION_BYTES {
                    return Err(ApiError::invalid("the publication is too large"));
                }
                let publication: Publication = serde_json::from_slice(&body)
                    .map_err(|e| ApiError::invalid(format!("publication: {e}")))?;
                self.publish(publication)
            }
            _ => Err(ApiError::not_found(&path)),
        }
    }

    /// Merges every state of the publication into the log. All rows are checked first and then
    /// written with no `await` in between, so they commit as one batch.
    fn publish(&self, publication: Publication) -> R<Response> {
        let states = publication
            .states
            .into_iter()
            .map(|p| {
                let account = AccountId::new(&p.account)
                    .ok_or_else(|| ApiError::invalid(format!("invalid account {:?}", p.account)))?;
                let state = AccountState {
                    epoch: Epoch(p.epoch),
                    revoked: SlotSet::from_slots(p.revoked),
                };
                Ok((account, state))
            })
            .collect::<R<Vec<_>>>()?;
        let mut log = self.log()?;
        let mut changed = 0u64;
        for (account, state) in &states {
            changed += u64::from(log.publish(account, state)?);
        }
        let seq = log.seq()?;
        Ok(json(
            200,
            &serde_json::json!({ "received": states.len(), "changed": changed, "seq": seq }),
        )?)
    }

    fn revocations(&self, since: u64) -> R<Response> {
        let (bytes, seq) = {
            let mut log = self.log()?;
            (log.update_since(since, now_secs())?, log.seq()?)
        };
        let headers = Headers::new();
        headers.set("content-type", "application/octet-stream")?;
        headers.set("cache-control", "no-store")?;
        headers.set("x-epochgate-seq", &seq.to_string())?;
        Ok(Response::from_bytes(bytes)?.with_headers(headers))
    }
}
