//! Who may make a sensitive change: what a caller must prove again on top of the session token
//! ([`Proof`]), what it offered ([`Offer`]), and the check ([`Ctx::reauthenticate`]). A stolen
//! token alone must not change how the account signs in, nor sign its owner out.
//!
//! The factors: something known (the password, or a code mailed to the account's address) and
//! something held (a current TOTP code, or a single-use recovery code, once two-factor
//! authentication is on). A passkey is both at once — the authenticator holds the key and
//! verified its user (user verification is required) — so it is a whole proof on its own.
//!
//! What a proof used becomes the new token's `amr` (RFC 8176) and its time the `auth_time`
//! ([`Auth`]).

use super::ctx::{Caller, Ctx};
use super::mail::Mail;
use super::passkeys::PasskeyUse;
use super::store::{Account, Purpose};
use super::throttle::{Bucket, FREE};
use super::totp::code_step;
use super::wire::AssertionIn;
use crate::error::{ApiCode, ApiError};
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// What a change asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proof {
    /// Any one factor (sign-out-all, the password change).
    Any,
    /// Something known, and also something held once two-factor authentication is on
    /// (enrolling or removing a second factor, recovery codes, the email change).
    Strong,
}

/// The proof fields of a request body.
#[derive(Clone, Copy, Default)]
pub(super) struct Offer<'a> {
    pub(super) password: Option<&'a str>,
    pub(super) totp: Option<&'a str>,
    pub(super) recovery_code: Option<&'a str>,
    pub(super) email_code: Option<&'a str>,
    pub(super) passkey: Option<&'a AssertionIn>,
}

impl std::fmt::Debug for Offer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Which factors, never their values.
        f.debug_struct("Offer")
            .field("password", &self.password.is_some())
            .field("totp", &self.totp.is_some())
            .field("recovery_code", &self.recovery_code.is_some())
            .field("email_code", &self.email_code.is_some())
            .field("passkey", &self.passkey.is_some())
            .finish()
    }
}

/// When and how the user last proved who they are: a token's `auth_time` and `amr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Auth {
    /// Unix seconds.
    pub(super) at: i64,
    /// RFC 8176 method names, each once.
    pub(super) amr: Vec<&'static str>,
}

impl Auth {
    /// The methods of a proof that used `used` (and the password, when `password`): `pwd` for
    /// the password, `otp` for a TOTP, recovery or emailed code, `hwk` and `user` for a passkey
    /// (a key held in an authenticator that verified its user), and `mfa` when more than one
    /// kind of factor was proven (a passkey always is).
    pub(super) fn of(password: bool, used: &Used, at: i64) -> Self {
        let mut amr = Vec::new();
        if password {
            amr.push("pwd");
        }
        let code = used.totp_step.is_some() || used.recovery.is_some() || used.email_code.is_some();
        if code {
            amr.push("otp");
        }
        if used.passkey.is_some() {
            amr.extend(["hwk", "user"]);
        }
        let held = used.totp_step.is_some() || used.recovery.is_some();
        let known = password || used.email_code.is_some();
        if used.passkey.is_some() || (held && known) {
            amr.push("mfa");
        }
        Auth { at, amr }
    }
}

impl Offer<'_> {
    fn known(&self) -> bool {
        self.password.is_some() || self.email_code.is_some()
    }

    fn held(&self) -> bool {
        self.totp.is_some() || self.recovery_code.is_some()
    }
}

impl Proof {
    /// Whether the offer is enough to be checked at all; when not, nothing is checked or
    /// counted.
    pub(super) fn enough(self, offer: &Offer<'_>, totp_on: bool) -> bool {
        if offer.passkey.is_some() {
            return true;
        }
        match (self, totp_on) {
            (Proof::Any, totp_on) => offer.known() || (totp_on && offer.held()),
            (Proof::Strong, false) => offer.known(),
            (Proof::Strong, true) => offer.known() && offer.held(),
        }
    }

    /// The `reauth_required` message.
    fn ask(self, totp_on: bool) -> &'static str {
        match (self, totp_on) {
            (Proof::Any, false) => {
                "confirm with your password or a code sent to your email \
                                    (password or email_code)"
            }
            (Proof::Any, true) => {
                "confirm with your password, a code sent to your email, a \
                                   two-factor code or a recovery code"
            }
            (Proof::Strong, false) => {
                "confirm with your password or a code sent to your email \
                                       (password or email_code)"
            }
            (Proof::Strong, true) => {
                "confirm with your password (or a code sent to your email) \
                                      and a two-factor or recovery code"
            }
        }
    }
}

