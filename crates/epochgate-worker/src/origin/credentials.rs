//! Credentials: sign-up, login, re-authentication before a sensitive change, the password
//! change, and the per-account rate limit on failed attempts.

use epochgate::AccountId;
use worker::Response;

use super::ctx::{Caller, Ctx};
use super::totp::code_step;
use super::wire::{self, Created, Login, PasswordChange, SignUp};
use crate::error::{ApiCode, ApiError};
use crate::host::random_id;
use crate::http::{json, parse_json};
use crate::password;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

impl Ctx<'_> {
    pub(super) fn sign_up(&self, body: &[u8]) -> R<Response> {
        let b: SignUp = parse_json(body)?;
        let email = wire::clean_email(&wire::required(b.email, "email")?)?;
        let password = wire::required(b.password, "password")?;
        wire::check_password_policy(&password, "password")?;
        if self.store().account_by_email(&email)?.is_some() {
            return Err(ApiError::new(
                ApiCode::AccountExists,
                "an account with this email exists",
            ));
        }
        let hash = password::hash(&password, &self.ready.argon2)?;
        let id =
            AccountId::new(&random_id("acct_")?).ok_or_else(|| ApiError::internal("account id"))?;
        self.store().insert_account(&id, &email, &hash, self.now)?;
        self.store().log(
            &id,
            ActivityKind::AccountCreated,
            None,
            &self.client,
            self.now,
        )?;
        Ok(json(
            201,
            &Created {
                account: id.as_str(),
            },
        )?)
    }

    /// 429 while the account is over the limit, even for a correct attempt.
    fn check_rate(&self, account: &AccountId) -> R<()> {
        match self.store().retry_after(account, self.now)? {
            Some(after) => Err(ApiError::rate_limited(after)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt and records it in the activity log.
    fn failed(&self, account: &AccountId, kind: ActivityKind) -> R<()> {
        self.store().record_failure(account, self.now)?;
        self.store()
            .log(account, kind, None, &self.client, self.now)
    }

    pub(super) fn login(&self, body: &[u8]) -> R<Response> {
        let b: Login = parse_json(body)?;
        let email = wire::required(b.email, "email")?;
        let password = wire::required(b.password, "password")?;
        let device = wire::device(b.device)?;
        let invalid = || ApiError::new(ApiCode::InvalidCredentials, "wrong email or password");
        let Some(account) = self
            .store()
            .account_by_email(&email.trim().to_lowercase())?
        else {
            password::verify_dummy(&password, &self.ready.argon2);
            return Err(invalid());
        };
        self.check_rate(&account.id)?;
        if !password::verify(&password, &account.password_hash) {
            self.failed(&account.id, ActivityKind::SignInFailed)?;
            return Err(invalid());
        }
        if let Some(secret) = &account.totp_secret {
            let Some(code) = b.totp else {
                return Err(ApiError::new(
                    ApiCode::TotpRequired,
                    "this account has two-factor authentication: send the current code as totp",
                ));
            };
            match code_step(secret, &code, self.now, account.totp_last_step) {
                Some(step) => self.store().use_totp_step(&account.id, step)?,
                None => {
                    self.failed(&account.id, ActivityKind::SignInFailed)?;
                    return Err(ApiError::new(
                        ApiCode::InvalidCredentials,
                        "the two-factor code is wrong or was already used",
                    ));
                }
            }
        }
        let issued = self.new_session(&account.id, device)?;
        Ok(json(201, &issued)?)
    }

    /// Password or (with 2FA on) TOTP re-authentication, rate-limited.
    pub(super) fn reauthenticate(
        &self,
        account: &AccountId,
        password: Option<&str>,
        code: Option<&str>,
    ) -> R<()> {
        if password.is_none() && code.is_none() {
            return Err(ApiError::new(
                ApiCode::ReauthRequired,
                "confirm with your password (or a two-factor code when it is on)",
            ));
        }
        self.check_rate(account)?;
        let acct = self.store().account_by_id(account)?;
        let ok = match (&acct, password, code) {
            (Some(a), Some(p), _) => password::verify(p, &a.password_hash),
            (Some(a), None, Some(code)) => match &a.totp_secret {
                Some(secret) => match code_step(secret, code, self.now, a.totp_last_step) {
                    Some(step) => {
                        self.store().use_totp_step(account, step)?;
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
        self.failed(account, ActivityKind::ReauthFailed)?;
        Err(ApiError::new(
            ApiCode::ReauthFailed,
            "the password or two-factor code is wrong",
        ))
    }

    pub(super) fn change_password(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: PasswordChange = parse_json(body)?;
        let current_pw = wire::required(b.current_password, "current_password")?;
        let new_pw = wire::required(b.new_password, "new_password")?;
        wire::check_password_policy(&new_pw, "new_password")?;
        if self.store().account_by_id(&c.account)?.is_none() {
            return Err(ApiError::new(
                ApiCode::NoPassword,
                "this account is managed elsewhere and has no password here",
            ));
        }
        self.reauthenticate(&c.account, Some(&current_pw), None)?;
        let hash = password::hash(&new_pw, &self.ready.argon2)?;
        self.store().set_password(&c.account, &hash)?;
        self.sign_out_others(
            c,
            b.keep_current.unwrap_or(true),
            ActivityKind::PasswordChanged,
        )
    }
}
