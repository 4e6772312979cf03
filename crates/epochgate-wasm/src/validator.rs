//! `Validator`: options in, verdicts out as plain JS objects.

use epochgate::{KeySet, Options, Reason, StepUp, Verdict};
use wasm_bindgen::prelude::*;

use crate::error::{from_core, js_error, INVALID_OPTION};
use crate::keys::HostEd25519;
use crate::read::{lines, now_arg, random, Fields, MAX_SAFE_INTEGER};
use crate::update_bytes::update_arg;

const OPTIONS: [&str; 12] = [
    "issuer",
    "audience",
    "keys",
    "revocationKeys",
    "clockTolerance",
    "maxTokenBytes",
    "type",
    "maxStateAge",
    "cacheSize",
    "maxAuthAge",
    "requiredAmr",
    "ed25519Verify",
];

/// Validates session tokens and applies revocation updates.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Validator {
    pub(crate) inner: epochgate::Validator,
    /// The host's Ed25519 verification, asked for the equation only (`ed25519Verify`).
    host: Option<HostEd25519>,
}

// Verdicts are built by one small JS function each: one call across the boundary per verdict
// instead of one per member. A valid one's claims are the host's JSON.parse of the payload text
// the signature covers, which the core parsed strictly (no duplicate member, bounded nesting) and
// checked, so `account`, `session` and `amr` are read from them: the same values the core holds.
// A list of methods crosses as one string joined by newlines, which no method can hold (they are
// printable ASCII); the optional members are set only when present, so old tokens' verdicts keep
// their shape.
#[wasm_bindgen(inline_js = "
export function validVerdict(payload, device, epoch, issuedAt, expiresAt, authTime, amr) {
  const claims = JSON.parse(payload);
  const v = { valid: true, account: claims.sub, session: claims.sid, device, epoch, issuedAt, expiresAt, claims };
  if (authTime !== undefined) v.authTime = authTime;
  if (amr) v.amr = claims.amr.slice();
  return v;
}
export function refusedVerdict(reason, message, maxAge, requiredAmr) {
  const v = { valid: false, reason, message };
  if (maxAge !== undefined) v.maxAge = maxAge;
  if (requiredAmr !== undefined) v.requiredAmr = requiredAmr.split('\\n');
  return v;
}")]
extern "C" {
    #[wasm_bindgen(catch, js_name = validVerdict)]
    fn valid_verdict(
        payload: &str,
        device: u16,
        epoch: u32,
        issued_at: f64,
        expires_at: f64,
        auth_time: Option<f64>,
        amr: bool,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = refusedVerdict)]
    fn refused_verdict(
        reason: &str,
        message: &str,
        max_age: Option<f64>,
        required_amr: Option<String>,
    ) -> JsValue;
}

