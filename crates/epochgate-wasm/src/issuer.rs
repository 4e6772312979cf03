//! `Issuer`: mints session tokens.

use epochgate::{KeySet, MintRequest, PrivateKey};
use wasm_bindgen::prelude::*;

use crate::error::{from_core, js_error, INVALID_CLAIM, INVALID_OPTION};
use crate::read::{json_to_js, Fields, MAX_SAFE_INTEGER};

/// Mints session tokens for one issuer and audience with one private key.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Issuer {
    inner: epochgate::Issuer,
}

#[wasm_bindgen]
impl Issuer {
    /// An issuer signing with `privateJwk` (a private OKP/Ed25519 JWK, as an object or its JSON
    /// text). Throws an `Error` whose `.code` says what to fix (`invalid_option`, `invalid_jwk`,
    /// `missing_private_key`, `key_mismatch`, ...).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "IssuerOptions")] options: JsValue,
    ) -> Result<Issuer, JsValue> {
        let fields = Fields::new(
            &options,
            "new Issuer(options)",
            INVALID_OPTION,
            &["issuer", "audience", "privateJwk", "ttl", "type"],
        )?;
        let issuer = fields.string("issuer")?;
        let audience = fields.string("audience")?;
        let ttl = fields.opt_whole("ttl", MAX_SAFE_INTEGER)?;
        let token_type = fields.opt_string("type")?;
        let key = PrivateKey::from_jwk(&fields.key_text("privateJwk")?).map_err(from_core)?;
        epochgate::Issuer::new(&issuer, &audience, key, ttl, token_type.as_deref())
            .map(|inner| Issuer { inner })
            .map_err(from_core)
    }

    /// Mints one token: `iat` is `now` (the host clock when omitted), `exp` is `now + ttl`;
    /// `authTime` and `amr`, when given, say when and how the user authenticated (step-up).
    /// Throws an `Error` with `.code` `invalid_claim` when a field is missing or out of range.
    pub fn mint(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MintRequest")] request: JsValue,
    ) -> Result<String, JsValue> {
        let fields = Fields::new(
            &request,
            "issuer.mint(request)",
            INVALID_CLAIM,
            &[
                "account", "session", "device", "epoch", "now", "ttl", "jti", "authTime", "amr",
            ],
        )?;
        let account = fields.string("account")?;
        let session = fields.string("session")?;
        let device = fields.whole("device", MAX_SAFE_INTEGER)?;
        let device = u32::try_from(device).map_err(|_| {
            js_error(
                INVALID_CLAIM,
                &format!("issuer.mint(request): device is {device}; it must be 0 to 65535"),
            )
        })?;
        let epoch = fields.whole("epoch", MAX_SAFE_INTEGER)?;
        let now = fields.now("now")?;
        let ttl = fields.opt_whole("ttl", MAX_SAFE_INTEGER)?;
        let jti = fields.opt_string("jti")?;
        // At most 2^53 - 1, which fits an i64.
        let auth_time = fields
            .opt_whole("authTime", MAX_SAFE_INTEGER)?
            .map(|t| t as i64);
        let amr = fields.opt_strings("amr")?;
        let amr: Option<Vec<&str>> = amr
            .as_ref()
            .map(|methods| methods.iter().map(String::as_str).collect());
        self.inner
            .mint(&MintRequest {
                account: &account,
                session: &session,
                device,
                epoch,
                now,
                ttl,
                jti: jti.as_deref(),
                auth_time,
                amr: amr.as_deref(),
            })
            .map_err(from_core)
    }

    /// The JWKS with this issuer's public key, for validators and other JOSE libraries.
    #[wasm_bindgen(js_name = publicJwks, unchecked_return_type = "JWKS")]
    pub fn public_jwks(&self) -> Result<JsValue, JsValue> {
        let keys = KeySet::new(vec![self.inner.key().public()]).map_err(from_core)?;
        json_to_js(&keys.to_jwks())
    }
}
