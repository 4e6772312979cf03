//! HTTP plumbing shared by the edge and the origin: JSON bodies with a size cap, JSON answers,
//! and the internal headers the edge hands the origin.

use std::pin::pin;

use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
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
    /// The reservation the edge checked a password under (`POST /internal/password`).
    pub const RESERVATION: &str = "x-epochgate-internal-reservation";
    /// The edge's verdict on the request's password: `right` or `wrong`.
    pub const PASSWORD: &str = "x-epochgate-internal-password";
    /// The Argon2id PHC string the edge made of the request's new password.
    pub const NEW_PASSWORD_HASH: &str = "x-epochgate-internal-new-password-hash";
    /// A digest of the password hash the edge checked against (`password::phc_digest`).
    pub const PHC_DIGEST: &str = "x-epochgate-internal-phc-digest";
    /// When (Unix ms) the directory's reservation of the check expires: a verdict arriving
    /// later is not taken.
    pub const CHECK_EXPIRES: &str = "x-epochgate-internal-check-expires";
    /// The account id the directory gave a sign-up.
    pub const NEW_ACCOUNT: &str = "x-epochgate-internal-new-account";
    /// On an email change: the directory found the new address taken.
    pub const EMAIL_TAKEN: &str = "x-epochgate-internal-email-taken";
    /// On answers to the edge: a sign-up's account exists complete in the shard; the previous
    /// address of an email change.
    pub const COMPLETE: &str = "x-epochgate-internal-complete";
    /// See [`COMPLETE`].
    pub const OLD_EMAIL: &str = "x-epochgate-internal-old-email";
}

/// The base URL of requests the edge builds for the origin object (the host is never resolved).
pub const ORIGIN_URL: &str = "https://origin.internal";

/// The base URL of requests for the feed object (never resolved either), and of the edge's
/// cache keys for its answers.
pub const FEED_URL: &str = "https://feed.internal";

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

/// Reads the body, refusing more than [`MAX_BODY_BYTES`]: by `Content-Length` before reading,
/// then by what actually arrives. A body of a declared length within the cap is read whole in
/// one step (`arrayBuffer()`: the platform delivers no more than declared, which is checked
/// again). One without (chunked) is read chunk by chunk, so a body that is too large — or never
/// ends — is refused as soon as the cap is passed, without reading (or waiting for) the rest.
///
/// Chunks are read through a reader that only releases its lock when dropped, rather than
/// `Request::stream()`, whose stream cancels the body on drop: under `wrangler dev` a cancelled
/// request body breaks the dev proxy's connection to the Worker, and the next request there
/// fails (workerd#1741). Left unread, the rest is discarded with the request. A declared length
/// skips the reader: releasing its lock and its promise per chunk were about a third of the
/// Worker's own time on a login shed with 503 (docs/BENCHMARKS.md, "Fixed cost per request").
pub async fn read_body(req: &web_sys::Request) -> std::result::Result<Vec<u8>, ApiError> {
    let declared = match Headers(req.headers()).get("content-length")? {
        Some(len) => match len.trim().parse::<u64>() {
            Ok(n) if n <= MAX_BODY_BYTES as u64 => true,
            _ => return Err(too_large()),
        },
        None => false,
    };
    if declared {
        let whole = req.array_buffer().map_err(worker::Error::from)?;
        let whole = JsFuture::from(whole).await.map_err(worker::Error::from)?;
        let body = js_sys::Uint8Array::new(&whole).to_vec();
        return if body.len() > MAX_BODY_BYTES {
            Err(too_large())
        } else {
            Ok(body)
        };
    }
    // A request without a body (null) has an empty one.
    let Some(raw) = req.body() else {
        return Ok(Vec::new());
    };
    let mut body = wasm_streams::ReadableStream::from_raw(raw);
    let pieces = pin!(chunks(&mut body));
    read_capped(pieces).await
}

/// The chunks of a body, through a reader that releases its lock when dropped rather than
/// cancelling the body (see [`read_body`]).
pub fn chunks(body: &mut wasm_streams::ReadableStream) -> impl Stream<Item = Result<Vec<u8>>> + '_ {
    body.get_reader().into_stream().map(|chunk| {
        chunk
            .map(|c| js_sys::Uint8Array::new(&c).to_vec())
            .map_err(worker::Error::from)
    })
}

/// Collects `chunks` while they fit in [`MAX_BODY_BYTES`]; stops at the first chunk past the cap
/// without asking for another.
async fn read_capped<S>(mut chunks: S) -> std::result::Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Vec<u8>>> + Unpin,
{
    let mut body = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        if chunk.len() > MAX_BODY_BYTES - body.len() {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large() -> ApiError {
    ApiError::new(
        ApiCode::PayloadTooLarge,
        format!("the body is larger than {MAX_BODY_BYTES} bytes"),
    )
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
    use futures_util::{stream, FutureExt};

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

    fn chunks(sizes: &[usize]) -> Vec<Result<Vec<u8>>> {
        sizes.iter().map(|&n| Ok(vec![b'x'; n])).collect()
    }

    #[test]
    fn bodies_up_to_the_cap_are_read_whole() {
        let read = |sizes: &[usize]| {
            read_capped(stream::iter(chunks(sizes)))
                .now_or_never()
                .expect("a finite stream is read at once")
        };
        assert_eq!(read(&[]).unwrap(), Vec::<u8>::new());
        assert_eq!(read(&[3, 0, 4]).unwrap().len(), 7);
        assert_eq!(
            read(&[MAX_BODY_BYTES - 1, 1]).unwrap().len(),
            MAX_BODY_BYTES
        );
    }

    #[test]
    fn bodies_past_the_cap_are_refused_at_the_chunk_that_passes_it() {
        let read = |sizes: &[usize]| {
            read_capped(stream::iter(chunks(sizes)))
                .now_or_never()
                .expect("a finite stream is read at once")
                .unwrap_err()
                .code()
        };
        assert_eq!(read(&[MAX_BODY_BYTES + 1]), "payload_too_large");
        assert_eq!(read(&[MAX_BODY_BYTES, 1]), "payload_too_large");
        assert_eq!(read(&[1024; 20]), "payload_too_large");
    }

    #[test]
    fn a_body_that_never_ends_is_refused_once_past_the_cap() {
        // 17 KiB, then a stream that stays open: the answer must not wait for its end.
        let endless = stream::iter(chunks(&[1024; 17])).chain(stream::pending());
        let refused = read_capped(endless)
            .now_or_never()
            .expect("refused without waiting for the rest");
        assert_eq!(refused.unwrap_err().code(), "payload_too_large");
        // Under the cap, the same open stream is still being read.
        let open = stream::iter(chunks(&[1024; 3])).chain(stream::pending());
        assert!(read_capped(open).now_or_never().is_none());
    }

    #[test]
    fn a_failing_body_is_an_error() {
        let failing = stream::iter(vec![
            Ok(vec![b'x'; 10]),
            Err(worker::Error::RustError("reset".into())),
        ]);
        assert!(read_capped(failing).now_or_never().unwrap().is_err());
    }
}
