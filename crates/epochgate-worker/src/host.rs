//! What the Workers runtime provides besides HTTP: the clock and secure randomness. The core
//! reads neither; the faces pass `now` and seeds in.

use crate::error::ApiError;

/// Unix time in milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Unix time in whole seconds.
pub fn now_secs() -> i64 {
    (now_ms() / 1000.0).floor() as i64
}

/// `N` secure random bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(ApiError::internal)?;
    Ok(out)
}

/// A random identifier: 16 bytes, base64url without padding, with a prefix.
pub fn random_id(prefix: &str) -> Result<String, ApiError> {
    use base64::Engine;
    let bytes = random_bytes::<16>()?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}
