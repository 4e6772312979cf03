//! Which object the edge asks: the origin shard of an account, the origin shard an email without
//! an account is answered by, the directory shard of an email (`shards.rs`), and small JSON
//! calls to them.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use super::isolate::with_edge;
use crate::config::{DIRECTORY_BINDING, ORIGIN_BINDING};
use crate::error::ApiError;
use crate::http::ORIGIN_URL;
use crate::shards::Shards;

type R<T> = std::result::Result<T, ApiError>;

/// The base URL of requests to a directory object (never resolved).
pub(super) const DIRECTORY_URL: &str = "https://directory.internal";

/// The deployment's shards.
pub(super) fn shards(env: &Env) -> R<Shards> {
    with_edge(env, |e| e.settings.shards)
}

/// The origin shard `i`.
pub(super) fn origin(env: &Env, i: u32) -> R<Stub> {
    let name = shards(env)?.origin_name(i);
    Ok(env.durable_object(ORIGIN_BINDING)?.get_by_name(&name)?)
}

/// The origin shard that holds `account`.
pub(super) fn origin_of_account(env: &Env, account: &str) -> R<Stub> {
    origin(env, shards(env)?.of_account(account))
}

/// The origin shard that answers for an email: its account's, or — for an email without an
/// account — the shard its hash picks, so that both do the same work.
pub(super) fn origin_for_email(env: &Env, account: Option<&str>, email: &str) -> R<Stub> {
    let k = shards(env)?;
    origin(
        env,
        match account {
            Some(a) => k.of_account(a),
            None => k.of_email(email),
        },
    )
}

/// The directory shard of a normalised email.
pub(super) fn directory(env: &Env, email: &str) -> R<Stub> {
    let k = shards(env)?;
    let name = k.directory_name(k.of_email(email));
    Ok(env.durable_object(DIRECTORY_BINDING)?.get_by_name(&name)?)
}

/// An email as every object keys it.
pub(super) fn normal(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Where an internal call goes.
pub(super) enum To<'a> {
    Origin(&'a Stub),
    Directory(&'a Stub),
}

/// `POST path` with a JSON body and `headers`; the answer as it came.
pub(super) async fn post(
    to: To<'_>,
    path: &str,
    body: &impl Serialize,
    headers: Headers,
) -> R<Response> {
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(
            serde_json::to_string(body)
                .map_err(ApiError::internal)?
                .into(),
        ));
    let (stub, base) = match to {
        To::Origin(s) => (s, ORIGIN_URL),
        To::Directory(s) => (s, DIRECTORY_URL),
    };
    let req = Request::new_with_init(&format!("{base}{path}"), &init)?;
    Ok(stub.fetch_with_request(req).await?)
}

/// [`post`] that must answer 200 with `T`; any other answer is returned as `Err(answer)`, to
/// pass on (a 429 of a throttle) or to fail on.
pub(super) async fn post_for<T: DeserializeOwned>(
    to: To<'_>,
    path: &str,
    body: &impl Serialize,
    headers: Headers,
) -> R<Result<T, Response>> {
    let mut resp = post(to, path, body, headers).await?;
    if resp.status_code() != 200 {
        return Ok(Err(resp));
    }
    Ok(Ok(resp.json().await?))
}

/// [`post_for`] for a step that never refuses: any answer but 200 is an internal error naming
/// the step.
pub(super) async fn post_expect<T: DeserializeOwned>(
    to: To<'_>,
    path: &str,
    body: &impl Serialize,
) -> R<T> {
    post_for(to, path, body, Headers::new())
        .await?
        .map_err(|r| ApiError::internal(format!("{path} answered {}", r.status_code())))
}

/// [`post`] that must answer 2xx; anything else is an internal error naming the step.
pub(super) async fn post_ok(
    to: To<'_>,
    path: &str,
    body: &impl Serialize,
    headers: Headers,
) -> R<()> {
    let resp = post(to, path, body, headers).await?;
    match resp.status_code() {
        200..=299 => Ok(()),
        s => Err(ApiError::internal(format!("{path} answered {s}"))),
    }
}

/// An object's answer to pass on: its status, headers and body, with the internal headers
/// (`http::internal`) taken off — the client never sees them — and returned aside, along with
/// the body's `error` code when it has one. Answers from another Worker's fetch have immutable
/// headers, so the answer is rebuilt (bodies here are small JSON).
pub(super) struct Answer {
    pub(super) response: Response,
    pub(super) internal: Vec<(String, String)>,
    pub(super) error: Option<String>,
}

impl Answer {
    pub(super) async fn of(mut resp: Response) -> R<Self> {
        let status = resp.status_code();
        let headers = Headers::new();
        let mut taken = Vec::new();
        for (k, v) in resp.headers().entries() {
            if k.to_ascii_lowercase().starts_with("x-epochgate-internal-") {
                taken.push((k.to_ascii_lowercase(), v));
            } else {
                headers.append(&k, &v)?;
            }
        }
        let body = resp.bytes().await?;
        let error = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
        let response = Response::from_bytes(body)?
            .with_status(status)
            .with_headers(headers);
        Ok(Answer {
            response,
            internal: taken,
            error,
        })
    }

    /// The internal header `name`.
    pub(super) fn internal(&self, name: &str) -> Option<&str> {
        self.internal
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn status(&self) -> u16 {
        self.response.status_code()
    }
}
