//! The edge: the Worker's `fetch` handler. Tokens are validated inside the isolate by one
//! per-isolate [`epochgate::Validator`] whose revocation view follows the origin through signed
//! updates, driven by the core's [`epochgate::Follower`].
//!
//! Map: this file authorises each request by the shared route table ([`crate::routes`]) and
//! answers the edge's own routes; `incoming.rs` reads the request only as far as it is used,
//! `isolate.rs` holds the per-isolate state, `fresh.rs` drives the follower, `proxy.rs` forwards
//! to the origin and to `/app`'s upstream, with the assertion `assertion.rs` signs. To add a
//! check on a route's caller, change its [`Access`] (or add one) and handle it in [`serve`].
//!
//! Freshness: when the newest applied update was fetched longer ago than the staleness target
//! (`STALENESS_TARGET_MS`, default 1000), the request that notices refreshes the view while
//! every other request carries on with the current one — one fetch at a time per isolate. The
//! hard limit is the core's `max_state_age` (`MAX_STATE_AGE`, default 30 s, judged on the
//! update's signed creation time): beyond it valid tokens are refused with `state_stale`.

mod accounts;
mod assertion;
mod budget;
mod fresh;
mod incoming;
mod isolate;
mod objects;
mod passkeys;
mod passwords;
mod proxy;

use std::sync::Arc;
use std::time::Duration;

use epochgate::{Answer, Error, Next, Plan, Reason, Refusal, Session};
use serde::Serialize;
use subtle::ConstantTimeEq;
use wasm_bindgen::JsCast;
use worker::worker_sys::web_sys;
use worker::{event, Context, Delay, Env, Response, Result};

use crate::error::{ApiCode, ApiError};
use crate::host::now_ms;
use crate::http::{json, respond};
use crate::routes::{Access, Route, Server};
use fresh::{Fetched, Viewer};
use incoming::Incoming;
use isolate::{digest, validate, with_edge};

type R<T> = std::result::Result<T, ApiError>;

/// The Worker's entry point: every HTTP request the edge receives, taken as the platform's
/// request so that only what is used of it is read ([`Incoming`]).
#[event(fetch)]
pub async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<Response> {
    respond(serve(&Incoming::new(req), &env, &ctx).await)
}

/// Finds the route, checks its caller by its [`Access`], then answers it where its [`Server`]
/// says.
async fn serve(req: &Incoming, env: &Env, ctx: &Context) -> R<Response> {
    let path = req.path();
    let method = req.method();
    let route = Route::find(&method, path).map_err(|m| m.into_error(&method, path))?;
    let session = match route.access() {
        Access::Internal => return Err(ApiError::not_found(path)),
        Access::Public => {
            // Builds the isolate: a misconfiguration is a 503 on every route.
            with_edge(env, |_| ())?;
            None
        }
        Access::Token => Some(authenticate(req, env).await?),
        Access::TokenOrTicket => token_or_ticket(req, env).await?,
        Access::Admin => {
            check_admin(req, env)?;
            None
        }
    };
    let admin = route.access() == Access::Admin;
    match (route.server(), session) {
        (Server::Origin, session) => {
            proxy::forward(env, req, route, session.as_deref(), admin).await
        }
        (Server::Upstream, Some(s)) => {
            step_up(env, path, &s)?;
            proxy::touch(env, ctx, &s)?;
            proxy::app(req, env, &s).await
        }
        (Server::Edge, Some(s)) => {
            proxy::touch(env, ctx, &s)?;
            local(route, env, Some(&s))
        }
        (Server::Edge, None) => local(route, env, None),
        (Server::Upstream, None) => Err(ApiError::internal("/app without a session")),
        (Server::Feed, _) => proxy::feed(env, req).await,
        // Internal: refused above.
        (Server::Directory, _) => Err(ApiError::not_found(path)),
    }
}

/// The step-up rule of `path` (`STEP_UP`), if one applies: a valid token whose authentication
/// is too old or too weak is answered 401 `insufficient_user_authentication` (RFC 9470).
fn step_up(env: &Env, path: &str, session: &Session) -> R<()> {
    with_edge(env, |e| {
        let Some(rule) = e.settings.step_up.rule_for(path) else {
            return Ok(());
        };
        let tolerance = e.validator.options().clock_tolerance;
        rule.check(session, crate::host::now_secs(), tolerance)
            .map_err(|why| ApiError::step_up(&why.to_string(), rule.max_age, &rule.required_amr))
    })?
}

