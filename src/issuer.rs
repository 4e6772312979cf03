//! Minting session tokens.

use crate::error::{ConfigError, Error};
use crate::ids::{AccountId, SessionId};
use crate::keys::PrivateKey;
use crate::step_up::{amr_problem, auth_time_problem};
use crate::token::{encode, NewClaims, DEFAULT_TYPE};

/// Default token lifetime: 30 days.
pub const DEFAULT_TTL: u64 = 2_592_000;

/// Mints tokens for one issuer and audience with one private key.
#[derive(Debug)]
pub struct Issuer {
    issuer: String,
    audience: String,
    key: PrivateKey,
    ttl: u64,
    token_type: String,
}

/// What one token is for.
#[derive(Clone, Debug)]
pub struct MintRequest<'a> {
    /// `sub`: 1 to 128 bytes.
    pub account: &'a str,
    /// `sid`: 1 to 128 bytes.
    pub session: &'a str,
    /// `dev`: 0 to 65535.
    pub device: u32,
    /// `epo`: the account's epoch now.
    pub epoch: u64,
    /// `iat`, Unix seconds.
    pub now: i64,
    /// Lifetime in seconds; the issuer's default when `None`.
    pub ttl: Option<u64>,
    /// An optional `jti`.
    pub jti: Option<&'a str>,
    /// `auth_time`, when the user last authenticated (Unix seconds, 0 to 2⁵³ − 1); written only
    /// when `Some`. A step-up's `max_age` is judged from it.
    pub auth_time: Option<i64>,
    /// `amr`, the methods of that authentication (1 to 16 distinct names of 1 to 32 bytes of
    /// printable ASCII); written only when `Some`.
    pub amr: Option<&'a [&'a str]>,
}

fn invalid(message: String) -> Error {
    Error::config(ConfigError::InvalidClaim, message)
}

impl Issuer {
    /// An issuer; `ttl` defaults to 30 days, `token_type` to `session+jwt`.
    pub fn new(
        issuer: &str,
        audience: &str,
        key: PrivateKey,
        ttl: Option<u64>,
        token_type: Option<&str>,
    ) -> Result<Self, Error> {
        let option = |m: &str| Error::config(ConfigError::InvalidOption, m.to_owned());
        if issuer.is_empty() {
            return Err(option("issuer must not be empty"));
        }
        if audience.is_empty() {
            return Err(option("audience must not be empty"));
        }
        let ttl = ttl.unwrap_or(DEFAULT_TTL);
        if ttl == 0 || ttl > i64::MAX as u64 / 2 {
            return Err(option("ttl must be a positive number of seconds"));
        }
        let token_type = token_type.unwrap_or(DEFAULT_TYPE);
        if token_type.is_empty() {
            return Err(option("type must not be empty"));
        }
        Ok(Issuer {
            issuer: issuer.into(),
            audience: audience.into(),
            key,
            ttl,
            token_type: token_type.into(),
        })
    }

    /// The signing key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Mints one token.
    pub fn mint(&self, req: &MintRequest<'_>) -> Result<String, Error> {
        AccountId::new(req.account)
            .ok_or_else(|| invalid(format!("account: {}", AccountId::RULE)))?;
        SessionId::new(req.session)
            .ok_or_else(|| invalid(format!("session: {}", SessionId::RULE)))?;
        let dev = u16::try_from(req.device)
            .map_err(|_| invalid(format!("device is {}; it must be 0 to 65535", req.device)))?;
        let epo = u32::try_from(req.epoch).map_err(|_| {
            invalid(format!(
                "epoch is {}; it must be 0 to 4294967295",
                req.epoch
            ))
        })?;
        let ttl = req.ttl.unwrap_or(self.ttl);
        if ttl == 0 || ttl > i64::MAX as u64 / 2 {
            return Err(invalid("ttl must be a positive number of seconds".into()));
        }
        let exp = req
            .now
            .checked_add(ttl as i64)
            .ok_or_else(|| invalid("now + ttl overflows".into()))?;
        if let Some(problem) = req.auth_time.and_then(auth_time_problem) {
            return Err(invalid(problem));
        }
        if let Some(problem) = req.amr.and_then(amr_problem) {
            return Err(invalid(problem));
        }
        let claims = NewClaims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: req.account,
            sid: req.session,
            dev,
            epo,
            iat: req.now,
            exp,
            jti: req.jti,
            auth_time: req.auth_time,
            amr: req.amr,
        };
        Ok(encode(&self.key, &self.token_type, &claims))
    }
}
