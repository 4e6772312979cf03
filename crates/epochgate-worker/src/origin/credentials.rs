//! Credentials: sign-up, login (password, then a TOTP or recovery code when two-factor
//! authentication is on) and the password change. Who may change what is `proof.rs`; the
//! throttles on guessing are `throttle.rs`.

use epochgate::AccountId;
use worker::Response;

use super::ctx::{Caller, Ctx};
use super::mail::Mail;
use super::proof::{Offer, Proof};
use super::throttle::{Bucket, FREE};
use super::wire::{self, Created, Login, PasswordChange, SignUp};
use crate::error::{ApiCode, ApiError};
use crate::host::random_id;
use crate::http::{json, parse_json};
use crate::password;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// The label of the keyed hash an email is counted under in the throttles.
const EMAIL_PURPOSE: &str = "email";

fn invalid() -> ApiError {
    ApiError::new(ApiCode::InvalidCredentials, "wrong email or password")
}

impl Ctx<'_> {
    /// The keyed hash of a normalised email: what the throttles count under, the same for an
    /// address with an account and one without.
    pub(super) fn email_hash(&self, email: &str) -> String {
        self.ready
            .data_key
            .hash_token(EMAIL_PURPOSE, &email.trim().to_lowercase())
    }

    pub(super) fn sign_up(&self, body: &[u8]) -> R<Response> {
        let b: SignUp = parse_json(body)?;
        let email = wire::clean_email(&wire::required(b.email, "email")?)?;
        let password = wire::required(b.password, "password")?;
        wire::check_password_policy(&password, "password")?;
        // The hash comes first either way, so a taken address costs the same time as a new one.
        let hash = password::hash(&password, &self.ready.argon2)?;
        if self.store().account_by_email(&email)?.is_some() {
            return Err(ApiError::new(
                ApiCode::AccountExists,
                "an account with this email exists",
            ));
        }
        let id =
            AccountId::new(&random_id("acct_")?).ok_or_else(|| ApiError::internal("account id"))?;
        self.store().insert_account(&id, &email, &hash, self.now)?;
        self.note(&id, ActivityKind::AccountCreated, None)?;
        Ok(json(
            201,
            &Created {
                account: id.as_str(),
            },
        )?)
    }

    /// Login. The throttle and the work are the same for an unknown email as for a real one:
    /// a bucket by (email hash, client network), a dummy hash when there is no account. A wrong
    /// password or second factor counts in the bucket; a success clears it. There is no bucket
    /// for the email alone: strangers on other networks must not be able to make the owner wait.
    pub(super) fn login(&self, body: &[u8]) -> R<Response> {
        let b: Login = parse_json(body)?;
        let email = wire::required(b.email, "email")?;
        let password = wire::required(b.password, "password")?;
        let device = wire::device(b.device)?;
        let subject = self.email_hash(&email);
        let here = Bucket::login(&subject, &self.client);
        self.check_bucket(&here, FREE)?;
        let failed = |account: Option<&AccountId>, e: ApiError| -> R<Response> {
            self.count(&here)?;
            if let Some(a) = account {
                self.note(a, ActivityKind::SignInFailed, None)?;
            }
            Err(e)
        };
        let Some(account) = self
            .store()
            .account_by_email(&email.trim().to_lowercase())?
        else {
            password::verify_dummy(&password, &self.ready.argon2);
            return failed(None, invalid());
        };
        if !password::verify(&password, &account.password_hash) {
            return failed(Some(&account.id), invalid());
        }
        if self.store().reset_required(&account.id)? {
            return Err(ApiError::new(
                ApiCode::PasswordResetRequired,
                "this account was secured after a sign-in its owner did not recognise: reset \
                 the password (POST /v1/password/reset) before signing in",
            ));
        }
        if account.totp_secret.is_some() {
            let offer = Offer {
                totp: b.totp.as_deref(),
                recovery_code: b.recovery_code.as_deref(),
                ..Offer::default()
            };
            if offer.totp.is_none() && offer.recovery_code.is_none() {
                return Err(ApiError::new(
                    ApiCode::TotpRequired,
                    "this account has two-factor authentication: send the current code as totp \
                     (or a recovery code as recovery_code)",
                ));
            }
            match self.check_offer(Some(&account), &offer)? {
                Some(used) => self.use_up(&account, &used, None)?,
                None => {
                    return failed(
                        Some(&account.id),
                        ApiError::new(
                            ApiCode::InvalidCredentials,
                            "the two-factor or recovery code is wrong or was already used",
                        ),
                    )
                }
            }
        }
        self.clear_bucket(&here)?;
        let issued = self.sign_in(&account, device)?;
        Ok(json(201, &issued)?)
    }

    /// The password change: any one factor (the current password, an emailed code, a TOTP or
    /// recovery code), then every other device signed out.
    pub(super) fn change_password(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: PasswordChange = parse_json(body)?;
        let new_pw = wire::required(b.new_password, "new_password")?;
        wire::check_password_policy(&new_pw, "new_password")?;
        let account = self.own_account(c)?;
        let offer = b.proof.offer(b.current_password.as_deref());
        self.reauthenticate(c, Some(&account), Proof::Any, &offer)?;
        let hash = password::hash(&new_pw, &self.ready.argon2)?;
        self.store().set_password(&c.account, &hash)?;
        self.send(
            &account.email,
            Mail::Security {
                event: ActivityKind::PasswordChanged,
            },
        )?;
        self.sign_out_others(
            c,
            b.keep_current.unwrap_or(true),
            ActivityKind::PasswordChanged,
        )
    }
}
