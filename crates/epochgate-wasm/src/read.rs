//! Reading plain JS values — option objects, whole numbers, JWK text — and supplying the clock
//! and randomness the core leaves to its callers.

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use zeroize::Zeroizing;

use crate::error::{js_error, INVALID_ARGUMENT, NO_RANDOMNESS};

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A short description of a JS value for error messages; never its contents beyond a number.
pub(crate) fn describe(value: &JsValue) -> String {
    match value.as_f64() {
        Some(n) => number_text(n),
        None => format!("a value of type {}", typeof_of(value)),
    }
}

/// A number as JS prints it. (Rust's float formatting would add kilobytes to the module.)
fn number_text(n: f64) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

fn typeof_of(value: &JsValue) -> String {
    value.js_typeof().as_string().unwrap_or_default()
}

/// A whole number from 0 to `max` (at most `MAX_SAFE_INTEGER`), or `None`.
fn whole(value: f64, max: u64) -> Option<u64> {
    (value.is_finite() && value.fract() == 0.0 && (0.0..=max as f64).contains(&value))
        .then_some(value as u64)
}

/// The members of one plain JS object (an options object or a mint request). Unknown member
/// names are refused: a misspelt `maxStateAge` must not silently turn fail-closed checking off.
pub(crate) struct Fields<'a> {
    object: &'a JsValue,
    what: &'static str,
    code: &'static str,
}

