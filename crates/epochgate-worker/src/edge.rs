//! The edge: the Worker's `fetch` handler. Tokens are validated inside the isolate by one
//! per-isolate [`Validator`]; its revocation view follows the origin through signed updates
//! (a snapshot at cold start or after a gap, deltas otherwise).
//!
//! Freshness: when the newest applied update was fetched longer ago than the staleness target
//! (`STALENESS_TARGET_MS`, default 1000), the request that notices refreshes the view while
//! every other request carries on with the current one — one fetch at a time per isolate. The
//! hard limit is the core's `max_state_age` (`MAX_STATE_AGE`, default 30 s, judged on the
//! update's signed creation time): beyond it valid tokens are refused with `state_stale`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use epochgate::{Options, Session, Validator, Verdict};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wasm_bindgen::JsValue;
use worker::{Context, Delay, Env, Fetch, Headers, Method, Request, RequestInit, Response, Result};

use crate::config::{self, PublicKeys, TokenProfile};
use crate::http::{
    internal, json, now_ms, now_secs, random_bytes, random_id, read_body, respond, ApiError,
};
use crate::origin::{DEFAULT_LAST_SEEN_INTERVAL, ORIGIN_NAME};

type R<T> = std::result::Result<T, ApiError>;

/// The Durable Object binding of the origin.
pub const ORIGIN_BINDING: &str = "ORIGIN";
/// Default staleness target, milliseconds.
pub const DEFAULT_STALENESS_TARGET_MS: u64 = 1000;
/// Default hard maximum age of the view, seconds.
pub const DEFAULT_MAX_STATE_AGE: u64 = 30;
/// A refresh still running after this long is presumed lost (its request was cancelled).
const REFRESH_TIMEOUT_MS: f64 = 5000.0;
/// How long a request with no usable view waits for another request's refresh.
const WAIT_FOR_VIEW_MS: f64 = 5000.0;
/// Headers a client may not send on to the upstream or the origin.
const IDENTITY_HEADERS: [&str; 3] = [
    "x-epochgate-account",
    "x-epochgate-session",
    "x-epochgate-device",
];

/// What this isolate counted since it started.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    validations: u64,
    cache_hits: u64,
    origin_fetches: u64,
    refresh_errors: u64,
}

struct Settings {
    staleness_ms: f64,
    revocations_url: Option<String>,
    upstream: Option<String>,
    admin_token_digest: Option<[u8; 32]>,
    touch_interval_ms: f64,
}

struct Edge {
    validator: Validator,
    keys_jwks: serde_json::Value,
    revocation_jwks: serde_json::Value,
    settings: Settings,
    /// When the fetch of the newest applied update started (ms).
    fetched_at_ms: Option<f64>,
    /// When the refresh in flight started (ms), if one is.
    refreshing_since_ms: Option<f64>,
    /// How long the last successful refresh took (ms).
    last_fetch_ms: f64,
    stats: Stats,
    touched: HashMap<String, f64>,
    isolate: String,
}

