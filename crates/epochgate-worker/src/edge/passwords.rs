//! Password work at the edge: Durable Objects run one request at a time, so no Argon2 runs in
//! one. Before a request that carries a password reaches an object, the edge
//!
//! 1. answers 429 when the client's network (IPv4 address, IPv6 /64) has made too many
//!    password attempts or sign-ups lately — the Workers Rate Limiting bindings
//!    [`PASSWORD_LIMITER`] and [`SIGNUP_LIMITER`], counted per Cloudflare location
//!    (`NETWORK_LIMITS=off` turns them off, for clients that all arrive through one proxy
//!    address, and for tests that play one client);
//! 2. answers 503 `overloaded` when this isolate has spent its hashing budget
//!    (`budget.rs`), so a flood from many networks sheds load instead of starving validation;
//! 3. for a password to check, reserves the check where its throttle bucket lives — the
//!    caller's shard for a re-authentication (here, [`prepare`]), the email's directory for a
//!    login (`accounts.rs`) — verifies it against the hash that comes back (or spends a dummy
//!    hash when there is none), and passes the verdict on in internal headers;
//! 4. for a new password, checks the policy and passes its Argon2id hash on.
//!
//! A body that is not a JSON object, or a field that is not a string, is passed on untouched for
//! the object to refuse.

use epochgate::Session;
use serde::Deserialize;
use serde_json::{Map, Value};
use worker::{Env, Headers, Response};

use super::incoming::Incoming;
use super::isolate::with_edge;
use super::objects::{self, To};
use super::proxy::{client_headers, identity_headers};
use crate::client::network;
use crate::error::ApiError;
use crate::host::now_ms;
use crate::http::internal;
use crate::password;
use crate::routes::Route;

type R<T> = std::result::Result<T, ApiError>;

/// The binding that counts password attempts (checks and new passwords) per network.
pub(crate) const PASSWORD_LIMITER: &str = "PASSWORD_LIMITER";
/// Its period in `wrangler.toml`, seconds: the `Retry-After` of its 429.
const PASSWORD_PERIOD: u64 = 10;
/// The binding that counts sign-ups per network.
pub(crate) const SIGNUP_LIMITER: &str = "SIGNUP_LIMITER";
/// Its period in `wrangler.toml`, seconds.
const SIGNUP_PERIOD: u64 = 60;

/// Refused networks an isolate remembers at most.
const MAX_REMEMBERED: usize = 50_000;

/// A per-network limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Limit {
    /// Any password attempt or new password.
    Password,
    /// A sign-up.
    SignUp,
}

/// The password fields of a session route's body (the email routes are `accounts.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Work {
    /// Fields holding the caller's password to check, first present wins.
    check: Option<&'static [&'static str]>,
    /// The field holding a new password.
    new: Option<&'static str>,
}

impl Work {
    /// What `route` carries.
    pub(super) fn of(route: Route<'_>) -> Self {
        match route {
            // `current_password`, or `password` as in every other re-authentication.
            Route::Password => Work {
                check: Some(&["current_password", "password"]),
                new: Some("new_password"),
            },
            Route::SignOutAll
            | Route::PasskeyRegistrationOptions
            | Route::PasskeyRemove(_)
            | Route::Reauth
            | Route::TotpStart
            | Route::TotpDisable
            | Route::RecoveryCodes
            | Route::EmailChange => Work {
                check: Some(&["password"]),
                new: None,
            },
            _ => Work::default(),
        }
    }
}

