//! Configuration from the Worker's vars and secrets, turned into core types, and the names and
//! defaults both halves share. Parsing errors become a 503 `not_configured` that names the
//! variable to fix.

use epochgate::{KeySet, PrivateKey, PublicKey};
use worker::Env;

use crate::error::ApiError;
use crate::password::Argon2Params;
use crate::sealed::{DataKey, DATA_KEY};

/// The Durable Object binding of the origin (`wrangler.toml`).
pub const ORIGIN_BINDING: &str = "ORIGIN";
/// The name of the single origin instance.
pub const ORIGIN_NAME: &str = "origin";
/// The Durable Object binding of the email directory (`wrangler.toml`).
pub const DIRECTORY_BINDING: &str = "DIRECTORY";

/// How many origin (and directory) shards the deployment has (`ORIGIN_SHARDS`, `shards.rs`).
pub fn shards(env: &Env) -> Result<crate::shards::Shards, ApiError> {
    crate::shards::Shards::new(number(
        env,
        "ORIGIN_SHARDS",
        u64::from(crate::shards::DEFAULT_SHARDS),
    )?)
}

/// The Durable Object binding of the revocation feed (`wrangler.toml`).
pub const FEED_BINDING: &str = "FEED";
/// The name of the single feed instance.
pub const FEED_NAME: &str = "feed";
/// Default width of the edge's shared-read time slot, ms (`FEED_CACHE_SLOT_MS`; 0: no cache).
pub const DEFAULT_FEED_CACHE_SLOT_MS: u64 = 250;
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

/// An on/off var, `default` when unset; anything but `on` or `off` names the var.
pub fn switch(env: &Env, name: &str, default: bool) -> Result<bool, ApiError> {
    match text(env, name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(ApiError::not_configured(format!(
            "{name} is {other:?}; it must be on or off"
        ))),
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

/// Default lifetime of a WebSocket ticket (`POST /v1/events/ticket`), seconds.
pub const DEFAULT_EVENTS_TICKET_TTL: u64 = 30;

/// The lifetime of a WebSocket ticket from `EVENTS_TICKET_TTL_SECONDS`: 1 to 300 seconds, 30
/// by default (tests shorten it to see tickets expire).
pub fn events_ticket_ttl(env: &Env) -> Result<i64, ApiError> {
    let name = "EVENTS_TICKET_TTL_SECONDS";
    match number(env, name, DEFAULT_EVENTS_TICKET_TTL)? {
        n @ 1..=300 => Ok(n as i64),
        n => Err(ApiError::not_configured(format!(
            "{name} is {n}; it must be 1 to 300 seconds"
        ))),
    }
}

/// The secret that signs the upstream assertion (`edge/assertion.rs`).
pub const UPSTREAM_SIGNING_JWK: &str = "UPSTREAM_SIGNING_JWK";

/// The key of the upstream assertion: a private OKP/Ed25519 JWK of its own, never a token or
/// revocation key (an upstream that trusted its JWKS would otherwise accept session tokens or
/// updates as assertions, and the other way round). An error names the variable.
pub fn upstream_key(env: &Env, others: &PublicKeys) -> Result<PrivateKey, ApiError> {
    let key = private_key(env, UPSTREAM_SIGNING_JWK)?;
    let set = KeySet::new(vec![key.public()])
        .map_err(|e| ApiError::not_configured(format!("{UPSTREAM_SIGNING_JWK}: {e}")))?;
    if set.shares_key_with(&others.tokens) || set.shares_key_with(&others.revocation) {
        return Err(ApiError::not_configured(format!(
            "{UPSTREAM_SIGNING_JWK} must be a key of its own, not a token or revocation key"
        )));
    }
    Ok(key)
}

/// The key that seals secrets and hashes codes at rest (`DATA_KEY`: 32 bytes, base64url).
pub fn data_key(env: &Env) -> Result<DataKey, ApiError> {
    DataKey::from_secret(text(env, DATA_KEY).as_deref())
        .map_err(|e| ApiError::not_configured(e.to_string()))
}

/// Milliseconds of estimated password-hashing CPU each edge isolate may spend per second
/// (`HASH_BUDGET_MS`); past it, requests that would hash are answered 503 `overloaded`.
pub const DEFAULT_HASH_BUDGET_MS: u64 = 250;

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

/// The binding of Cloudflare's `send_email` (`MAIL_MODE=send_email`; `wrangler.toml`).
pub const MAIL_BINDING: &str = "MAIL";
/// `PUBLIC_URL` when unset: where `wrangler dev` serves the page.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8787";
/// `MAIL_FROM` when unset, in `dev` mode only: a reserved domain (RFC 2606) that can never be
/// someone else's. The other modes must name a sender their provider accepts.
pub const DEFAULT_MAIL_FROM: &str = "epochgate <no-reply@epochgate.invalid>";
/// Default first retry delay of a failed delivery, seconds (doubled at each failure).
pub const DEFAULT_MAIL_RETRY_SECONDS: u64 = 10;

/// How the origin delivers mail (`MAIL_MODE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// `dev` (the default): delivered at once into the outbox an admin reads, and logged.
    Dev,
    /// `http`: `POST MAIL_API_URL` `{from, to, subject, text}` with `Authorization: Bearer
    /// MAIL_API_KEY`.
    Http {
        /// `MAIL_API_URL`.
        url: String,
        /// `MAIL_API_KEY` (a secret).
        key: Secret,
    },
    /// `send_email`: Cloudflare's binding [`MAIL_BINDING`].
    SendEmail,
}

/// A secret string whose `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Mail settings: `MAIL_MODE` (and its own vars), `MAIL_FROM`, `PUBLIC_URL`,
/// `MAIL_RETRY_SECONDS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// How mail leaves.
    pub transport: MailTransport,
    /// The `From` header, `Name <address>` or a bare address.
    pub from: String,
    /// The page's address, no trailing slash, for links in mail.
    pub public_url: String,
    /// First retry delay of a failed delivery, seconds.
    pub retry_seconds: i64,
}

