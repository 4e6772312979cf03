//! The isolate's state: one [`Validator`] and the [`Follower`] that keeps its revocation view
//! following the origin, the key sets it publishes, settings and counters. Built on the first
//! request, kept in a `thread_local`, and borrowed only between two `await`s.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use epochgate::{
    Follower, FollowerOptions, HostVerify, Options, PrivateKey, Reason, Refusal, Session, StepUp,
    Validator, Verdict,
};
use sha2::{Digest, Sha256};
use worker::Env;

use crate::config::{
    self, PublicKeys, TokenProfile, DEFAULT_HASH_BUDGET_MS, DEFAULT_LAST_SEEN_INTERVAL,
    DEFAULT_MAX_STATE_AGE, DEFAULT_STALENESS_TARGET_MS, DEFAULT_TOKEN_CACHE_SIZE,
};
use crate::error::ApiError;
use crate::host::{now_secs, random_bytes, random_id};
use crate::host_ed25519::HostEd25519;

type R<T> = std::result::Result<T, ApiError>;

/// What this isolate counted since it started, besides the follower's own counts.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Stats {
    /// Revocation reads answered by the location's cache.
    pub(super) feed_cache_hits: u64,
    /// Revocation reads the cache did not have (fetched from the feed).
    pub(super) feed_cache_misses: u64,
    pub(super) validations: u64,
    pub(super) cache_hits: u64,
    /// Refreshes that ended without applying an update.
    pub(super) refresh_errors: u64,
    /// Requests answered 503 `overloaded` because the hashing budget was spent.
    pub(super) shed: u64,
}

/// Settings read from the environment.
pub(super) struct Settings {
    /// Width of the shared-read time slot, ms (`FEED_CACHE_SLOT_MS`; 0: no cache).
    pub(super) feed_cache_slot_ms: u64,
    pub(super) revocations_url: Option<String>,
    pub(super) upstream: Option<String>,
    /// The token issuer (`ISSUER`), also the upstream assertion's `iss`.
    pub(super) issuer: String,
    /// The upstream assertion's key, or why there is none (`/app` with an upstream and the
    /// upstream JWKS answer that error; nothing else needs the key).
    pub(super) upstream_key: Result<PrivateKey, ApiError>,
    pub(super) admin_token_digest: Option<[u8; 32]>,
    pub(super) touch_interval_ms: f64,
    /// Argon2id parameters of new hashes (and of the dummy hash).
    pub(super) argon2: crate::password::Argon2Params,
    /// Whether password work is limited per client network (`NETWORK_LIMITS`, default on).
    pub(super) network_limits: bool,
    /// The deployment's origin and directory shards (`ORIGIN_SHARDS`).
    pub(super) shards: crate::shards::Shards,
    /// What `/app` routes ask of a token's authentication (`STEP_UP`).
    pub(super) step_up: crate::step_up::StepUpRules,
    /// Tests only: where a sign-up stops as if it crashed (`TEST_CRASH_SIGNUP`).
    pub(super) test_crash_signup: Option<String>,
}

/// The isolate's state.
pub(super) struct Edge {
    pub(super) validator: Validator,
    /// workerd's `node:crypto` Ed25519 for tokens' signature equations (`nodejs_compat`, and
    /// `HOST_ED25519` "on"); `None`: the wasm path, the default and the faster.
    pub(super) host_ed25519: Option<HostEd25519>,
    pub(super) follower: Follower,
    pub(super) keys_jwks: serde_json::Value,
    pub(super) revocation_jwks: serde_json::Value,
    pub(super) settings: Settings,
    pub(super) stats: Stats,
    /// When each session's activity was last reported to the origin (ms).
    pub(super) touched: HashMap<String, f64>,
    pub(super) isolate: String,
    /// What is left of the isolate's password-hashing budget (`budget.rs`).
    pub(super) hash_budget: super::budget::Budget,
    /// Networks a per-network limiter refused, and until when (ms) (`passwords.rs`).
    pub(super) limited: HashMap<String, f64>,
}

thread_local! {
    static EDGE: RefCell<Option<Edge>> = const { RefCell::new(None) };
}

