//! Credentials: sign-up, login (password, then a TOTP or recovery code when two-factor
//! authentication is on) and the password change. Who may change what is `proof.rs`; the
//! throttles on guessing are `throttle.rs`.

use epochgate::AccountId;
use worker::{Request, Response};

use super::ctx::{Caller, Ctx};
use super::mail::Mail;
use super::proof::{Auth, Offer, Proof, Used};
use super::wire::{self, Created, Login, PasswordChange, SignUp};
use crate::error::{ApiCode, ApiError};
use crate::http::{header, internal, json, parse_json};
use crate::password;
use crate::sealed::DataKey;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// The label of the keyed hash an email is counted under in the throttles.
const EMAIL_PURPOSE: &str = "email";

/// [`Ctx::email_hash`] for any holder of the data key (the directory too).
pub(super) fn email_hash(key: &DataKey, email: &str) -> String {
    key.hash_token(EMAIL_PURPOSE, &email.trim().to_lowercase())
}

fn invalid() -> ApiError {
    ApiError::new(ApiCode::InvalidCredentials, "wrong email or password")
}

impl Ctx<'_> {
    /// The keyed hash of a normalised email: what the throttles count under, the same for an
    /// address with an account and one without.
    pub(super) fn email_hash(&self, email: &str) -> String {
        email_hash(&self.ready.data_key, email)
    }

    /// Sign-up, in the shard of the account id the email's directory gave it (`NEW_ACCOUNT`).
    /// Retried and concurrent sign-ups of one email carry the same id, so only the first
    /// creates the account; the others are 409 `account_exists`, marked complete for the edge
    /// when the account is there with this email (the edge then confirms the directory row
    /// its first attempt may have left pending).
    pub(super) fn sign_up(&self, req: &Request, body: &[u8]) -> R<Response> {
        let b: SignUp = parse_json(body)?;
        let email = wire::clean_email(&wire::required(b.email, "email")?)?;
        let password = wire::required(b.password, "password")?;
        password::check_policy(&password, "password")?;
        // The edge hashed it before asking, so a taken address costs the same time as a new one.
        let hash = self.new_password_hash()?.to_owned();
        let id = header(req, internal::NEW_ACCOUNT)
            .and_then(|a| AccountId::new(&a))
            .ok_or_else(|| ApiError::internal("a sign-up reached the origin without its id"))?;
        let exists = || ApiError::new(ApiCode::AccountExists, "an account with this email exists");
        if let Some(there) = self.store().account_by_id(&id)? {
            let mut e = exists();
            if there.email == email {
                e = e.with_internal_header(internal::COMPLETE, "1");
            }
            return Err(e);
        }
        if self.store().account_by_email(&email)?.is_some() {
            return Err(exists());
        }
        self.store().insert_account(&id, &email, &hash, self.now)?;
        self.note(&id, ActivityKind::AccountCreated, None)?;
        Ok(json(
            201,
            &Created {
                account: id.as_str(),
            },
        )?)
    }

    /// Login, once the edge checked the password (`passwords.rs`) under a reservation in the
    /// email's directory object, which also keeps the throttle bucket of (email hash, client
    /// network) — the same for an unknown email as for a real one. The edge settles that bucket
    /// by this answer: a 401 `invalid_credentials` counts, a 201 clears it. There is no bucket
    /// for the email alone: strangers on other networks must not be able to make the owner wait.
    pub(super) fn login(&self, body: &[u8]) -> R<Response> {
        let b: Login = parse_json(body)?;
        let email = wire::required(b.email, "email")?;
        wire::required(b.password, "password")?;
        let device = wire::device(b.device)?;
        let failed = |account: Option<&AccountId>, e: ApiError| -> R<Response> {
            if let Some(a) = account {
                self.note(a, ActivityKind::SignInFailed, None)?;
            }
            Err(e)
        };
        let account = self
            .store()
            .account_by_email(&email.trim().to_lowercase())?;
        let right = self.password_right(account.as_ref())?;
        let Some(account) = account else {
            return failed(None, invalid());
        };
        if !right {
            return failed(Some(&account.id), invalid());
        }
        if self.store().reset_required(&account.id)? {
            return Err(ApiError::new(
                ApiCode::PasswordResetRequired,
                "this account was secured after a sign-in its owner did not recognise: reset \
                 the password (POST /v1/password/reset) before signing in",
            ));
        }
        let mut used = Used::default();
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
            match self.check_offer(Some(&account), &offer, None)? {
                Some(u) => {
                    self.use_up(&account, &u, None)?;
                    used = u;
                }
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
        let issued = self.sign_in(&account, device, &Auth::of(true, &used, self.now))?;
        Ok(json(201, &issued)?)
    }

    /// The password change: any one factor (the current password, an emailed code, a TOTP or
    /// recovery code), then every other device signed out.
    pub(super) fn change_password(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: PasswordChange = parse_json(body)?;
        let new_pw = wire::required(b.new_password, "new_password")?;
        password::check_policy(&new_pw, "new_password")?;
        let account = self.own_account(c)?;
        let offer = b.proof.offer(b.current_password.as_deref());
        let auth = self.reauthenticate(c, Some(&account), Proof::Any, &offer)?;
        self.store()
            .set_password(&c.account, self.new_password_hash()?)?;
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
            &auth,
        )
    }
}
