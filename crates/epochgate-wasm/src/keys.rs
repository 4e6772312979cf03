//! `generateKeyPair`.

use epochgate::PrivateKey;
use wasm_bindgen::prelude::*;

use crate::error::from_core;
use crate::read::{json_to_js, random, string_arg};

/// Generates an Ed25519 key pair from the host's secure random source
/// (`crypto.getRandomValues`).
///
/// `kid` is the key id tokens name their key by: 1 to 64 bytes. Returns the private JWK (with
/// `d`: keep it secret) and the public JWK to publish. Throws an `Error` with `.code`
/// `invalid_kid`, `invalid_argument` or `no_randomness`.
#[wasm_bindgen(js_name = generateKeyPair, unchecked_return_type = "KeyPair")]
pub fn generate_key_pair(
    #[wasm_bindgen(unchecked_param_type = "string")] kid: JsValue,
) -> Result<JsValue, JsValue> {
    let kid = string_arg(&kid, "kid")?;
    let seed = random::<32>()?;
    let key = PrivateKey::from_seed(&kid, &seed).map_err(from_core)?;
    json_to_js(&serde_json::json!({
        "privateJwk": key.to_jwk(),
        "publicJwk": key.public().to_jwk(),
    }))
}
