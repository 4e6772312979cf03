//! JS `Error`s with a stable `.code`.

use wasm_bindgen::JsValue;

/// An option object or one of its members is unusable.
pub(crate) const INVALID_OPTION: &str = "invalid_option";
/// A mint request field is unusable (the core uses the same code for out-of-range claims).
pub(crate) const INVALID_CLAIM: &str = "invalid_claim";
/// A positional method argument is unusable.
pub(crate) const INVALID_ARGUMENT: &str = "invalid_argument";
/// The host has no `crypto.getRandomValues`.
pub(crate) const NO_RANDOMNESS: &str = "no_randomness";

/// A JS `Error` with `message` and the property `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error cannot fail; if it ever did, the Error still says why.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

/// The core's error as a JS `Error` with the core's code.
pub(crate) fn from_core(error: epochgate::Error) -> JsValue {
    js_error(error.code(), error.message())
}