thread_local! {
    static EDGE: RefCell<Option<Edge>> = const { RefCell::new(None) };
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn build(env: &Env) -> R<Edge> {
    let keys = PublicKeys::from_env(env)?;
    let profile = TokenProfile::from_env(env)?;
    let cache_size =
        usize::try_from(config::number(env, "TOKEN_CACHE_SIZE", 10_000)?).unwrap_or(10_000);
    let mut options = Options {
        issuer: profile.issuer,
        audience: profile.audience,
        max_state_age: config::number(env, "MAX_STATE_AGE", DEFAULT_MAX_STATE_AGE)?,
        cache_size,
        ..Options::default()
    };
    if let Some(t) = profile.token_type {
        options.token_type = t;
    }
    if let Some(tol) = config::text(env, "CLOCK_TOLERANCE") {
        options.clock_tolerance = tol
            .trim()
            .parse()
            .map_err(|_| config::not_configured("CLOCK_TOLERANCE must be 0 to 60"))?;
    }
    let keys_jwks = keys.tokens.to_jwks();
    let revocation_jwks = keys.revocation.to_jwks();
    let validator = Validator::new(
        options,
        keys.tokens,
        Some(keys.revocation),
        random_bytes::<16>()?,
    )
    .map_err(|e| config::not_configured(e.to_string()))?;
    let staleness = config::number(env, "STALENESS_TARGET_MS", DEFAULT_STALENESS_TARGET_MS)?;
    let touch = config::number(
        env,
        "LAST_SEEN_INTERVAL_SECONDS",
        DEFAULT_LAST_SEEN_INTERVAL,
    )?;
    Ok(Edge {
        validator,
        keys_jwks,
        revocation_jwks,
        settings: Settings {
            staleness_ms: staleness as f64,
            revocations_url: config::text(env, "REVOCATIONS_URL"),
            upstream: config::text(env, "UPSTREAM_URL"),
            admin_token_digest: config::text(env, "ADMIN_TOKEN").map(|t| digest(&t)),
            touch_interval_ms: touch as f64 * 1000.0,
        },
        fetched_at_ms: None,
        refreshing_since_ms: None,
        last_fetch_ms: 0.0,
        stats: Stats::default(),
        touched: HashMap::new(),
        isolate: random_id("i_")?,
    })
}

/// Runs `f` on the isolate's state, building it on first use. Never held across an `await`.
fn with_edge<T>(env: &Env, f: impl FnOnce(&mut Edge) -> T) -> R<T> {
    EDGE.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(ApiError::internal)?;
        if slot.is_none() {
            *slot = Some(build(env)?);
        }
        match slot.as_mut() {
            Some(edge) => Ok(f(edge)),
            None => Err(ApiError::internal("edge state missing")),
        }
    })
}

enum Plan {
    Use,
    Refresh,
    Wait,
}

impl Edge {
    fn usable(&self, now_ms: f64) -> bool {
        let max = self.validator.options().max_state_age;
        match (
            self.fetched_at_ms,
            self.validator.view().newest_created_at(),
        ) {
            (Some(_), Some(created)) => {
                max == 0 || (now_ms / 1000.0).floor() as i64 - created <= max as i64
            }
            _ => false,
        }
    }

    /// The refresh starts early by the duration of the last fetch plus a tenth of the target (at
    /// most half the target in all), so that under steady traffic the new view is in place — and
    /// the request that reads it answered — before the current one reaches the target age.
    fn plan(&mut self, now: f64) -> Plan {
        let target = self.settings.staleness_ms;
        let lead = (self.last_fetch_ms + target / 10.0).clamp(0.0, target / 2.0);
        if self.fetched_at_ms.is_some_and(|t| now - t < target - lead) {
            return Plan::Use;
        }
        let in_flight = self
            .refreshing_since_ms
            .is_some_and(|t| now - t < REFRESH_TIMEOUT_MS);
        if !in_flight {
            self.refreshing_since_ms = Some(now);
            return Plan::Refresh;
        }
        if self.usable(now) {
            Plan::Use
        } else {
            Plan::Wait
        }
    }
}

/// Makes the view fresh enough for this request: refreshes it when this request is the first
/// to find it stale, waits for another request's refresh only when there is no usable view.
async fn ensure_fresh(env: &Env) -> R<()> {
    let started = now_ms();
    loop {
        match with_edge(env, |e| e.plan(now_ms()))? {
            Plan::Use => return Ok(()),
            Plan::Refresh => {
                refresh(env).await;
                return Ok(());
            }
            Plan::Wait if now_ms() - started > WAIT_FOR_VIEW_MS => return Ok(()),
            Plan::Wait => Delay::from(Duration::from_millis(10)).await,
        }
    }
}

enum Fetched {
    Update(Vec<u8>),
    Ahead,
}