/// What the object must be told about the request's passwords.
pub(super) enum Prepared {
    /// Internal headers to add.
    Headers(Vec<(&'static str, String)>),
    /// The object's refusal of the reservation (a throttle's 429), to answer as it is.
    Refused(Response),
}

fn string<'a>(body: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

/// The password work of a session route: the caller's password checked under a reservation
/// in its shard, a new password hashed.
pub(super) async fn prepare(
    env: &Env,
    req: &Incoming,
    route: Route<'_>,
    session: Option<&Session>,
    body: &[u8],
) -> R<Prepared> {
    let work = Work::of(route);
    let mut headers = Vec::new();
    let (Some(session), false) = (session, work == Work::default()) else {
        return Ok(Prepared::Headers(headers));
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Ok(Prepared::Headers(headers));
    };
    let check = work
        .check
        .and_then(|names| names.iter().find_map(|n| string(&fields, n)));
    let new = work.new.and_then(|n| string(&fields, n).map(|p| (n, p)));
    if check.is_none() && new.is_none() {
        return Ok(Prepared::Headers(headers));
    }
    if let Some((name, p)) = new {
        password::check_policy(p, name)?;
    }
    let hashes = u32::from(check.is_some()) + u32::from(new.is_some());
    admit(env, req, &[Limit::Password], hashes).await?;
    if let Some(given) = check {
        let shard = objects::origin_of_account(env, session.account.as_str())?;
        let call = Headers::new();
        client_headers(req, &call)?;
        identity_headers(&call, session)?;
        let held: Held = match objects::post_for(
            To::Origin(&shard),
            "/internal/password",
            &serde_json::json!({}),
            call,
        )
        .await?
        {
            Ok(held) => held,
            Err(refused) => return Ok(Prepared::Refused(refused)),
        };
        let (right, _) = verify(env, given, held.password_hash.as_deref())?;
        let reservation = held
            .reservation
            .ok_or_else(|| ApiError::internal("a re-authentication without a reservation"))?;
        headers.push((internal::RESERVATION, reservation));
        headers.push((internal::PASSWORD, right.to_owned()));
    }
    if let Some((_, p)) = new {
        headers.push((internal::NEW_PASSWORD_HASH, hash(env, p)?));
    }
    Ok(Prepared::Headers(headers))
}

/// What `POST /internal/password` answers: the hash to check against (none: no account, or
/// none with a password here), and for a re-authentication its reservation.
#[derive(Deserialize)]
pub(super) struct Held {
    pub(super) reservation: Option<String>,
    pub(super) password_hash: Option<String>,
}

/// The per-network `limits` for this client, then `hashes` hashes from the isolate's budget.
/// A request the budget would shed is answered first, before it costs a limiter call.
pub(super) async fn admit(env: &Env, req: &Incoming, limits: &[Limit], hashes: u32) -> R<()> {
    budget(env, hashes, false)?;
    if with_edge(env, |e| e.settings.network_limits)? {
        let net = network(req.headers().get("cf-connecting-ip")?.as_deref());
        for l in limits {
            match l {
                Limit::Password => limit(env, PASSWORD_LIMITER, &net, PASSWORD_PERIOD).await?,
                Limit::SignUp => limit(env, SIGNUP_LIMITER, &net, SIGNUP_PERIOD).await?,
            }
        }
    }
    budget(env, hashes, true)
}

/// Hashes a new password with the deployment's parameters.
pub(super) fn hash(env: &Env, new: &str) -> R<String> {
    let params = with_edge(env, |e| e.settings.argon2)?;
    password::hash(new, &params)
}

/// Verifies `given` against `phc`, or spends a dummy hash when there is none: `("right" |
/// "wrong", digest of the hash)`.
pub(super) fn verify(env: &Env, given: &str, phc: Option<&str>) -> R<(&'static str, String)> {
    let right = match phc {
        Some(phc) => password::verify(given, phc),
        None => {
            let params = with_edge(env, |e| e.settings.argon2)?;
            password::verify_dummy(given, &params);
            false
        }
    };
    Ok((
        if right { "right" } else { "wrong" },
        password::phc_digest(phc.unwrap_or_default()),
    ))
}

/// 429 `rate_limited` when `binding` refuses `key`. A refusal is remembered in the isolate for
/// the binding's period, so a network that keeps sending is answered without another limiter
/// call (a little stricter than the binding's own window, never looser). A deployment without
/// the binding has no per-network limit (logged); the objects' buckets and the isolate's budget
/// still hold.
async fn limit(env: &Env, binding: &str, key: &str, period: u64) -> R<()> {
    let key = format!("{binding}:{key}");
    let now = now_ms();
    let blocked = with_edge(env, |e| match e.limited.get(&key) {
        Some(&until) if until > now => Some(((until - now) / 1000.0).ceil().max(1.0) as u64),
        _ => None,
    })?;
    if let Some(after) = blocked {
        return Err(ApiError::rate_limited(after));
    }
    let limiter = match env.rate_limiter(binding) {
        Ok(l) => l,
        Err(e) => {
            worker::console_warn!("no per-network limit: binding {binding}: {e}");
            return Ok(());
        }
    };
    match limiter.limit(key.clone()).await {
        Ok(outcome) if outcome.success => Ok(()),
        Ok(_) => {
            with_edge(env, |e| {
                if e.limited.len() >= MAX_REMEMBERED {
                    e.limited.retain(|_, until| *until > now);
                    if e.limited.len() >= MAX_REMEMBERED {
                        e.limited.clear();
                    }
                }
                e.limited.insert(key, now + period as f64 * 1000.0);
            })?;
            Err(ApiError::rate_limited(period))
        }
        Err(e) => {
            worker::console_warn!("rate limiter {binding} failed: {e}");
            Ok(())
        }
    }
}

/// Takes `hashes` hashes from the isolate's budget (or, with `spend` false, only checks that
/// it could), or answers 503 `overloaded`.
fn budget(env: &Env, hashes: u32, spend: bool) -> R<()> {
    let now = now_ms();
    with_edge(env, |e| {
        let cost = super::budget::hash_cost_ms(&e.settings.argon2) * f64::from(hashes);
        let verdict = if spend {
            e.hash_budget.spend(cost, now)
        } else {
            e.hash_budget.check(cost, now)
        };
        verdict.map_err(|after| {
            e.stats.shed += 1;
            ApiError::overloaded("this edge is busy checking passwords", after)
        })
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_session_route_with_a_password_field_is_known() {
        let change = Work::of(Route::Password);
        assert_eq!(change.new, Some("new_password"));
        assert_eq!(change.check, Some(&["current_password", "password"][..]));
        for r in [
            Route::SignOutAll,
            Route::TotpStart,
            Route::TotpDisable,
            Route::RecoveryCodes,
            Route::EmailChange,
        ] {
            assert_eq!(Work::of(r).check, Some(&["password"][..]), "{r:?}");
        }
        // The email routes are driven by accounts.rs; the rest carry no password.
        for r in [
            Route::Login,
            Route::SignUp,
            Route::PasswordResetConfirm,
            Route::Me,
            Route::Sessions,
            Route::TotpConfirm,
        ] {
            assert_eq!(Work::of(r), Work::default(), "{r:?}");
        }
    }
}
