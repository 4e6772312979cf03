//! Getting an account back: the "new sign-in — not you?" alert with its single-use link, the
//! secure-account flow that link opens (every device signed out, a password reset required),
//! and the password reset by a mailed code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use epochgate::AccountId;
use serde::Serialize;
use worker::Response;

use super::ctx::Ctx;
use super::mail::Mail;
use super::proof::Auth;
use super::store::{Account, Purpose};
use super::throttle::Bucket;
use super::wire::{self, Device, Issued, ResetConfirm, ResetRequest, SecureAccount};
use crate::error::{ApiCode, ApiError};
use crate::host::random_bytes;
use crate::http::{json, parse_json};
use crate::password;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// How long a "not you?" link works, seconds.
pub(super) const LINK_TTL: i64 = 7 * 24 * 3600;
/// How long a password-reset code works, seconds.
pub(super) const RESET_TTL: i64 = 15 * 60;
/// Reset mails per email per hour; more requests get the same answer and no mail.
pub(super) const RESET_MAILS_PER_HOUR: usize = 5;

#[derive(Serialize)]
struct SignedOut {
    signed_out: usize,
}

/// A six-digit code from the platform's random source.
pub(super) fn six_digits() -> R<String> {
    let n = u32::from_le_bytes(random_bytes::<4>()?);
    Ok(format!("{:06}", n % 1_000_000))
}

fn bad_code() -> ApiError {
    ApiError::new(
        ApiCode::InvalidCode,
        "the code is wrong, expired or already used (or the email has no account)",
    )
}

fn bad_link() -> ApiError {
    ApiError::new(
        ApiCode::InvalidLink,
        "this link is unknown, expired or already used",
    )
}

impl Ctx<'_> {
    /// A sign-in: the session, and when its user agent or location was never seen on the
    /// account (and it is not the account's first), `sign_in_new_device` plus a mail to the
    /// owner with a single-use "not you?" link.
    pub(super) fn sign_in(&self, account: &Account, device: Device, auth: &Auth) -> R<Issued> {
        let (any, agent, place) = self.store().seen(
            &account.id,
            self.client.user_agent.as_deref(),
            self.client.location.as_deref(),
        )?;
        let new_device = any && !(agent && place);
        let kind = if new_device {
            ActivityKind::SignInNewDevice
        } else {
            ActivityKind::SignIn
        };
        let name = device.name.clone();
        let issued = self.new_session(&account.id, device, kind, Some(auth))?;
        if new_device {
            let link = format!(
                "{}.{}",
                account.id.as_str(),
                B64.encode(random_bytes::<24>()?)
            );
            let hash = self
                .ready
                .data_key
                .hash_token(Purpose::SecureLink.as_str(), &link);
            self.store().put_code(
                &account.id,
                Purpose::SecureLink,
                &hash,
                self.now + LINK_TTL,
                self.now,
                false,
            )?;
            self.send(
                &account.email,
                Mail::NewSignIn {
                    device: &name,
                    location: self.client.location.as_deref(),
                    at: self.now,
                    link: &link,
                },
            )?;
        }
        Ok(issued)
    }

    /// Mails a reset code for a known email, at most [`RESET_MAILS_PER_HOUR`]; the answer
    /// is the same 202 whether or not the email has an account or a mail went out.
    pub(super) fn password_reset(&self, body: &[u8]) -> R<Response> {
        let b: ResetRequest = parse_json(body)?;
        let email = wire::required(b.email, "email")?;
        let subject = self.email_hash(&email);
        if let Some(account) = self
            .store()
            .account_by_email(&email.trim().to_lowercase())?
        {
            self.mail_reset_code(&account, &subject)?;
        }
        Ok(json(202, &serde_json::json!({}))?)
    }

    /// A new reset code (the previous one stops working), mailed, unless the email had
    /// [`RESET_MAILS_PER_HOUR`] mails in the last hour.
    fn mail_reset_code(&self, account: &Account, subject: &str) -> R<()> {
        let bucket = Bucket::mail(subject);
        if self.recent(&bucket, 3600)?.len() >= RESET_MAILS_PER_HOUR {
            return Ok(());
        }
        self.count(&bucket)?;
        let code = six_digits()?;
        let hash = self.hash(Purpose::Reset, &code);
        self.store().put_code(
            &account.id,
            Purpose::Reset,
            &hash,
            self.now + RESET_TTL,
            self.now,
            true,
        )?;
        self.send(&account.email, Mail::ResetCode { code: &code })
    }

    /// Sets a new password with a mailed code and signs out every device (epoch bump). A
    /// wrong code counts against the code itself, which dies after five wrong tries, and — by
    /// the edge, from this answer — in the (email, network) bucket the email's directory keeps;
    /// an unknown email fails the same way.
    pub(super) fn password_reset_confirm(&self, body: &[u8]) -> R<Response> {
        let b: ResetConfirm = parse_json(body)?;
        let email = wire::required(b.email, "email")?;
        let code = wire::required(b.code, "code")?;
        let new_pw = wire::required(b.new_password, "new_password")?;
        password::check_policy(&new_pw, "new_password")?;
        let account = self
            .store()
            .account_by_email(&email.trim().to_lowercase())?;
        let hash = self.hash(Purpose::Reset, &code);
        let taken = match &account {
            Some(a) => self
                .store()
                .take_code(&a.id, Purpose::Reset, &hash, self.now)?,
            None => false,
        };
        let account = match account {
            Some(a) if taken => a,
            other => {
                if let Some(a) = other {
                    self.store().code_missed(&a.id, Purpose::Reset)?;
                }
                return Err(bad_code());
            }
        };
        self.store()
            .set_password(&account.id, self.new_password_hash()?)?;
        self.store()
            .set_reset_required(&account.id, false, self.now)?;
        self.store().drop_codes(&account.id, Purpose::Reset)?;
        let signed_out = self.sign_out_everything(&account.id, ActivityKind::PasswordReset)?;
        self.send(
            &account.email,
            Mail::Security {
                event: ActivityKind::PasswordReset,
            },
        )?;
        Ok(json(200, &SignedOut { signed_out })?)
    }

    /// The "not you?" link: every device signed out, the password must be reset before the
    /// next sign-in, and a reset code is mailed. The link works once; all the account's other
    /// links go with it.
    pub(super) fn secure_account(&self, body: &[u8]) -> R<Response> {
        let b: SecureAccount = parse_json(body)?;
        let token = wire::required(b.token, "token")?;
        let account = token
            .split_once('.')
            .and_then(|(a, _)| AccountId::new(a))
            .ok_or_else(bad_link)?;
        let hash = self
            .ready
            .data_key
            .hash_token(Purpose::SecureLink.as_str(), &token);
        if !self
            .store()
            .take_code(&account, Purpose::SecureLink, &hash, self.now)?
        {
            return Err(bad_link());
        }
        let account = self.store().account_by_id(&account)?.ok_or_else(bad_link)?;
        self.store().drop_codes(&account.id, Purpose::SecureLink)?;
        self.store()
            .set_reset_required(&account.id, true, self.now)?;
        let signed_out = self.sign_out_everything(&account.id, ActivityKind::AccountSecured)?;
        self.send(
            &account.email,
            Mail::Security {
                event: ActivityKind::AccountSecured,
            },
        )?;
        let subject = self.email_hash(&account.email);
        self.mail_reset_code(&account, &subject)?;
        Ok(json(200, &SignedOut { signed_out })?)
    }
}
