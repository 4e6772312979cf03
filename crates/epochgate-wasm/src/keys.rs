//! `generateKeyPair`, and `verifyEd25519`: one signature checked as a `Validator` checks it.

use epochgate::{PrivateKey, PublicKey};
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

// A host function that says (a `true` under the registered symbol `epochgate.borrowsArguments`)
// that it only reads its arguments during the call and keeps none, as the package's own
// node:crypto function does, is handed views of the module's memory: copying three byte arrays
// out cost about a microsecond per new token. Any other function gets copies, its to keep.
#[wasm_bindgen(inline_js = "
export function borrowsArguments(f) {
  return f[Symbol.for('epochgate.borrowsArguments')] === true;
}
export function askHostWithViews(f, publicKey, message, signature) {
  return f.call(null, publicKey, message, signature) === true;
}")]
extern "C" {
    #[wasm_bindgen(js_name = borrowsArguments)]
    fn borrows_arguments(f: &js_sys::Function) -> bool;
    #[wasm_bindgen(catch, js_name = askHostWithViews)]
    fn ask_host_with_views(
        f: &js_sys::Function,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, JsValue>;
}

/// The host's Ed25519 function (`ed25519Verify(publicKey, message, signature)`) as the core asks
/// for it. It is trusted for RFC 8032's equation only; one that throws or answers anything but
/// `true` refuses: fail closed.
#[derive(Debug)]
pub(crate) struct HostEd25519 {
    f: js_sys::Function,
    /// It reads its arguments during the call only: views instead of copies.
    borrows: bool,
}

impl HostEd25519 {
    pub(crate) fn new(f: js_sys::Function) -> Self {
        let borrows = borrows_arguments(&f);
        HostEd25519 { f, borrows }
    }

    /// The host's answer for one signature; `false` for anything but `true`, or a throw.
    pub(crate) fn verify(&self, public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        if self.borrows {
            return ask_host_with_views(&self.f, public, message, signature).unwrap_or(false);
        }
        self.f
            .call3(
                &JsValue::NULL,
                &js_sys::Uint8Array::from(&public[..]),
                &js_sys::Uint8Array::from(message),
                &js_sys::Uint8Array::from(&signature[..]),
            )
            .is_ok_and(|answer| answer == JsValue::TRUE)
    }
}

/// Checks one Ed25519 signature the way a `Validator` checks a token's with a key it loaded:
/// `false` for a key it would refuse to load (not a canonical point, or weak) or a length other
/// than 32 / 64 bytes; then `verify_strict`'s decision over the key's tables (built first, as a
/// long-lived key has them), or, given `ed25519Verify`, the strict checks in Rust and only the
/// equation by that function. The package's tests run every vector set
/// through both to show they agree.
#[wasm_bindgen(js_name = verifyEd25519)]
pub fn verify_ed25519(
    #[wasm_bindgen(js_name = publicKey)] public_key: &[u8],
    message: &[u8],
    signature: &[u8],
    #[wasm_bindgen(js_name = ed25519Verify)] host: Option<js_sys::Function>,
) -> bool {
    let (Ok(public), Ok(signature)) = (
        <[u8; 32]>::try_from(public_key),
        <[u8; 64]>::try_from(signature),
    ) else {
        return false;
    };
    let Ok(key) = PublicKey::from_bytes("k", &public) else {
        return false;
    };
    match host {
        None => {
            key.precompute();
            key.verify(message, &signature)
        }
        Some(f) => {
            let host = HostEd25519::new(f);
            key.verify_with_host(message, &signature, &|k, m, s| host.verify(k, m, s))
        }
    }
}
