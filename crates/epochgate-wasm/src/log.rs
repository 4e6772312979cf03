//! `RevocationLog`: the origin's revocation state in memory, for Node backends and tests.

use epochgate::{AccountId, DeviceSlot, Error, LogError, PrivateKey};
use wasm_bindgen::prelude::*;

use crate::error::{from_core, INVALID_OPTION};
use crate::read::{now_arg, string_arg, whole_arg, Fields, MAX_SAFE_INTEGER};

/// Accounts, their epochs and signed-out device slots, and signed revocation updates.
#[wasm_bindgen]
#[derive(Debug)]
pub struct RevocationLog {
    inner: epochgate::RevocationLog,
}

#[wasm_bindgen]
impl RevocationLog {
    /// A log at sequence 0 whose updates are signed with `privateJwk`, which must not be a
    /// token key; `horizon` (seconds, default 0: never) is how long a record stays in updates
    /// after its last change (the core's `retention_horizon`). Throws an `Error` with
    /// `.code` (`invalid_option`, `invalid_jwk`, ...).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "RevocationLogOptions")] options: JsValue,
    ) -> Result<RevocationLog, JsValue> {
        let fields = Fields::new(
            &options,
            "new RevocationLog(options)",
            INVALID_OPTION,
            &["privateJwk", "horizon"],
        )?;
        let key = PrivateKey::from_jwk(&fields.key_text("privateJwk")?).map_err(from_core)?;
        let horizon = fields.opt_whole("horizon", MAX_SAFE_INTEGER)?.unwrap_or(0);
        Ok(RevocationLog {
            inner: epochgate::RevocationLog::new(key).with_horizon(horizon),
        })
    }

    /// Hands out the next device slot of the account's current epoch, to put in a new token.
    #[wasm_bindgen(js_name = allocateDevice)]
    pub fn allocate_device(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] account: JsValue,
    ) -> Result<u16, JsValue> {
        let account = account_arg(&account)?;
        self.inner
            .allocate_device(&account)
            .map(|slot| slot.0)
            .map_err(from_core)
    }

    /// The account's current epoch (0 for an account never seen), to put in a new token.
    #[wasm_bindgen(js_name = epochOf)]
    pub fn epoch_of(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] account: JsValue,
    ) -> Result<u32, JsValue> {
        let account = account_arg(&account)?;
        self.inner
            .epoch_of(&account)
            .map(|epoch| epoch.0)
            .map_err(from_core)
    }

    /// Signs out every device of the account (also what a password change does); returns the
    /// new epoch. `now` is checked but not recorded: an update carries the time it was made.
    #[wasm_bindgen(js_name = revokeAll)]
    pub fn revoke_all(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] account: JsValue,
        now: Option<f64>,
    ) -> Result<u32, JsValue> {
        let account = string_arg(&account, "account")?;
        now_arg(now)?;
        self.inner
            .revoke_all(&account_id(&account)?)
            .map(|epoch| epoch.0)
            .map_err(from_core)
    }

    /// Signs out one device slot of the account's current epoch; repeating it is harmless.
    /// Throws `unknown_device` for a slot never handed out in this epoch. `now` is checked but
    /// not recorded.
    #[wasm_bindgen(js_name = revokeDevice)]
    pub fn revoke_device(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string")] account: JsValue,
        device: f64,
        now: Option<f64>,
    ) -> Result<(), JsValue> {
        let account = string_arg(&account, "account")?;
        let device = whole_arg(device, "device", u64::from(u16::MAX))?;
        now_arg(now)?;
        // whole_arg bounded it to 0..=65535.
        let slot = DeviceSlot(u16::try_from(device).unwrap_or(u16::MAX));
        self.inner
            .revoke_device(&account_id(&account)?, slot)
            .map(|_| ())
            .map_err(from_core)
    }

    /// A signed snapshot of every revoked account, created at `now`.
    pub fn snapshot(&mut self, now: Option<f64>) -> Result<Vec<u8>, JsValue> {
        let now = now_arg(now)?;
        self.inner.snapshot(now).map_err(from_core)
    }

    /// A signed delta of the accounts changed after sequence `seq` (a validator's
    /// `revocationSeq`), created at `now`. An empty delta still refreshes a validator's
    /// freshness for `maxStateAge`.
    #[wasm_bindgen(js_name = deltaSince)]
    pub fn delta_since(&mut self, seq: f64, now: Option<f64>) -> Result<Vec<u8>, JsValue> {
        let seq = whole_arg(seq, "seq", MAX_SAFE_INTEGER)?;
        let now = now_arg(now)?;
        self.inner.delta_since(seq, now).map_err(from_core)
    }

    /// The signed update a viewer at sequence `since` needs (what an origin serves for
    /// `GET /v1/revocations?since=`), created at `now`: a snapshot when `since` is 0, else a
    /// delta. Throws `since_ahead` for a `since` the log has not reached (the viewer needs a
    /// snapshot; an origin answers 409).
    #[wasm_bindgen(js_name = updateSince)]
    pub fn update_since(&mut self, since: f64, now: Option<f64>) -> Result<Vec<u8>, JsValue> {
        let since = whole_arg(since, "since", MAX_SAFE_INTEGER)?;
        let now = now_arg(now)?;
        self.inner.update_since(since, now).map_err(from_core)
    }

    /// The sequence of the newest change.
    #[wasm_bindgen(getter)]
    pub fn seq(&self) -> f64 {
        // The in-memory store never fails.
        self.inner.seq().unwrap_or_default() as f64
    }
}

/// An account id the core accepts, else `invalid_account` as the core words it.
fn account_id(account: &str) -> Result<AccountId, JsValue> {
    AccountId::new(account)
        .ok_or_else(|| from_core(Error::Log(LogError::InvalidAccount, AccountId::RULE.into())))
}

/// A string argument naming an account.
fn account_arg(account: &JsValue) -> Result<AccountId, JsValue> {
    account_id(&string_arg(account, "account")?)
}
