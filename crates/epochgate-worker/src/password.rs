//! Password hashing with Argon2id (RFC 9106) in PHC string form, so each stored hash carries the
//! parameters it was made with and verification never depends on the current configuration.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;
use crate::host::random_bytes;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's minimum recommendation for Argon2id: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Argon2Params {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    fn hasher(&self) -> Result<Argon2<'static>, ApiError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| ApiError::not_configured(format!("invalid Argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// 8 to 256 characters.
pub fn check_policy(p: &str, what: &str) -> Result<(), ApiError> {
    let chars = p.chars().count();
    if !(8..=256).contains(&chars) {
        return Err(ApiError::invalid(format!(
            "{what} must be 8 to 256 characters long"
        )));
    }
    Ok(())
}

/// A digest of a stored PHC string: what a verdict on it is tied to, so a verdict on a hash that
/// changed meanwhile is not taken for the new one.
pub fn phc_digest(phc: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(phc.as_bytes()))
}

/// Hashes `password` with a fresh 16-byte salt.
pub fn hash(password: &str, params: &Argon2Params) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(ApiError::internal)?;
    let hashed = params
        .hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(ApiError::internal)?;
    Ok(hashed.to_string())
}

/// Whether `password` matches the PHC string `stored` (the comparison is constant-time inside
/// the argon2 crate). A stored hash that cannot be parsed never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real verification, so an unknown email answers in the same time
/// as a wrong password.
pub fn verify_dummy(password: &str, params: &Argon2Params) {
    if let Ok(h) = params.hasher() {
        let salt = [0u8; 16];
        let mut out = [0u8; 32];
        let _ = h.hash_password_into(password.as_bytes(), &salt, &mut out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_owasp_minimum() {
        let d = Argon2Params::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19_456, 2, 1));
    }

    #[test]
    fn policy_counts_characters() {
        assert!(check_policy("1234567", "p").is_err());
        assert!(check_policy("12345678", "p").is_ok());
        assert!(check_policy(&"é".repeat(256), "p").is_ok());
        assert!(check_policy(&"x".repeat(257), "p").is_err());
    }

    #[test]
    fn phc_round_trip_with_fixed_salt() {
        let params = Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let salt = SaltString::encode_b64(&[1u8; 16]).unwrap();
        let phc = params
            .hasher()
            .unwrap()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(verify("correct horse", &phc));
        assert!(!verify("wrong horse", &phc));
        assert!(!verify("correct horse", "not a phc string"));
    }
}
