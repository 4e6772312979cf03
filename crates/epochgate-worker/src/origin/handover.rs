//! Handing revocation changes to the feed (`feed.rs`): every viewer-visible change also writes
//! the account's whole state to the `feed_outbox` table in the same write batch (the revocation
//! store does it), and after each request this file posts the waiting rows to the feed and
//! forgets the ones it confirmed, if still unchanged. Nothing acknowledged is lost: a row
//! leaves only once the feed has it.
//!
//! A request that signed someone out answers its 2xx only once the feed has the change: the
//! post is tried three times within ~125 ms, and when the feed still fails the answer is 503
//! `propagation_delayed` (the sign-out is recorded; the 2xx's body, such as a fresh token, goes
//! along as `result`) and the object's alarm retries with backoff.
//! Every later request also tries while rows wait.

use std::cell::Cell;
use std::time::Duration;

use worker::{Delay, Env, Method, Request, RequestInit, Response, State};

use super::ctx::Ready;
use super::feed::{Publication, Published};
use super::store::{Pending, Store};
use crate::config::{self, FEED_BINDING, FEED_NAME};
use crate::error::ApiError;
use crate::host::now_ms;
use crate::http::{json, FEED_URL};
use crate::routes::Route;

type R<T> = std::result::Result<T, ApiError>;

/// Rows per post.
const BATCH: usize = 64;
/// Posts per delivery; more rows wait for the next request or the alarm.
const MAX_BATCHES: usize = 32;
/// Waits before the second and third try of a request's own post, ms.
const QUICK_RETRIES_MS: [u64; 2] = [25, 100];
/// The `Retry-After` of `propagation_delayed`, seconds.
pub(super) const RETRY_AFTER: u64 = 2;
/// The alarm's first retry, ms; doubles with each failed run, at most [`MAX_RETRY_MS`].
const FIRST_RETRY_MS: i64 = 500;
const MAX_RETRY_MS: i64 = 30_000;

/// The object's handover state.
#[derive(Debug)]
pub(crate) struct Handover {
    /// Whether rows may be waiting. Starts true, so a new instance looks for rows an earlier
    /// one left.
    pending: Cell<bool>,
    /// Failed deliveries in a row, for the alarm's backoff.
    failures: Cell<u32>,
    /// Test only (`TEST_FEED_FAILURES`): how many more feed calls of this instance fail
    /// without being made.
    fail_next: Cell<u64>,
}

impl Handover {
    /// From `TEST_FEED_FAILURES` (test only, default 0).
    pub(super) fn from_env(env: &Env) -> R<Self> {
        Ok(Handover {
            pending: Cell::new(true),
            failures: Cell::new(0),
            fail_next: Cell::new(config::number(env, "TEST_FEED_FAILURES", 0)?),
        })
    }
}

/// Whether a 2xx answer of `route` promises that a sign-out is in force (or, for the feed's
/// `HandOver`, that nothing waits), so it must not leave before the feed has every waiting change.
fn promises_sign_out(route: &Route<'_>) -> bool {
    matches!(
        route,
        Route::HandOver
            | Route::SignOutSession(_)
            | Route::SignOutAll
            | Route::Password
            | Route::PasswordResetConfirm
            | Route::SecureAccount
            | Route::AdminSignOutSession { .. }
            | Route::AdminSignOutAll(_)
    )
}

/// After a request: hands waiting rows to the feed and decides the answer. `changed`: the
/// request made a viewer-visible change. When the feed cannot take them, a 2xx that promises a
/// sign-out becomes 503 `propagation_delayed` and the alarm retries.
pub(super) async fn settle(
    ready: &Ready,
    env: &Env,
    state: &State,
    route: Option<Route<'_>>,
    changed: bool,
    answer: R<Response>,
) -> R<Response> {
    let h = &ready.handover;
    if !changed && !h.pending.get() {
        return answer;
    }
    h.pending.set(true);
    let Err(e) = deliver(h, env, &ready.store, changed).await else {
        return answer;
    };
    worker::console_warn!("feed: changes not handed over yet: {}", e.log_line());
    arm(h, state).await;
    let promised = changed || route.as_ref().is_some_and(promises_sign_out);
    match answer {
        Ok(r) if promised && (200..300).contains(&r.status_code()) => delayed(r).await,
        other => other,
    }
}