/// The routes the edge answers from the isolate alone.
fn local(route: Route<'_>, env: &Env, session: Option<&Session>) -> R<Response> {
    match (route, session) {
        (Route::Jwks, _) => Ok(json(200, &with_edge(env, |e| e.keys_jwks.clone())?)?),
        (Route::RevocationJwks, _) => {
            Ok(json(200, &with_edge(env, |e| e.revocation_jwks.clone())?)?)
        }
        (Route::UpstreamJwks, _) => upstream_jwks(env),
        (Route::EdgeStats, _) => stats(env),
        (Route::Me, Some(s)) => Ok(json(200, &Me::from(s))?),
        (Route::PasskeyLoginOptions, _) => passkeys::login_options(env),
        _ => Err(ApiError::internal("an edge route without its handler")),
    }
}

fn bearer(req: &Incoming) -> R<Option<String>> {
    let Some(h) = req.headers().get("authorization")? else {
        return Ok(None);
    };
    match h.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Ok(Some(String::new())),
    }
}

/// Validates the request's token after making the view fresh enough.
async fn authenticate(req: &Incoming, env: &Env) -> R<Arc<Session>> {
    let Some(token) = bearer(req)? else {
        return Err(ApiError::refused(
            Reason::Malformed,
            "no token: send Authorization: Bearer <token>",
        ));
    };
    fresh::ensure_fresh(&Isolate(env)).await?;
    validate(env, &token)?.map_err(|r: Refusal| ApiError::token(&r))
}

/// [`Access::TokenOrTicket`]: a token in `Authorization`, checked as for [`Access::Token`];
/// without one, a `?ticket=` passed on with no identity for the origin to redeem. A token in
/// the query (`?access_token=`, accepted before tickets) is refused: URLs end up in logs.
async fn token_or_ticket(req: &Incoming, env: &Env) -> R<Option<Arc<Session>>> {
    if req.headers().has("authorization")? {
        return Ok(Some(authenticate(req, env).await?));
    }
    let url = req.url()?;
    let mut ticket = None;
    let mut token_in_query = false;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "ticket" => ticket = Some(v.into_owned()),
            "access_token" => token_in_query = true,
            _ => {}
        }
    }
    match ticket {
        Some(t) if plausible_ticket(&t) => {
            with_edge(env, |_| ())?;
            Ok(None)
        }
        Some(_) => Err(ApiError::new(
            ApiCode::InvalidTicket,
            "the ticket is unknown, used or expired: get a new one with POST /v1/events/ticket",
        )),
        None if token_in_query => Err(ApiError::refused(
            Reason::Malformed,
            "a token in the URL is not accepted: get a single-use ticket with POST \
             /v1/events/ticket and open /v1/events?ticket=<ticket>, or send Authorization: Bearer",
        )),
        None => Err(ApiError::refused(
            Reason::Malformed,
            "no token: send Authorization: Bearer <token>, or ?ticket= from POST /v1/events/ticket",
        )),
    }
}

/// Whether `ticket` could be one the origin issued (`<account>.<base64url>`, at most 256
/// characters), so junk is answered here without a trip to the origin.
fn plausible_ticket(ticket: &str) -> bool {
    let url_safe = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    ticket.len() <= 256
        && ticket
            .split_once('.')
            .is_some_and(|(account, secret)| url_safe(account) && url_safe(secret))
}

/// `GET /.well-known/upstream-jwks.json`: the public key of the upstream assertion.
fn upstream_jwks(env: &Env) -> R<Response> {
    let jwks = with_edge(env, |e| {
        e.settings
            .upstream_key
            .as_ref()
            .map(|k| serde_json::json!({ "keys": [k.public().to_jwk()] }))
            .map_err(Clone::clone)
    })??;
    Ok(json(200, &jwks)?)
}

fn check_admin(req: &Incoming, env: &Env) -> R<()> {
    let expected = with_edge(env, |e| e.settings.admin_token_digest)?.ok_or_else(|| {
        ApiError::new(
            ApiCode::AdminDisabled,
            "the admin API is off: set the ADMIN_TOKEN secret to turn it on",
        )
    })?;
    let given = bearer(req)?.unwrap_or_default();
    if bool::from(digest(&given).ct_eq(&expected)) {
        return Ok(());
    }
    Err(ApiError::new(
        ApiCode::InvalidAdminToken,
        "send Authorization: Bearer $ADMIN_TOKEN",
    ))
}

/// `GET /v1/me`.
#[derive(Serialize)]
struct Me<'a> {
    account: &'a str,
    session: &'a str,
    device: u16,
    epoch: u32,
    issued_at: i64,
    expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<&'a [String]>,
}