/// SHA-256, so the admin token is compared in constant time whatever its length.
pub(super) fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn build(env: &Env) -> R<Edge> {
    let keys = PublicKeys::from_env(env)?;
    let profile = TokenProfile::from_env(env)?;
    let upstream_key = config::upstream_key(env, &keys);
    let issuer = profile.issuer.clone();
    let cache_size = config::number(env, "TOKEN_CACHE_SIZE", DEFAULT_TOKEN_CACHE_SIZE)?;
    let mut options = Options {
        issuer: profile.issuer,
        audience: profile.audience,
        max_state_age: config::number(env, "MAX_STATE_AGE", DEFAULT_MAX_STATE_AGE)?,
        cache_size: usize::try_from(cache_size).unwrap_or(10_000),
        ..Options::default()
    };
    if let Some(t) = profile.token_type {
        options.token_type = t;
    }
    if let Some(tol) = config::text(env, "CLOCK_TOLERANCE") {
        options.clock_tolerance = tol
            .trim()
            .parse()
            .map_err(|_| ApiError::not_configured("CLOCK_TOLERANCE must be 0 to 60"))?;
    }
    let keys_jwks = keys.tokens.to_jwks();
    let revocation_jwks = keys.revocation.to_jwks();
    let validator = Validator::new(
        options,
        keys.tokens,
        Some(keys.revocation),
        random_bytes::<16>()?,
    )?;
    let follower = Follower::new(FollowerOptions {
        staleness_target_ms: config::number(
            env,
            "STALENESS_TARGET_MS",
            DEFAULT_STALENESS_TARGET_MS,
        )?,
        ..FollowerOptions::default()
    })?;
    let touch = config::number(
        env,
        "LAST_SEEN_INTERVAL_SECONDS",
        DEFAULT_LAST_SEEN_INTERVAL,
    )?;
    let host_ed25519 = config::switch(env, "HOST_ED25519", false)?
        .then(HostEd25519::find)
        .flatten();
    Ok(Edge {
        validator,
        host_ed25519,
        follower,
        keys_jwks,
        revocation_jwks,
        settings: Settings {
            revocations_url: config::text(env, "REVOCATIONS_URL"),
            upstream: config::text(env, "UPSTREAM_URL"),
            issuer,
            upstream_key,
            admin_token_digest: config::text(env, "ADMIN_TOKEN").map(|t| digest(&t)),
            touch_interval_ms: touch as f64 * 1000.0,
            feed_cache_slot_ms: config::number(
                env,
                "FEED_CACHE_SLOT_MS",
                config::DEFAULT_FEED_CACHE_SLOT_MS,
            )?,
            argon2: config::argon2_params(env)?,
            network_limits: config::switch(env, "NETWORK_LIMITS", true)?,
            shards: config::shards(env)?,
            step_up: crate::step_up::StepUpRules::parse(config::text(env, "STEP_UP").as_deref())?,
            test_crash_signup: config::text(env, "TEST_CRASH_SIGNUP"),
        },
        stats: Stats::default(),
        touched: HashMap::new(),
        isolate: random_id("i_")?,
        limited: HashMap::new(),
        hash_budget: super::budget::Budget::new(
            config::number(env, "HASH_BUDGET_MS", DEFAULT_HASH_BUDGET_MS)?,
            crate::host::now_ms(),
        ),
    })
}

/// Runs `f` on the isolate's state, building it on first use. Never held across an `await`.
pub(super) fn with_edge<T>(env: &Env, f: impl FnOnce(&mut Edge) -> T) -> R<T> {
    EDGE.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(ApiError::internal)?;
        if slot.is_none() {
            *slot = Some(build(env)?);
        }
        match slot.as_mut() {
            Some(edge) => Ok(f(edge)),
            None => Err(ApiError::internal("edge state missing")),
        }
    })
}

/// Validates in the isolate and counts: every call is a validation, and the core counts the
/// ones it answered from its cache.
pub(super) fn validate(env: &Env, token: &str) -> R<std::result::Result<Arc<Session>, Refusal>> {
    with_edge(env, |e| {
        let hits = e.validator.cache_hits();
        let host = e.host_ed25519.as_ref().map(|h| {
            move |public: &[u8; 32], message: &[u8], signature: &[u8; 64]| {
                h.verify(public, message, signature)
            }
        });
        let host = host.as_ref().map(|h| h as HostVerify<'_>);
        let verdict = e
            .validator
            .validate_with_host(token, now_secs(), &StepUp::default(), host);
        e.stats.validations += 1;
        e.stats.cache_hits += e.validator.cache_hits() - hits;
        match verdict {
            Verdict::Valid(s) => Ok(s),
            Verdict::Refused(r) => Err(r),
            _ => Err(Refusal {
                reason: Reason::Malformed,
                message: "unknown verdict".into(),
            }),
        }
    })
}
