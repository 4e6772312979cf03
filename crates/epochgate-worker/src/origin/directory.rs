//! The email directory: SQLite-backed `Directory` objects, one per shard of the email space
//! (`shards.rs`), that map a normalised email to its account id and hold the throttle buckets
//! keyed by email — logins and password-reset confirmations — for addresses with an account and
//! without one alike. Accounts themselves live in the `Origin` shards, placed by account id.
//!
//! The edge drives every multi-object flow (`edge/accounts.rs`); each call here is one short
//! synchronous step:
//!
//! - `claim` an email for a sign-up (a fresh account id) or an email change (the account's id).
//!   While a sign-up's row is pending, every sign-up of that email gets the *same* id, so retried
//!   or concurrent sign-ups meet at one account in one shard, where only the first is created.
//! - `confirm` once the shard holds the account with that email; `release` to let go.
//! - `begin` a login or reset confirmation: the bucket of (email, network) is judged with its
//!   failures and live reservations, a reservation is written, and the account (if any) comes
//!   back; `end` settles it with the outcome the shard answered (`failed` counts,
//!   `succeeded` clears the bucket, `neutral` only ends the reservation). A reservation whose
//!   `end` never comes expires after `PASSWORD_CHECK_TIMEOUT_MS`; its answer never reached
//!   the client either.
//! - `lookup` an email's account.
//!
//! A claim left pending — its sign-up died between this object and the shard — is settled by
//! the alarm after `DIRECTORY_PENDING_SECONDS` (default 300): confirmed when the shard has the
//! account with that email, dropped when it does not. No other row is ever written, so no orphan
//! survives a failure between the two objects.

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result,
    ScheduledTime, State,
};

use super::credentials::email_hash;
use super::ctx::client_info;
use super::passwords::DEFAULT_RESERVATION_MS;
use super::store::{ClientInfo, Reservation, Store};
use super::throttle::{self, Bucket, FREE};
use crate::config;
use crate::error::ApiError;
use crate::host::{now_ms, random_id};
use crate::http::{json, no_content, parse_json, read_body, respond, ORIGIN_URL};
use crate::routes::{Route, Server};
use crate::sealed::DataKey;
use crate::shards::Shards;

type R<T> = std::result::Result<T, ApiError>;

/// Seconds a claim may stay pending before the alarm settles it, by default.
pub(crate) const DEFAULT_PENDING_SECONDS: u64 = 300;
/// Pending claims settled per alarm run.
const SETTLE_BATCH: i64 = 50;

/// `claim`, `confirm`, `release`, `lookup`: an email and, where it applies, an account.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct EmailIn {
    pub(crate) email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<String>,
}

/// What a claim found.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClaimState {
    /// The email is the caller's now (pending until confirmed).
    New,
    /// A sign-up already claimed it and has not completed: the same account id.
    Pending,
    /// It belongs to an account (for an email change: another account, or a claim of another).
    Taken,
}

/// The answer of `claim`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ClaimOut {
    pub(crate) account: String,
    pub(crate) claimed: ClaimState,
}

/// What a `begin` is for.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CheckFor {
    Login,
    Reset,
}

/// The body of `begin`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct BeginIn {
    pub(crate) email: String,
    pub(crate) purpose: CheckFor,
}

/// The answer of `begin` and `lookup`.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct Found {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reservation: Option<String>,
    pub(crate) account: Option<String>,
    /// The account's row is still pending (its sign-up has not confirmed it).
    #[serde(default)]
    pub(crate) pending: bool,
    /// When the reservation expires, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_ms: Option<i64>,
}

/// How the step a reservation was for ended.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// A wrong password or code: counted.
    Failed,
    /// Right: the bucket is emptied.
    Succeeded,
    /// Neither (refused before checking, or answered otherwise): only the reservation ends.
    Neutral,
}

/// The body of `end`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct EndIn {
    pub(crate) reservation: String,
    pub(crate) outcome: Outcome,
}

/// The shard's answer to `GET /internal/account-email`.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct AccountEmail {
    pub(crate) email: Option<String>,
}

/// The `#[durable_object]` macro generates undocumented wasm-bindgen exports; this module
/// keeps that exception to the one struct.
#[allow(missing_docs)]
mod object {
    use super::*;

    /// An email directory shard.
    #[durable_object]
    pub struct Directory {
        pub(super) state: State,
        pub(super) env: Env,
        pub(super) ready: RefCell<Option<Rc<Ready>>>,
    }
}
pub use object::Directory;

