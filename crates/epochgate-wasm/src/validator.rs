//! `Validator`: options in, verdicts out as plain JS objects.

use epochgate::{KeySet, Options, Verdict};
use wasm_bindgen::prelude::*;

use crate::error::{from_core, js_error, INVALID_OPTION};
use crate::read::{now_arg, random, Fields, MAX_SAFE_INTEGER};
use crate::update_bytes::update_arg;

const OPTIONS: [&str; 9] = [
    "issuer",
    "audience",
    "keys",
    "revocationKeys",
    "clockTolerance",
    "maxTokenBytes",
    "type",
    "maxStateAge",
    "cacheSize",
];

/// Validates session tokens and applies revocation updates.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Validator {
    pub(crate) inner: epochgate::Validator,
}

// Verdicts are built by one small JS function each: one call across the boundary per verdict
// instead of one per member, and the host's JSON.parse for the claims.
#[wasm_bindgen(inline_js = "
export function validVerdict(account, session, device, epoch, issuedAt, expiresAt, claims) {
  return { valid: true, account, session, device, epoch, issuedAt, expiresAt, claims: JSON.parse(claims) };
}
export function refusedVerdict(reason, message) {
  return { valid: false, reason, message };
}")]
extern "C" {
    #[wasm_bindgen(catch, js_name = validVerdict)]
    fn valid_verdict(
        account: &str,
        session: &str,
        device: u16,
        epoch: u32,
        issued_at: f64,
        expires_at: f64,
        claims: &str,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = refusedVerdict)]
    fn refused_verdict(reason: &str, message: &str) -> JsValue;
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
        };
        let keys = KeySet::from_jwks(&fields.key_text("keys")?).map_err(from_core)?;
        let revocation_keys = match fields.opt_key_text("revocationKeys")? {
            Some(text) => Some(KeySet::from_jwks(&text).map_err(from_core)?),
            None => None,
        };
        let seed = random::<16>()?;
        epochgate::Validator::new(options, keys, revocation_keys, *seed)
            .map(|inner| Validator { inner })
            .map_err(from_core)
    }

    /// Validates `token` at `now` (Unix seconds; the host clock when omitted). Never throws for
    /// any token: a refusal is `{ valid: false, reason, message }`, and a token that is not a
    /// string is `malformed`. Throws only for a `now` that is not a finite number.
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn validate(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        now: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        let now = now_arg(now)?;
        let Some(token) = token.as_string() else {
            return Ok(refused(
                "malformed",
                &format!(
                    "the token must be a string, got a value of type {}",
                    token.js_typeof().as_string().unwrap_or_default()
                ),
            ));
        };
        Ok(match self.inner.validate(&token, now) {
            Verdict::Valid(session) => serde_json::to_string(&session.claims)
                .ok()
                .and_then(|claims| {
                    valid_verdict(
                        session.account.as_str(),
                        session.session.as_str(),
                        session.device.0,
                        session.epoch.0,
                        session.issued_at as f64,
                        session.expires_at as f64,
                        &claims,
                    )
                    .ok()
                })
                .unwrap_or_else(|| {
                    refused("malformed", "the verified claims could not be handed to JS")
                }),
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
}

/// `{ valid: false, reason, message }`.
fn refused(reason: &str, message: &str) -> JsValue {
    refused_verdict(reason, message)
}
