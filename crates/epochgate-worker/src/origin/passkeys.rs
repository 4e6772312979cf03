//! Passkeys (WebAuthn): registering one after a strong re-authentication, listing, renaming and
//! removing them, signing in with one (a discoverable credential, which satisfies two-factor
//! authentication), re-authenticating with one, and `POST /v1/reauth`, which re-mints the
//! caller's token with a fresh `auth_time` and `amr` for a step-up.
//!
//! The ceremonies are checked by the `epochgate-webauthn` crate; this file moves rows in and
//! out of it. Challenges carry their own purpose, expiry and binding under a key derived from
//! `DATA_KEY`, so issuing one writes nothing; answering one records its nonce in this shard
//! (`spent_challenges`), so each works once. A registration's and a re-authentication's
//! challenge is bound to the account and the session that asked for it; a sign-in's (issued by
//! the edge, `edge/passkeys.rs`) to nobody, and it is spent in the shard of the account whose
//! passkey answered it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use epochgate::AccountId;
use epochgate_webauthn::{
    Error as WebAuthnError, Purpose as CeremonyPurpose, SpentChallenges, StoredKey, StoredPasskey,
};
use serde_json::json;
use worker::Response;

use super::ctx::{Caller, Ctx};
use super::proof::{Auth, Proof, Used};
use super::store::{PasskeyRow, Store};
use super::wire::{
    self, AssertionIn, PasskeyLogin, PasskeyOut, PasskeyRegister, PasskeyRename, ProofOnly,
    Reauthenticated,
};
use crate::error::{ApiCode, ApiError};
use crate::http::{json, no_content, parse_json};
use crate::rp::{new_challenge, CEREMONY_TIMEOUT_MS};
use crate::vocab::ActivityKind;

type R<T> = std::result::Result<T, ApiError>;

/// Passkeys an account may hold.
const MAX_PASSKEYS: usize = 20;

/// A passkey that answered a challenge: what to record when the whole proof passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PasskeyUse {
    id: String,
    sign_count: u32,
    backed_up: bool,
}

#[cfg(test)]
impl PasskeyUse {
    pub(super) fn example() -> Self {
        PasskeyUse {
            id: "k".into(),
            sign_count: 1,
            backed_up: false,
        }
    }
}

/// The shard's record of answered challenges, for the WebAuthn crate.
struct Spent<'a> {
    store: &'a Store,
    now: i64,
}

impl SpentChallenges for Spent<'_> {
    type Error = ApiError;

    fn spend(&mut self, nonce: [u8; 16], expires_at: i64) -> Result<bool, ApiError> {
        self.store
            .spend_challenge(&B64.encode(nonce), expires_at, self.now)
    }
}

/// What a challenge is bound to: the account and the session that asked for it.
fn binding(c: &Caller) -> Vec<u8> {
    let mut b = c.account.as_str().as_bytes().to_vec();
    b.push(0);
    b.extend_from_slice(c.session.id.as_str().as_bytes());
    b
}

fn unknown_passkey(id: &str) -> ApiError {
    ApiError::new(
        ApiCode::UnknownPasskey,
        format!("no passkey {id:?} on this account"),
    )
}

/// Challenge faults are the client's to retry with a new challenge; the rest fail the factor.
fn is_challenge<E>(e: &WebAuthnError<E>) -> bool {
    matches!(
        e.code(),
        "challenge_invalid" | "challenge_expired" | "challenge_replayed"
    )
}

fn invalid_challenge<E>(e: &WebAuthnError<E>) -> ApiError {
    ApiError::new(
        ApiCode::InvalidChallenge,
        format!(
            "{}: the challenge is forged, expired, meant for something else or already used; \
             ask for new options and try again",
            e.code()
        ),
    )
}

/// `PublicKeyCredentialDescriptor`s of `rows` (`excludeCredentials`, `allowCredentials`).
fn descriptors(rows: &[PasskeyRow]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|p| json!({ "type": "public-key", "id": p.id }))
        .collect()
}

