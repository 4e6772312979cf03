//! WebAuthn (passkey) verification for epochgate: pure functions over bytes, keys and `now`,
//! with no I/O, no clock and no randomness, building natively and for `wasm32-unknown-unknown`.
//!
//! # What is checked, in which order
//!
//! A ceremony starts with a [`Challenge`] the origin issues statelessly: version, [`Purpose`]
//! (registration, login, re-authentication), expiry (300 s) and a random nonce, under an
//! HMAC-SHA256 tag that also covers the account it is bound to. Then:
//!
//! - [`RelyingParty::verify_registration`]: clientDataJSON (`webauthn.create`, challenge,
//!   exact origin, not cross-origin) → attestationObject (`fmt` `none` or ignored) →
//!   authenticator data (RP id hash, user present, user verified, attested credential, strict
//!   COSE key: ES256 on the curve or EdDSA not weak, nothing trailing) → nonce spent.
//! - [`RelyingParty::verify_assertion`]: clientDataJSON (`webauthn.get`, challenge of the
//!   purpose and binding, exact origin, not cross-origin) → authenticator data (RP id hash, user
//!   present, user verified) → signature over `authenticatorData ‖ SHA-256(clientDataJSON)` →
//!   nonce spent → signature counter.
//!
//! The nonce is spent only once the response is proven to come from the credential (every
//! check up to the signature passed), so a forged or bent response never burns a challenge and
//! an accepted one can never be replayed. An assertion's counter is judged after the spend: a
//! replayed answer repeats its counter and must read as `challenge_replayed`, not as a cloned
//! authenticator; a real regression burns the challenge its authenticator signed. Each refusal
//! has one stable [`Error::code`].
//!
//! # What the caller (the origin) must do
//!
//! - Issue challenges with fresh random nonces and a 32-byte key it keeps secret, binding
//!   registration and re-authentication challenges to the account id.
//! - Keep spent nonces ([`SpentChallenges`]) at least until they expire.
//! - Store [`NewPasskey`] after registration under [`NewPasskey::credential_id`] (the id the
//!   authenticator put in the verified authenticator data, not the JSON's `id`), refusing a
//!   credential id it already has.
//! - For an assertion, find the passkey by its credential id (`rawId`; a missing one is
//!   [`Error::UnknownCredential`], the caller's to report). For a re-authentication check that
//!   it belongs to the signed-in account; for a sign-in, that a `userHandle`, when present, is
//!   the passkey's account.
//! - After success, store [`Asserted::sign_count`] and the backup flags; after
//!   [`Error::CounterRegressed`], log it: the passkey may have been cloned.
//!
//! Attestation statements are not verified and no authenticator model is preferred.

// Lints are set once for the workspace, in the root Cargo.toml.

mod assertion;
mod authenticator_data;
pub mod b64url;
mod cbor;
mod challenge;
mod client_data;
mod cose;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod registration;
mod relying_party;
mod spent;

pub use assertion::{Asserted, StoredPasskey};
pub use authenticator_data::{MAX_AUTHENTICATOR_DATA_BYTES, MAX_CREDENTIAL_ID_BYTES};
pub use challenge::{
    Challenge, Opened, Purpose, CHALLENGE_DOMAIN, CHALLENGE_LEN, CHALLENGE_LIFETIME,
    CHALLENGE_VERSION,
};
pub use client_data::MAX_CLIENT_DATA_BYTES;
pub use cose::{Algorithm, StoredKey};
pub use error::Error;
pub use registration::{NewPasskey, MAX_ATTESTATION_OBJECT_BYTES};
pub use relying_party::RelyingParty;
pub use spent::{MemorySpent, SpentChallenges};
