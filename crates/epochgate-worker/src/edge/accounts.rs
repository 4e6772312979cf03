//! The routes that start from an email rather than a session — sign-up, login, password reset
//! and its confirmation — and the email change: the edge drives them across the email's
//! directory object and the account's origin shard (`origin/directory.rs`, `shards.rs`), one
//! short step per object, hashing in between (`passwords.rs`).
//!
//! An email without an account takes the same steps as one with an account: the shard its hash
//! picks answers it, with the same dummy hash and the same answers.
//!
//! Sign-up is safe against crashes and retries: the directory hands every sign-up of an email
//! the same account id while its row is pending, the shard creates the account only once (a
//! second sign-up of the id is 409 `account_exists`), and the row is confirmed once the
//! account exists — by this sign-up, by a later one, by a login, or by the directory's alarm,
//! which also drops a claim whose account never came. `TEST_CRASH_SIGNUP` (tests only) stops a
//! sign-up with a 500 right after the claim (`after_claim`) or after the account is created
//! (`after_create`), as a crash there would.

use serde_json::{json, Map, Value};
use worker::{Env, Headers, Request, RequestInit, Response, Stub};

use super::incoming::Incoming;
use super::isolate::with_edge;
use super::objects::{self, Answer, To};
use super::passwords::{self, Limit};
use super::proxy::client_headers;
use crate::error::{ApiCode, ApiError};
use crate::http::{internal, ORIGIN_URL};
use crate::origin::wire::clean_email;
use crate::origin::{BeginIn, CheckFor, ClaimOut, ClaimState, EmailIn, EndIn, Found, Outcome};
use crate::password;

type R<T> = std::result::Result<T, ApiError>;

/// The body as a JSON object, `None` when it is not one (the shard then answers the 400).
fn fields(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

/// The headers of a call made for the client: its address, location and user agent.
fn for_client(req: &Incoming) -> R<Headers> {
    let headers = Headers::new();
    client_headers(req, &headers)?;
    Ok(headers)
}

/// The client's request, as it came, to an origin shard with the client's details and `extra`
/// internal headers.
pub(super) async fn send(
    stub: &Stub,
    req: &Incoming,
    body: &[u8],
    extra: &[(&str, String)],
) -> R<Answer> {
    let url = req.url()?;
    let headers = for_client(req)?;
    headers.set("content-type", "application/json")?;
    for (name, value) in extra {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers);
    if !body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(body).into()));
    }
    let inner = Request::new_with_init(&format!("{ORIGIN_URL}{}", url.path()), &init)?;
    Answer::of(stub.fetch_with_request(inner).await?).await
}

/// A request the shard will refuse as it stands (not JSON, a field missing or of the wrong
/// type): passed to the first shard as it is, for its 400.
async fn as_is(env: &Env, req: &Incoming, body: &[u8]) -> R<Response> {
    Ok(send(&objects::origin(env, 0)?, req, body, &[])
        .await?
        .response)
}

/// Reserves a login's or reset confirmation's place in the email's throttle bucket at its
/// directory; `Err` holds the directory's refusal (a 429), to answer as it is.
async fn begin(
    dir: &Stub,
    req: &Incoming,
    email: &str,
    purpose: CheckFor,
) -> R<Result<Found, Response>> {
    let body = BeginIn {
        email: email.to_owned(),
        purpose,
    };
    objects::post_for(
        To::Directory(dir),
        "/internal/directory/begin",
        &body,
        for_client(req)?,
    )
    .await
}

/// Ends a directory reservation; a failure is logged (the reservation then expires).
async fn end(dir: &Stub, reservation: Option<String>, outcome: Outcome) {
    let Some(reservation) = reservation else {
        return;
    };
    let body = EndIn {
        reservation,
        outcome,
    };
    let ended = objects::post_ok(
        To::Directory(dir),
        "/internal/directory/end",
        &body,
        Headers::new(),
    )
    .await;
    if let Err(e) = ended {
        worker::console_warn!("directory end failed: {}", e.log_line());
    }
}

/// Confirms a directory row; a failure is logged (the directory's alarm settles it).
async fn confirm(dir: &Stub, email: &str, account: &str) {
    let body = EmailIn {
        email: email.to_owned(),
        account: Some(account.to_owned()),
    };
    let confirmed = objects::post_ok(
        To::Directory(dir),
        "/internal/directory/confirm",
        &body,
        Headers::new(),
    )
    .await;
    if let Err(e) = confirmed {
        worker::console_warn!("directory confirm failed: {}", e.log_line());
    }
}