impl MailSettings {
    /// From the Worker's vars and secrets.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        Self::from_lookup(
            |name| text(env, name),
            number(env, "MAIL_RETRY_SECONDS", DEFAULT_MAIL_RETRY_SECONDS)?,
        )
    }

    /// From a lookup of vars (`None` when unset or empty): the parser the tests drive.
    pub fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        retry_seconds: u64,
    ) -> Result<Self, ApiError> {
        let bad = |m: String| ApiError::not_configured(m);
        let mode = var("MAIL_MODE").map(|m| m.trim().to_owned());
        let transport = match mode.as_deref() {
            None | Some("dev") => MailTransport::Dev,
            Some("http") => {
                let url = var("MAIL_API_URL")
                    .ok_or_else(|| bad("MAIL_MODE is http but MAIL_API_URL is not set".into()))?;
                if !is_http_url(&url) {
                    return Err(bad(format!(
                        "MAIL_API_URL is {url:?}; it must be an http(s) URL"
                    )));
                }
                let key = var("MAIL_API_KEY").ok_or_else(|| {
                    bad("MAIL_MODE is http but the secret MAIL_API_KEY is not set".into())
                })?;
                MailTransport::Http {
                    url,
                    key: Secret(key),
                }
            }
            Some("send_email") => MailTransport::SendEmail,
            Some(other) => {
                return Err(bad(format!(
                    "MAIL_MODE is {other:?}; it must be dev, http or send_email"
                )))
            }
        };
        let from = match var("MAIL_FROM") {
            Some(f) => f.trim().to_owned(),
            None if transport == MailTransport::Dev => DEFAULT_MAIL_FROM.to_owned(),
            None => {
                return Err(bad(
                    "MAIL_FROM is not set; the http and send_email modes need a sender their provider accepts"
                        .into(),
                ))
            }
        };
        if mail_address(&from).is_none() {
            return Err(bad(format!(
                "MAIL_FROM is {from:?}; it must be an address or \"Name <address>\""
            )));
        }
        let public_url = var("PUBLIC_URL").unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned());
        let public_url = public_url.trim().trim_end_matches('/').to_owned();
        if !is_http_url(&public_url) {
            return Err(bad(format!(
                "PUBLIC_URL is {public_url:?}; it must be an http(s) URL"
            )));
        }
        let retry_seconds = i64::try_from(retry_seconds.clamp(1, 3600)).unwrap_or(1);
        Ok(MailSettings {
            transport,
            from,
            public_url,
            retry_seconds,
        })
    }
}