async fn fetch_update(env: &Env, since: u64) -> R<Fetched> {
    let url_base = with_edge(env, |e| e.settings.revocations_url.clone())?;
    with_edge(env, |e| e.stats.origin_fetches += 1)?;
    let mut resp = match url_base {
        Some(base) => {
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}since={since}")
                .parse()
                .map_err(|e| config::not_configured(format!("REVOCATIONS_URL: {e}")))?;
            Fetch::Url(url).send().await?
        }
        None => {
            origin_stub(env)?
                .fetch_with_str(&format!(
                    "https://origin.internal/v1/revocations?since={since}"
                ))
                .await?
        }
    };
    match resp.status_code() {
        200 => Ok(Fetched::Update(resp.bytes().await?)),
        409 => Ok(Fetched::Ahead),
        s => Err(ApiError::internal(format!(
            "the origin answered {s} to since={since}"
        ))),
    }
}

/// One refresh: a delta since the view's sequence, or a snapshot when the view is empty, the
/// delta does not fit (`update_gap`) or the origin is behind. A refused update changes nothing.
async fn refresh(env: &Env) {
    let started = now_ms();
    let outcome = refresh_inner(env).await;
    let _ = with_edge(env, |e| {
        e.refreshing_since_ms = None;
        match outcome {
            Ok(()) => {
                e.fetched_at_ms = Some(started);
                e.last_fetch_ms = (now_ms() - started).max(0.0);
            }
            Err(err) => {
                e.stats.refresh_errors += 1;
                worker::console_warn!("revocation refresh failed: {}: {}", err.code, err.message);
            }
        }
    });
}

async fn refresh_inner(env: &Env) -> R<()> {
    let since = with_edge(env, |e| {
        e.fetched_at_ms.map_or(0, |_| e.validator.revocation_seq())
    })?;
    let first = fetch_update(env, since).await?;
    let needs_snapshot = match first {
        Fetched::Ahead => true,
        Fetched::Update(bytes) => match apply(env, &bytes)? {
            Ok(()) => false,
            Err(e) if e.code() == "update_gap" && since != 0 => true,
            Err(e) => return Err(ApiError::new(502, e.code(), e.message().to_owned())),
        },
    };
    if needs_snapshot {
        match fetch_update(env, 0).await? {
            Fetched::Update(bytes) => apply(env, &bytes)?
                .map_err(|e| ApiError::new(502, e.code(), e.message().to_owned()))?,
            Fetched::Ahead => return Err(ApiError::internal("the origin refused a snapshot")),
        }
    }
    Ok(())
}

fn apply(env: &Env, bytes: &[u8]) -> R<std::result::Result<(), epochgate::Error>> {
    with_edge(env, |e| {
        e.validator.apply_revocation(bytes, now_secs()).map(|_| ())
    })
}

fn origin_stub(env: &Env) -> R<worker::Stub> {
    Ok(env
        .durable_object(ORIGIN_BINDING)?
        .get_by_name(ORIGIN_NAME)?)
}

/// Validates in the isolate and counts: every call is a validation, and the core counts the
/// ones it answered from its cache.
fn validate(env: &Env, token: &str) -> R<std::result::Result<Arc<Session>, epochgate::Refusal>> {
    with_edge(env, |e| {
        let hits = e.validator.cache_hits();
        let verdict = e.validator.validate(token, now_secs());
        e.stats.validations += 1;
        e.stats.cache_hits += e.validator.cache_hits() - hits;
        match verdict {
            Verdict::Valid(s) => Ok(s),
            Verdict::Refused(r) => Err(r),
            _ => Err(epochgate::Refusal {
                reason: epochgate::Reason::Malformed,
                message: "unknown verdict".into(),
            }),
        }
    })
}

