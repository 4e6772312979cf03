//! Two-factor authentication routes: `POST /v1/totp` hands out a pending secret once the
//! caller re-authenticated (`Proof::Strong`), `POST /v1/totp/confirm` turns it on with a first
//! code, `DELETE /v1/totp` turns it off (`Proof::Strong` again). Each change is logged and
//! pushed to the account's other live sessions. The RFC 6238 arithmetic is `crate::totp`.

use worker::Response;

use super::ctx::{Caller, Ctx};
use super::mail::Mail;
use super::proof::Proof;
use super::store::Purpose;
use super::wire::{self, Code, TotpStarted};
use crate::error::{ApiCode, ApiError};
use crate::host::random_bytes;
use crate::http::{json, no_content, parse_json};
use crate::totp;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// The step `code` matches for the base32 secret at `now`, if any and later than `last` (a
/// code works once).
pub(super) fn code_step(secret_b32: &str, code: &str, now: i64, last: i64) -> Option<i64> {
    let secret = totp::base32_decode(secret_b32)?;
    totp::verify(&secret, code, now, last)
}

impl Ctx<'_> {
    /// A session token alone cannot enrol: whoever turns two-factor authentication on decides
    /// who can sign in, so the password is asked for as for sign-out-all.
    pub(super) fn totp_start(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: wire::ProofOnly = parse_json(body)?;
        let account = self.own_account(c)?;
        if account.totp_secret.is_some() {
            return Err(ApiError::new(
                ApiCode::TotpAlreadyEnabled,
                "two-factor authentication is already on",
            ));
        }
        self.reauthenticate(c, Some(&account), Proof::Strong, &b.proof.offer(None))?;
        let secret = totp::base32_encode(&random_bytes::<20>()?);
        self.store().set_totp_pending(&c.account, &secret)?;
        let otpauth_uri = totp::otpauth_uri(&self.ready.profile.issuer, &account.email, &secret);
        Ok(json(
            200,
            &TotpStarted {
                secret,
                otpauth_uri,
            },
        )?)
    }

    pub(super) fn totp_confirm(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: Code = parse_json(body)?;
        let code = wire::required(b.code, "code")?;
        let account = self.own_account(c)?;
        let pending = account.totp_pending.ok_or_else(|| {
            ApiError::new(
                ApiCode::TotpNotStarted,
                "POST /v1/totp first to get a secret",
            )
        })?;
        let step =
            code_step(&pending, &code, self.now, account.totp_last_step).ok_or_else(|| {
                ApiError::new(ApiCode::InvalidCode, "the code does not match the secret")
            })?;
        self.store().enable_totp(&c.account, &pending, step)?;
        self.send(
            &account.email,
            Mail::Security {
                event: ActivityKind::TotpEnabled,
            },
        )?;
        self.note(&c.account, ActivityKind::TotpEnabled, Some(&c.session.id))?;
        self.sockets
            .security(&c.account, &c.session.id, ActivityKind::TotpEnabled);
        Ok(no_content()?)
    }

    /// Turns two-factor authentication off (its recovery codes go too), which needs the
    /// password (or an emailed code) and a current TOTP or recovery code.
    pub(super) fn totp_disable(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: wire::ProofOnly = parse_json(body)?;
        let account = self.own_account(c)?;
        if account.totp_secret.is_none() {
            return Err(ApiError::new(
                ApiCode::TotpNotEnabled,
                "two-factor authentication is off",
            ));
        }
        self.reauthenticate(c, Some(&account), Proof::Strong, &b.proof.offer(None))?;
        self.store().disable_totp(&c.account)?;
        self.store().drop_codes(&c.account, Purpose::Recovery)?;
        self.send(
            &account.email,
            Mail::Security {
                event: ActivityKind::TotpDisabled,
            },
        )?;
        self.note(&c.account, ActivityKind::TotpDisabled, Some(&c.session.id))?;
        self.sockets
            .security(&c.account, &c.session.id, ActivityKind::TotpDisabled);
        Ok(no_content()?)
    }
}