/// What the object builds once.
pub(crate) struct Ready {
    store: Store,
    key: DataKey,
    reservation_ms: i64,
    pending_ms: i64,
    shards: Shards,
}

/// One request, its body read.
struct Step<'a> {
    ready: &'a Ready,
    client: ClientInfo,
    now_ms: i64,
}

impl DurableObject for Directory {
    fn new(state: State, env: Env) -> Self {
        Directory {
            state,
            env,
            ready: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        respond(self.serve(&mut req).await)
    }

    /// Settles claims left pending.
    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.settle_pending().await {
            worker::console_error!("directory: pending claims not settled: {}", e.log_line());
        }
        Response::empty()
    }
}

fn ms(env: &Env, name: &str, default_ms: u64) -> R<i64> {
    Ok(i64::try_from(config::number(env, name, default_ms)?).unwrap_or(i64::MAX))
}

impl Directory {
    fn ready(&self) -> R<Rc<Ready>> {
        if let Some(r) = self.ready.borrow().as_ref() {
            return Ok(r.clone());
        }
        let key = config::data_key(&self.env)?;
        let ready = Rc::new(Ready {
            store: Store::open_directory(self.state.storage().sql(), key.clone())?,
            key,
            reservation_ms: ms(
                &self.env,
                "PASSWORD_CHECK_TIMEOUT_MS",
                DEFAULT_RESERVATION_MS,
            )?,
            pending_ms: ms(
                &self.env,
                "DIRECTORY_PENDING_SECONDS",
                DEFAULT_PENDING_SECONDS,
            )?
            .saturating_mul(1000),
            shards: config::shards(&self.env)?,
        });
        *self.ready.borrow_mut() = Some(ready.clone());
        Ok(ready)
    }

    async fn serve(&self, req: &mut Request) -> R<Response> {
        let ready = self.ready()?;
        let path = req.path();
        let method = req.method();
        let route = Route::find(&method, &path).map_err(|m| m.into_error(&method, &path))?;
        if route.server() != Server::Directory {
            return Err(ApiError::not_found(&path));
        }
        let body = read_body(req.inner()).await?;
        let step = Step {
            ready: &ready,
            client: client_info(req),
            now_ms: now_ms().floor() as i64,
        };
        let answer = match route {
            Route::DirectoryClaim => step.claim(parse_json(&body)?),
            Route::DirectoryConfirm => step.confirm(parse_json(&body)?),
            Route::DirectoryRelease => step.release(parse_json(&body)?),
            Route::DirectoryLookup => step.lookup(parse_json(&body)?),
            Route::DirectoryBegin => step.begin(parse_json(&body)?),
            Route::DirectoryEnd => step.end(parse_json(&body)?),
            _ => Err(ApiError::not_found(&path)),
        };
        if route == Route::DirectoryClaim && answer.is_ok() {
            self.arm(&ready).await?;
        }
        answer
    }

    /// Sets the alarm for the oldest pending claim, unless one is set.
    async fn arm(&self, ready: &Ready) -> R<()> {
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_some() {
            return Ok(());
        }
        if let Some(at) = ready.store.oldest_claim()? {
            storage
                .set_alarm(at_ms(at.saturating_add(ready.pending_ms)))
                .await?;
        }
        Ok(())
    }

    /// Confirms or drops each claim pending for longer than the grace period, by what its
    /// account's shard holds; one it cannot ask about stays for the next run.
    async fn settle_pending(&self) -> R<()> {
        let ready = self.ready()?;
        let now = now_ms() as i64;
        let stale = ready
            .store
            .stale_claims(now - ready.pending_ms, SETTLE_BATCH)?;
        for row in stale {
            worker::console_log!("directory: settling the pending claim of {}", row.account);
            match shard_email(&self.env, ready.shards, &row.account).await {
                Ok(Some(email)) if email == row.email => {
                    ready.store.confirm_email(&row.email, &row.account)?;
                }
                Ok(_) => ready.store.release_email(&row.email, &row.account)?,
                Err(e) => worker::console_warn!(
                    "directory: shard of {} not reachable: {}",
                    row.account,
                    e.log_line()
                ),
            }
        }
        if let Some(at) = ready.store.oldest_claim()? {
            let next = at.saturating_add(ready.pending_ms).max(now + 1000);
            self.state.storage().set_alarm(at_ms(next)).await?;
        }
        Ok(())
    }
}

/// An alarm time from Unix ms (a bare number would be read as an offset from now).
fn at_ms(ms: i64) -> ScheduledTime {
    ScheduledTime::new(js_sys::Date::new(&(ms as f64).into()))
}

