//! Configuration from the Worker's vars and secrets, turned into core types, and the names and
//! defaults both halves share. Parsing errors become a 503 `not_configured` that names the
//! variable to fix.

use epochgate::{KeySet, PrivateKey, PublicKey};
use worker::Env;

use crate::error::ApiError;
use crate::password::Argon2Params;

/// The Durable Object binding of the origin (`wrangler.toml`).
pub const ORIGIN_BINDING: &str = "ORIGIN";
/// The name of the single origin instance.
pub const ORIGIN_NAME: &str = "origin";
/// Default seconds between two `last_seen_at` writes of one session.
pub const DEFAULT_LAST_SEEN_INTERVAL: u64 = 300;
/// Default staleness target of the edge's view, milliseconds.
pub const DEFAULT_STALENESS_TARGET_MS: u64 = 1000;
/// Default hard maximum age of the edge's view, seconds.
pub const DEFAULT_MAX_STATE_AGE: u64 = 30;
/// Default size of the edge's token cache.
pub const DEFAULT_TOKEN_CACHE_SIZE: u64 = 10_000;

/// Default issuer (`iss`) when `ISSUER` is unset.
pub const DEFAULT_ISSUER: &str = "epochgate";
/// Default audience (`aud`) when `AUDIENCE` is unset.
pub const DEFAULT_AUDIENCE: &str = "epochgate";

/// A string var or secret, `None` when unset or empty.
pub fn text(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|s| !s.trim().is_empty())
}

/// A numeric var, `default` when unset; an error names the var when it is not a number.
pub fn number(env: &Env, name: &str, default: u64) -> Result<u64, ApiError> {
    match text(env, name) {
        None => Ok(default),
        Some(s) => s.trim().parse().map_err(|_| {
            ApiError::not_configured(format!(
                "{name} is {s:?}; it must be a non-negative integer"
            ))
        }),
    }
}

fn private_key(env: &Env, name: &str) -> Result<PrivateKey, ApiError> {
    let jwk = text(env, name).ok_or_else(|| {
        ApiError::not_configured(format!(
            "the secret {name} is not set; for local development run `node scripts/gen-dev-vars.mjs`"
        ))
    })?;
    PrivateKey::from_jwk(&jwk).map_err(|e| ApiError::not_configured(format!("{name}: {e}")))
}

/// Issuer, audience, token type and lifetime.
#[derive(Clone, Debug)]
pub struct TokenProfile {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Header `typ`; the core's default when `None`.
    pub token_type: Option<String>,
    /// Token lifetime, seconds.
    pub ttl: u64,
}

impl TokenProfile {
    /// From `ISSUER`, `AUDIENCE`, `TOKEN_TYPE` and `TOKEN_TTL_SECONDS`.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        Ok(TokenProfile {
            issuer: text(env, "ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into()),
            audience: text(env, "AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
            token_type: text(env, "TOKEN_TYPE"),
            ttl: number(env, "TOKEN_TTL_SECONDS", epochgate::DEFAULT_TTL)?,
        })
    }
}

/// The private keys only the origin uses.
#[derive(Debug)]
pub struct OriginKeys {
    /// Signs session tokens (`TOKEN_SIGNING_JWK`).
    pub token: PrivateKey,
    /// Signs revocation updates (`REVOCATION_SIGNING_JWK`).
    pub revocation: PrivateKey,
}

impl OriginKeys {
    /// From the secrets.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        Ok(OriginKeys {
            token: private_key(env, "TOKEN_SIGNING_JWK")?,
            revocation: private_key(env, "REVOCATION_SIGNING_JWK")?,
        })
    }
}

/// The public keys the edge verifies with: the current token key plus every key of
/// `TOKEN_PREVIOUS_JWKS` (rotation), and the revocation key.
#[derive(Debug)]
pub struct PublicKeys {
    /// Token keys, current first.
    pub tokens: KeySet,
    /// Revocation-update keys.
    pub revocation: KeySet,
}

impl PublicKeys {
    /// From the secrets.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        let current = private_key(env, "TOKEN_SIGNING_JWK")?.public();
        let mut tokens: Vec<PublicKey> = vec![current.clone()];
        if let Some(previous) = text(env, "TOKEN_PREVIOUS_JWKS") {
            let set = KeySet::from_jwks(&previous)
                .map_err(|e| ApiError::not_configured(format!("TOKEN_PREVIOUS_JWKS: {e}")))?;
            tokens.extend(
                set.keys()
                    .iter()
                    .filter(|k| k.kid() != current.kid())
                    .cloned(),
            );
        }
        let tokens = KeySet::new(tokens)
            .map_err(|e| ApiError::not_configured(format!("token keys: {e}")))?;
        let revocation = KeySet::new(vec![private_key(env, "REVOCATION_SIGNING_JWK")?.public()])
            .map_err(|e| ApiError::not_configured(format!("REVOCATION_SIGNING_JWK: {e}")))?;
        Ok(PublicKeys { tokens, revocation })
    }
}

/// Argon2id parameters from `ARGON2_MEMORY_KIB`, `ARGON2_ITERATIONS`, `ARGON2_PARALLELISM`
/// (OWASP's minimum by default).
pub fn argon2_params(env: &Env) -> Result<Argon2Params, ApiError> {
    let d = Argon2Params::default();
    let get = |name: &str, default: u32| -> Result<u32, ApiError> {
        u32::try_from(number(env, name, u64::from(default))?)
            .map_err(|_| ApiError::not_configured(format!("{name} is too large")))
    };
    Ok(Argon2Params {
        memory_kib: get("ARGON2_MEMORY_KIB", d.memory_kib)?,
        iterations: get("ARGON2_ITERATIONS", d.iterations)?,
        parallelism: get("ARGON2_PARALLELISM", d.parallelism)?,
    })
}