/// 503 `propagation_delayed` in place of a 2xx, carrying that 2xx's JSON body as `result`: a
/// sign-out-all that keeps the current device has handed out its fresh token, and the caller's
/// old one is already revoked, so the token must not be lost with the 2xx.
async fn delayed(mut answer: Response) -> R<Response> {
    let e = ApiError::propagation_delayed(RETRY_AFTER);
    let mut body = serde_json::json!({ "error": e.code(), "message": e.message() });
    let result = match answer.status_code() {
        204 => None,
        _ => answer
            .text()
            .await
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()),
    };
    if let (Some(result), Some(fields)) = (result, body.as_object_mut()) {
        fields.insert("result".into(), result);
    }
    let r = json(e.status(), &body)?;
    r.headers().set("retry-after", &RETRY_AFTER.to_string())?;
    Ok(r)
}

/// The alarm's part: one try at every waiting row, then the next retry when some remain.
pub(super) async fn on_alarm(ready: &Ready, env: &Env, state: &State) {
    let h = &ready.handover;
    if !h.pending.get() {
        return;
    }
    match deliver(h, env, &ready.store, false).await {
        Ok(()) => worker::console_log!("feed: waiting changes handed over by the alarm"),
        Err(e) => {
            worker::console_warn!("feed: the alarm's handover failed: {}", e.log_line());
            arm(h, state).await;
        }
    }
}

/// Posts every waiting row, a batch at a time; `quick`: retry each post twice at once.
async fn deliver(h: &Handover, env: &Env, store: &Store, quick: bool) -> R<()> {
    for _ in 0..MAX_BATCHES {
        let rows = store.feed_pending(BATCH)?;
        let floor = store.feed_floor()?;
        if rows.is_empty() && floor.is_none() {
            h.pending.set(false);
            h.failures.set(0);
            return Ok(());
        }
        let body = publication(&rows, floor)?;
        post(h, env, &body, quick).await?;
        store.feed_confirmed(&rows)?;
        if floor.is_some() {
            store.feed_floor_confirmed()?;
        }
    }
    Err(ApiError::internal(
        "more changes wait than one delivery posts",
    ))
}

/// The body of one post: `rows`, and the pre-feed sequence while the feed has not confirmed it
/// (every post carries it until then; the feed applies it once).
fn publication(rows: &[Pending], floor: Option<u64>) -> R<Vec<u8>> {
    let states = rows
        .iter()
        .map(|p| {
            Ok(Published {
                account: p.account.clone(),
                epoch: u32::try_from(p.epoch).map_err(ApiError::internal)?,
                revoked: serde_json::from_str(&p.revoked).map_err(ApiError::internal)?,
            })
        })
        .collect::<R<Vec<_>>>()?;
    serde_json::to_vec(&Publication { states, floor }).map_err(ApiError::internal)
}

async fn post(h: &Handover, env: &Env, body: &[u8], quick: bool) -> R<()> {
    let mut result = post_once(h, env, body).await;
    if quick {
        for ms in QUICK_RETRIES_MS {
            if result.is_ok() {
                break;
            }
            Delay::from(Duration::from_millis(ms)).await;
            result = post_once(h, env, body).await;
        }
    }
    if result.is_err() {
        h.failures.set(h.failures.get().saturating_add(1));
    }
    result
}

async fn post_once(h: &Handover, env: &Env, body: &[u8]) -> R<()> {
    if h.fail_next.get() > 0 {
        h.fail_next.set(h.fail_next.get() - 1);
        return Err(ApiError::internal(
            "TEST_FEED_FAILURES: this feed call was made to fail",
        ));
    }
    let headers = worker::Headers::new();
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(js_sys::Uint8Array::from(body).into()));
    let req = Request::new_with_init(&format!("{FEED_URL}/internal/publish"), &init)?;
    let resp = env
        .durable_object(FEED_BINDING)?
        .get_by_name(FEED_NAME)?
        .fetch_with_request(req)
        .await?;
    match resp.status_code() {
        200..=299 => Ok(()),
        s => Err(ApiError::internal(format!("the feed answered {s}"))),
    }
}

/// Sets the object's alarm for the next retry, unless one is due sooner (the mail's, or an
/// earlier retry).
async fn arm(h: &Handover, state: &State) {
    let shift = h.failures.get().saturating_sub(1).min(16);
    let delay = (FIRST_RETRY_MS << shift).min(MAX_RETRY_MS);
    let at = now_ms().floor() as i64 + delay;
    let storage = state.storage();
    match storage.get_alarm().await {
        Ok(Some(due)) if due <= at => return,
        Ok(_) => {}
        Err(e) => worker::console_error!("feed: cannot read the alarm: {e}"),
    }
    let when = worker::ScheduledTime::new(js_sys::Date::new(&(at as f64).into()));
    if let Err(e) = storage.set_alarm(when).await {
        worker::console_error!("feed: cannot set the retry alarm: {e}");
    }
}
