//! `Follower`: the core's freshness schedule and fetch rule for a page or a Node backend that
//! keeps a `Validator` following the origin. The caller fetches; this says what and when.

use epochgate::{Answer, FollowerOptions, Next, Plan};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::{from_core, js_error, INVALID_ARGUMENT, INVALID_OPTION};
use crate::read::{Fields, MAX_SAFE_INTEGER};
use crate::update_bytes::update_arg;
use crate::validator::Validator;

/// Keeps one validator's revocation view following the origin: `plan` says whether a request
/// may use the view, should fetch an update (and which), or should wait; `answer` feeds in what
/// the fetch brought and says what next.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Follower {
    inner: epochgate::Follower,
}

/// A plain object of `members`. Setting a property on a fresh object cannot fail.
fn object(members: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (name, value) in members {
        let _ = Reflect::set(&o, &JsValue::from_str(name), value);
    }
    o.into()
}

/// The `nowMs` argument: floored Unix milliseconds, or the host clock when omitted.
fn now_ms_arg(now_ms: Option<f64>) -> Result<i64, JsValue> {
    match now_ms {
        None => Ok(js_sys::Date::now().floor() as i64),
        // `as` saturates, so times beyond the i64 range stay far in the past or future.
        Some(n) if n.is_finite() => Ok(n.floor() as i64),
        Some(n) => Err(js_error(
            INVALID_ARGUMENT,
            &format!(
                "nowMs must be a finite number of Unix milliseconds, got {}",
                js_sys::Number::from(n)
                    .to_string_with_radix(10)
                    .map(String::from)
                    .unwrap_or_default()
            ),
        )),
    }
}