fn out(p: &PasskeyRow) -> PasskeyOut<'_> {
    let algorithm = B64
        .decode(&p.public_key)
        .ok()
        .and_then(|b| StoredKey::from_bytes(&b).ok())
        .map_or("unknown", |k| k.algorithm().name());
    PasskeyOut {
        id: &p.id,
        name: &p.name,
        created_at: p.created_at,
        last_used_at: p.last_used_at,
        backed_up: p.backed_up,
        backup_eligible: p.backup_eligible,
        algorithm,
    }
}

impl Ctx<'_> {
    fn spent(&self) -> Spent<'_> {
        Spent {
            store: self.store(),
            now: self.now,
        }
    }

    fn challenge_key(&self) -> &[u8; 32] {
        self.ready.data_key.challenge_key()
    }

    /// A challenge for `purpose`, bound to the caller's account and session.
    fn session_challenge(&self, c: &Caller, purpose: CeremonyPurpose) -> R<String> {
        new_challenge(self.challenge_key(), purpose, &binding(c), self.now)
    }

    /// `GET /v1/passkeys`.
    pub(super) fn list_passkeys(&self, c: &Caller) -> R<Response> {
        let rows = self.store().passkeys(&c.account)?;
        let passkeys: Vec<PasskeyOut<'_>> = rows.iter().map(out).collect();
        Ok(json(200, &json!({ "passkeys": passkeys }))?)
    }

    /// `POST /v1/passkeys/registration-options`: after a strong re-authentication, the
    /// options for `navigator.credentials.create`, with a challenge bound to this session.
    pub(super) fn passkey_registration_options(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: ProofOnly = parse_json(body)?;
        let account = self.own_account(c)?;
        let existing = self.store().passkeys(&c.account)?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(ApiError::invalid(format!(
                "an account holds at most {MAX_PASSKEYS} passkeys: remove one first"
            )));
        }
        self.reauthenticate(c, Some(&account), Proof::Strong, &b.proof.offer(None))?;
        let challenge = self.session_challenge(c, CeremonyPurpose::Registration)?;
        let rp = &self.ready.rp;
        let exclude = descriptors(&existing);
        Ok(json(
            200,
            &json!({ "publicKey": {
                "challenge": challenge,
                "rp": { "id": rp.id, "name": rp.name },
                "user": {
                    "id": B64.encode(c.account.as_str()),
                    "name": account.email,
                    "displayName": account.email,
                },
                "pubKeyCredParams": [
                    { "type": "public-key", "alg": -8 },
                    { "type": "public-key", "alg": -7 },
                ],
                "timeout": CEREMONY_TIMEOUT_MS,
                "attestation": "none",
                "authenticatorSelection": {
                    "residentKey": "required",
                    "requireResidentKey": true,
                    "userVerification": "required",
                },
                "excludeCredentials": exclude,
            }}),
        )?)
    }

    /// `POST /v1/passkeys`: the authenticator's answer to a registration challenge this
    /// session asked for. Logged, mailed and pushed to the other sessions.
    pub(super) fn register_passkey(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: PasskeyRegister = parse_json(body)?;
        let account = self.own_account(c)?;
        let name = match &b.name {
            Some(n) => wire::passkey_name(n)?,
            None => format!("Passkey on {}", c.session.name),
        };
        let name = wire::passkey_name(&name.chars().take(64).collect::<String>())?;
        let cred = b
            .credential
            .as_ref()
            .ok_or_else(|| ApiError::invalid("credential is required"))?
            .decode()?;
        if self.store().passkeys(&c.account)?.len() >= MAX_PASSKEYS {
            return Err(ApiError::invalid(format!(
                "an account holds at most {MAX_PASSKEYS} passkeys: remove one first"
            )));
        }
        if self.store().passkey(&cred.id)?.is_some() {
            return Err(ApiError::new(
                ApiCode::PasskeyExists,
                "this passkey is already registered",
            ));
        }
        let new = self
            .ready
            .relying_party
            .verify_registration(
                self.challenge_key(),
                &binding(c),
                self.now,
                &cred.client_data_json,
                &cred.data,
                &mut self.spent(),
            )
            .map_err(|e| match e {
                WebAuthnError::Store(e) => e,
                e if is_challenge(&e) => invalid_challenge(&e),
                e => ApiError::new(ApiCode::InvalidPasskey, e.to_string()),
            })?;
        if B64.encode(&new.credential_id) != cred.id {
            return Err(ApiError::new(
                ApiCode::InvalidPasskey,
                "credential.id differs from the credential the authenticator registered",
            ));
        }
        let row = PasskeyRow {
            id: cred.id,
            account: c.account.clone(),
            name,
            public_key: B64.encode(new.public_key.to_bytes()),
            sign_count: new.sign_count,
            backup_eligible: new.backup_eligible,
            backed_up: new.backed_up,
            created_at: self.now,
            last_used_at: None,
        };
        if !self.store().insert_passkey(&row)? {
            return Err(ApiError::new(
                ApiCode::PasskeyExists,
                "this passkey is already registered",
            ));
        }
        self.changed(c, &account.email, ActivityKind::PasskeyAdded)?;
        Ok(json(201, &json!({ "passkey": out(&row) }))?)
    }

    /// `PATCH /v1/passkeys/{id}`.
    pub(super) fn rename_passkey(&self, c: &Caller, id: &str, body: &[u8]) -> R<Response> {
        let b: PasskeyRename = parse_json(body)?;
        let name = wire::passkey_name(&wire::required(b.name, "name")?)?;
        if !self.store().rename_passkey(&c.account, id, &name)? {
            return Err(unknown_passkey(id));
        }
        let row = self
            .store()
            .passkey(id)?
            .ok_or_else(|| unknown_passkey(id))?;
        Ok(json(200, &json!({ "passkey": out(&row) }))?)
    }

    /// `DELETE /v1/passkeys/{id}`: after a re-authentication (any factor, another passkey or
    /// this one). Logged, mailed and pushed.
    pub(super) fn remove_passkey(&self, c: &Caller, id: &str, body: &[u8]) -> R<Response> {
        let b: ProofOnly = parse_json(body)?;
        let account = self.own_account(c)?;
        if self
            .store()
            .passkey(id)?
            .is_none_or(|p| p.account != c.account)
        {
            return Err(unknown_passkey(id));
        }
        self.reauthenticate(c, Some(&account), Proof::Any, &b.proof.offer(None))?;
        if !self.store().delete_passkey(&c.account, id)? {
            return Err(unknown_passkey(id));
        }
        self.changed(c, &account.email, ActivityKind::PasskeyRemoved)?;
        Ok(no_content()?)
    }

    /// `POST /v1/reauth/passkey-options`: a challenge for this session and the account's
    /// passkeys to answer it with.
    pub(super) fn reauth_passkey_options(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let _: wire::Empty = parse_json(body)?;
        let passkeys = self.store().passkeys(&c.account)?;
        if passkeys.is_empty() {
            return Err(ApiError::new(
                ApiCode::NoPasskeys,
                "this account has no passkey: confirm with your password or a code instead",
            ));
        }
        let challenge = self.session_challenge(c, CeremonyPurpose::Reauthentication)?;
        let allow = descriptors(&passkeys);
        Ok(json(
            200,
            &json!({ "publicKey": {
                "challenge": challenge,
                "rpId": self.ready.rp.id,
                "timeout": CEREMONY_TIMEOUT_MS,
                "userVerification": "required",
                "allowCredentials": allow,
            }}),
        )?)
    }

    /// `POST /v1/reauth`: any proof, then the caller's session re-minted — same session, slot
    /// and epoch — with the proof's `auth_time` and `amr`, for a route that asks for a recent
    /// or a strong authentication (step-up).
    pub(super) fn reauth(&self, c: &Caller, body: &[u8]) -> R<Response> {
        let b: ProofOnly = parse_json(body)?;
        let account = self.store().account_by_id(&c.account)?;
        let auth = self.reauthenticate(c, account.as_ref(), Proof::Any, &b.proof.offer(None))?;
        let issued = self.mint(
            &c.account,
            &c.session.id,
            c.session.slot,
            c.session.epoch,
            Some(&auth),
        )?;
        Ok(json(
            200,
            &Reauthenticated {
                issued,
                auth_time: auth.at,
                amr: auth.amr,
            },
        )?)
    }

    /// Checks a re-authentication's passkey: one of the caller's, answering a challenge this
    /// session asked for. `None` when it fails as a factor (counted by the caller); a
    /// challenge fault is its own 400; a counter that went back is logged.
    pub(super) fn check_reauth_passkey(
        &self,
        c: &Caller,
        assertion: &AssertionIn,
    ) -> R<Option<PasskeyUse>> {
        let cred = assertion.decode()?;
        let Some(row) = self
            .store()
            .passkey(&cred.id)?
            .filter(|p| p.account == c.account)
        else {
            return Ok(None);
        };
        self.check_assertion(
            &row,
            CeremonyPurpose::Reauthentication,
            &binding(c),
            &cred,
            Some(c),
        )
    }

    fn check_assertion(
        &self,
        row: &PasskeyRow,
        purpose: CeremonyPurpose,
        binding: &[u8],
        cred: &wire::Decoded,
        by: Option<&Caller>,
    ) -> R<Option<PasskeyUse>> {
        let key = B64
            .decode(&row.public_key)
            .ok()
            .and_then(|b| StoredKey::from_bytes(&b).ok())
            .ok_or_else(|| ApiError::internal(format!("passkey {} has a bad key row", row.id)))?;
        let stored = StoredPasskey {
            key,
            sign_count: row.sign_count,
        };
        match self.ready.relying_party.verify_assertion(
            self.challenge_key(),
            purpose,
            binding,
            self.now,
            &stored,
            &cred.client_data_json,
            &cred.data,
            &cred.signature,
            &mut self.spent(),
        ) {
            Ok(a) => Ok(Some(PasskeyUse {
                id: row.id.clone(),
                sign_count: a.sign_count,
                backed_up: a.backed_up,
            })),
            Err(WebAuthnError::Store(e)) => Err(e),
            Err(e) if is_challenge(&e) => Err(invalid_challenge(&e)),
            Err(e) => {
                if matches!(e, WebAuthnError::CounterRegressed) {
                    self.note(
                        &row.account,
                        ActivityKind::PasskeyCounterRegressed,
                        by.map(|c| &c.session.id),
                    )?;
                }
                Ok(None)
            }
        }
    }

    /// Records a use of a passkey whose proof passed.
    pub(super) fn passkey_used(&self, p: &PasskeyUse) -> R<()> {
        self.store()
            .passkey_used(&p.id, p.sign_count, p.backed_up, self.now)
    }

    /// `POST /v1/login/passkey`: a discoverable credential's answer to a sign-in challenge from
    /// the edge, in the shard of the account its user handle names. Every failure of the
    /// passkey itself is 401 `invalid_credentials`, as a wrong password is; it satisfies
    /// two-factor authentication, and waits for a required password reset like a password.
    pub(super) fn passkey_login(&self, body: &[u8]) -> R<Response> {
        let b: PasskeyLogin = parse_json(body)?;
        let cred = b
            .credential
            .as_ref()
            .ok_or_else(|| ApiError::invalid("credential is required"))?
            .decode()?;
        let device = wire::device(b.device)?;
        let refused = || {
            ApiError::new(
                ApiCode::InvalidCredentials,
                "this passkey could not sign you in: it may have been removed from the account",
            )
        };
        let handle = cred
            .user_handle
            .as_deref()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(AccountId::new);
        let row = self
            .store()
            .passkey(&cred.id)?
            .filter(|p| Some(&p.account) == handle.as_ref())
            .ok_or_else(refused)?;
        let account = self
            .store()
            .account_by_id(&row.account)?
            .ok_or_else(refused)?;
        let Some(used) = self.check_assertion(&row, CeremonyPurpose::Login, &[], &cred, None)?
        else {
            self.note(&account.id, ActivityKind::SignInFailed, None)?;
            return Err(refused());
        };
        if self.store().reset_required(&account.id)? {
            return Err(ApiError::new(
                ApiCode::PasswordResetRequired,
                "this account was secured after a sign-in its owner did not recognise: reset \
                 the password (POST /v1/password/reset) before signing in",
            ));
        }
        self.passkey_used(&used)?;
        let auth = Auth::of(
            false,
            &Used {
                passkey: Some(used),
                ..Used::default()
            },
            self.now,
        );
        let issued = self.sign_in(&account, device, &auth)?;
        Ok(json(201, &issued)?)
    }
}