fn bearer(req: &Request, allow_query: bool) -> R<Option<String>> {
    if let Some(h) = req.headers().get("authorization")? {
        let h = h.trim();
        return match h.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Some(token.trim().to_owned()))
            }
            _ => Ok(Some(String::new())),
        };
    }
    if allow_query {
        let url = req.url()?;
        for (k, v) in url.query_pairs() {
            if k == "access_token" {
                return Ok(Some(v.into_owned()));
            }
        }
    }
    Ok(None)
}

/// Validates the request's token after making the view fresh enough.
async fn authenticate(req: &Request, env: &Env, allow_query: bool) -> R<Arc<Session>> {
    let Some(token) = bearer(req, allow_query)? else {
        return Err(ApiError::token(&epochgate::Refusal {
            reason: epochgate::Reason::Malformed,
            message: "no token: send Authorization: Bearer <token>".into(),
        }));
    };
    ensure_fresh(env).await?;
    validate(env, &token)?.map_err(|r| ApiError::token(&r))
}

/// The coarse client details the origin records: IP, "City, CC", user agent.
fn client_headers(req: &Request, headers: &Headers) -> Result<()> {
    let h = req.headers();
    if let Some(ip) = h.get("cf-connecting-ip")? {
        headers.set(internal::IP, &ip)?;
    }
    let (mut city, mut country) = (None, None);
    if let Some(cf) = req.cf() {
        city = cf.city();
        country = cf.country();
    }
    city = city.or(h.get("cf-ipcity")?);
    country = country.or(h.get("cf-ipcountry")?);
    let location = match (city, country) {
        (Some(c), Some(cc)) => Some(format!("{c}, {cc}")),
        (None, Some(cc)) => Some(cc),
        (Some(c), None) => Some(c),
        (None, None) => None,
    };
    if let Some(l) = location.filter(|l| !l.is_empty() && l != "XX" && l != "T1") {
        headers.set(internal::LOCATION, &l.chars().take(120).collect::<String>())?;
    }
    if let Some(ua) = h.get("user-agent")? {
        headers.set(
            internal::USER_AGENT,
            &ua.chars().take(512).collect::<String>(),
        )?;
    }
    Ok(())
}

/// Forwards a request to the origin with the verified identity; the request is built afresh,
/// so nothing the client sent reaches the origin's internal headers.
async fn forward(
    env: &Env,
    req: &mut Request,
    session: Option<&Session>,
    admin: bool,
) -> R<Response> {
    let url = req.url()?;
    let target = format!(
        "https://origin.internal{}{}",
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    let method = req.method();
    let headers = Headers::new();
    client_headers(req, &headers)?;
    for name in ["content-type", "idempotency-key", "upgrade"] {
        if let Some(v) = req.headers().get(name)? {
            headers.set(name, &v)?;
        }
    }
    if let Some(s) = session {
        headers.set(internal::ACCOUNT, s.account.as_str())?;
        headers.set(internal::SESSION, s.session.as_str())?;
        headers.set(internal::DEVICE, &s.device.0.to_string())?;
        headers.set(internal::EPOCH, &s.epoch.0.to_string())?;
    }
    if admin {
        headers.set(internal::ADMIN, "1")?;
    }
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers);
    if matches!(
        method,
        Method::Post | Method::Put | Method::Patch | Method::Delete
    ) {
        let body = read_body(req).await?;
        if !body.is_empty() {
            init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
        }
    }
    let inner = Request::new_with_init(&target, &init)?;
    Ok(origin_stub(env)?.fetch_with_request(inner).await?)
}

