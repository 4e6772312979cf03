//! `GET /v1/revocations?since=S`: the signed update a viewer at `S` needs, from the core log
//! (a snapshot for `S = 0`, else a delta; `S` ahead of the origin is 409 `since_ahead`).
//! Records leave updates a horizon after their last change (set where the log is built, in
//! `mod.rs`: the token lifetime plus twice the largest clock tolerance a viewer may use), so
//! whatever `CLOCK_TOLERANCE` the edge or a page runs with, a dropped record can refuse none of
//! their unexpired tokens.

use worker::{Headers, Request, Response};

use super::ctx::Ctx;
use crate::error::ApiError;

type R<T> = std::result::Result<T, ApiError>;

/// The `since` query parameter (0 when absent).
pub(super) fn since(req: &Request) -> R<u64> {
    let url = req.url()?;
    let mut since = 0;
    for (k, v) in url.query_pairs() {
        if k == "since" {
            since = v.parse().map_err(|_| {
                ApiError::invalid("since must be a non-negative integer sequence number")
            })?;
        }
    }
    Ok(since)
}

impl Ctx<'_> {
    pub(super) fn revocations(&self, since: u64) -> R<Response> {
        let (bytes, seq) = {
            let mut log = self.log()?;
            (log.update_since(since, self.now)?, log.seq()?)
        };
        let headers = Headers::new();
        headers.set("content-type", "application/octet-stream")?;
        headers.set("cache-control", "no-store")?;
        headers.set("x-epochgate-seq", &seq.to_string())?;
        Ok(Response::from_bytes(bytes)?.with_headers(headers))
    }
}
