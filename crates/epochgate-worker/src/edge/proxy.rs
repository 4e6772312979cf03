//! Requests the edge makes on a caller's behalf: forwarding to the origin object with the
//! verified identity, background activity reports, revocation fetches, and `/app/*` to the
//! upstream (or the built-in echo) with a signed assertion of the caller.

use std::pin::pin;

use epochgate::{Session, UpdateBytes};
use futures_util::{future, StreamExt};
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{
    Cache, Context, Env, Fetch, Headers, Method, Request, RequestInit, Response, ResponseBody,
    Result, Url,
};

use super::accounts;
use super::assertion::{self, Claims};
use super::fresh::Fetched;
use super::incoming::Incoming;
use super::isolate::with_edge;
use super::objects::{self, Answer};
use super::passkeys;
use super::passwords::{self, Prepared};
use crate::config::{FEED_BINDING, FEED_NAME};
use crate::error::{ApiCode, ApiError};
use crate::host::{now_ms, now_secs, random_id};
use crate::http::{chunks, has_body, internal, json, read_body, FEED_URL, ORIGIN_URL};
use crate::routes::Route;

type R<T> = std::result::Result<T, ApiError>;

/// Headers a client may not send on to the upstream or the origin.
const IDENTITY_HEADERS: [&str; 3] = [
    "x-epochgate-account",
    "x-epochgate-session",
    "x-epochgate-device",
];

/// The verified identity, in the headers only the edge sets.
pub(super) fn identity_headers(headers: &Headers, s: &Session) -> Result<()> {
    headers.set(internal::ACCOUNT, s.account.as_str())?;
    headers.set(internal::SESSION, s.session.as_str())?;
    headers.set(internal::DEVICE, &s.device.0.to_string())?;
    headers.set(internal::EPOCH, &s.epoch.0.to_string())
}