#[wasm_bindgen]
impl Validator {
    /// A validator for tokens of one issuer and audience signed by `keys`. Throws an `Error`
    /// whose `.code` says what to fix (`invalid_option`, `invalid_jwk`, `no_usable_key`,
    /// `weak_key`, `key_reuse`, ...).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ValidatorOptions")] options: JsValue,
    ) -> Result<Validator, JsValue> {
        let fields = Fields::new(&options, "new Validator(options)", INVALID_OPTION, &OPTIONS)?;
        let defaults = Options::default();
        let size = |name: &str, default: usize| -> Result<usize, JsValue> {
            match fields.opt_whole(name, MAX_SAFE_INTEGER)? {
                None => Ok(default),
                Some(n) => usize::try_from(n).map_err(|_| {
                    js_error(
                        INVALID_OPTION,
                        &format!("new Validator(options): {name} is {n}, more than this platform can address"),
                    )
                }),
            }
        };
        let options = Options {
            issuer: fields.string("issuer")?,
            audience: fields.string("audience")?,
            clock_tolerance: fields
                .opt_whole("clockTolerance", MAX_SAFE_INTEGER)?
                .unwrap_or(defaults.clock_tolerance),
            max_token_bytes: size("maxTokenBytes", defaults.max_token_bytes)?,
            token_type: fields.opt_string("type")?.unwrap_or(defaults.token_type),
            max_state_age: fields
                .opt_whole("maxStateAge", MAX_SAFE_INTEGER)?
                .unwrap_or(defaults.max_state_age),
            cache_size: size("cacheSize", defaults.cache_size)?,
            max_auth_age: fields.opt_whole("maxAuthAge", MAX_SAFE_INTEGER)?,
            required_amr: fields.opt_strings("requiredAmr")?.unwrap_or_default(),
        };
        let keys = KeySet::from_jwks(&fields.key_text("keys")?).map_err(from_core)?;
        let revocation_keys = match fields.opt_key_text("revocationKeys")? {
            Some(text) => Some(KeySet::from_jwks(&text).map_err(from_core)?),
            None => None,
        };
        let host = fields.opt_function("ed25519Verify")?.map(HostEd25519::new);
        let seed = random::<16>()?;
        epochgate::Validator::new(options, keys, revocation_keys, *seed)
            .map(|inner| Validator { inner, host })
            .map_err(from_core)
    }

    /// Validates `token` at `now` (Unix seconds; the host clock when omitted), asking `stepUp`
    /// (`{ maxAuthAge?, requiredAmr? }`) on top of the options' step-up. Never throws for any
    /// token: a refusal is `{ valid: false, reason, message }` — with `maxAge` and `requiredAmr`
    /// (what was asked) for `insufficient_user_authentication` — and a token that is not a
    /// string is `malformed`. Throws only for a `now` that is not a finite number
    /// (`invalid_argument`) or an unusable `stepUp` (`invalid_option`).
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn validate(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        // Typed by hand too: wasm-bindgen stops marking parameters optional before a typed one.
        #[wasm_bindgen(unchecked_optional_param_type = "number | null")] now: Option<f64>,
        #[wasm_bindgen(js_name = stepUp, unchecked_optional_param_type = "StepUp | null")] step_up: Option<
            JsValue,
        >,
    ) -> Result<JsValue, JsValue> {
        let now = now_arg(now)?;
        let step_up = step_up_arg(step_up)?;
        let Some(token) = token.as_string() else {
            return Ok(refused(
                "malformed",
                &format!(
                    "the token must be a string, got a value of type {}",
                    token.js_typeof().as_string().unwrap_or_default()
                ),
            ));
        };
        let host = self
            .host
            .as_ref()
            .map(|h| move |k: &[u8; 32], m: &[u8], s: &[u8; 64]| h.verify(k, m, s));
        let host = host.as_ref().map(|h| h as epochgate::HostVerify<'_>);
        let verdict = self.inner.validate_with_host(&token, now, &step_up, host);
        Ok(match verdict {
            Verdict::Valid(session) => valid_verdict(
                session.payload_json(),
                session.device.0,
                session.epoch.0,
                session.issued_at as f64,
                session.expires_at as f64,
                session.auth_time.map(|t| t as f64),
                session.amr.is_some(),
            )
            .unwrap_or_else(|_| {
                refused("malformed", "the verified claims could not be handed to JS")
            }),
            Verdict::Refused(refusal)
                if refusal.reason == Reason::InsufficientUserAuthentication =>
            {
                // What was asked: the options' step-up and this call's together.
                let asked = self.inner.step_up_for(&step_up);
                refused_verdict(
                    refusal.reason.code(),
                    &refusal.message,
                    asked.max_age.map(|a| a as f64),
                    (!asked.required_amr.is_empty()).then(|| lines(&asked.required_amr)),
                )
            }
            Verdict::Refused(refusal) => refused(refusal.reason.code(), &refusal.message),
            // A verdict this face does not know is not a valid one: fail closed.
            _ => refused("malformed", "this build does not understand the verdict"),
        })
    }

    /// Verifies and applies a revocation update (a `Uint8Array` or `ArrayBuffer` from
    /// `RevocationLog.snapshot`/`deltaSince` or the origin, or an `UpdateBytes` it was read
    /// into piece by piece, which this consumes) at `now`; returns the new sequence.
    /// A refused update leaves the validator unchanged and throws an `Error` whose `.code` is
    /// one of `update_malformed`, `update_unsupported_version`, `update_unknown_key`,
    /// `update_bad_signature`, `no_revocation_keys`, `update_stale`, `update_gap` (fetch a
    /// snapshot), `update_from_future` or `invalid_argument`.
    #[wasm_bindgen(js_name = applyRevocation)]
    pub fn apply_revocation(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | UpdateBytes")]
        update: JsValue,
        now: Option<f64>,
    ) -> Result<f64, JsValue> {
        let now = now_arg(now)?;
        let received = update_arg(&update, "update")?;
        self.inner
            .apply_received(received, now)
            .map(|seq| seq as f64)
            .map_err(from_core)
    }

    /// The sequence of the newest applied revocation update (0 before the first).
    #[wasm_bindgen(getter = revocationSeq)]
    pub fn revocation_seq(&self) -> f64 {
        self.inner.revocation_seq() as f64
    }

    /// How many verified tokens the cache holds now (always 0 with `cacheSize: 0`).
    #[wasm_bindgen(getter = cachedTokens)]
    pub fn cached_tokens(&self) -> f64 {
        self.inner.cached_tokens() as f64
    }

    // What the package's JavaScript verdict cache needs to know when a verdict stops being
    // current; the rules themselves stay in the core.

    /// Changes with every revocation update applied (through `applyRevocation` or a
    /// `Follower`), and at no other time.
    #[wasm_bindgen(getter = viewGeneration)]
    pub fn view_generation(&self) -> f64 {
        self.inner.view_generation() as f64
    }

    /// The last Unix second at which a valid token is not refused as `state_stale`: the newest
    /// update's creation plus `maxStateAge`; `Infinity` with `maxStateAge` 0, `-Infinity` before
    /// the first update otherwise.
    #[wasm_bindgen(getter = freshUntil)]
    pub fn fresh_until(&self) -> f64 {
        match self.inner.fresh_until() {
            None => f64::INFINITY,
            Some(i64::MIN) => f64::NEG_INFINITY,
            Some(t) => t as f64,
        }
    }

    /// The options' `clockTolerance`, `cacheSize` and `maxAuthAge` (`undefined` when none),
    /// defaults filled in.
    #[wasm_bindgen(getter = clockTolerance)]
    pub fn clock_tolerance(&self) -> f64 {
        self.inner.options().clock_tolerance as f64
    }

    /// See `clockTolerance`.
    #[wasm_bindgen(getter = cacheSize)]
    pub fn cache_size(&self) -> f64 {
        self.inner.options().cache_size as f64
    }

    /// See `clockTolerance`.
    #[wasm_bindgen(getter = maxAuthAge)]
    pub fn max_auth_age(&self) -> Option<f64> {
        self.inner.options().max_auth_age.map(|a| a as f64)
    }
}

/// `{ valid: false, reason, message }`.
fn refused(reason: &str, message: &str) -> JsValue {
    refused_verdict(reason, message, None, None)
}

/// The `stepUp` argument of `validate`: nothing asked when omitted; `invalid_option` when it is
/// not a `{ maxAuthAge?, requiredAmr? }` the core accepts.
fn step_up_arg(step_up: Option<JsValue>) -> Result<StepUp, JsValue> {
    let Some(value) = step_up.filter(|v| !v.is_undefined() && !v.is_null()) else {
        return Ok(StepUp::default());
    };
    let fields = Fields::new(
        &value,
        "validator.validate(token, now, stepUp): stepUp",
        INVALID_OPTION,
        &["maxAuthAge", "requiredAmr"],
    )?;
    StepUp {
        max_age: fields.opt_whole("maxAuthAge", MAX_SAFE_INTEGER)?,
        required_amr: fields.opt_strings("requiredAmr")?.unwrap_or_default(),
    }
    .checked()
    .map_err(from_core)
}
