//! The origin: one SQLite-backed Durable Object that owns accounts, device sessions, epochs,
//! the revocation sequence, the activity log, rate limits and TOTP. The edge is its only
//! caller; it passes the verified identity and client details in [`internal`] headers.
//!
//! Every handler reads its body first and then runs without another `await`, so it is atomic
//! with respect to other requests to the object, and its writes are durable before its answer
//! leaves (the object's output gate).

use std::cell::RefCell;
use std::rc::Rc;

use epochgate::{
    AccountId, DeviceSlot, Epoch, Issuer, MintRequest, OriginAccount, Update, UpdateKind,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, Response, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::config::{self, OriginKeys, TokenProfile};
use crate::http::{
    internal, json, no_content, now_secs, parse_json, random_bytes, random_id, read_body, respond,
    ApiError,
};
use crate::password::{self, Argon2Params};
use crate::store::{ClientInfo, SessionRow, Store};
use crate::totp;

type R<T> = std::result::Result<T, ApiError>;

/// The name of the single origin instance.
pub const ORIGIN_NAME: &str = "origin";

/// Default seconds between two `last_seen_at` writes of one session.
pub const DEFAULT_LAST_SEEN_INTERVAL: u64 = 300;

const ACTIVE: &str = "active";
const SIGNED_OUT: &str = "signed_out";

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
pub use object::Origin;

/// What the object builds once: the store, keys and settings.
struct Ready {
    store: Store,
    keys: OriginKeys,
    issuer: Issuer,
    profile: TokenProfile,
    argon2: Argon2Params,
    last_seen_interval: i64,
}

/// The identity the edge verified.
#[derive(Clone, Debug)]
struct Caller {
    account: String,
    session: String,
    device: u16,
    epoch: u32,
}

#[derive(Deserialize)]
struct DeviceIn {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct SignUp {
    email: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize)]
struct Login {
    email: Option<String>,
    password: Option<String>,
    device: Option<DeviceIn>,
    totp: Option<String>,
}

#[derive(Deserialize)]
struct SignOutAll {
    password: Option<String>,
    totp: Option<String>,
    keep_current: Option<bool>,
}

#[derive(Deserialize)]
struct PasswordChange {
    current_password: Option<String>,
    new_password: Option<String>,
    keep_current: Option<bool>,
}

#[derive(Deserialize)]
struct Code {
    code: Option<String>,
}

#[derive(Deserialize)]
struct AdminSession {
    device: Option<DeviceIn>,
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Serialize)]
struct Issued {
    token: String,
    session: String,
    device: u16,
    epoch: u32,
    expires_at: i64,
}

#[derive(Serialize)]
struct SessionOut<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    location: &'a Option<String>,
    ip: &'a Option<String>,
    user_agent: &'a Option<String>,
    created_at: i64,
    last_seen_at: i64,
    current: bool,
    status: &'a str,
    device: i64,
    epoch: i64,
}

/// What happens to sockets after a sign-out.
enum Push<'a> {
    Session(&'a str),
    Account {
        account: &'a str,
        keep: Option<&'a str>,
    },
}

fn required(v: Option<String>, what: &str) -> R<String> {
    v.ok_or_else(|| ApiError::invalid(format!("{what} is required")))
}

fn clean_email(email: &str) -> R<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    ok.then_some(e)
        .ok_or_else(|| ApiError::invalid("email must be an address like name@example.com"))
}

fn check_password_policy(p: &str, what: &str) -> R<()> {
    let chars = p.chars().count();
    if !(8..=256).contains(&chars) {
        return Err(ApiError::invalid(format!(
            "{what} must be 8 to 256 characters long"
        )));
    }
    Ok(())
}

fn device_in(d: Option<DeviceIn>) -> R<(String, String)> {
    let d =
        d.ok_or_else(|| ApiError::invalid("device is required: {\"name\": ..., \"type\": ...}"))?;
    let name = required(d.name, "device.name")?;
    let kind = required(d.kind, "device.type")?;
    let name = name.trim().to_owned();
    let kind = kind.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("device.name must be 1 to 100 characters"));
    }
    if kind.is_empty() || kind.chars().count() > 40 {
        return Err(ApiError::invalid("device.type must be 1 to 40 characters"));
    }
    Ok((name, kind))
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|s| !s.is_empty())
}

