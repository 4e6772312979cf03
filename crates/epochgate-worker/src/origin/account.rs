//! The account's own settings: what the page shows (`GET /v1/account`), a code mailed for
//! re-authentication, recovery codes, and the email change.

use epochgate::AccountId;
use serde::Serialize;
use worker::{Request, Response};

use super::ctx::{Caller, Ctx};
use super::directory::AccountEmail;
use super::mail::Mail;
use super::proof::Proof;
use super::recovery::six_digits;
use super::store::{Account, Purpose};
use super::throttle::{seconds_until, Bucket};
use super::wire::{self, EmailChange, Empty, ProofOnly};
use crate::error::{ApiCode, ApiError};
use crate::host::random_bytes;
use crate::http::{header, internal, json, parse_json};
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// How long an emailed re-authentication code works, seconds.
pub(super) const EMAIL_CODE_TTL: i64 = 10 * 60;
/// Seconds between two emailed codes of one account.
pub(super) const EMAIL_CODE_GAP: i64 = 30;
/// Emailed codes per account per hour.
pub(super) const EMAIL_CODES_PER_HOUR: usize = 5;
/// Recovery codes in a set.
pub(super) const RECOVERY_CODES: usize = 10;
/// Recovery codes do not expire; they are replaced as a set.
const NEVER: i64 = i64::MAX;

#[derive(Serialize)]
struct AccountOut<'a> {
    account: &'a str,
    /// `None` for an account managed elsewhere (sessions minted by the admin API).
    email: Option<&'a str>,
    totp_enabled: bool,
    recovery_codes_remaining: i64,
    password_reset_required: bool,
}

#[derive(Serialize)]
struct CodeSent {
    sent_to: String,
    expires_in: i64,
}

#[derive(Serialize)]
struct RecoveryCodes {
    codes: Vec<String>,
}

#[derive(Serialize)]
struct EmailOut<'a> {
    email: &'a str,
}

/// `alice@example.com` → `a•••@example.com`: enough for the owner to recognise it.
pub(super) fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}\u{2022}\u{2022}\u{2022}@{domain}")
        }
        None => "\u{2022}\u{2022}\u{2022}".to_owned(),
    }
}

/// A recovery code: ten characters of lowercase base32 (50 bits) as `xxxxx-xxxxx`.
fn recovery_code() -> R<String> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut code = String::with_capacity(11);
    for (i, b) in random_bytes::<10>()?.iter().enumerate() {
        if i == 5 {
            code.push('-');
        }
        let ch = ALPHABET
            .get(usize::from(b & 31))
            .ok_or_else(|| ApiError::internal("base32"))?;
        code.push(char::from(*ch));
    }
    Ok(code)
}