/// The email the account's shard holds for it (`None`: no such account there).
async fn shard_email(env: &Env, shards: Shards, account: &str) -> R<Option<String>> {
    let name = shards.origin_name(shards.of_account(account));
    let stub = env
        .durable_object(config::ORIGIN_BINDING)?
        .get_by_name(&name)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let url = format!(
        "{ORIGIN_URL}/internal/account-email?account={}",
        js_sys::encode_uri_component(account)
    );
    let mut resp = stub
        .fetch_with_request(Request::new_with_init(&url, &init)?)
        .await?;
    if resp.status_code() != 200 {
        return Err(ApiError::internal(format!(
            "account-email answered {}",
            resp.status_code()
        )));
    }
    let found: AccountEmail = resp.json().await?;
    Ok(found.email)
}

fn normal(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Step<'_> {
    fn store(&self) -> &Store {
        &self.ready.store
    }

    fn claim(&self, b: EmailIn) -> R<Response> {
        let email = normal(&b.email);
        let wanted = match &b.account {
            Some(a) => a.clone(),
            None => random_id("acct_")?,
        };
        let out = if self.store().claim_email(&email, &wanted, self.now_ms)? {
            ClaimOut {
                account: wanted,
                claimed: ClaimState::New,
            }
        } else {
            let row = self
                .store()
                .email_row(&email)?
                .ok_or_else(|| ApiError::internal("a claimed email has no row"))?;
            let claimed = match (&b.account, row.active()) {
                // The account's own email (an email change to the same address, or a repeat).
                (Some(a), _) if *a == row.account => ClaimState::Pending,
                (None, false) => ClaimState::Pending,
                _ => ClaimState::Taken,
            };
            ClaimOut {
                account: row.account,
                claimed,
            }
        };
        Ok(json(200, &out)?)
    }

    fn confirm(&self, b: EmailIn) -> R<Response> {
        let account = b.account.unwrap_or_default();
        if !self.store().confirm_email(&normal(&b.email), &account)? {
            return Err(ApiError::invalid(
                "the email is not claimed for this account",
            ));
        }
        Ok(no_content()?)
    }

    fn release(&self, b: EmailIn) -> R<Response> {
        self.store()
            .release_email(&normal(&b.email), &b.account.unwrap_or_default())?;
        Ok(no_content()?)
    }

    fn lookup(&self, b: EmailIn) -> R<Response> {
        let row = self.store().email_row(&normal(&b.email))?;
        Ok(json(
            200,
            &Found {
                reservation: None,
                expires_ms: None,
                pending: row.as_ref().is_some_and(|r| !r.active()),
                account: row.map(|r| r.account),
            },
        )?)
    }

    fn bucket(&self, email: &str, purpose: CheckFor) -> Bucket {
        let subject = email_hash(&self.ready.key, email);
        match purpose {
            CheckFor::Login => Bucket::login(&subject, &self.client),
            CheckFor::Reset => Bucket::reset(&subject, &self.client),
        }
    }

    fn begin(&self, b: BeginIn) -> R<Response> {
        let email = normal(&b.email);
        let bucket = self.bucket(&email, b.purpose);
        throttle::judge(self.store(), &bucket, FREE, self.now_ms)?;
        let row = self.store().email_row(&email)?;
        let id = random_id("r_")?;
        let expires_ms = self.now_ms.saturating_add(self.ready.reservation_ms);
        self.store().reserve(
            &id,
            &Reservation {
                bucket: bucket.as_str().to_owned(),
                account: row.as_ref().map(|r| r.account.clone()).unwrap_or_default(),
                phc_digest: String::new(),
            },
            self.now_ms,
            expires_ms,
        )?;
        Ok(json(
            200,
            &Found {
                expires_ms: Some(expires_ms),
                reservation: Some(id),
                pending: row.as_ref().is_some_and(|r| !r.active()),
                account: row.map(|r| r.account),
            },
        )?)
    }

    fn end(&self, b: EndIn) -> R<Response> {
        // A reservation that expired still settles its outcome: a failure counts whenever it
        // is reported.
        if let Some(r) = self.store().reservation(&b.reservation, 0)? {
            match b.outcome {
                Outcome::Failed => throttle::count(self.store(), &r.bucket, self.now_ms)?,
                Outcome::Succeeded => self.store().clear_attempts(&r.bucket)?,
                Outcome::Neutral => {}
            }
        }
        self.store().release(&b.reservation)?;
        Ok(no_content()?)
    }
}
