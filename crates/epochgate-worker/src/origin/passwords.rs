//! The object's side of password work done at the edge. No Argon2 runs in a Durable Object,
//! which serves one request at a time: the edge hashes and verifies, the object keeps what must
//! be atomic.
//!
//! 1. Reserve: the bucket the check will count in is judged — counting failures *and* live
//!    reservations, so parallel guesses cannot pass the limit together — and a reservation is
//!    written. A re-authentication's bucket is the session's, here
//!    (`POST /internal/password` with the caller, [`Ctx::reserve_reauth`]); a login's is keyed
//!    by email and lives in the email's directory object (`directory.rs`), and the shard only
//!    hands out the hash ([`Ctx::password_of`]). None for an email without an account: the edge
//!    then spends a dummy hash, so both take the same time.
//! 2. The edge verifies, then forwards the request with the reservation and its verdict
//!    ([`Verdict`], from internal headers), and with the hash of any new password.
//! 3. The handler settles: [`Ctx::password_right`] takes the verdict only for the live
//!    reservation of the same account and the same hash (a password changed in between makes
//!    it wrong), failures count as before, and the reservation ends with the answer
//!    ([`Ctx::release`]). One whose request never comes back expires after
//!    `PASSWORD_CHECK_TIMEOUT_MS` ([`DEFAULT_RESERVATION_MS`]); a verdict that arrives later
//!    is not taken (503 `overloaded`: try again).

use serde::{Deserialize, Serialize};
use worker::{Request, Response};

use super::ctx::{Caller, Ctx};
use super::store::{Account, Reservation};
use super::throttle::{Bucket, FREE};
use super::wire;
use crate::error::ApiError;
use crate::host::random_id;
use crate::http::{header, internal, json, parse_json};
use crate::password::phc_digest;

type R<T> = std::result::Result<T, ApiError>;

/// How long a reservation holds its place by default, ms: far longer than a hash takes.
pub(super) const DEFAULT_RESERVATION_MS: u64 = 30_000;

/// The edge's check of the request's password, from the internal headers.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    /// This object's reservation (a re-authentication).
    pub(super) reservation: Option<String>,
    /// The directory reservation's expiry, Unix ms (a login or reset).
    pub(super) expires_ms: Option<i64>,
    /// The digest of the hash the edge checked against.
    pub(super) phc_digest: Option<String>,
    pub(super) right: bool,
}

impl Verdict {
    pub(super) fn from_headers(req: &Request) -> Option<Self> {
        let right = header(req, internal::PASSWORD)?;
        Some(Verdict {
            reservation: header(req, internal::RESERVATION),
            expires_ms: header(req, internal::CHECK_EXPIRES).and_then(|e| e.parse().ok()),
            phc_digest: header(req, internal::PHC_DIGEST),
            right: right == "right",
        })
    }
}

/// `POST /internal/password` for a login.
#[derive(Deserialize)]
struct LoginCheck {
    email: Option<String>,
}

/// The answer: where the check is reserved (a re-authentication) and what to check against.
#[derive(Serialize)]
pub(crate) struct Reserved<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reservation: Option<&'a str>,
    pub(crate) password_hash: Option<&'a str>,
}

impl Ctx<'_> {
    /// The hash a login's password is checked against (the bucket is the directory's).
    pub(super) fn password_of(&self, body: &[u8]) -> R<Response> {
        let b: LoginCheck = parse_json(body)?;
        let email = wire::required(b.email, "email")?;
        let account = self
            .store()
            .account_by_email(&email.trim().to_lowercase())?;
        Ok(json(
            200,
            &Reserved {
                reservation: None,
                password_hash: account.as_ref().map(|a| a.password_hash.as_str()),
            },
        )?)
    }

    /// Reserves a re-authentication check: the caller's session bucket.
    pub(super) fn reserve_reauth(&self, c: &Caller) -> R<Response> {
        let account = self.store().account_by_id(&c.account)?;
        self.reserve(&Bucket::session(&c.session.id), account.as_ref())
    }

    fn reserve(&self, bucket: &Bucket, account: Option<&Account>) -> R<Response> {
        self.check_bucket(bucket, FREE)?;
        let id = random_id("r_")?;
        let phc = account.map(|a| a.password_hash.as_str());
        self.store().reserve(
            &id,
            &Reservation {
                bucket: bucket.as_str().to_owned(),
                account: account
                    .map(|a| a.id.as_str().to_owned())
                    .unwrap_or_default(),
                phc_digest: phc_digest(phc.unwrap_or_default()),
            },
            self.now_ms,
            self.now_ms.saturating_add(self.ready.reservation_ms),
        )?;
        Ok(json(
            200,
            &Reserved {
                reservation: Some(&id),
                password_hash: phc,
            },
        )?)
    }

    /// Whether the request's password is `account`'s (`None`: no account, never right), by the
    /// edge's verdict: under this object's live reservation (a re-authentication), or before
    /// the directory reservation's expiry (a login). Either way the verdict must be on the hash
    /// the account has now. A request with a password and no verdict can only come from an
    /// edge bug; a verdict that comes too late asks the caller to try again.
    pub(super) fn password_right(&self, account: Option<&Account>) -> R<bool> {
        let Some(v) = &self.verdict else {
            return Err(ApiError::internal(
                "a password reached the origin without the edge's check",
            ));
        };
        let late = || ApiError::overloaded("the password check took too long", 1);
        let digest = match (&v.reservation, v.expires_ms) {
            (Some(id), _) => {
                self.store()
                    .reservation(id, self.now_ms)?
                    .ok_or_else(late)?
                    .phc_digest
            }
            (None, Some(expires)) if expires > self.now_ms => {
                v.phc_digest.clone().unwrap_or_default()
            }
            (None, Some(_)) => return Err(late()),
            (None, None) => {
                return Err(ApiError::internal(
                    "a password verdict without a reservation",
                ))
            }
        };
        Ok(match account {
            Some(a) => v.right && digest == phc_digest(&a.password_hash),
            None => false,
        })
    }

    /// Whether this request holds a live reservation in `bucket`: its place there was judged
    /// when it was made, so the settling request is not judged again.
    pub(super) fn holds(&self, bucket: &Bucket) -> R<bool> {
        let Some(id) = self.verdict.as_ref().and_then(|v| v.reservation.as_ref()) else {
            return Ok(false);
        };
        Ok(self
            .store()
            .reservation(id, self.now_ms)?
            .is_some_and(|r| r.bucket == bucket.as_str()))
    }

    /// The hash the edge made of the request's new password (a PHC string).
    pub(super) fn new_password_hash(&self) -> R<&str> {
        self.new_hash
            .as_deref()
            .filter(|h| h.starts_with("$argon2"))
            .ok_or_else(|| ApiError::internal("a new password reached the origin unhashed"))
    }

    /// Ends the request's reservation, whatever its answer.
    pub(super) fn release(&self) -> R<()> {
        match self.verdict.as_ref().and_then(|v| v.reservation.as_ref()) {
            Some(id) => self.store().release(id),
            None => Ok(()),
        }
    }
}