/// A test-only crash point of the sign-up of `account` (`TEST_CRASH_SIGNUP`); the log names
/// the account.
fn crash_at(env: &Env, point: &str, account: &str) -> R<()> {
    if with_edge(env, |e| {
        e.settings.test_crash_signup.as_deref() == Some(point)
    })? {
        return Err(ApiError::internal(format!(
            "TEST_CRASH_SIGNUP: stopped {point} for {account}"
        )));
    }
    Ok(())
}

/// `POST /v1/accounts`.
pub(super) async fn sign_up(env: &Env, req: &Incoming, body: &[u8]) -> R<Response> {
    let Some(f) = fields(body) else {
        return as_is(env, req, body).await;
    };
    let (Some(email), Some(pw)) = (text(&f, "email"), text(&f, "password")) else {
        return as_is(env, req, body).await;
    };
    let email = clean_email(email)?;
    password::check_policy(pw, "password")?;
    passwords::admit(env, req, &[Limit::Password, Limit::SignUp], 1).await?;
    // Hashed before the directory is asked, so a taken address costs the same time.
    let hash = passwords::hash(env, pw)?;
    let dir = objects::directory(env, &email)?;
    let claim = EmailIn {
        email: email.clone(),
        account: None,
    };
    let claimed: ClaimOut =
        objects::post_expect(To::Directory(&dir), "/internal/directory/claim", &claim).await?;
    if claimed.claimed == ClaimState::Taken {
        return Err(ApiError::new(
            ApiCode::AccountExists,
            "an account with this email exists",
        ));
    }
    crash_at(env, "after_claim", &claimed.account)?;
    let shard = objects::origin_of_account(env, &claimed.account)?;
    let answer = send(
        &shard,
        req,
        body,
        &[
            (internal::NEW_ACCOUNT, claimed.account.clone()),
            (internal::NEW_PASSWORD_HASH, hash),
        ],
    )
    .await?;
    crash_at(env, "after_create", &claimed.account)?;
    if answer.status() == 201 || answer.internal(internal::COMPLETE).is_some() {
        confirm(&dir, &email, &claimed.account).await;
    }
    Ok(answer.response)
}

/// `POST /v1/login`.
pub(super) async fn login(env: &Env, req: &Incoming, body: &[u8]) -> R<Response> {
    let Some(f) = fields(body) else {
        return as_is(env, req, body).await;
    };
    let (Some(email), Some(given)) = (text(&f, "email"), text(&f, "password")) else {
        return as_is(env, req, body).await;
    };
    let email = objects::normal(email);
    passwords::admit(env, req, &[Limit::Password], 1).await?;
    let dir = objects::directory(env, &email)?;
    let found = match begin(&dir, req, &email, CheckFor::Login).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let shard = objects::origin_for_email(env, found.account.as_deref(), &email)?;
    let checked = check(env, &shard, &email, given, found.expires_ms).await;
    let answer = match checked {
        Ok(extra) => send(&shard, req, body, &extra).await,
        Err(e) => Err(e),
    };
    let outcome = match &answer {
        Ok(a) if a.status() == 201 => Outcome::Succeeded,
        Ok(a) if a.error.as_deref() == Some(ApiCode::InvalidCredentials.as_str()) => {
            Outcome::Failed
        }
        _ => Outcome::Neutral,
    };
    end(&dir, found.reservation, outcome).await;
    let answer = answer?;
    if outcome == Outcome::Succeeded && found.pending {
        if let Some(account) = &found.account {
            confirm(&dir, &email, account).await;
        }
    }
    Ok(answer.response)
}

/// Verifies `given` against the hash the shard holds for `email` (a dummy hash when none) and
/// returns the verdict's internal headers.
async fn check(
    env: &Env,
    shard: &Stub,
    email: &str,
    given: &str,
    expires_ms: Option<i64>,
) -> R<Vec<(&'static str, String)>> {
    let held: passwords::Held = objects::post_expect(
        To::Origin(shard),
        "/internal/password",
        &json!({ "email": email }),
    )
    .await?;
    let (right, digest) = passwords::verify(env, given, held.password_hash.as_deref())?;
    Ok(vec![
        (internal::PASSWORD, right.to_owned()),
        (internal::PHC_DIGEST, digest),
        (
            internal::CHECK_EXPIRES,
            expires_ms.unwrap_or_default().to_string(),
        ),
    ])
}