impl Ctx<'_> {
    /// The caller's account; 409 `no_password` for one managed elsewhere (its sessions minted
    /// by the admin API), which has no credentials here to change.
    pub(super) fn own_account(&self, c: &Caller) -> R<Account> {
        self.store().account_by_id(&c.account)?.ok_or_else(|| {
            ApiError::new(
                ApiCode::NoPassword,
                "this account is managed elsewhere and has no credentials here",
            )
        })
    }

    /// `GET /v1/account`; an account managed elsewhere has no email, password or second
    /// factor here.
    pub(super) fn account(&self, c: &Caller) -> R<Response> {
        let Some(a) = self.store().account_by_id(&c.account)? else {
            return Ok(json(
                200,
                &AccountOut {
                    account: c.account.as_str(),
                    email: None,
                    totp_enabled: false,
                    recovery_codes_remaining: 0,
                    password_reset_required: false,
                },
            )?);
        };
        Ok(json(
            200,
            &AccountOut {
                account: a.id.as_str(),
                email: Some(&a.email),
                totp_enabled: a.totp_secret.is_some(),
                recovery_codes_remaining: self.store().count_codes(
                    &a.id,
                    Purpose::Recovery,
                    self.now,
                )?,
                password_reset_required: self.store().reset_required(&a.id)?,
            },
        )?)
    }

    /// `POST /v1/reauth/email-code`: a six-digit code to the account's address, valid ten
    /// minutes, replacing the previous one; one per 30 s and five per hour.
    pub(super) fn send_email_code(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let _: Empty = parse_json(body)?;
        let a = self.own_account(c)?;
        let bucket = Bucket::mail(a.id.as_str());
        let sent = self.recent(&bucket, 3600)?;
        let next_gap = sent.iter().max().map(|last| last + EMAIL_CODE_GAP * 1000);
        let next_hourly = (sent.len() >= EMAIL_CODES_PER_HOUR)
            .then(|| sent.iter().min().map(|first| first + 3600 * 1000))
            .flatten();
        let until = next_gap.into_iter().chain(next_hourly).max();
        if let Some(after) = until.and_then(|u| seconds_until(u, self.now_ms)) {
            return Err(ApiError::rate_limited(after));
        }
        self.count(&bucket)?;
        let code = six_digits()?;
        let hash = self.hash(Purpose::EmailCode, &code);
        self.store().put_code(
            &a.id,
            Purpose::EmailCode,
            &hash,
            self.now + EMAIL_CODE_TTL,
            self.now,
            true,
        )?;
        self.send(&a.email, Mail::EmailCode { code: &code })?;
        Ok(json(
            202,
            &CodeSent {
                sent_to: mask(&a.email),
                expires_in: EMAIL_CODE_TTL,
            },
        )?)
    }

    /// `POST /v1/recovery-codes`: ten new single-use codes, shown once and stored only as
    /// keyed hashes, replacing the old set. Needs two-factor authentication on.
    pub(super) fn new_recovery_codes(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: ProofOnly = parse_json(body)?;
        let a = self.own_account(c)?;
        if a.totp_secret.is_none() {
            return Err(ApiError::new(
                ApiCode::TotpNotEnabled,
                "recovery codes stand in for the two-factor code: turn two-factor \
                 authentication on first",
            ));
        }
        self.reauthenticate(c, Some(&a), Proof::Strong, &b.proof.offer(None))?;
        self.store().drop_codes(&a.id, Purpose::Recovery)?;
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        while codes.len() < RECOVERY_CODES {
            let code = recovery_code()?;
            if codes.contains(&code) {
                continue;
            }
            let hash = self.hash(Purpose::Recovery, &code);
            self.store()
                .put_code(&a.id, Purpose::Recovery, &hash, NEVER, self.now, false)?;
            codes.push(code);
        }
        self.changed(c, &a.email, ActivityKind::RecoveryCodesGenerated)?;
        Ok(json(200, &RecoveryCodes { codes })?)
    }

    /// `POST /v1/email`: the new address, after a strong re-authentication; both addresses
    /// are told. The edge claimed the new address in its directory first (`EMAIL_TAKEN` when
    /// another account has it, answered only after the proof, so a token alone learns nothing)
    /// and moves the directory rows by this answer, which names the previous address.
    pub(super) fn change_email(&self, c: &Caller, req: &Request, body: &[u8]) -> R<Response> {
        let b: EmailChange = parse_json(body)?;
        let new_email = wire::clean_email(&wire::required(b.new_email.clone(), "new_email")?)?;
        let a = self.own_account(c)?;
        self.reauthenticate(c, Some(&a), Proof::Strong, &b.proof.offer(None))?;
        if new_email == a.email {
            return Ok(json(200, &EmailOut { email: &a.email })?);
        }
        if header(req, internal::EMAIL_TAKEN).is_some()
            || self.store().account_by_email(&new_email)?.is_some()
        {
            return Err(ApiError::new(
                ApiCode::AccountExists,
                "another account uses this email",
            ));
        }
        self.store().set_email(&a.id, &new_email)?;
        self.send(
            &a.email,
            Mail::EmailChanged {
                new_email: &new_email,
            },
        )?;
        self.changed(c, &new_email, ActivityKind::EmailChanged)?;
        let answer = json(200, &EmailOut { email: &new_email })?;
        answer.headers().set(internal::OLD_EMAIL, &a.email)?;
        Ok(answer)
    }

    /// `GET /internal/account-email?account=`: the email this shard holds for an account, for
    /// the directory settling a claim left pending.
    pub(super) fn account_email(&self, req: &Request) -> R<Response> {
        let url = req.url()?;
        let account = url
            .query_pairs()
            .find(|(k, _)| k == "account")
            .and_then(|(_, v)| AccountId::new(&v))
            .ok_or_else(|| ApiError::invalid("account is required"))?;
        let email = self.store().account_by_id(&account)?.map(|a| a.email);
        Ok(json(200, &AccountEmail { email })?)
    }

    /// A sensitive change made from session `c`: logged, mailed to `email` and pushed to the
    /// account's other live sessions.
    pub(super) fn changed(&self, c: &Caller, email: &str, kind: ActivityKind) -> R<()> {
        self.note(&c.account, kind, Some(&c.session.id))?;
        self.send(email, Mail::Security { event: kind })?;
        self.sockets.security(&c.account, &c.session.id, kind);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(
            mask("alice@example.com"),
            "a\u{2022}\u{2022}\u{2022}@example.com"
        );
        assert_eq!(mask("nope"), "\u{2022}\u{2022}\u{2022}");
    }

    #[test]
    fn recovery_codes_have_their_shape() {
        let c = recovery_code().unwrap();
        assert_eq!(c.len(), 11);
        assert_eq!(c.as_bytes()[5], b'-');
        assert!(c
            .chars()
            .all(|ch| ch == '-' || ch.is_ascii_lowercase() || ('2'..='7').contains(&ch)));
    }
}