/// What a right offer uses up.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Used {
    pub(super) totp_step: Option<i64>,
    pub(super) recovery: Option<String>,
    pub(super) email_code: Option<String>,
    pub(super) passkey: Option<PasskeyUse>,
}

impl Ctx<'_> {
    /// Checks every factor offered (all must be right); `None` when one is wrong. Reads
    /// only, but for a passkey's challenge, which is spent whatever the rest of the proof is
    /// (`by`: the session re-authenticating, to whom the passkey's challenge was issued).
    pub(super) fn check_offer(
        &self,
        account: Option<&Account>,
        offer: &Offer<'_>,
        by: Option<&Caller>,
    ) -> R<Option<Used>> {
        let Some(a) = account else {
            return Ok(None);
        };
        let mut used = Used::default();
        if let (Some(assertion), Some(c)) = (offer.passkey, by) {
            match self.check_reauth_passkey(c, assertion)? {
                Some(p) => used.passkey = Some(p),
                None => return Ok(None),
            }
        }
        // The edge verified it (`passwords.rs`).
        if offer.password.is_some() && !self.password_right(Some(a))? {
            return Ok(None);
        }
        if let Some(c) = offer.totp {
            let step = a
                .totp_secret
                .as_deref()
                .and_then(|s| code_step(s, c, self.now, a.totp_last_step));
            match step {
                Some(step) => used.totp_step = Some(step),
                None => return Ok(None),
            }
        }
        if let Some(c) = offer.recovery_code {
            let hash = self.hash(Purpose::Recovery, c);
            if a.totp_secret.is_none()
                || !self
                    .store()
                    .has_code(&a.id, Purpose::Recovery, &hash, self.now)?
            {
                return Ok(None);
            }
            used.recovery = Some(hash);
        }
        if let Some(c) = offer.email_code {
            let hash = self.hash(Purpose::EmailCode, c);
            if !self
                .store()
                .has_code(&a.id, Purpose::EmailCode, &hash, self.now)?
            {
                return Ok(None);
            }
            used.email_code = Some(hash);
        }
        Ok(Some(used))
    }

    /// Uses up what a right offer used: the TOTP step, the recovery code (logged and mailed),
    /// the emailed code.
    pub(super) fn use_up(&self, account: &Account, used: &Used, by: Option<&Caller>) -> R<()> {
        if let Some(p) = &used.passkey {
            self.passkey_used(p)?;
        }
        if let Some(step) = used.totp_step {
            self.store().use_totp_step(&account.id, step)?;
        }
        if let Some(hash) = &used.recovery {
            self.store()
                .take_code(&account.id, Purpose::Recovery, hash, self.now)?;
            self.note(
                &account.id,
                ActivityKind::RecoveryCodeUsed,
                by.map(|c| &c.session.id),
            )?;
            self.send(
                &account.email,
                Mail::Security {
                    event: ActivityKind::RecoveryCodeUsed,
                },
            )?;
        }
        if let Some(hash) = &used.email_code {
            self.store()
                .take_code(&account.id, Purpose::EmailCode, hash, self.now)?;
        }
        Ok(())
    }

    /// The keyed hash a code of `purpose` is stored as.
    pub(super) fn hash(&self, purpose: Purpose, code: &str) -> String {
        self.ready.data_key.hash_code(purpose.as_str(), code)
    }

    /// Re-authentication before a sensitive change, from the caller's session: not enough
    /// offered is 401 `reauth_required` (not counted); a wrong factor is 401 `reauth_failed`,
    /// counted in the session's own throttle bucket (strangers' failures never reach it) and
    /// logged. On success the codes offered are used up. `account` is the caller's, as the
    /// handler loaded it (`None`: managed elsewhere, so nothing here can be right). Returns
    /// what the proof established, for a token re-minted by the change.
    pub(super) fn reauthenticate(
        &self,
        c: &Caller,
        account: Option<&Account>,
        proof: Proof,
        offer: &Offer<'_>,
    ) -> R<Auth> {
        let totp_on = account.is_some_and(|a| a.totp_secret.is_some());
        if !proof.enough(offer, totp_on) {
            return Err(ApiError::new(ApiCode::ReauthRequired, proof.ask(totp_on)));
        }
        let bucket = Bucket::session(&c.session.id);
        self.admit(&bucket, FREE)?;
        match (self.check_offer(account, offer, Some(c))?, account) {
            (Some(used), Some(a)) => {
                self.use_up(a, &used, Some(c))?;
                self.clear_bucket(&bucket)?;
                Ok(Auth::of(offer.password.is_some(), &used, self.now))
            }
            _ => {
                self.count(&bucket)?;
                if offer.email_code.is_some() {
                    self.store().code_missed(&c.account, Purpose::EmailCode)?;
                }
                self.note(&c.account, ActivityKind::ReauthFailed, Some(&c.session.id))?;
                Err(ApiError::new(
                    ApiCode::ReauthFailed,
                    "a password or code you sent is wrong, expired or already used",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(p: bool, t: bool, r: bool, e: bool) -> Offer<'static> {
        Offer {
            password: p.then_some("pw"),
            totp: t.then_some("123456"),
            recovery_code: r.then_some("abcde-fghij"),
            email_code: e.then_some("654321"),
            passkey: None,
        }
    }

    #[test]
    fn amr_names_each_method_once_and_mfa_only_for_two_kinds() {
        let used = |t: bool, r: bool, e: bool, p: bool| Used {
            totp_step: t.then_some(1),
            recovery: r.then(|| "h".to_owned()),
            email_code: e.then(|| "h".to_owned()),
            passkey: p.then(PasskeyUse::example),
        };
        let amr = |pw: bool, u: Used| Auth::of(pw, &u, 7).amr;
        assert_eq!(amr(true, used(false, false, false, false)), ["pwd"]);
        assert_eq!(amr(false, used(false, false, true, false)), ["otp"]);
        assert_eq!(amr(false, used(true, false, false, false)), ["otp"]);
        assert_eq!(
            amr(true, used(true, false, false, false)),
            ["pwd", "otp", "mfa"]
        );
        assert_eq!(amr(false, used(false, true, true, false)), ["otp", "mfa"]);
        assert_eq!(
            amr(false, used(false, false, false, true)),
            ["hwk", "user", "mfa"]
        );
        assert_eq!(
            amr(true, used(false, false, false, true)),
            ["pwd", "hwk", "user", "mfa"]
        );
        assert_eq!(Auth::of(true, &Used::default(), 7).at, 7);
    }

    #[test]
    fn a_token_alone_offers_nothing() {
        let none = Offer::default();
        for proof in [Proof::Any, Proof::Strong] {
            for totp_on in [false, true] {
                assert!(!proof.enough(&none, totp_on), "{proof:?} {totp_on}");
            }
        }
    }

    #[test]
    fn a_second_factor_counts_only_once_two_factor_is_on() {
        assert!(!Proof::Any.enough(&offer(false, true, false, false), false));
        assert!(!Proof::Any.enough(&offer(false, false, true, false), false));
    }

    #[test]
    fn any_factor_is_enough_for_any() {
        for o in [
            offer(true, false, false, false),
            offer(false, true, false, false),
            offer(false, false, true, false),
            offer(false, false, false, true),
        ] {
            assert!(Proof::Any.enough(&o, true), "{o:?}");
        }
    }

    #[test]
    fn strong_needs_something_known_and_held_once_two_factor_is_on() {
        // Two-factor off: the password or an emailed code.
        assert!(Proof::Strong.enough(&offer(true, false, false, false), false));
        assert!(Proof::Strong.enough(&offer(false, false, false, true), false));
        assert!(!Proof::Strong.enough(&offer(false, true, false, false), false));
        // Two-factor on: one of each, and a second factor alone is never enough.
        assert!(!Proof::Strong.enough(&offer(true, false, false, false), true));
        assert!(!Proof::Strong.enough(&offer(false, true, false, false), true));
        assert!(!Proof::Strong.enough(&offer(false, true, true, false), true));
        assert!(Proof::Strong.enough(&offer(true, true, false, false), true));
        assert!(Proof::Strong.enough(&offer(true, false, true, false), true));
        assert!(Proof::Strong.enough(&offer(false, true, false, true), true));
    }
}
