//! HTTP plumbing shared by the edge and the origin: the error shape of CONTRACTS.md section 4,
//! JSON bodies with a size cap, the internal headers the edge hands the origin, and clocks.

use epochgate::Refusal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Headers, Request, Response, Result};

/// Largest accepted request body, in bytes: every documented body is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Internal headers: set only by the edge on requests it builds for the Durable Object, which
/// the internet cannot reach any other way.
pub mod internal {
    /// The verified `sub`.
    pub const ACCOUNT: &str = "x-epochgate-internal-account";
    /// The verified `sid`.
    pub const SESSION: &str = "x-epochgate-internal-session";
    /// The verified `dev`.
    pub const DEVICE: &str = "x-epochgate-internal-device";
    /// The verified `epo`.
    pub const EPOCH: &str = "x-epochgate-internal-epoch";
    /// Present when the edge checked the admin token.
    pub const ADMIN: &str = "x-epochgate-internal-admin";
    /// The client's IP address as Cloudflare reported it.
    pub const IP: &str = "x-epochgate-internal-ip";
    /// A coarse location ("City, CC" or "CC").
    pub const LOCATION: &str = "x-epochgate-internal-location";
    /// The client's `User-Agent`.
    pub const USER_AGENT: &str = "x-epochgate-internal-user-agent";
}

/// An error answered as `{"error": code, "message": ...}` with a status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Stable snake_case code.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
    /// Seconds for `Retry-After`, on 429 and 503.
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` value, on 401.
    pub authenticate: Option<String>,
    /// `Allow` value, on 405.
    pub allow: Option<&'static str>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            authenticate: None,
            allow: None,
        }
    }

    /// 400 `invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_input", message)
    }

    /// 500 `internal_error`; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        worker::console_error!("internal error: {detail}");
        Self::new(
            500,
            "internal_error",
            "the server failed to handle the request; it changed nothing it did not report",
        )
    }

    /// A token refusal: 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).
    pub fn token(refusal: &Refusal) -> Self {
        let code = refusal.reason.code();
        let mut e = Self::new(401, code, refusal.message.to_string());
        e.authenticate = Some(format!(
            "Bearer error=\"invalid_token\", error_description=\"{code}\""
        ));
        e
    }

    /// A 401 that is not about the token (credentials, re-authentication).
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(401, code, message);
        e.authenticate = Some("Bearer realm=\"epochgate\"".into());
        e
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "rate_limited",
            format!("too many failed attempts on this account; retry in {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 404 `not_found`.
    pub fn not_found(path: &str) -> Self {
        Self::new(404, "not_found", format!("no route for {path}"))
    }

    /// 405 `method_not_allowed` with `Allow`.
    pub fn method_not_allowed(method: &str, allow: &'static str) -> Self {
        let mut e = Self::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed here; use {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// The response.
    pub fn into_response(self) -> Result<Response> {
        let body = serde_json::to_string(&ErrorBody {
            error: self.code,
            message: &self.message,
        })?;
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        headers.set("cache-control", "no-store")?;
        if let Some(s) = self.retry_after {
            headers.set("retry-after", &s.to_string())?;
        }
        if let Some(a) = &self.authenticate {
            headers.set("www-authenticate", a)?;
        }
        if let Some(a) = self.allow {
            headers.set("allow", a)?;
        }
        Ok(Response::ok(body)?
            .with_status(self.status)
            .with_headers(headers))
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal(e)
    }
}

/// A JSON response with a status.
pub fn json<T: Serialize>(status: u16, value: &T) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_json(value)?
        .with_status(status)
        .with_headers(headers))
}

/// 204 No Content.
pub fn no_content() -> Result<Response> {
    Ok(Response::empty()?.with_status(204))
}

/// Answers `result`, turning an [`ApiError`] into its response.
pub fn respond(result: std::result::Result<Response, ApiError>) -> Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => e.into_response(),
    }
}

/// Reads the body, refusing more than [`MAX_BODY_BYTES`] (by `Content-Length` first, then by
/// what actually arrives).
pub async fn read_body(req: &mut Request) -> std::result::Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "payload_too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    if let Some(len) = req.headers().get("content-length")? {
        if len
            .trim()
            .parse::<u64>()
            .map_or(true, |n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
    }
    let bytes = req.bytes().await?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Parses a JSON body into `T`. An empty body counts as `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            400,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            400,
            "invalid_json",
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("invalid body: {e}")))
}

/// Unix time in milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Unix time in whole seconds.
pub fn now_secs() -> i64 {
    (now_ms() / 1000.0).floor() as i64
}

/// `n` secure random bytes.
pub fn random_bytes<const N: usize>() -> std::result::Result<[u8; N], ApiError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(ApiError::internal)?;
    Ok(out)
}

/// A random identifier: 16 bytes, base64url without padding, with a prefix.
pub fn random_id(prefix: &str) -> std::result::Result<String, ApiError> {
    use base64::Engine;
    let bytes = random_bytes::<16>()?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}
