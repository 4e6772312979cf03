//! The feed: one SQLite-backed Durable Object (`Feed`, named "feed") that owns the published
//! revocation state, apart from account work. Account objects hand it each account's whole
//! state through their durable outbox (`handover.rs`), it merges them into its own core
//! [`RevocationLog`] (`publish`: epochs only grow, slots unite, so order and repeats do not
//! matter) and serves every viewer's `GET /v1/revocations?since=S`: a snapshot for `S = 0`, else
//! a delta; `S` ahead of the feed is 409 `since_ahead`. A login flood at an account object
//! therefore never delays a viewer's refresh.
//!
//! An origin made before the feed existed published updates itself, and its viewers hold its
//! sequence numbers: its first handover carries the sequence it reached (the floor), and the
//! feed's own numbers continue above it, so those viewers' next delta applies.
//!
//! Records leave updates a horizon after their last change: the token lifetime plus twice the
//! largest clock tolerance a viewer may use, as at the origin, so whatever `CLOCK_TOLERANCE` the
//! edge or a page runs with, a dropped record can refuse none of their unexpired tokens.

use std::cell::{Cell, RefCell, RefMut};

use epochgate::{
    retention_horizon, AccountId, AccountState, Epoch, RevocationLog, SlotSet, MAX_CLOCK_TOLERANCE,
};
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, RequestInit, Response, Result,
    State,
};

use super::store::{Revocations, Role, Store};
use crate::config::{self, OriginKeys, TokenProfile};
use crate::error::ApiError;
use crate::host::now_secs;
use crate::http::{json, respond, ORIGIN_URL};
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
    /// The sequence the sending object published itself up to before the feed existed (an
    /// origin made by an earlier version), until the feed confirmed it; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) floor: Option<u64>,
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
        /// Whether nothing is left to ask an account object for before serving updates.
        pub(super) handed_over: Cell<bool>,
    }
}
pub use object::Feed;

impl DurableObject for Feed {
    fn new(state: State, env: Env) -> Self {
        Feed {
            state,
            env,
            log: RefCell::new(None),
            handed_over: Cell::new(false),
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
            Route::Revocations => {
                let since = since(req)?;
                self.ask_hand_over().await?;
                self.revocations(since)
            }
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
    /// written with no `await` in between, so they commit as one batch. A floor moves the
    /// sequence past it first (once; `Revocations::continue_after`), so the states are
    /// numbered above what the floor's viewers hold.
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
        let continued = match publication.floor {
            Some(floor) => log.store().continue_after(floor)?,
            None => false,
        };
        let mut changed = 0u64;
        for (account, state) in &states {
            changed += u64::from(log.publish(account, state)?);
        }
        let seq = log.seq()?;
        Ok(json(
            200,
            &serde_json::json!({
                "received": states.len(),
                "changed": changed,
                "continued": continued,
                "seq": seq,
            }),
        )?)
    }

    /// Before this database's first update: with one account shard, that shard is the object
    /// an earlier version ran as ("origin"), which hands its published state over on first open
    /// — but only once something opens it. It is asked to now (`POST /internal/hand-over`,
    /// answered 2xx only once the feed confirmed whatever waited), so no viewer is served a feed
    /// that lacks the sign-outs made before the upgrade; until it answers, updates are 503 and
    /// viewers keep their views. Recorded once done. With more shards no earlier object is
    /// addressed, so there is nothing to ask.
    async fn ask_hand_over(&self) -> R<()> {
        if self.handed_over.get() {
            return Ok(());
        }
        let shards = config::shards(&self.env)?;
        let done = self.log()?.store().handed_over()?;
        if done || shards.count() > 1 {
            self.handed_over.set(true);
            return Ok(());
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post);
        let req = Request::new_with_init(&format!("{ORIGIN_URL}/internal/hand-over"), &init)?;
        // No borrow of the log is held here: the shard's publication arrives meanwhile.
        let resp = self
            .env
            .durable_object(config::ORIGIN_BINDING)?
            .get_by_name(&shards.origin_name(0))?
            .fetch_with_request(req)
            .await?;
        if !(200..300).contains(&resp.status_code()) {
            return Err(ApiError::overloaded(
                "the account shard has not handed its state to the feed yet",
                1,
            ));
        }
        self.log()?.store().set_handed_over()?;
        self.handed_over.set(true);
        Ok(())
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