/// The coarse client details the origin records: IP, "City, CC", user agent.
pub(super) fn client_headers(req: &Incoming, headers: &Headers) -> Result<()> {
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

/// Forwards a request to the origin shard it belongs to, with the verified identity; the
/// request is built afresh, so nothing the client sent reaches the internal headers. The routes
/// that start from an email go through the email's directory (`accounts.rs`); the development
/// outbox is read from every shard.
pub(super) async fn forward(
    env: &Env,
    req: &Incoming,
    route: Route<'_>,
    session: Option<&Session>,
    admin: bool,
) -> R<Response> {
    let method = req.method();
    let body = if has_body(&method) {
        read_body(req.inner()).await?
    } else {
        Vec::new()
    };
    match route {
        Route::SignUp => return accounts::sign_up(env, req, &body).await,
        Route::Login => return accounts::login(env, req, &body).await,
        Route::PasswordReset => return accounts::reset(env, req, &body).await,
        Route::PasswordResetConfirm => return accounts::reset_confirm(env, req, &body).await,
        Route::AdminOutbox => return outbox_everywhere(env, req).await,
        _ => {}
    }
    // A passkey sign-in goes to the shard of the account its user handle names.
    let named = match route {
        Route::PasskeyLogin => passkeys::admit_login(env, req, &body).await?,
        _ => None,
    };
    let url = req.url()?;
    let target = format!(
        "{ORIGIN_URL}{}{}",
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    let headers = Headers::new();
    client_headers(req, &headers)?;
    for name in ["content-type", "idempotency-key", "upgrade"] {
        if let Some(v) = req.headers().get(name)? {
            headers.set(name, &v)?;
        }
    }
    if let Some(s) = session {
        identity_headers(&headers, s)?;
    }
    if admin {
        headers.set(internal::ADMIN, "1")?;
    }
    match passwords::prepare(env, req, route, session, &body).await? {
        Prepared::Headers(h) => {
            for (name, value) in h {
                headers.set(name, &value)?;
            }
        }
        Prepared::Refused(answer) => return Ok(answer),
    }
    let moving = match (route, session) {
        (Route::EmailChange, Some(s)) => {
            accounts::claim_new_email(env, s.account.as_str(), &body).await?
        }
        _ => None,
    };
    if let Some((name, value)) = moving.as_ref().and_then(accounts::EmailMove::header) {
        headers.set(name, &value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers);
    if !body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let inner = Request::new_with_init(&target, &init)?;
    let shard = match named {
        Some(account) => objects::origin_of_account(env, &account)?,
        None => shard_of(env, route, session, &url, &body)?,
    };
    let resp = shard.fetch_with_request(inner).await?;
    match moving {
        Some(m) => {
            let answer = Answer::of(resp).await?;
            m.settle(env, &answer).await?;
            Ok(answer.response)
        }
        None => Ok(resp),
    }
}

/// The shard a request belongs to: its session's account; for admin routes the account in the
/// path; for a "not you?" link or a WebSocket ticket the account they start with.
fn shard_of(
    env: &Env,
    route: Route<'_>,
    session: Option<&Session>,
    url: &Url,
    body: &[u8],
) -> R<worker::Stub> {
    let prefix = |s: &str| s.split_once('.').map(|(a, _)| a.to_owned());
    let account = match (route, session) {
        (_, Some(s)) => Some(s.account.as_str().to_owned()),
        (
            Route::AdminSession(a)
            | Route::AdminSignOutAll(a)
            | Route::AdminSignOutSession { account: a, .. },
            None,
        ) => Some(a.to_owned()),
        (Route::SecureAccount, None) => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("token").and_then(|t| t.as_str()).and_then(prefix)),
        (Route::Events, None) => url
            .query_pairs()
            .find(|(k, _)| k == "ticket")
            .and_then(|(_, t)| prefix(&t)),
        _ => None,
    };
    match account {
        Some(a) => objects::origin_of_account(env, &a),
        // Nothing to place it by: any shard answers it (with its 400 or 404).
        None => objects::origin(env, 0),
    }
}

/// `GET /v1/admin/outbox` over every shard: the newest 50 messages of all, with each shard's
/// ids made distinct (`id × shards + shard`).
async fn outbox_everywhere(env: &Env, req: &Incoming) -> R<Response> {
    let url = req.url()?;
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let k = objects::shards(env)?;
    let mut messages: Vec<serde_json::Value> = Vec::new();
    for i in 0..k.count() {
        let headers = Headers::new();
        headers.set(internal::ADMIN, "1")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let inner = Request::new_with_init(&format!("{ORIGIN_URL}/v1/admin/outbox{query}"), &init)?;
        let mut resp = objects::origin(env, i)?.fetch_with_request(inner).await?;
        if resp.status_code() != 200 {
            return Ok(resp);
        }
        let body: serde_json::Value = resp.json().await?;
        for mut m in body
            .get("messages")
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default()
        {
            if let Some(obj) = m.as_object_mut() {
                if let Some(id) = obj.get("id").and_then(serde_json::Value::as_u64) {
                    obj.insert(
                        "id".into(),
                        (id * u64::from(k.count()) + u64::from(i)).into(),
                    );
                }
            }
            messages.push(m);
        }
    }
    let at = |m: &serde_json::Value| {
        let get = |k: &str| m.get(k).and_then(serde_json::Value::as_i64);
        std::cmp::Reverse((get("created_at"), get("id")))
    };
    messages.sort_by_key(at);
    messages.truncate(50);
    Ok(json(200, &json!({ "messages": messages }))?)
}

/// Records the session's activity at the origin at most once per interval per isolate, after
/// the response, for routes the origin never sees.
pub(super) fn touch(env: &Env, ctx: &Context, session: &Session) -> R<()> {
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
    identity_headers(&headers, session)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let inner = Request::new_with_init(&format!("{ORIGIN_URL}/internal/touch"), &init)?;
    let stub = objects::origin_of_account(env, session.account.as_str())?;
    ctx.wait_until(async move {
        let _ = stub.fetch_with_request(inner).await;
    });
    Ok(())
}

/// Fetches the revocation update since `since` from the feed object (through the location's
/// cache), or from `REVOCATIONS_URL` when set (the fault tests' stand-in origin, never cached).
pub(super) async fn fetch_update(env: &Env, since: u64) -> Fetched {
    match fetch_update_inner(env, since).await {
        Ok(fetched) => fetched,
        Err(e) => {
            worker::console_warn!("revocation fetch since={since} failed: {}", e.log_line());
            Fetched::Failed
        }
    }
}

async fn fetch_update_inner(env: &Env, since: u64) -> R<Fetched> {
    let resp = match with_edge(env, |e| e.settings.revocations_url.clone())? {
        Some(base) => {
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}since={since}")
                .parse()
                .map_err(|e| ApiError::not_configured(format!("REVOCATIONS_URL: {e}")))?;
            Fetch::Url(url).send().await?
        }
        None => return feed_update(env, since).await,
    };
    match resp.status_code() {
        200 => Ok(Fetched::Update(read_update(&resp).await?)),
        409 => Ok(Fetched::SinceAhead),
        s => Err(ApiError::internal(format!(
            "the origin answered {s} to since={since}"
        ))),
    }
}

/// Reads an update's body piece by piece into an [`UpdateBytes`] sized by its `Content-Length`,
/// so a large snapshot is never whole in JS memory and in the module's memory at once (the core
/// then checks and decodes it where it lies). A body past the update size limit is cut off.
async fn read_update(resp: &Response) -> R<UpdateBytes> {
    let expected = resp
        .headers()
        .get("content-length")?
        .and_then(|l| l.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut received = UpdateBytes::with_capacity(expected);
    let raw = match resp.body() {
        ResponseBody::Stream(raw) => raw.clone(),
        ResponseBody::Body(bytes) => {
            received.push(bytes)?;
            return Ok(received);
        }
        ResponseBody::Empty => return Ok(received),
    };
    let mut body = wasm_streams::ReadableStream::from_raw(raw);
    let mut chunks = pin!(chunks(&mut body));
    while let Some(chunk) = chunks.next().await {
        received.push(&chunk?)?;
    }
    Ok(received)
}

/// `/app/*`: the request with the verified identity — an [`assertion`] signed for it, and the
/// `X-Epochgate-*` headers — with every such header the client sent dropped, to `UPSTREAM_URL`
/// or, without one, echoed back. Without the assertion's key nothing is sent to an upstream.
pub(super) async fn app(req: &Incoming, env: &Env, session: &Session) -> R<Response> {
    let upstream = with_edge(env, |e| e.settings.upstream.clone())?;
    let url = req.url()?;
    let method = req.method();
    let rest = match url.path().strip_prefix("/app").unwrap_or("") {
        "" => "/",
        rest => rest,
    };
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let headers = Headers::new();
    for (k, v) in req.headers().entries() {
        let lower = k.to_ascii_lowercase();
        if IDENTITY_HEADERS.contains(&lower.as_str())
            || lower.starts_with("x-epochgate-")
            || lower.starts_with("epochgate-")
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
        // The echo shows what an upstream would get: signed when the key is there.
        match signed(env, session, &method, &format!("{rest}{query}")) {
            Ok(jws) => headers.set(assertion::HEADER, &jws)?,
            Err(e) if e.code() == ApiCode::NotConfigured.as_str() => {}
            Err(e) => return Err(e),
        }
        let mut echoed = serde_json::Map::new();
        for (k, v) in headers.entries() {
            echoed.insert(k, serde_json::Value::String(v));
        }
        let body = read_body(req.inner()).await?;
        return Ok(json(
            200,
            &json!({
                "echo": true,
                "method": method.to_string(),
                "path": url.path(),
                "query": url.query(),
                "headers": echoed,
                "body_bytes": body.len(),
            }),
        )?);
    };
    let target = Url::parse(&format!("{}{rest}{query}", base.trim_end_matches('/')))
        .map_err(|e| ApiError::not_configured(format!("UPSTREAM_URL: {e}")))?;
    headers.set(
        assertion::HEADER,
        &signed(env, session, &method, &assertion::target(&target))?,
    )?;
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(JsValue::from));
    }
    let upstream_req = Request::new_with_init(target.as_str(), &init)?;
    Fetch::Request(upstream_req).send().await.map_err(|e| {
        ApiError::new(
            ApiCode::UpstreamUnreachable,
            format!("the upstream failed: {e}"),
        )
    })
}

