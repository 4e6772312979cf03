//! workerd's own Ed25519 for the edge's token signatures: `node:crypto` (BoringSSL), reached
//! through `process.getBuiltinModule` when the Worker runs with `nodejs_compat` and `HOST_ED25519`
//! is on. Not the default: the core's verification over per-key tables measured as fast in wasm
//! (docs/BENCHMARKS.md). It is trusted for RFC 8032's equation only: the core
//! makes every refusal of `verify_strict` beyond it first (`PublicKey::verify_with_host`), and the
//! package's workerd test runs every vector set through both paths inside workerd. A runtime
//! without it, or whose module fails the self-test, leaves the edge on the wasm path.

use std::cell::RefCell;

use base64::Engine as _;
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// RFC 8032, section 7.1, TEST 1: the public key, and the signature of the empty message.
#[rustfmt::skip]
const TEST_KEY: [u8; 32] = [
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
];
#[rustfmt::skip]
const TEST_SIGNATURE: [u8; 64] = [
    0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a,
    0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49, 0x01, 0x55,
    0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b,
    0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b,
];
/// Key objects kept: the edge verifies with its configured token keys only.
const MAX_KEYS: usize = 16;

/// `node:crypto`'s `verify` and `createPublicKey`, and a key object per public key asked about.
pub struct HostEd25519 {
    crypto: Object,
    verify: Function,
    create_public_key: Function,
    keys: RefCell<Vec<([u8; 32], JsValue)>>,
}

fn method(object: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(object, &JsValue::from_str(name))
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

impl HostEd25519 {
    /// The runtime's `node:crypto` Ed25519, when there is one and it passes the self-test: says
    /// yes to RFC 8032's test 1 and no to the same signature with one bit flipped.
    pub fn find() -> Option<Self> {
        let process = Reflect::get(&js_sys::global(), &JsValue::from_str("process")).ok()?;
        let crypto = method(&process, "getBuiltinModule")?
            .call1(&process, &JsValue::from_str("node:crypto"))
            .ok()?
            .dyn_into::<Object>()
            .ok()?;
        let host = HostEd25519 {
            verify: method(&crypto, "verify")?,
            create_public_key: method(&crypto, "createPublicKey")?,
            crypto,
            keys: RefCell::new(Vec::new()),
        };
        let mut flipped = TEST_SIGNATURE;
        if let Some(b) = flipped.first_mut() {
            *b ^= 1;
        }
        let good = host.verify(&TEST_KEY, b"", &TEST_SIGNATURE);
        let bad = host.verify(&TEST_KEY, b"", &flipped);
        host.keys.borrow_mut().clear();
        (good && !bad).then_some(host)
    }

    /// RFC 8032's equation by `node:crypto`: `true` only when it answers `true`.
    pub fn verify(&self, public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        let Some(key) = self.key(public) else {
            return false;
        };
        let args = Array::of4(
            &JsValue::NULL,
            &Uint8Array::from(message),
            &key,
            &Uint8Array::from(&signature[..]),
        );
        self.verify
            .apply(&self.crypto, &args)
            .is_ok_and(|answer| answer == JsValue::TRUE)
    }

    fn key(&self, public: &[u8; 32]) -> Option<JsValue> {
        let mut keys = self.keys.try_borrow_mut().ok()?;
        if let Some((_, key)) = keys.iter().find(|(bytes, _)| bytes == public) {
            return Some(key.clone());
        }
        let jwk = Object::new();
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
        for (name, value) in [("kty", "OKP"), ("crv", "Ed25519"), ("x", x.as_str())] {
            Reflect::set(&jwk, &JsValue::from_str(name), &JsValue::from_str(value)).ok()?;
        }
        let spec = Object::new();
        Reflect::set(&spec, &JsValue::from_str("key"), &jwk).ok()?;
        Reflect::set(
            &spec,
            &JsValue::from_str("format"),
            &JsValue::from_str("jwk"),
        )
        .ok()?;
        let key = self.create_public_key.call1(&self.crypto, &spec).ok()?;
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.push((*public, key.clone()));
        Some(key)
    }
}
