//! Registration (`navigator.credentials.create`): a new passkey for a signed-in account.
//!
//! The order of checks, each refusing with its own code:
//! 1. clientDataJSON: well formed, `type` `webauthn.create`, challenge opens for
//!    [`Purpose::Registration`] and this account's binding and has not expired, origin allowed,
//!    not cross-origin;
//! 2. attestationObject: a CBOR map of exactly `fmt` (text), `attStmt` (map; empty for `none`,
//!    ignored for any other format) and `authData` (bytes), nothing after it;
//! 3. authenticator data: RP id hash, UP, UV, AT, credential id 1..=1023 bytes, the COSE key
//!    (ES256 or EdDSA, else `unsupported_algorithm`; on the curve and not weak, else
//!    `invalid_key`), extensions only with ED, nothing after;
//! 4. the challenge's nonce is spent (`challenge_replayed` if it already was).
//!
//! Attestation statements are not verified: a passkey proves possession of its key at sign-in,
//! and this relying party trusts no authenticator make over another.

use crate::authenticator_data::AuthenticatorData;
use crate::cbor::{self, Value};
use crate::challenge::Purpose;
use crate::client_data::{self, Ceremony};
use crate::{Error, RelyingParty, SpentChallenges, StoredKey};

/// Largest attestationObject accepted: attestation certificates may be a few KiB.
pub const MAX_ATTESTATION_OBJECT_BYTES: usize = 32 * 1024;

/// A passkey that passed registration, for the origin to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPasskey {
    /// The credential id (`rawId`), which the origin looks passkeys up by.
    pub credential_id: Vec<u8>,
    /// The verified public key.
    pub public_key: StoredKey,
    /// The authenticator's signature counter (0 for most synced passkeys).
    pub sign_count: u32,
    /// BE flag: the credential may be synced to other devices.
    pub backup_eligible: bool,
    /// BS flag: the credential is currently backed up.
    pub backed_up: bool,
    /// The authenticator model's AAGUID (all zeros when attestation is `none`).
    pub aaguid: [u8; 16],
}

impl RelyingParty {
    /// Verifies a registration response for the account whose id bytes are `binding`; see the
    /// module documentation for what is checked and in which order. `key` is the challenge MAC
    /// key; `now` is Unix seconds.
    pub fn verify_registration<S: SpentChallenges + ?Sized>(
        &self,
        key: &[u8; 32],
        binding: &[u8],
        now: i64,
        client_data_json: &[u8],
        attestation_object: &[u8],
        spent: &mut S,
    ) -> Result<NewPasskey, Error<S::Error>> {
        let opened = client_data::check(
            self,
            client_data_json,
            Ceremony::Create,
            key,
            Purpose::Registration,
            binding,
            now,
        )
        .map_err(Error::widen)?;
        let passkey = self
            .check_attestation(attestation_object)
            .map_err(Error::widen)?;
        match spent.spend(opened.nonce, opened.expires_at) {
            Ok(true) => Ok(passkey),
            Ok(false) => Err(Error::ChallengeReplayed),
            Err(e) => Err(Error::Store(e)),
        }
    }

    fn check_attestation(&self, attestation_object: &[u8]) -> Result<NewPasskey, Error> {
        if attestation_object.len() > MAX_ATTESTATION_OBJECT_BYTES {
            return Err(Error::Malformed);
        }
        let object = cbor::decode(attestation_object).map_err(|_| Error::Malformed)?;
        // Exactly the three members; a `none` statement must be empty (WebAuthn 8.7), any other
        // format's statement is not read.
        let (
            Value::Map(entries),
            Some(Value::Text(fmt)),
            Some(Value::Map(statement)),
            Some(Value::Bytes(auth_data)),
        ) = (
            &object,
            object.get_text("fmt"),
            object.get_text("attStmt"),
            object.get_text("authData"),
        )
        else {
            return Err(Error::Malformed);
        };
        if entries.len() != 3 || (*fmt == "none" && !statement.is_empty()) {
            return Err(Error::Malformed);
        }
        let data = AuthenticatorData::parse(auth_data)?;
        data.check_for(self)?;
        let backup_eligible = data.backup_eligible();
        let backed_up = data.backed_up();
        let attested = data.attested.ok_or(Error::Malformed)?;
        Ok(NewPasskey {
            credential_id: attested.credential_id,
            public_key: attested.public_key,
            sign_count: data.sign_count,
            backup_eligible,
            backed_up,
            aaguid: attested.aaguid,
        })
    }
}