/// The upstream assertion for `session` calling `method htu` now; 503 `not_configured` naming
/// `UPSTREAM_SIGNING_JWK` when that key is missing or unusable.
fn signed(env: &Env, session: &Session, method: &Method, htu: &str) -> R<String> {
    let jti = random_id("")?;
    let now = now_secs();
    with_edge(env, |e| {
        let key = e.settings.upstream_key.as_ref().map_err(Clone::clone)?;
        let claims = Claims::new(&e.settings.issuer, session, method.as_ref(), htu, now, &jti);
        assertion::sign(key, &claims).map_err(ApiError::internal)
    })?
}

fn feed_stub(env: &Env) -> R<worker::Stub> {
    Ok(env.durable_object(FEED_BINDING)?.get_by_name(FEED_NAME)?)
}

/// `GET /v1/revocations` from the internet: passed to the feed object as it came (the feed
/// answers a bad `since` with 400 and one ahead of it with 409).
pub(super) async fn feed(env: &Env, req: &Incoming) -> R<Response> {
    let url = req.url()?;
    let target = format!(
        "{FEED_URL}{}{}",
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    );
    Ok(feed_stub(env)?.fetch_with_str(&target).await?)
}

/// How long a cached feed answer may be kept, seconds. The time slot in its key is what bounds
/// the age of what a refresh reads; this only lets the cache let go of old slots.
const FEED_CACHE_MAX_AGE: u64 = 5;