impl<'a> From<&'a Session> for Me<'a> {
    fn from(s: &'a Session) -> Self {
        Me {
            account: s.account.as_str(),
            session: s.session.as_str(),
            device: s.device.0,
            epoch: s.epoch.0,
            issued_at: s.issued_at,
            expires_at: s.expires_at,
            auth_time: s.auth_time,
            amr: s.amr.as_deref(),
        }
    }
}

/// `GET /v1/edge/stats`: this isolate's counters and view.
#[derive(Serialize)]
struct Stats {
    /// Revocation reads answered by the location's cache / fetched from the feed.
    feed_cache_hits: u64,
    feed_cache_misses: u64,
    validations: u64,
    cache_hits: u64,
    origin_fetches: u64,
    refresh_errors: u64,
    hash_shed: u64,
    view_seq: u64,
    view_age_ms: Option<u64>,
    view_created_at: Option<i64>,
    view_accounts: usize,
    cached_tokens: usize,
    staleness_target_ms: u64,
    last_fetch_ms: u64,
    max_state_age: u64,
    /// Bytes the view holds, and the module's linear memory (which never shrinks: the peak).
    view_bytes: usize,
    wasm_memory_bytes: u32,
    isolate: String,
    /// Who computes tokens' signature equations: "host" (workerd's `node:crypto`) or "wasm".
    verification: &'static str,
}

fn stats(env: &Env) -> R<Response> {
    let now = Isolate::clock();
    let body = with_edge(env, |e| Stats {
        feed_cache_hits: e.stats.feed_cache_hits,
        feed_cache_misses: e.stats.feed_cache_misses,
        validations: e.stats.validations,
        cache_hits: e.stats.cache_hits,
        origin_fetches: e.follower.stats().fetches,
        refresh_errors: e.stats.refresh_errors,
        hash_shed: e.stats.shed,
        view_seq: e.validator.revocation_seq(),
        view_age_ms: e
            .follower
            .fetched_at_ms()
            .map(|t| u64::try_from(now - t).unwrap_or(0)),
        view_created_at: e.validator.view().newest_created_at(),
        view_accounts: e.validator.view().len(),
        cached_tokens: e.validator.cached_tokens(),
        staleness_target_ms: e.follower.options().staleness_target_ms,
        last_fetch_ms: u64::try_from(e.follower.last_fetch_ms()).unwrap_or(0),
        max_state_age: e.validator.options().max_state_age,
        view_bytes: e.validator.view().memory_bytes(),
        wasm_memory_bytes: wasm_memory_bytes(),
        isolate: e.isolate.clone(),
        verification: if e.host_ed25519.is_some() {
            "host"
        } else {
            "wasm"
        },
    })?;
    Ok(json(200, &body)?)
}

/// The size of this module's linear memory.
fn wasm_memory_bytes() -> u32 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
}

/// The isolate as [`fresh`] sees it.
struct Isolate<'a>(&'a Env);

impl Isolate<'_> {
    fn clock() -> i64 {
        now_ms().floor() as i64
    }
}

impl Viewer for Isolate<'_> {
    fn now_ms(&self) -> i64 {
        Isolate::clock()
    }

    fn plan(&self, now_ms: i64) -> R<Plan> {
        with_edge(self.0, |e| e.follower.plan(&e.validator, now_ms))
    }

    fn answer(&self, answer: Answer<'_>, now_ms: i64) -> R<Next> {
        with_edge(self.0, |e| {
            e.follower.answer(&mut e.validator, answer, now_ms)
        })
    }

    fn failed(&self, error: &Error) {
        let _ = with_edge(self.0, |e| e.stats.refresh_errors += 1);
        worker::console_warn!("revocation refresh failed: {error}");
    }

    async fn fetch(&self, since: u64) -> Fetched {
        proxy::fetch_update(self.0, since).await
    }

    async fn sleep(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_ticket;
    use base64::Engine;

    #[test]
    fn tickets_the_origin_issues_reach_it_and_junk_does_not() {
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
        let issued = format!("acct_Xy-Z_0.{secret}");
        assert!(plausible_ticket(&issued), "{issued}");
        for junk in [
            "",
            &secret,
            "a.",
            ".b",
            "a b.c",
            "a.b+c",
            "a/b.c",
            "a.b=",
            "é.a",
            &format!("a.{}", "b".repeat(255)),
        ] {
            assert!(!plausible_ticket(junk), "{junk:?}");
        }
    }
}