/// A member of `answer` that is neither `undefined` nor `null`.
fn member(answer: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    let value = Reflect::get(answer, &JsValue::from_str(name))?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

#[wasm_bindgen]
impl Follower {
    /// A follower that has fetched nothing yet. Throws `invalid_option` for a staleness target
    /// over a day (86400000 ms) or a refresh timeout of 0 or over a day.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "FollowerOptions")] options: JsValue,
    ) -> Result<Follower, JsValue> {
        let fields = Fields::new(
            &options,
            "new Follower(options)",
            INVALID_OPTION,
            &["stalenessTargetMs", "refreshTimeoutMs"],
        )?;
        let defaults = FollowerOptions::default();
        let options = FollowerOptions {
            staleness_target_ms: fields
                .opt_whole("stalenessTargetMs", MAX_SAFE_INTEGER)?
                .unwrap_or(defaults.staleness_target_ms),
            refresh_timeout_ms: fields
                .opt_whole("refreshTimeoutMs", MAX_SAFE_INTEGER)?
                .unwrap_or(defaults.refresh_timeout_ms),
        };
        epochgate::Follower::new(options)
            .map(|inner| Follower { inner })
            .map_err(from_core)
    }

    /// What a request should do at `nowMs` (Unix milliseconds; the host clock when omitted):
    /// `{action: "use"}`, `{action: "fetch", since}` — fetch the update since `since` (0: a
    /// snapshot) and pass what comes back to `answer` — or `{action: "wait"}` (no usable view
    /// while another refresh is in flight: plan again shortly).
    #[wasm_bindgen(unchecked_return_type = "FollowerPlan")]
    pub fn plan(
        &mut self,
        validator: &Validator,
        #[wasm_bindgen(js_name = nowMs)] now_ms: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        let now_ms = now_ms_arg(now_ms)?;
        Ok(match self.inner.plan(&validator.inner, now_ms) {
            Plan::Use => object(&[("action", "use".into())]),
            Plan::Fetch(since) => {
                object(&[("action", "fetch".into()), ("since", (since as f64).into())])
            }
            Plan::Wait => object(&[("action", "wait".into())]),
        })
    }

    /// Feeds in what the fetch came back with — exactly one of `{update}` (HTTP 200: a
    /// `Uint8Array`, an `ArrayBuffer`, or an `UpdateBytes` the body was read into, consumed),
    /// `{sinceAhead: true}` (HTTP 409 `since_ahead`) or `{failed: true}` — and applies an update
    /// to `validator` at `nowMs`. Returns `{next: "done", seq}`, `{next: "fetch", since}` (fetch
    /// again and answer again) or `{next: "failed", error: {code, message}}` with the view
    /// unchanged. Throws `invalid_argument` for an answer of another shape.
    #[wasm_bindgen(unchecked_return_type = "FollowerNext")]
    pub fn answer(
        &mut self,
        validator: &mut Validator,
        #[wasm_bindgen(unchecked_param_type = "FollowerAnswer")] answer: JsValue,
        #[wasm_bindgen(js_name = nowMs)] now_ms: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        // Checks the shape and refuses unknown members; the members are read below.
        Fields::new(
            &answer,
            "follower.answer(validator, answer)",
            INVALID_ARGUMENT,
            &["update", "sinceAhead", "failed"],
        )?;
        let update = match member(&answer, "update")? {
            Some(value) => Some(update_arg(&value, "answer.update")?),
            None => None,
        };
        let ahead = member(&answer, "sinceAhead")?;
        let failed = member(&answer, "failed")?;
        let parsed = match (update, ahead, failed) {
            (Some(received), None, None) => Answer::Received(received),
            (None, Some(t), None) if t == JsValue::TRUE => Answer::SinceAhead,
            (None, None, Some(t)) if t == JsValue::TRUE => Answer::Failed,
            _ => {
                return Err(js_error(
                    INVALID_ARGUMENT,
                    "follower.answer(validator, answer): answer must be exactly one of \
                     {update: Uint8Array | ArrayBuffer | UpdateBytes}, {sinceAhead: true} or \
                     {failed: true}",
                ))
            }
        };
        let now_ms = now_ms_arg(now_ms)?;
        Ok(
            match self.inner.answer(&mut validator.inner, parsed, now_ms) {
                Next::Done(seq) => object(&[("next", "done".into()), ("seq", (seq as f64).into())]),
                Next::Fetch(since) => {
                    object(&[("next", "fetch".into()), ("since", (since as f64).into())])
                }
                Next::Failed(e) => object(&[
                    ("next", "failed".into()),
                    (
                        "error",
                        object(&[("code", e.code().into()), ("message", e.message().into())]),
                    ),
                ]),
            },
        )
    }

    /// What was counted so far: `{fetches, snapshots, applied, refused, failures}`.
    #[wasm_bindgen(getter, unchecked_return_type = "FollowerStats")]
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        object(&[
            ("fetches", (s.fetches as f64).into()),
            ("snapshots", (s.snapshots as f64).into()),
            ("applied", (s.applied as f64).into()),
            ("refused", (s.refused as f64).into()),
            ("failures", (s.failures as f64).into()),
        ])
    }

    /// When the fetch of the newest applied update started (Unix ms); `undefined` before the
    /// first.
    #[wasm_bindgen(getter = fetchedAtMs)]
    pub fn fetched_at_ms(&self) -> Option<f64> {
        self.inner.fetched_at_ms().map(|t| t as f64)
    }

    /// How long the last successful refresh took (ms).
    #[wasm_bindgen(getter = lastFetchMs)]
    pub fn last_fetch_ms(&self) -> f64 {
        self.inner.last_fetch_ms() as f64
    }

    /// Whether a refresh is in flight at `nowMs` (one older than the timeout is presumed lost).
    #[wasm_bindgen(js_name = inFlight)]
    pub fn in_flight(
        &self,
        #[wasm_bindgen(js_name = nowMs)] now_ms: Option<f64>,
    ) -> Result<bool, JsValue> {
        Ok(self.inner.in_flight(now_ms_arg(now_ms)?))
    }
}
