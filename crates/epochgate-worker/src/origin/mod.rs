//! The origin: one SQLite-backed Durable Object that owns accounts, device sessions, epochs,
//! the revocation log, the activity log, rate limits and TOTP. The edge is its only caller; it
//! passes the verified identity and client details in [`internal`] headers.
//!
//! Map: this file builds the object's settings once (`ctx::Ready`), reads each request's body
//! and then dispatches on the shared route table ([`crate::routes`]) to a handler, a method on
//! the per-request `ctx::Ctx`. Handlers are synchronous: no `await` after the body is read, so each one
//! is atomic with respect to other requests to the object, and its writes are durable before
//! its answer leaves (the object's output gate). The revocation transitions are the core's
//! [`RevocationLog`] over the SQLite rows of `store::Revocations`; the handlers live in
//! `credentials.rs` (sign-up, login, re-authentication, password), `devices.rs` (sessions and
//! sign-outs), `totp.rs` and `push.rs` (WebSockets). Revocation updates are not served here:
//! each visible change is handed to the separate feed object (`feed.rs`) through a durable
//! outbox, after the handler (`handover.rs`), so viewers' refreshes never queue behind
//! account work.

mod account;
mod credentials;
mod ctx;
mod devices;
mod directory;
mod feed;
mod handover;
mod mail;
mod passkeys;
mod passwords;
mod proof;
mod push;
mod recovery;
mod store;
mod throttle;
mod tickets;
mod totp;
pub(crate) mod wire;

use std::cell::RefCell;
use std::rc::Rc;

use epochgate::{retention_horizon, Issuer, RevocationLog, MAX_CLOCK_TOLERANCE};
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage,
};

use crate::config::{self, OriginKeys, TokenProfile, DEFAULT_LAST_SEEN_INTERVAL};
use crate::error::ApiError;
use crate::host::now_ms;
use crate::http::{has_body, header, internal, no_content, read_body, respond};
use crate::routes::{Access, Route, Server};
use ctx::{client_info, no_identity, Claimed, Ctx, Ready};
use push::Sockets;
use store::{Revocations, Role, Store};

type R<T> = std::result::Result<T, ApiError>;

/// The `#[durable_object]` macro generates undocumented wasm-bindgen exports; this module
/// keeps that exception to the one struct.
#[allow(missing_docs)]
mod object {
    use super::*;

    /// The origin Durable Object.
    #[durable_object]
    pub struct Origin {
        pub(super) state: State,
        pub(super) env: Env,
        pub(super) ready: RefCell<Option<Rc<Ready>>>,
    }
}
pub use directory::Directory;
pub(crate) use directory::{
    BeginIn, CheckFor, ClaimOut, ClaimState, EmailIn, EndIn, Found, Outcome,
};
pub use feed::Feed;
pub use object::Origin;

