//! Credentials: sign-up, login, re-authentication before a sensitive change, the password
//! change, and the per-account rate limit on failed attempts.

use epochgate::AccountId;
use worker::Response;

use super::ctx::{Caller, Ctx};
use super::store::Account;
use super::totp::code_step;
use super::wire::{self, Created, Login, PasswordChange, SignUp};
use crate::error::{ApiCode, ApiError};
use crate::host::random_id;
use crate::http::{json, parse_json};
use crate::password;
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// What a sensitive change asks its caller to prove again, on top of the session token: a
/// stolen token alone must not change how the account signs in or sign its owner out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proof {
    /// The password, or a current two-factor code instead when two-factor authentication is on
    /// (sign-out-all, the password change, starting two-factor enrolment).
    PasswordOrCode,
    /// The password and a current two-factor code (turning two-factor authentication off:
    /// neither a stolen password nor a stolen authenticator alone removes the second factor).
    PasswordAndCode,
}

/// The verdict on what a caller offered.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Judged {
    /// Wrong, or nothing here to check it against.
    Wrong,
    /// Right; `step` is the two-factor step to record as used, when a code was checked.
    Right { step: Option<i64> },
}

impl Proof {
    /// Whether the request offers what the proof needs; when not, nothing is checked.
    pub(super) fn offered(self, password: Option<&str>, code: Option<&str>) -> bool {
        match self {
            Proof::PasswordOrCode => password.is_some() || code.is_some(),
            Proof::PasswordAndCode => password.is_some() && code.is_some(),
        }
    }