impl<'a> Fields<'a> {
    /// Checks that `object` is a plain object whose own member names are all in `known`.
    /// `what` names the object in messages; `code` is the error code of every problem with it.
    pub(crate) fn new(
        object: &'a JsValue,
        what: &'static str,
        code: &'static str,
        known: &[&str],
    ) -> Result<Self, JsValue> {
        if !object.is_object() || Array::is_array(object) {
            return Err(js_error(
                code,
                &format!("{what} must be an object, got {}", describe(object)),
            ));
        }
        for name in Object::keys(object.unchecked_ref::<Object>()).iter() {
            let name = name.as_string().unwrap_or_default();
            if !known.contains(&name.as_str()) {
                return Err(js_error(
                    code,
                    &format!(
                        "{what} has an unknown member {name:?}; the known ones are {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(Fields { object, what, code })
    }

    fn error(&self, name: &str, problem: &str) -> JsValue {
        js_error(self.code, &format!("{}: {name} {problem}", self.what))
    }

    /// The member, or `None` when it is `undefined` or `null`.
    fn get(&self, name: &str) -> Result<Option<JsValue>, JsValue> {
        let value = Reflect::get(self.object, &JsValue::from_str(name))?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    /// An optional function member.
    pub(crate) fn opt_function(&self, name: &str) -> Result<Option<js_sys::Function>, JsValue> {
        match self.get(name)? {
            None => Ok(None),
            Some(value) => value.dyn_into::<js_sys::Function>().map(Some).map_err(|v| {
                self.error(name, &format!("must be a function, got {}", describe(&v)))
            }),
        }
    }

    /// A required string member.
    pub(crate) fn string(&self, name: &str) -> Result<String, JsValue> {
        self.opt_string(name)?
            .ok_or_else(|| self.error(name, "is required and must be a string"))
    }

    /// An optional string member.
    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<String>, JsValue> {
        match self.get(name)? {
            None => Ok(None),
            Some(value) => value.as_string().map(Some).ok_or_else(|| {
                self.error(name, &format!("must be a string, got {}", describe(&value)))
            }),
        }
    }

    /// An optional array of strings (`requiredAmr`, `amr`); what the strings may be is the
    /// core's to check.
    pub(crate) fn opt_strings(&self, name: &str) -> Result<Option<Vec<String>>, JsValue> {
        let Some(value) = self.get(name)? else {
            return Ok(None);
        };
        if !Array::is_array(&value) {
            return Err(self.error(
                name,
                &format!("must be an array of strings, got {}", describe(&value)),
            ));
        }
        let mut strings = Vec::new();
        for member in value.unchecked_ref::<Array>().iter() {
            let Some(text) = member.as_string() else {
                return Err(self.error(
                    name,
                    &format!(
                        "must be an array of strings; a member is {}",
                        describe(&member)
                    ),
                ));
            };
            strings.push(text);
        }
        Ok(Some(strings))
    }

    /// A required whole number from 0 to `max`.
    pub(crate) fn whole(&self, name: &str, max: u64) -> Result<u64, JsValue> {
        self.opt_whole(name, max)?.ok_or_else(|| {
            self.error(
                name,
                &format!("is required: a whole number from 0 to {max}"),
            )
        })
    }

    /// An optional whole number from 0 to `max`.
    pub(crate) fn opt_whole(&self, name: &str, max: u64) -> Result<Option<u64>, JsValue> {
        match self.get(name)? {
            None => Ok(None),
            Some(value) => value
                .as_f64()
                .and_then(|n| whole(n, max))
                .map(Some)
                .ok_or_else(|| {
                    self.error(
                        name,
                        &format!(
                            "must be a whole number from 0 to {max}, got {}",
                            describe(&value)
                        ),
                    )
                }),
        }
    }

    /// An optional number of Unix seconds (`now`), floored; the clock when absent.
    pub(crate) fn now(&self, name: &str) -> Result<i64, JsValue> {
        match self.get(name)? {
            None => Ok(clock()),
            Some(value) => value.as_f64().and_then(seconds).ok_or_else(|| {
                self.error(
                    name,
                    &format!(
                        "must be a finite number of Unix seconds, got {}",
                        describe(&value)
                    ),
                )
            }),
        }
    }

    /// A required JWK or JWKS member, as an object or its JSON text, returned as JSON text.
    pub(crate) fn key_text(&self, name: &str) -> Result<Zeroizing<String>, JsValue> {
        self.opt_key_text(name)?
            .ok_or_else(|| self.error(name, "is required: a JWK or JWKS object, or its JSON text"))
    }

    /// An optional JWK or JWKS member, as an object or its JSON text, returned as JSON text.
    /// The text may hold a private key, so it is wiped when dropped.
    pub(crate) fn opt_key_text(&self, name: &str) -> Result<Option<Zeroizing<String>>, JsValue> {
        let Some(value) = self.get(name)? else {
            return Ok(None);
        };
        if let Some(text) = value.as_string() {
            return Ok(Some(Zeroizing::new(text)));
        }
        if value.is_object() {
            let text = JSON::stringify(&value)
                .ok()
                .and_then(|text| text.as_string())
                .ok_or_else(|| self.error(name, "could not be turned into JSON text"))?;
            return Ok(Some(Zeroizing::new(text)));
        }
        Err(self.error(
            name,
            &format!(
                "must be a JWK or JWKS object, or its JSON text, got {}",
                describe(&value)
            ),
        ))
    }
}

/// Floors finite seconds into the core's `i64`; `None` for NaN and infinities.
fn seconds(n: f64) -> Option<i64> {
    // `as` saturates, so seconds beyond the i64 range stay far in the past or future.
    n.is_finite().then(|| n.floor() as i64)
}

/// The host clock in whole Unix seconds.
pub(crate) fn clock() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// The `now` argument of a method: floored seconds, or the clock when omitted.
pub(crate) fn now_arg(now: Option<f64>) -> Result<i64, JsValue> {
    match now {
        None => Ok(clock()),
        Some(n) => seconds(n).ok_or_else(|| {
            js_error(
                INVALID_ARGUMENT,
                &format!(
                    "now must be a finite number of Unix seconds, got {}",
                    number_text(n)
                ),
            )
        }),
    }
}

/// A string argument of a method.
pub(crate) fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| {
        js_error(
            INVALID_ARGUMENT,
            &format!("{name} must be a string, got {}", describe(value)),
        )
    })
}

/// A whole-number argument of a method, from 0 to `max`.
pub(crate) fn whole_arg(value: f64, name: &str, max: u64) -> Result<u64, JsValue> {
    whole(value, max).ok_or_else(|| {
        js_error(
            INVALID_ARGUMENT,
            &format!(
                "{name} must be a whole number from 0 to {max}, got {}",
                number_text(value)
            ),
        )
    })
}

/// The bytes of a `Uint8Array` (a Node `Buffer` is one) or an `ArrayBuffer` argument.
pub(crate) fn bytes_arg(value: &JsValue, name: &str) -> Result<Vec<u8>, JsValue> {
    if let Some(array) = value.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(array.to_vec());
    }
    if value.is_instance_of::<js_sys::ArrayBuffer>() {
        return Ok(js_sys::Uint8Array::new(value).to_vec());
    }
    Err(js_error(
        INVALID_ARGUMENT,
        &format!(
            "{name} must be a Uint8Array or an ArrayBuffer, got {}",
            describe(value)
        ),
    ))
}

/// `N` random bytes from the host's `crypto.getRandomValues`.
pub(crate) fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, JsValue> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::getrandom(bytes.as_mut_slice()).map_err(|e| {
        js_error(
            NO_RANDOMNESS,
            &format!("no secure random source (crypto.getRandomValues) is available: {e}"),
        )
    })?;
    Ok(bytes)
}

/// `list` joined by newlines, for one crossing of the boundary (the JS side splits it): the
/// callers' strings are printable ASCII and hold none. A loop, not `join`, which would add over
/// a kilobyte to the module.
pub(crate) fn lines(list: &[String]) -> String {
    let mut joined = String::new();
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            joined.push('\n');
        }
        joined.push_str(item);
    }
    joined
}

/// A JSON value of the core as a plain JS value. The text in between may hold a private key, so
/// it is wiped when dropped.
pub(crate) fn json_to_js(value: &impl serde::Serialize) -> Result<JsValue, JsValue> {
    let text = Zeroizing::new(
        serde_json::to_string(value)
            .map_err(|e| js_error(INVALID_ARGUMENT, &format!("could not encode JSON: {e}")))?,
    );
    JSON::parse(&text)
}