/// Records the session's activity at the origin at most once per interval per isolate, after
/// the response, for routes the origin never sees.
fn touch(env: &Env, ctx: &Context, session: &Session) -> R<()> {
    let now = now_ms();
    let due = with_edge(env, |e| {
        let key = session.session.as_str();
        let due = e
            .touched
            .get(key)
            .is_none_or(|t| now - t >= e.settings.touch_interval_ms);
        if due {
            if e.touched.len() > 50_000 {
                e.touched.clear();
            }
            e.touched.insert(key.to_owned(), now);
        }
        due
    })?;
    if !due {
        return Ok(());
    }
    let headers = Headers::new();
    headers.set(internal::ACCOUNT, session.account.as_str())?;
    headers.set(internal::SESSION, session.session.as_str())?;
    headers.set(internal::DEVICE, &session.device.0.to_string())?;
    headers.set(internal::EPOCH, &session.epoch.0.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let inner = Request::new_with_init("https://origin.internal/internal/touch", &init)?;
    let stub = origin_stub(env)?;
    ctx.wait_until(async move {
        let _ = stub.fetch_with_request(inner).await;
    });
    Ok(())
}

fn me(session: &Session) -> Result<Response> {
    json(
        200,
        &json!({
            "account": session.account.as_str(),
            "session": session.session.as_str(),
            "device": session.device.0,
            "epoch": session.epoch.0,
            "issued_at": session.issued_at,
            "expires_at": session.expires_at,
        }),
    )
}

async fn app(req: &mut Request, env: &Env, session: &Session) -> R<Response> {
    let upstream = with_edge(env, |e| e.settings.upstream.clone())?;
    let url = req.url()?;
    let rest = url.path().strip_prefix("/app").unwrap_or("");
    let headers = Headers::new();
    for (k, v) in req.headers().entries() {
        let lower = k.to_ascii_lowercase();
        if IDENTITY_HEADERS.contains(&lower.as_str())
            || lower.starts_with("x-epochgate-")
            || lower == "authorization"
            || lower == "host"
        {
            continue;
        }
        headers.append(&k, &v)?;
    }
    headers.set("x-epochgate-account", session.account.as_str())?;
    headers.set("x-epochgate-session", session.session.as_str())?;
    headers.set("x-epochgate-device", &session.device.0.to_string())?;
    let Some(base) = upstream else {
        let mut echoed = serde_json::Map::new();
        for (k, v) in headers.entries() {
            echoed.insert(k, serde_json::Value::String(v));
        }
        let body = read_body(req).await?;
        return Ok(json(
            200,
            &json!({
                "echo": true,
                "method": req.method().to_string(),
                "path": url.path(),
                "query": url.query(),
                "headers": echoed,
                "body_bytes": body.len(),
            }),
        )?);
    };
    let target = format!(
        "{}{}{}",
        base.trim_end_matches('/'),
        if rest.is_empty() { "/" } else { rest },
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers);
    if !matches!(req.method(), Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(JsValue::from));
    }
    let upstream_req = Request::new_with_init(&target, &init)?;
    Fetch::Request(upstream_req).send().await.map_err(|e| {
        ApiError::new(
            502,
            "upstream_unreachable",
            format!("the upstream failed: {e}"),
        )
    })
}

fn check_admin(req: &Request, env: &Env) -> R<()> {
    let expected = with_edge(env, |e| e.settings.admin_token_digest)?.ok_or_else(|| {
        ApiError::new(
            503,
            "admin_disabled",
            "the admin API is off: set the ADMIN_TOKEN secret to turn it on",
        )
    })?;
    let given = bearer(req, false)?.unwrap_or_default();
    if bool::from(digest(&given).ct_eq(&expected)) {
        return Ok(());
    }
    let mut e = ApiError::new(
        401,
        "invalid_admin_token",
        "send Authorization: Bearer $ADMIN_TOKEN",
    );
    e.authenticate = Some(
        "Bearer realm=\"epochgate-admin\", error=\"invalid_token\", error_description=\"invalid_admin_token\""
            .into(),
    );
    Err(e)
}