/// The update since `since` from the feed object, shared by the isolates of a location through
/// the Workers cache: the key is the feed URL plus the current time slot
/// (`now_ms / FEED_CACHE_SLOT_MS`), so a read from the cache is at most one slot older than a
/// direct one, and the feed sees one read per location, slot and `since` rather than one per
/// isolate. A slot of 0 turns the cache off. A cache that fails is read around, not trusted.
async fn feed_update(env: &Env, since: u64) -> R<Fetched> {
    let url = format!("{FEED_URL}/v1/revocations?since={since}");
    let slot_ms = with_edge(env, |e| e.settings.feed_cache_slot_ms)?;
    let key = (slot_ms > 0).then(|| {
        let slot = (now_ms().max(0.0) as u64) / slot_ms;
        format!("{url}&slot={slot}")
    });
    let cache = key.as_ref().map(|_| Cache::default());
    if let (Some(key), Some(cache)) = (&key, &cache) {
        match cache.get(key.as_str(), false).await {
            Ok(Some(hit)) if hit.status_code() == 200 => {
                let received = read_update(&hit).await?;
                with_edge(env, |e| e.stats.feed_cache_hits += 1)?;
                return Ok(Fetched::Update(received));
            }
            Ok(_) => {}
            Err(e) => worker::console_warn!("feed cache read failed: {e}"),
        }
        with_edge(env, |e| e.stats.feed_cache_misses += 1)?;
    }
    let mut resp = feed_stub(env)?.fetch_with_str(&url).await?;
    match resp.status_code() {
        200 => {
            let (Some(key), Some(cache)) = (&key, &cache) else {
                return Ok(Fetched::Update(read_update(&resp).await?));
            };
            // The body goes to the cache and into the view side by side (a tee), so neither
            // side holds the whole of it waiting for the other.
            let headers = Headers::new();
            headers.set("content-type", "application/octet-stream")?;
            headers.set(
                "cache-control",
                &format!("public, max-age={FEED_CACHE_MAX_AGE}"),
            )?;
            if let Some(length) = resp.headers().get("content-length")? {
                headers.set("content-length", &length)?;
            }
            let copy = resp.cloned()?.with_headers(headers);
            let (put, received) =
                future::join(cache.put(key.as_str(), copy), read_update(&resp)).await;
            if let Err(e) = put {
                worker::console_warn!("feed cache write failed: {e}");
            }
            Ok(Fetched::Update(received?))
        }
        409 => Ok(Fetched::SinceAhead),
        s => Err(ApiError::internal(format!(
            "the feed answered {s} to since={since}"
        ))),
    }
}
