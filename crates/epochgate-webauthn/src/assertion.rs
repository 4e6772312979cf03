//! Assertion (`navigator.credentials.get`): signing in, or re-authenticating, with a passkey.
//!
//! The caller first finds the stored passkey by the response's credential id (`rawId`); a
//! missing one is [`Error::UnknownCredential`], reported by the caller. Then, in order:
//! 1. clientDataJSON: well formed, `type` `webauthn.get`, challenge opens for the purpose
//!    (login with an empty binding, re-authentication with the account's) and has not expired,
//!    origin allowed, not cross-origin;
//! 2. authenticator data: well formed, RP id hash, UP, UV;
//! 3. the signature over `authenticatorData ‖ SHA-256(clientDataJSON)` under the stored key;
//! 4. the counter: when either the stored or the new count is non-zero, the new one must be
//!    greater (`counter_regressed` otherwise: the passkey may be cloned; the caller logs it);
//! 5. the challenge's nonce is spent (`challenge_replayed` if it already was).
//!
//! On success the caller stores [`Asserted::sign_count`] and the backup state.

use sha2::{Digest, Sha256};

use crate::authenticator_data::AuthenticatorData;
use crate::challenge::Purpose;
use crate::client_data::{self, Ceremony};
use crate::{Error, RelyingParty, SpentChallenges, StoredKey};

/// What the origin keeps of a passkey to verify an assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPasskey {
    /// The public key from registration.
    pub key: StoredKey,
    /// The last signature counter seen.
    pub sign_count: u32,
}

/// An assertion that verified: what the origin updates on the stored passkey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asserted {
    /// The new signature counter, to store.
    pub sign_count: u32,
    /// BS flag: the credential is currently backed up (may change over a passkey's life).
    pub backed_up: bool,
    /// BE flag: the credential may be synced.
    pub backup_eligible: bool,
}

impl RelyingParty {
    /// Verifies an assertion for `purpose` ([`Purpose::Login`] with an empty `binding`, or
    /// [`Purpose::Reauthentication`] with the account's id bytes) against the stored passkey;
    /// see the module documentation for what is checked and in which order. A registration
    /// challenge never passes here.
    #[allow(clippy::too_many_arguments)]
    pub fn verify_assertion<S: SpentChallenges + ?Sized>(
        &self,
        key: &[u8; 32],
        purpose: Purpose,
        binding: &[u8],
        now: i64,
        stored: &StoredPasskey,
        client_data_json: &[u8],
        authenticator_data: &[u8],
        signature: &[u8],
        spent: &mut S,
    ) -> Result<Asserted, Error<S::Error>> {
        let (opened, asserted) = self
            .check_assertion(
                key,
                purpose,
                binding,
                now,
                stored,
                client_data_json,
                authenticator_data,
                signature,
            )
            .map_err(Error::widen)?;
        // Spent before the counter is judged: a replayed answer repeats its counter, and must
        // be told apart from a cloned authenticator (`challenge_replayed`, not
        // `counter_regressed`). A regression burns a challenge its authenticator did sign.
        match spent.spend(opened.nonce, opened.expires_at) {
            Ok(true) => {}
            Ok(false) => return Err(Error::ChallengeReplayed),
            Err(e) => return Err(Error::Store(e)),
        }
        if (stored.sign_count != 0 || asserted.sign_count != 0)
            && asserted.sign_count <= stored.sign_count
        {
            return Err(Error::CounterRegressed);
        }
        Ok(asserted)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_assertion(
        &self,
        key: &[u8; 32],
        purpose: Purpose,
        binding: &[u8],
        now: i64,
        stored: &StoredPasskey,
        client_data_json: &[u8],
        authenticator_data: &[u8],
        signature: &[u8],
    ) -> Result<(crate::Opened, Asserted), Error> {
        if purpose == Purpose::Registration {
            return Err(Error::ChallengeInvalid);
        }
        let opened = client_data::check(
            self,
            client_data_json,
            Ceremony::Get,
            key,
            purpose,
            binding,
            now,
        )?;
        let data = AuthenticatorData::parse(authenticator_data)?;
        data.check_for(self)?;
        let mut message = Vec::with_capacity(authenticator_data.len() + 32);
        message.extend_from_slice(authenticator_data);
        message.extend_from_slice(&Sha256::digest(client_data_json));
        stored.key.verify(&message, signature)?;
        Ok((
            opened,
            Asserted {
                sign_count: data.sign_count,
                backed_up: data.backed_up(),
                backup_eligible: data.backup_eligible(),
            },
        ))
    }
}