    /// The `reauth_required` message.
    fn ask(self) -> &'static str {
        match self {
            Proof::PasswordOrCode => {
                "confirm with your password (or a two-factor code when it is on)"
            }
            Proof::PasswordAndCode => {
                "confirm with your password and a current two-factor code (password and totp)"
            }
        }
    }

    /// Judges an offer against `account` (`None`: managed elsewhere, nothing to check) at
    /// `now`. With `PasswordOrCode` a password, when sent, is what is checked. A code passes
    /// only with two-factor authentication on, in the drift window and later than the last
    /// step used.
    pub(super) fn judge(
        self,
        account: Option<&Account>,
        password: Option<&str>,
        code: Option<&str>,
        now: i64,
    ) -> Judged {
        let Some(a) = account else {
            return Judged::Wrong;
        };
        let password_ok = |p: &str| password::verify(p, &a.password_hash);
        let code_ok = |c: &str| {
            a.totp_secret
                .as_deref()
                .and_then(|secret| code_step(secret, c, now, a.totp_last_step))
        };
        let step = match (self, password, code) {
            (Proof::PasswordOrCode, Some(p), _) => password_ok(p).then_some(None),
            (Proof::PasswordOrCode, None, Some(c)) => code_ok(c).map(Some),
            // The password first: a code is not used up by a request with a wrong password.
            (Proof::PasswordAndCode, Some(p), Some(c)) if password_ok(p) => code_ok(c).map(Some),
            _ => None,
        };
        match step {
            Some(step) => Judged::Right { step },
            None => Judged::Wrong,
        }
    }
}

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

    /// Re-authentication before a sensitive change: what `proof` asks for, rate-limited like
    /// a login. Nothing offered is 401 `reauth_required` (not counted); a wrong answer is 401
    /// `reauth_failed`, counted and logged; a code that passes is used up.
    pub(super) fn reauthenticate(
        &self,
        account: &AccountId,
        proof: Proof,
        password: Option<&str>,
        code: Option<&str>,
    ) -> R<()> {
        if !proof.offered(password, code) {
            return Err(ApiError::new(ApiCode::ReauthRequired, proof.ask()));
        }
        self.check_rate(account)?;
        let acct = self.store().account_by_id(account)?;
        match proof.judge(acct.as_ref(), password, code, self.now) {
            Judged::Right { step } => {
                if let Some(step) = step {
                    self.store().use_totp_step(account, step)?;
                }
                Ok(())
            }
            Judged::Wrong => {
                self.failed(account, ActivityKind::ReauthFailed)?;
                Err(ApiError::new(
                    ApiCode::ReauthFailed,
                    "the password or two-factor code is wrong",
                ))
            }
        }
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
        self.reauthenticate(&c.account, Proof::PasswordOrCode, Some(&current_pw), None)?;
        let hash = password::hash(&new_pw, &self.ready.argon2)?;
        self.store().set_password(&c.account, &hash)?;
        self.sign_out_others(
            c,
            b.keep_current.unwrap_or(true),
            ActivityKind::PasswordChanged,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::Argon2Params;
    use crate::totp;

    const NOW: i64 = 1_700_000_000;
    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    fn account(totp_on: bool, last_step: i64) -> Account {
        let params = Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        Account {
            id: AccountId::new("acct_1").unwrap(),
            email: "a@example.com".into(),
            password_hash: password::hash("right password", &params).unwrap(),
            totp_secret: totp_on.then(|| SECRET.to_owned()),
            totp_pending: None,
            totp_last_step: last_step,
        }
    }

    fn code_at(step: i64) -> String {
        let secret = totp::base32_decode(SECRET).unwrap();
        format!("{:06}", totp::hotp(&secret, step as u64).unwrap())
    }

    #[test]
    fn a_token_alone_offers_nothing() {
        for proof in [Proof::PasswordOrCode, Proof::PasswordAndCode] {
            assert!(!proof.offered(None, None), "{proof:?}");
        }
        assert!(Proof::PasswordOrCode.offered(Some("p"), None));
        assert!(Proof::PasswordOrCode.offered(None, Some("123456")));
        assert!(!Proof::PasswordAndCode.offered(Some("p"), None));
        assert!(!Proof::PasswordAndCode.offered(None, Some("123456")));
        assert!(Proof::PasswordAndCode.offered(Some("p"), Some("123456")));
    }

    #[test]
    fn password_or_code() {
        let step = totp::step_of(NOW);
        let off = account(false, 0);
        let on = account(true, 0);
        let judge = |a: &Account, p: Option<&str>, c: Option<&str>| {
            Proof::PasswordOrCode.judge(Some(a), p, c, NOW)
        };
        assert_eq!(
            judge(&off, Some("right password"), None),
            Judged::Right { step: None }
        );
        assert_eq!(judge(&off, Some("wrong password"), None), Judged::Wrong);
        // Without two-factor authentication no code passes: enrolment needs the password.
        assert_eq!(judge(&off, None, Some(&code_at(step))), Judged::Wrong);
        assert_eq!(
            judge(&on, None, Some(&code_at(step))),
            Judged::Right { step: Some(step) }
        );
        // A password, when sent, is what is checked.
        assert_eq!(
            judge(&on, Some("wrong password"), Some(&code_at(step))),
            Judged::Wrong
        );
        assert_eq!(
            Proof::PasswordOrCode.judge(None, Some("right password"), None, NOW),
            Judged::Wrong
        );
    }

    #[test]
    fn password_and_code() {
        let step = totp::step_of(NOW);
        let on = account(true, 0);
        let judge = |a: &Account, p: &str, c: &str| {
            Proof::PasswordAndCode.judge(Some(a), Some(p), Some(c), NOW)
        };
        assert_eq!(
            judge(&on, "right password", &code_at(step)),
            Judged::Right { step: Some(step) }
        );
        assert_eq!(judge(&on, "wrong password", &code_at(step)), Judged::Wrong);
        assert_eq!(judge(&on, "right password", "000000"), Judged::Wrong);
        assert_eq!(
            judge(&on, "right password", &code_at(step + 5)),
            Judged::Wrong
        );
        // A code works once.
        assert_eq!(
            judge(&account(true, step), "right password", &code_at(step)),
            Judged::Wrong
        );
        assert_eq!(
            judge(&account(false, 0), "right password", &code_at(step)),
            Judged::Wrong
        );
    }
}