impl DurableObject for Origin {
    fn new(state: State, env: Env) -> Self {
        Origin {
            state,
            env,
            ready: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        respond(self.serve(&mut req).await)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        push::on_message(&ws, message)
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        push::on_close(&ws, code, reason);
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        push::on_error(&ws);
        Ok(())
    }

    /// Delivers the outbox's due mail (`mail.rs`).
    async fn alarm(&self) -> Result<Response> {
        match self.ready() {
            Ok(ready) => {
                mail::deliver_due(&ready, &self.env, &self.state).await;
                handover::on_alarm(&ready, &self.env, &self.state).await;
            }
            Err(e) => worker::console_error!("mail: not delivered: {}", e.log_line()),
        }
        Response::empty()
    }
}

impl Origin {
    fn ready(&self) -> R<Rc<Ready>> {
        if let Some(r) = self.ready.borrow().as_ref() {
            return Ok(r.clone());
        }
        let keys = OriginKeys::from_env(&self.env)?;
        let profile = TokenProfile::from_env(&self.env)?;
        let issuer = Issuer::new(
            &profile.issuer,
            &profile.audience,
            keys.token,
            Some(profile.ttl),
            profile.token_type.as_deref(),
        )?;
        let data_key = config::data_key(&self.env)?;
        let rp = crate::rp::RpSettings::from_env(&self.env)?;
        let store = Store::open(self.state.storage().sql(), data_key.clone())?;
        // A database made before the feed existed hands its published state over once.
        store.feed_backfill()?;
        let ready = Rc::new(Ready {
            // Records leave updates once they can refuse no unexpired token: the token
            // lifetime plus twice the largest clock tolerance a viewer may run with.
            log: RefCell::new(
                RevocationLog::with_store(
                    Revocations(store.clone(), Role::Accounts),
                    keys.revocation,
                )
                .with_horizon(retention_horizon(profile.ttl, MAX_CLOCK_TOLERANCE)),
            ),
            store,
            issuer,
            profile,
            data_key,
            last_seen_interval: i64::try_from(config::number(
                &self.env,
                "LAST_SEEN_INTERVAL_SECONDS",
                DEFAULT_LAST_SEEN_INTERVAL,
            )?)
            .unwrap_or(i64::MAX),
            ticket_ttl: config::events_ticket_ttl(&self.env)?,
            reservation_ms: i64::try_from(config::number(
                &self.env,
                "PASSWORD_CHECK_TIMEOUT_MS",
                passwords::DEFAULT_RESERVATION_MS,
            )?)
            .unwrap_or(i64::MAX),
            mail: mail::Outbox::from_env(&self.env)?,
            relying_party: epochgate_webauthn::RelyingParty::new(
                &rp.id,
                &rp.origins.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
            rp,
            handover: handover::Handover::from_env(&self.env)?,
        });
        *self.ready.borrow_mut() = Some(ready.clone());
        Ok(ready)
    }

    /// Reads the body — the request's only `await` — then runs the handler to completion.
    async fn serve(&self, req: &mut Request) -> R<Response> {
        let ready = self.ready()?;
        let body = if has_body(&req.method()) {
            read_body(req.inner()).await?
        } else {
            Vec::new()
        };
        let now_ms = now_ms().floor() as i64;
        let cx = Ctx {
            ready: &ready,
            sockets: Sockets::new(&self.state),
            client: client_info(req),
            now: now_ms.div_euclid(1000),
            now_ms,
            verdict: passwords::Verdict::from_headers(req),
            new_hash: header(req, internal::NEW_PASSWORD_HASH),
        };
        let seq_before = ready.seq()?;
        let answer = dispatch(&cx, req, &body);
        // A password check's place in its bucket ends with its answer.
        cx.release()?;
        // Mail the handler queued is committed with its answer; the alarm delivers it later.
        ready.mail.arm(&self.state, &ready.store).await;
        // A visible change reaches the feed before its 2xx leaves (`handover.rs`).
        let changed = ready.seq()? != seq_before;
        let (path, method) = (req.path(), req.method());
        let route = Route::find(&method, &path).ok();
        handover::settle(&ready, &self.env, &self.state, route, changed, answer).await
    }
}

/// Routes a request by the shared table: public routes as they are, admin routes once the
/// edge vouched for the admin token, every other route once the caller's identity holds against
/// the origin's own state.
fn dispatch(cx: &Ctx<'_>, req: &Request, body: &[u8]) -> R<Response> {
    let path = req.path();
    let method = req.method();
    let route = Route::find(&method, &path).map_err(|m| m.into_error(&method, &path))?;
    let not_found = || Err(ApiError::not_found(&path));
    if route.server() != Server::Origin {
        return not_found();
    }
    match route.access() {
        Access::Public => match route {
            Route::SignUp => cx.sign_up(req, body),
            Route::Login => cx.login(body),
            Route::PasswordReset => cx.password_reset(body),
            Route::PasswordResetConfirm => cx.password_reset_confirm(body),
            Route::SecureAccount => cx.secure_account(body),
            Route::PasskeyLogin => cx.passkey_login(body),
            _ => not_found(),
        },
        Access::Admin => {
            if header(req, internal::ADMIN).is_none() {
                return Err(no_identity());
            }
            match route {
                Route::AdminOutbox => cx.admin_outbox(req),
                Route::AdminSession(account) => cx.admin_session(account, body),
                Route::AdminSignOutSession { account, session } => {
                    cx.admin_sign_out_one(account, session)
                }
                Route::AdminSignOutAll(account) => {
                    cx.admin_sign_out_all(account, body, header(req, "idempotency-key"))
                }
                _ => not_found(),
            }
        }
        Access::TokenOrTicket if header(req, internal::SESSION).is_none() => match route {
            Route::Events => cx.events_by_ticket(req),
            _ => not_found(),
        },
        // A login's check has no session yet; a re-authentication's has one (below).
        Access::Internal if header(req, internal::SESSION).is_none() => match route {
            Route::PasswordCheck => cx.password_of(body),
            Route::AccountEmail => cx.account_email(req),
            // Opening the object queued what it owes the feed; `handover::settle` sends it and
            // answers 503 instead of this 204 when the feed did not confirm.
            Route::HandOver => Ok(no_content()?),
            _ => Err(no_identity()),
        },
        Access::Token | Access::TokenOrTicket | Access::Internal => {
            let c = cx.authorize(Claimed::from_headers(req)?)?;
            match route {
                Route::Touch => Ok(no_content()?),
                Route::PasswordCheck => cx.reserve_reauth(&c),
                Route::Sessions => cx.list_sessions(&c),
                Route::SignOutSession(id) => cx.sign_out_one(&c.account, id),
                Route::SignOutAll => cx.sign_out_all(&c, body),
                Route::Password => cx.change_password(&c, body),
                Route::Activity => cx.activity(&c),
                Route::TotpStart => cx.totp_start(&c, body),
                Route::TotpDisable => cx.totp_disable(&c, body),
                Route::TotpConfirm => cx.totp_confirm(&c, body),
                Route::Account => cx.account(&c),
                Route::EmailCode => cx.send_email_code(&c, body),
                Route::RecoveryCodes => cx.new_recovery_codes(&c, body),
                Route::EmailChange => cx.change_email(&c, req, body),
                Route::EventsTicket => cx.events_ticket(&c, body),
                Route::Passkeys => cx.list_passkeys(&c),
                Route::PasskeyRegistrationOptions => cx.passkey_registration_options(&c, body),
                Route::PasskeyRegister => cx.register_passkey(&c, body),
                Route::PasskeyRename(id) => cx.rename_passkey(&c, id, body),
                Route::PasskeyRemove(id) => cx.remove_passkey(&c, id, body),
                Route::ReauthPasskeyOptions => cx.reauth_passkey_options(&c, body),
                Route::Reauth => cx.reauth(&c, body),
                Route::Events => {
                    cx.sockets
                        .accept(&c.account, &c.session.id, header(req, "upgrade"))
                }
                _ => not_found(),
            }
        }
    }
}