fn client_info(req: &Request) -> ClientInfo {
    ClientInfo {
        ip: header(req, internal::IP),
        location: header(req, internal::LOCATION),
        user_agent: header(req, internal::USER_AGENT),
    }
}

fn caller(req: &Request) -> R<Caller> {
    let missing = || ApiError::new(401, "malformed", "no verified identity reached the origin");
    let account = header(req, internal::ACCOUNT).ok_or_else(missing)?;
    let session = header(req, internal::SESSION).ok_or_else(missing)?;
    let device = header(req, internal::DEVICE)
        .and_then(|d| d.parse().ok())
        .ok_or_else(missing)?;
    let epoch = header(req, internal::EPOCH)
        .and_then(|d| d.parse().ok())
        .ok_or_else(missing)?;
    Ok(Caller {
        account,
        session,
        device,
        epoch,
    })
}

fn ws_close_code(code: usize) -> u16 {
    match u16::try_from(code) {
        // 1005 and 1006 are never sent on the wire; 1015 neither.
        Ok(c) if (1000..=4999).contains(&c) && c != 1005 && c != 1006 && c != 1015 => c,
        _ => 1000,
    }
}

impl DurableObject for Origin {
    fn new(state: State, env: Env) -> Self {
        Origin {
            state,
            env,
            ready: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        respond(self.route(req).await)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        if let WebSocketIncomingMessage::String(s) = message {
            if s.trim() == "ping" {
                ws.send_with_str("{\"type\":\"pong\"}")?;
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        // Closing an already closing socket may throw; nothing is left to do then.
        let _ = ws.close(Some(ws_close_code(code)), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        let _ = ws.close(Some(1011), Some("error"));
        Ok(())
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
            keys.token.clone(),
            Some(profile.ttl),
            profile.token_type.as_deref(),
        )
        .map_err(|e| config::not_configured(e.to_string()))?;
        let ready = Rc::new(Ready {
            store: Store::open(self.state.storage().sql())?,
            keys,
            issuer,
            profile,
            argon2: config::argon2_params(&self.env)?,
            last_seen_interval: i64::try_from(config::number(
                &self.env,
                "LAST_SEEN_INTERVAL_SECONDS",
                DEFAULT_LAST_SEEN_INTERVAL,
            )?)
            .unwrap_or(i64::MAX),
        });
        *self.ready.borrow_mut() = Some(ready.clone());
        Ok(ready)
    }

    async fn route(&self, mut req: Request) -> R<Response> {
        let r = self.ready()?;
        let method = req.method();
        let path = req.path();
        let segments: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
        let body = match method {
            Method::Post | Method::Put | Method::Patch | Method::Delete => {
                read_body(&mut req).await?
            }
            _ => Vec::new(),
        };
        let now = now_secs();
        let admin = header(&req, internal::ADMIN).is_some();
        match (method, seg.as_slice()) {
            (Method::Post, ["v1", "accounts"]) => self.sign_up(&r, &req, &body, now),
            (Method::Post, ["v1", "login"]) => self.login(&r, &req, &body, now),
            (Method::Get, ["v1", "revocations"]) => self.revocations(&r, &req, now),
            (Method::Post, ["v1", "admin", "accounts", account, "sessions"]) if admin => {
                self.admin_session(&r, &req, account, &body, now)
            }
            (Method::Delete, ["v1", "admin", "accounts", account, "sessions", id]) if admin => {
                self.sign_out_one(&r, &req, account, id, now)?;
                Ok(no_content()?)
            }
            (Method::Post, ["v1", "admin", "accounts", account, "sign-out-all"]) if admin => {
                self.admin_sign_out_all(&r, &req, account, &body, now)
            }
            (method, route) => {
                let c = caller(&req)?;
                let session = self.authorize(&r, &c, now)?;
                match (method, route) {
                    (Method::Post, ["internal", "touch"]) => Ok(no_content()?),
                    (Method::Get, ["v1", "sessions"]) => self.list_sessions(&r, &c),
                    (Method::Delete, ["v1", "sessions", id]) => {
                        self.sign_out_one(&r, &req, &c.account, id, now)?;
                        Ok(no_content()?)
                    }
                    (Method::Post, ["v1", "sessions", "sign-out-all"]) => {
                        self.sign_out_all(&r, &req, &c, &body, now)
                    }
                    (Method::Post, ["v1", "password"]) => {
                        self.change_password(&r, &req, &c, &body, now)
                    }
                    (Method::Get, ["v1", "activity"]) => {
                        json(200, &json!({ "events": r.store.events(&c.account)? }))
                            .map_err(Into::into)
                    }
                    (Method::Post, ["v1", "totp"]) => self.totp_start(&r, &c),
                    (Method::Post, ["v1", "totp", "confirm"]) => {
                        self.totp_confirm(&r, &req, &c, &body, now)
                    }
                    (Method::Get, ["v1", "events"]) => self.events(&req, &c, &session),
                    _ => Err(ApiError::not_found(&path)),
                }
            }
        }
    }

    /// The origin's own check of a verified identity against its authoritative state: the
    /// edge's view may be up to the staleness target behind.
    fn authorize(&self, r: &Ready, c: &Caller, now: i64) -> R<SessionRow> {
        let account = r.store.origin_account(&c.account)?;
        if let Some(reason) = account.state.check(Epoch(c.epoch), DeviceSlot(c.device)) {
            let message = match reason {
                epochgate::Reason::RevokedAll => {
                    "the account signed out of all devices after this token was issued"
                }
                _ => "this device was signed out",
            };
            let mut e = ApiError::new(401, reason.code(), message);
            e.authenticate = Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                reason.code()
            ));
            return Err(e);
        }
        let session = r
            .store
            .session(&c.account, &c.session)?
            .filter(|s| {
                s.status == ACTIVE && s.slot == i64::from(c.device) && s.epoch == i64::from(c.epoch)
            })
            .ok_or_else(|| {
                let mut e = ApiError::new(
                    401,
                    epochgate::Reason::RevokedDevice.code(),
                    "this session is not active at the origin",
                );
                e.authenticate = Some(
                    "Bearer error=\"invalid_token\", error_description=\"revoked_device\"".into(),
                );
                e
            })?;
        r.store
            .touch_session(&session.id, now, r.last_seen_interval)?;
        Ok(session)
    }

    fn mint(
        &self,
        r: &Ready,
        account: &str,
        session: &str,
        slot: DeviceSlot,
        epoch: Epoch,
        now: i64,
    ) -> R<Issued> {
        let token = r
            .issuer
            .mint(&MintRequest {
                account,
                session,
                device: u32::from(slot.0),
                epoch: u64::from(epoch.0),
                now,
                ttl: None,
                jti: None,
            })
            .map_err(ApiError::internal)?;
        Ok(Issued {
            token,
            session: session.to_owned(),
            device: slot.0,
            epoch: epoch.0,
            expires_at: now.saturating_add(i64::try_from(r.profile.ttl).unwrap_or(i64::MAX)),
        })
    }

    /// Allocates a slot through the core transition, records the session and mints its token.
    fn new_session(
        &self,
        r: &Ready,
        account: &str,
        name: String,
        kind: String,
        client: &ClientInfo,
        now: i64,
    ) -> R<Issued> {
        let mut state = r.store.origin_account(account)?;
        let slot = state
            .allocate_device()
            .map_err(|e| ApiError::new(409, e.code(), e.message().to_owned()))?;
        r.store.save_account(account, &state, false)?;
        let id = random_id("s_")?;
        r.store.insert_session(&SessionRow {
            id: id.clone(),
            account: account.to_owned(),
            slot: i64::from(slot.0),
            epoch: i64::from(state.state.epoch.0),
            name,
            kind,
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
            location: client.location.clone(),
            created_at: now,
            last_seen_at: now,
            status: ACTIVE.into(),
        })?;
        r.store.log(account, "sign_in", Some(&id), client, now)?;
        self.mint(r, account, &id, slot, state.state.epoch, now)
    }

    fn sign_up(&self, r: &Ready, req: &Request, body: &[u8], now: i64) -> R<Response> {
        let b: SignUp = parse_json(body)?;
        let email = clean_email(&required(b.email, "email")?)?;
        let password = required(b.password, "password")?;
        check_password_policy(&password, "password")?;
        if r.store.account_by_email(&email)?.is_some() {
            return Err(ApiError::new(
                409,
                "account_exists",
                "an account with this email exists",
            ));
        }
        let hash = password::hash(&password, &r.argon2)?;
        let id = random_id("acct_")?;
        r.store.insert_account(&id, &email, &hash, now)?;
        r.store
            .log(&id, "account_created", None, &client_info(req), now)?;
        Ok(json(201, &json!({ "account": id }))?)
    }

    fn check_rate(&self, r: &Ready, account: &str, now: i64) -> R<()> {
        match r.store.retry_after(account, now)? {
            Some(after) => Err(ApiError::rate_limited(after)),
            None => Ok(()),
        }
    }

    fn login(&self, r: &Ready, req: &Request, body: &[u8], now: i64) -> R<Response> {
        let b: Login = parse_json(body)?;
        let email = required(b.email, "email")?;
        let password = required(b.password, "password")?;
        let (name, kind) = device_in(b.device)?;
        let client = client_info(req);
        let invalid = || ApiError::unauthorized("invalid_credentials", "wrong email or password");
        let Some(account) = r.store.account_by_email(&email.trim().to_lowercase())? else {
            password::verify_dummy(&password, &r.argon2);
            return Err(invalid());
        };
        self.check_rate(r, &account.id, now)?;
        if !password::verify(&password, &account.password_hash) {
            r.store.record_failure(&account.id, now)?;
            r.store
                .log(&account.id, "sign_in_failed", None, &client, now)?;
            return Err(invalid());
        }
        if let Some(secret) = &account.totp_secret {
            let Some(code) = b.totp else {
                return Err(ApiError::unauthorized(
                    "totp_required",
                    "this account has two-factor authentication: send the current code as totp",
                ));
            };
            match self.check_totp(secret, &code, now, account.totp_last_step) {
                Some(step) => r.store.use_totp_step(&account.id, step)?,
                None => {
                    r.store.record_failure(&account.id, now)?;
                    r.store
                        .log(&account.id, "sign_in_failed", None, &client, now)?;
                    return Err(ApiError::unauthorized(
                        "invalid_credentials",
                        "the two-factor code is wrong or was already used",
                    ));
                }
            }
        }
        let issued = self.new_session(r, &account.id, name, kind, &client, now)?;
        Ok(json(201, &issued)?)
    }

    fn check_totp(&self, secret_b32: &str, code: &str, now: i64, last: i64) -> Option<i64> {
        let secret = totp::base32_decode(secret_b32)?;
        totp::verify(&secret, code, now, last)
    }

    fn revocations(&self, r: &Ready, req: &Request, now: i64) -> R<Response> {
        let url = req.url()?;
        let mut since: u64 = 0;
        for (k, v) in url.query_pairs() {
            if k == "since" {
                since = v.parse().map_err(|_| {
                    ApiError::invalid("since must be a non-negative integer sequence number")
                })?;
            }
        }
        let seq = r.store.seq()?;
        if since > seq {
            return Err(ApiError::new(
                409,
                "since_ahead",
                format!("since is {since} but the origin is at {seq}; fetch a snapshot (since=0)"),
            ));
        }
        let kind = if since == 0 {
            UpdateKind::Snapshot
        } else {
            UpdateKind::Delta
        };
        let records = r
            .store
            .changed_since(since)?
            .into_iter()
            .map(|(account, state)| epochgate::update::Record { account, state })
            .collect();
        let bytes = Update {
            kind,
            from_seq: since,
            seq,
            created_at: now,
            records,
        }
        .sign(&r.keys.revocation)
        .map_err(ApiError::internal)?;
        let headers = Headers::new();
        headers.set("content-type", "application/octet-stream")?;
        headers.set("cache-control", "no-store")?;
        headers.set("x-epochgate-seq", &seq.to_string())?;
        Ok(Response::from_bytes(bytes)?.with_headers(headers))
    }

    fn list_sessions(&self, r: &Ready, c: &Caller) -> R<Response> {
        let rows = r.store.sessions(&c.account)?;
        let out: Vec<SessionOut<'_>> = rows
            .iter()
            .map(|s| SessionOut {
                id: &s.id,
                name: &s.name,
                kind: &s.kind,
                location: &s.location,
                ip: &s.ip,
                user_agent: &s.user_agent,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                current: s.id == c.session,
                status: if s.status == ACTIVE {
                    ACTIVE
                } else {
                    SIGNED_OUT
                },
                device: s.slot,
                epoch: s.epoch,
            })
            .collect();
        Ok(json(200, &json!({ "sessions": out }))?)
    }

    /// Signs out one session of `account`; repeating it changes nothing.
    fn sign_out_one(&self, r: &Ready, req: &Request, account: &str, id: &str, now: i64) -> R<()> {
        let target = r.store.session(account, id)?.ok_or_else(|| {
            ApiError::new(
                404,
                "unknown_session",
                format!("no session {id:?} on this account"),
            )
        })?;
        if target.status != ACTIVE {
            return Ok(());
        }
        let mut state = r.store.origin_account(account)?;
        if target.epoch == i64::from(state.state.epoch.0) {
            let slot = u16::try_from(target.slot).map_err(ApiError::internal)?;
            let changed = state
                .revoke_device(DeviceSlot(slot))
                .map_err(ApiError::internal)?;
            if changed {
                r.store.save_account(account, &state, true)?;
            }
        }
        r.store.sign_out_session(id)?;
        r.store
            .log(account, "sign_out", Some(id), &client_info(req), now)?;
        self.push(Push::Session(id), "device");
        Ok(())
    }

    /// `E += 1` through the core, every session but `keep` marked signed out, `keep` moved to a
    /// new slot with a fresh token. Returns the new epoch and that token.
    fn revoke_all(
        &self,
        r: &Ready,
        account: &str,
        keep: Option<&SessionRow>,
        now: i64,
    ) -> R<(Epoch, Option<Issued>)> {
        let mut state: OriginAccount = r.store.origin_account(account)?;
        let epoch = state
            .revoke_all()
            .map_err(|e| ApiError::new(409, e.code(), e.message().to_owned()))?;
        let issued = match keep {
            Some(s) => {
                let slot = state.allocate_device().map_err(ApiError::internal)?;
                r.store
                    .reslot_session(&s.id, i64::from(slot.0), i64::from(epoch.0), now)?;
                Some(self.mint(r, account, &s.id, slot, epoch, now)?)
            }
            None => None,
        };
        r.store.save_account(account, &state, true)?;
        r.store
            .sign_out_all_sessions(account, keep.map(|s| s.id.as_str()))?;
        self.push(
            Push::Account {
                account,
                keep: keep.map(|s| s.id.as_str()),
            },
            "all",
        );
        Ok((epoch, issued))
    }

    /// Password or (with 2FA on) TOTP re-authentication, rate-limited.
    fn reauthenticate(
        &self,
        r: &Ready,
        req: &Request,
        account: &str,
        password: Option<&str>,
        code: Option<&str>,
        now: i64,
    ) -> R<()> {
        if password.is_none() && code.is_none() {
            return Err(ApiError::unauthorized(
                "reauth_required",
                "confirm with your password (or a two-factor code when it is on)",
            ));
        }
        self.check_rate(r, account, now)?;
        let acct = r.store.account_by_id(account)?;
        let ok = match (&acct, password, code) {
            (Some(a), Some(p), _) => password::verify(p, &a.password_hash),
            (Some(a), None, Some(code)) => match &a.totp_secret {
                Some(secret) => match self.check_totp(secret, code, now, a.totp_last_step) {
                    Some(step) => {
                        r.store.use_totp_step(account, step)?;
                        true
                    }
                    None => false,
                },
                None => false,
            },
            _ => false,
        };
        if ok {
            return Ok(());
        }
        r.store.record_failure(account, now)?;
        r.store
            .log(account, "reauth_failed", None, &client_info(req), now)?;
        Err(ApiError::unauthorized(
            "reauth_failed",
            "the password or two-factor code is wrong",
        ))
    }

    fn sign_out_all(
        &self,
        r: &Ready,
        req: &Request,
        c: &Caller,
        body: &[u8],
        now: i64,
    ) -> R<Response> {
        let b: SignOutAll = parse_json(body)?;
        self.reauthenticate(
            r,
            req,
            &c.account,
            b.password.as_deref(),
            b.totp.as_deref(),
            now,
        )?;
        self.sign_out_others(
            r,
            req,
            c,
            b.keep_current.unwrap_or(false),
            "sign_out_all",
            now,
        )
    }

    /// Moves the account to a new epoch (keeping the caller's device with a fresh token when
    /// asked), records `event` and answers `{epoch, token?}`.
    fn sign_out_others(
        &self,
        r: &Ready,
        req: &Request,
        c: &Caller,
        keep_current: bool,
        event: &str,
        now: i64,
    ) -> R<Response> {
        let current = r.store.session(&c.account, &c.session)?;
        let keep = if keep_current { current.as_ref() } else { None };
        let (epoch, issued) = self.revoke_all(r, &c.account, keep, now)?;
        r.store
            .log(&c.account, event, Some(&c.session), &client_info(req), now)?;
        Ok(json(200, &with_token(epoch, issued))?)
    }

    fn change_password(
        &self,
        r: &Ready,
        req: &Request,
        c: &Caller,
        body: &[u8],
        now: i64,
    ) -> R<Response> {
        let b: PasswordChange = parse_json(body)?;
        let current_pw = required(b.current_password, "current_password")?;
        let new_pw = required(b.new_password, "new_password")?;
        check_password_policy(&new_pw, "new_password")?;
        if r.store.account_by_id(&c.account)?.is_none() {
            return Err(ApiError::new(
                409,
                "no_password",
                "this account is managed elsewhere and has no password here",
            ));
        }
        self.reauthenticate(r, req, &c.account, Some(&current_pw), None, now)?;
        let hash = password::hash(&new_pw, &r.argon2)?;
        r.store.set_password(&c.account, &hash)?;
        self.sign_out_others(
            r,
            req,
            c,
            b.keep_current.unwrap_or(true),
            "password_changed",
            now,
        )
    }

    fn totp_start(&self, r: &Ready, c: &Caller) -> R<Response> {
        let account = r.store.account_by_id(&c.account)?.ok_or_else(|| {
            ApiError::new(409, "no_password", "this account is managed elsewhere")
        })?;
        if account.totp_secret.is_some() {
            return Err(ApiError::new(
                409,
                "totp_already_enabled",
                "two-factor authentication is already on",
            ));
        }
        let secret = totp::base32_encode(&random_bytes::<20>()?);
        r.store.set_totp_pending(&c.account, &secret)?;
        let uri = totp::otpauth_uri(&r.profile.issuer, &account.email, &secret);
        Ok(json(200, &json!({ "secret": secret, "otpauth_uri": uri }))?)
    }

    fn totp_confirm(
        &self,
        r: &Ready,
        req: &Request,
        c: &Caller,
        body: &[u8],
        now: i64,
    ) -> R<Response> {
        let b: Code = parse_json(body)?;
        let code = required(b.code, "code")?;
        let account = r.store.account_by_id(&c.account)?.ok_or_else(|| {
            ApiError::new(409, "no_password", "this account is managed elsewhere")
        })?;
        let pending = account.totp_pending.ok_or_else(|| {
            ApiError::new(
                409,
                "totp_not_started",
                "POST /v1/totp first to get a secret",
            )
        })?;
        let step = self
            .check_totp(&pending, &code, now, account.totp_last_step)
            .ok_or_else(|| {
                ApiError::new(400, "invalid_code", "the code does not match the secret")
            })?;
        r.store.enable_totp(&c.account, &pending, step)?;
        r.store.log(
            &c.account,
            "totp_enabled",
            Some(&c.session),
            &client_info(req),
            now,
        )?;
        Ok(no_content()?)
    }

    fn admin_session(
        &self,
        r: &Ready,
        req: &Request,
        account: &str,
        body: &[u8],
        now: i64,
    ) -> R<Response> {
        AccountId::new(account).ok_or_else(|| ApiError::invalid(AccountId::RULE))?;
        let b: AdminSession = parse_json(body)?;
        let (name, kind) = device_in(b.device)?;
        let issued = self.new_session(r, account, name, kind, &client_info(req), now)?;
        Ok(json(201, &issued)?)
    }

    fn admin_sign_out_all(
        &self,
        r: &Ready,
        req: &Request,
        account: &str,
        body: &[u8],
        now: i64,
    ) -> R<Response> {
        AccountId::new(account).ok_or_else(|| ApiError::invalid(AccountId::RULE))?;
        let _: Empty = parse_json(body)?;
        let key = header(req, "idempotency-key");
        if let Some(k) = &key {
            if k.len() > 200 {
                return Err(ApiError::invalid(
                    "Idempotency-Key must be at most 200 bytes",
                ));
            }
            if let Some((status, stored)) = r.store.idempotent(account, k, now)? {
                let value: serde_json::Value =
                    serde_json::from_str(&stored).map_err(ApiError::internal)?;
                return Ok(json(status, &value)?);
            }
        }
        let (epoch, _) = self.revoke_all(r, account, None, now)?;
        r.store
            .log(account, "sign_out_all", None, &client_info(req), now)?;
        let body = json!({ "epoch": epoch.0 });
        if let Some(k) = &key {
            r.store.remember(account, k, 200, &body.to_string(), now)?;
        }
        Ok(json(200, &body)?)
    }

    fn events(&self, req: &Request, c: &Caller, _session: &SessionRow) -> R<Response> {
        let upgrade = header(req, "upgrade").unwrap_or_default();
        if !upgrade.eq_ignore_ascii_case("websocket") {
            return Err(ApiError::new(
                426,
                "upgrade_required",
                "GET /v1/events is a WebSocket: send Upgrade: websocket",
            ));
        }
        let pair = WebSocketPair::new()?;
        let session_tag = format!("s:{}", c.session);
        let account_tag = format!("a:{}", c.account);
        self.state
            .accept_websocket_with_tags(&pair.server, &[&session_tag, &account_tag]);
        pair.server
            .send_with_str(json!({ "type": "hello", "session": c.session }).to_string())?;
        Ok(Response::from_websocket(pair.client)?)
    }

    /// Tells revoked sessions at once and closes their sockets.
    fn push(&self, to: Push<'_>, scope: &str) {
        let message = json!({ "type": "signed_out", "scope": scope }).to_string();
        let (sockets, keep) = match to {
            Push::Session(id) => (self.state.get_websockets_with_tag(&format!("s:{id}")), None),
            Push::Account { account, keep } => (
                self.state.get_websockets_with_tag(&format!("a:{account}")),
                keep.map(|k| format!("s:{k}")),
            ),
        };
        for ws in sockets {
            if let Some(k) = &keep {
                if self.state.get_tags(&ws).iter().any(|t| t == k) {
                    continue;
                }
            }
            // A socket that is already closing cannot be told; its session is revoked anyway.
            let _ = ws.send_with_str(&message);
            let _ = ws.close(Some(1000), Some("signed_out"));
        }
    }
}

fn with_token(epoch: Epoch, issued: Option<Issued>) -> serde_json::Value {
    match issued {
        Some(i) => json!({
            "epoch": epoch.0,
            "token": i.token,
            "session": i.session,
            "device": i.device,
            "expires_at": i.expires_at,
        }),
        None => json!({ "epoch": epoch.0 }),
    }
}
