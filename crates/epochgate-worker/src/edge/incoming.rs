//! The request the edge received, read only as far as it is used.
//!
//! `worker::Request::from` reads `request.cf` — an object the runtime builds when asked for,
//! 11 % of the Worker's profile on a 404 — and the headers as it converts. The edge needs `cf`
//! only when it hands client details to an object (not for a token check or an `overloaded`),
//! and no headers for a 404, so it keeps the platform's request and reads its parts on demand:
//! method and URL once, headers and `cf` when first asked for.

use std::cell::OnceCell;

use worker::worker_sys::ext::RequestExt;
use worker::worker_sys::web_sys;
use worker::{Cf, Headers, Method, Result, Url};

/// An incoming request: what `worker::Request` offers the edge, read lazily.
pub(super) struct Incoming {
    raw: web_sys::Request,
    method: Method,
    url: String,
    headers: OnceCell<Headers>,
}

impl Incoming {
    pub(super) fn new(raw: web_sys::Request) -> Self {
        Incoming {
            method: Method::from(raw.method()),
            url: raw.url(),
            headers: OnceCell::new(),
            raw,
        }
    }

    pub(super) fn method(&self) -> Method {
        self.method.clone()
    }

    /// The URL's path, without query or fragment.
    pub(super) fn path(&self) -> &str {
        path_of(&self.url)
    }

    pub(super) fn url(&self) -> Result<Url> {
        Url::parse(&self.url).map_err(|e| worker::Error::RustError(format!("{e}: {}", self.url)))
    }

    pub(super) fn headers(&self) -> &Headers {
        self.headers.get_or_init(|| Headers(self.raw.headers()))
    }

    /// Cloudflare's properties of the request (none locally without them).
    pub(super) fn cf(&self) -> Option<Cf> {
        self.raw.cf().map(Cf::from)
    }

    pub(super) fn inner(&self) -> &web_sys::Request {
        &self.raw
    }
}

/// The path of a serialized absolute URL (what `Request.url` is): everything from the first `/`
/// after the host up to `?` or `#`, which a serialized path never holds unescaped.
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(after_scheme..).unwrap_or_default();
    let Some(start) = rest.find('/') else {
        return "/";
    };
    let path = rest.get(start..).unwrap_or("/");
    path.find(['?', '#'])
        .and_then(|end| path.get(..end))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn paths_of_serialized_urls() {
        for (url, path) in [
            ("https://a.example/v1/me", "/v1/me"),
            ("https://a.example/v1/events?ticket=x.y", "/v1/events"),
            ("http://127.0.0.1:8787/", "/"),
            ("http://127.0.0.1:8787", "/"),
            ("https://a.example/a%3Fb?c#d", "/a%3Fb"),
            ("https://a.example/app/x#frag", "/app/x"),
            (
                "https://u:p@a.example:443/.well-known/jwks.json",
                "/.well-known/jwks.json",
            ),
        ] {
            assert_eq!(path_of(url), path, "{url}");
        }
    }
}