/// `POST /v1/password/reset`: to the shard of the email's account (or of the email), which
/// answers 202 either way.
pub(super) async fn reset(env: &Env, req: &Incoming, body: &[u8]) -> R<Response> {
    let Some(email) = fields(body).and_then(|f| text(&f, "email").map(objects::normal)) else {
        return as_is(env, req, body).await;
    };
    let dir = objects::directory(env, &email)?;
    let lookup = EmailIn {
        email: email.clone(),
        account: None,
    };
    let found: Found =
        objects::post_expect(To::Directory(&dir), "/internal/directory/lookup", &lookup).await?;
    let shard = objects::origin_for_email(env, found.account.as_deref(), &email)?;
    Ok(send(&shard, req, body, &[]).await?.response)
}

/// `POST /v1/password/reset/confirm`: the (email, network) bucket is the directory's; the code
/// is the shard's.
pub(super) async fn reset_confirm(env: &Env, req: &Incoming, body: &[u8]) -> R<Response> {
    let Some(f) = fields(body) else {
        return as_is(env, req, body).await;
    };
    let (Some(email), Some(_), Some(new)) = (
        text(&f, "email"),
        text(&f, "code"),
        text(&f, "new_password"),
    ) else {
        return as_is(env, req, body).await;
    };
    let email = objects::normal(email);
    password::check_policy(new, "new_password")?;
    passwords::admit(env, req, &[Limit::Password], 1).await?;
    let dir = objects::directory(env, &email)?;
    let found = match begin(&dir, req, &email, CheckFor::Reset).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let shard = objects::origin_for_email(env, found.account.as_deref(), &email)?;
    let answer = match passwords::hash(env, new) {
        Ok(hash) => send(&shard, req, body, &[(internal::NEW_PASSWORD_HASH, hash)]).await,
        Err(e) => Err(e),
    };
    let outcome = match &answer {
        Ok(a) if a.status() == 200 => Outcome::Succeeded,
        Ok(a) if a.error.as_deref() == Some(ApiCode::InvalidCode.as_str()) => Outcome::Failed,
        _ => Outcome::Neutral,
    };
    end(&dir, found.reservation, outcome).await;
    Ok(answer?.response)
}

/// What an email change needs from the directory before the shard decides: the new address
/// claimed for the caller's account (or found taken).
pub(super) struct EmailMove {
    new_email: String,
    account: String,
    claimed: ClaimState,
}

/// Claims the body's `new_email` for `account`; `None` when the body has no usable one (the
/// shard answers the 400).
pub(super) async fn claim_new_email(env: &Env, account: &str, body: &[u8]) -> R<Option<EmailMove>> {
    let Some(new_email) = fields(body).and_then(|f| text(&f, "new_email").map(str::to_owned))
    else {
        return Ok(None);
    };
    let Ok(new_email) = clean_email(&new_email) else {
        return Ok(None);
    };
    let dir = objects::directory(env, &new_email)?;
    let claim = EmailIn {
        email: new_email.clone(),
        account: Some(account.to_owned()),
    };
    let out: ClaimOut =
        objects::post_expect(To::Directory(&dir), "/internal/directory/claim", &claim).await?;
    Ok(Some(EmailMove {
        new_email,
        account: account.to_owned(),
        claimed: out.claimed,
    }))
}

impl EmailMove {
    /// The internal header the shard needs.
    pub(super) fn header(&self) -> Option<(&'static str, String)> {
        (self.claimed == ClaimState::Taken).then(|| (internal::EMAIL_TAKEN, "1".to_owned()))
    }

    /// After the shard answered: the new address confirmed and the old one released when the
    /// change was made; the claim let go when it was not.
    pub(super) async fn settle(self, env: &Env, answer: &Answer) -> R<()> {
        let new_dir = objects::directory(env, &self.new_email)?;
        match answer.internal(internal::OLD_EMAIL) {
            Some(old) if answer.status() == 200 => {
                confirm(&new_dir, &self.new_email, &self.account).await;
                let old = objects::normal(old);
                let release = EmailIn {
                    email: old.clone(),
                    account: Some(self.account.clone()),
                };
                let old_dir = objects::directory(env, &old)?;
                if let Err(e) = objects::post_ok(
                    To::Directory(&old_dir),
                    "/internal/directory/release",
                    &release,
                    Headers::new(),
                )
                .await
                {
                    worker::console_warn!("directory release failed: {}", e.log_line());
                }
            }
            _ if self.claimed == ClaimState::New => {
                let release = EmailIn {
                    email: self.new_email.clone(),
                    account: Some(self.account.clone()),
                };
                objects::post_ok(
                    To::Directory(&new_dir),
                    "/internal/directory/release",
                    &release,
                    Headers::new(),
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
