//! HTTP plumbing shared by the edge and the origin: JSON bodies with a size cap, JSON answers,
//! and the internal headers the edge hands the origin.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Headers, Method, Request, Response, Result};

use crate::error::{ApiCode, ApiError};

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

/// The base URL of requests the edge builds for the origin object (the host is never resolved).
pub const ORIGIN_URL: &str = "https://origin.internal";

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

/// A header's value, `None` when absent or empty.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|s| !s.is_empty())
}

/// Whether requests with this method carry a body worth reading.
pub fn has_body(method: &Method) -> bool {
    matches!(
        method,
        Method::Post | Method::Put | Method::Patch | Method::Delete
    )
}

/// Reads the body, refusing more than [`MAX_BODY_BYTES`] (by `Content-Length` first, then by
/// what actually arrives).
pub async fn read_body(req: &mut Request) -> std::result::Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            ApiCode::PayloadTooLarge,
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
            ApiCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            ApiCode::InvalidJson,
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("invalid body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[allow(dead_code)]
        a: Option<u8>,
    }

    #[test]
    fn json_bodies() {
        assert!(parse_json::<Body>(b"").is_ok());
        assert!(parse_json::<Body>(b" {\"a\": 1} ").is_ok());
        assert_eq!(
            parse_json::<Body>(b"[1]").unwrap_err().code(),
            "invalid_json"
        );
        assert_eq!(parse_json::<Body>(b"{").unwrap_err().code(), "invalid_json");
        assert_eq!(
            parse_json::<Body>(b"{\"a\": \"x\"}").unwrap_err().code(),
            "invalid_input"
        );
    }
}