fn is_http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The address of a `From` value (`Name <a@b>` or `a@b`): one `@` with something on each side,
/// no whitespace, angle brackets or control characters (a header line cannot be injected).
pub fn mail_address(from: &str) -> Option<&str> {
    if from.chars().any(char::is_control) {
        return None;
    }
    let addr = match (from.rfind('<'), from.ends_with('>')) {
        (Some(open), true) => from.get(open + 1..from.len() - 1)?,
        (None, false) => from,
        _ => return None,
    };
    let (local, domain) = addr.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !addr
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == '"' || c == ',');
    ok.then_some(addr)
}

#[cfg(test)]
mod mail_tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<MailSettings, ApiError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        MailSettings::from_lookup(
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            DEFAULT_MAIL_RETRY_SECONDS,
        )
    }

    #[test]
    fn dev_is_the_default() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.transport, MailTransport::Dev);
        assert_eq!(s.from, DEFAULT_MAIL_FROM);
        assert_eq!(s.public_url, DEFAULT_PUBLIC_URL);
        assert_eq!(s.retry_seconds, 10);
        assert_eq!(
            parse(&[("MAIL_MODE", " dev ")]).unwrap().transport,
            MailTransport::Dev
        );
    }

    #[test]
    fn http_needs_its_url_key_and_sender() {
        let ok = parse(&[
            ("MAIL_MODE", "http"),
            ("MAIL_API_URL", "https://mail.example/send"),
            ("MAIL_API_KEY", "k"),
            ("MAIL_FROM", "Acme <security@acme.example>"),
            ("PUBLIC_URL", "https://acme.example/"),
        ])
        .unwrap();
        assert_eq!(
            ok.transport,
            MailTransport::Http {
                url: "https://mail.example/send".into(),
                key: Secret("k".into())
            }
        );
        assert_eq!(ok.public_url, "https://acme.example");
        assert!(
            !format!("{ok:?}").contains("\"k\""),
            "the key is not printed"
        );
        for missing in ["MAIL_API_URL", "MAIL_API_KEY", "MAIL_FROM"] {
            let vars: Vec<(&str, &str)> = [
                ("MAIL_MODE", "http"),
                ("MAIL_API_URL", "https://mail.example/send"),
                ("MAIL_API_KEY", "k"),
                ("MAIL_FROM", "a@acme.example"),
            ]
            .into_iter()
            .filter(|(k, _)| *k != missing)
            .collect();
            let e = parse(&vars).unwrap_err();
            assert_eq!((e.status(), e.code()), (503, "not_configured"));
            assert!(e.message().contains(missing), "{}", e.message());
        }
        let e = parse(&[
            ("MAIL_MODE", "http"),
            ("MAIL_API_URL", "ftp://x"),
            ("MAIL_API_KEY", "k"),
        ])
        .unwrap_err();
        assert!(e.message().contains("MAIL_API_URL"));
    }

    #[test]
    fn a_wrong_mode_names_the_choices() {
        for mode in ["smtp", "DEV", "sendmail"] {
            let e = parse(&[("MAIL_MODE", mode)]).unwrap_err();
            assert_eq!((e.status(), e.code()), (503, "not_configured"));
            assert!(e.message().contains("dev, http or send_email"));
        }
        let s = parse(&[("MAIL_MODE", "send_email"), ("MAIL_FROM", "a@b.example")]).unwrap();
        assert_eq!(s.transport, MailTransport::SendEmail);
    }

    #[test]
    fn senders_and_urls() {
        assert_eq!(mail_address("a@b.example"), Some("a@b.example"));
        assert_eq!(
            mail_address("Acme Security <a@b.example>"),
            Some("a@b.example")
        );
        for bad in [
            "a",
            "@b",
            "a@",
            "a b@c",
            "A <a@b",
            "a@b>",
            "A <a@b>\r\nBcc: x@y",
            "<a@b@c>",
        ] {
            assert_eq!(mail_address(bad), None, "{bad:?}");
        }
        assert!(parse(&[("MAIL_FROM", "nobody")]).is_err());
        assert!(parse(&[("PUBLIC_URL", "example.com")]).is_err());
        assert!(parse(&[("PUBLIC_URL", "https://")]).is_err());
    }
}
