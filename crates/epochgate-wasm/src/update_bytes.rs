//! `UpdateBytes`: a revocation update received in pieces (a response body read chunk by chunk),
//! held inside the module so a large snapshot is never whole in JS memory and in wasm memory at
//! once. `applyRevocation` and `follower.answer` take it in place of a `Uint8Array` and consume
//! it, whatever the outcome.

use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;

use crate::error::{from_core, js_error, INVALID_ARGUMENT};
use crate::read::{bytes_arg, describe, whole_arg};

/// A revocation update received in pieces, not yet checked.
#[wasm_bindgen]
#[derive(Debug)]
pub struct UpdateBytes {
    inner: epochgate::UpdateBytes,
}

#[wasm_bindgen]
impl UpdateBytes {
    /// An empty buffer; `expectedLength` (the response's `Content-Length`, when known) reserves
    /// the room at once, so the buffer is never copied as it grows. At most 134217728.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = expectedLength)] expected_length: Option<f64>,
    ) -> Result<UpdateBytes, JsValue> {
        let expected = match expected_length {
            None => 0,
            Some(n) => whole_arg(n, "expectedLength", epochgate::MAX_UPDATE_BYTES as u64)? as usize,
        };
        Ok(UpdateBytes {
            inner: epochgate::UpdateBytes::with_capacity(expected),
        })
    }

    /// Appends the next piece (a `Uint8Array` or `ArrayBuffer`). Throws `update_malformed`, and
    /// appends nothing, when the update would pass 134217728 bytes.
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer")] chunk: JsValue,
    ) -> Result<(), JsValue> {
        let bytes = bytes_arg(&chunk, "chunk")?;
        self.inner.push(&bytes).map_err(from_core)
    }

    /// How many bytes were received.
    #[wasm_bindgen(getter, js_name = byteLength)]
    pub fn byte_length(&self) -> f64 {
        self.inner.len() as f64
    }
}

/// An update argument: an `UpdateBytes` (taken out of its JS object, which is spent) or the bytes
/// of a `Uint8Array` or `ArrayBuffer`.
pub(crate) fn update_arg(value: &JsValue, name: &str) -> Result<epochgate::UpdateBytes, JsValue> {
    if let Some(received) = UpdateBytes::try_from_js_value_ref(value) {
        return Ok(received.inner);
    }
    let bytes = bytes_arg(value, name).map_err(|_| {
        js_error(
            INVALID_ARGUMENT,
            &format!(
                "{name} must be a Uint8Array, an ArrayBuffer or an UpdateBytes, got {}",
                describe(value)
            ),
        )
    })?;
    epochgate::UpdateBytes::from_slice(&bytes).map_err(from_core)
}