fn stats(env: &Env) -> R<Response> {
    let body = with_edge(env, |e| {
        let now = now_ms();
        json!({
            "validations": e.stats.validations,
            "cache_hits": e.stats.cache_hits,
            "origin_fetches": e.stats.origin_fetches,
            "refresh_errors": e.stats.refresh_errors,
            "view_seq": e.validator.revocation_seq(),
            "view_age_ms": e.fetched_at_ms.map(|t| (now - t).max(0.0).round() as u64),
            "view_created_at": e.validator.view().newest_created_at(),
            "view_accounts": e.validator.view().len(),
            "cached_tokens": e.validator.cached_tokens(),
            "staleness_target_ms": e.settings.staleness_ms as u64,
            "last_fetch_ms": e.last_fetch_ms.round() as u64,
            "max_state_age": e.validator.options().max_state_age,
            "isolate": e.isolate,
        })
    })?;
    Ok(json(200, &body)?)
}

/// Which part of the API a path belongs to, with the methods it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Jwks,
    RevocationJwks,
    Public,
    Revocations,
    Stats,
    Me,
    Authed,
    Events,
    App,
    Admin,
}

fn route(path: &str) -> Option<(Route, &'static str)> {
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Some(match seg.as_slice() {
        [".well-known", "jwks.json"] => (Route::Jwks, "GET"),
        [".well-known", "revocation-jwks.json"] => (Route::RevocationJwks, "GET"),
        ["v1", "accounts"] | ["v1", "login"] => (Route::Public, "POST"),
        ["v1", "revocations"] => (Route::Revocations, "GET"),
        ["v1", "edge", "stats"] => (Route::Stats, "GET"),
        ["v1", "me"] => (Route::Me, "GET"),
        ["v1", "sessions"] | ["v1", "activity"] => (Route::Authed, "GET"),
        ["v1", "sessions", "sign-out-all"] => (Route::Authed, "POST"),
        ["v1", "sessions", id] if !id.is_empty() => (Route::Authed, "DELETE"),
        ["v1", "password"] | ["v1", "totp"] | ["v1", "totp", "confirm"] => (Route::Authed, "POST"),
        ["v1", "events"] => (Route::Events, "GET"),
        ["app"] | ["app", ..] => (Route::App, "*"),
        ["v1", "admin", "accounts", a, "sessions"] if !a.is_empty() => (Route::Admin, "POST"),
        ["v1", "admin", "accounts", a, "sessions", id] if !a.is_empty() && !id.is_empty() => {
            (Route::Admin, "DELETE")
        }
        ["v1", "admin", "accounts", a, "sign-out-all"] if !a.is_empty() => (Route::Admin, "POST"),
        _ => return None,
    })
}

/// Handles one request at the edge.
pub async fn handle(mut req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    respond(
        async {
            let (route, allow) = route(&path).ok_or_else(|| ApiError::not_found(&path))?;
            if allow != "*" && method.to_string() != allow {
                return Err(ApiError::method_not_allowed(method.as_ref(), allow));
            }
            match route {
                Route::Jwks => {
                    let jwks = with_edge(&env, |e| e.keys_jwks.clone())?;
                    Ok(json(200, &jwks)?)
                }
                Route::RevocationJwks => {
                    let jwks = with_edge(&env, |e| e.revocation_jwks.clone())?;
                    Ok(json(200, &jwks)?)
                }
                Route::Stats => stats(&env),
                Route::Public | Route::Revocations => {
                    with_edge(&env, |_| ())?;
                    forward(&env, &mut req, None, false).await
                }
                Route::Me => {
                    let s = authenticate(&req, &env, false).await?;
                    touch(&env, &ctx, &s)?;
                    Ok(me(&s)?)
                }
                Route::Authed => {
                    let s = authenticate(&req, &env, false).await?;
                    forward(&env, &mut req, Some(&s), false).await
                }
                Route::Events => {
                    let s = authenticate(&req, &env, true).await?;
                    forward(&env, &mut req, Some(&s), false).await
                }
                Route::App => {
                    let s = authenticate(&req, &env, false).await?;
                    touch(&env, &ctx, &s)?;
                    app(&mut req, &env, &s).await
                }
                Route::Admin => {
                    check_admin(&req, &env)?;
                    forward(&env, &mut req, None, true).await
                }
            }
        }
        .await,
    )
}
