//! The validator: the whole path of one token, in order —
//! size → structure and header → key → signature → claims → issuer and audience → time →
//! revocation epoch → freshness of the view → step-up — ending in exactly one [`Verdict`].

use std::sync::Arc;

use crate::cache::TokenCache;
use crate::error::{ConfigError, Error, Reason, Refusal, UpdateError};
use crate::hash::KeyedState;
use crate::ids::AccountKey;
use crate::keys::{HostVerify, KeySet};
use crate::session::Session;
use crate::step_up::StepUp;
use crate::token::{UnverifiedToken, DEFAULT_TYPE};
use crate::update::{Layout, UpdateKind};
use crate::update_bytes::UpdateBytes;
use crate::view::RevocationView;
use crate::view::SnapshotAt;

/// Largest accepted clock tolerance, seconds.
pub const MAX_CLOCK_TOLERANCE: u64 = 60;
/// Largest accepted verified-token cache, entries (each holds its token, up to `maxTokenBytes`).
pub const MAX_CACHE_SIZE: usize = 1_000_000;

/// Validator options. `Default` is safe but incomplete: issuer and audience must be set, or
/// [`Validator::new`] refuses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Required `iss`.
    pub issuer: String,
    /// An audience `aud` must contain.
    pub audience: String,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`; default 30, at most 60.
    pub clock_tolerance: u64,
    /// Longest accepted token in bytes, checked before anything else; default 4096.
    pub max_token_bytes: usize,
    /// Required header `typ`; default `session+jwt`.
    pub token_type: String,
    /// Seconds after the newest applied update's creation beyond which valid tokens are refused
    /// with `state_stale`; 0 turns the check off (default).
    pub max_state_age: u64,
    /// Verified-token cache entries; 0 turns the cache off. Default 10000.
    pub cache_size: usize,
    /// Step-up for every validation: seconds the user's authentication (`auth_time`) may be
    /// old, else `insufficient_user_authentication`; `None` (default) asks no age.
    pub max_auth_age: Option<u64>,
    /// Step-up for every validation: methods that must all be in the token's `amr`; empty
    /// (default) asks none.
    pub required_amr: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            issuer: String::new(),
            audience: String::new(),
            clock_tolerance: 30,
            max_token_bytes: 4096,
            token_type: DEFAULT_TYPE.to_owned(),
            max_state_age: 0,
            cache_size: 10_000,
            max_auth_age: None,
            required_amr: Vec::new(),
        }
    }
}

/// The outcome of [`Validator::validate`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// The token is valid; the session it proves.
    Valid(Arc<Session>),
    /// The token is refused, for exactly one reason.
    Refused(Refusal),
}

impl Verdict {
    /// The reason of a refusal, `None` when valid.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Verdict::Valid(_) => None,
            Verdict::Refused(r) => Some(r.reason),
        }
    }

    /// The session of a valid token.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Verdict::Valid(s) => Some(s),
            Verdict::Refused(_) => None,
        }
    }
}

/// Validates session tokens against keys, options and a revocation view.
pub struct Validator {
    options: Options,
    keys: KeySet,
    revocation_keys: Option<KeySet>,
    view: RevocationView,
    cache: TokenCache,
    cache_hits: u64,
    /// Counts the updates applied: a verdict judged against the view stays current only while
    /// this is unchanged (a host's own verdict cache keys on it).
    view_generation: u64,
    /// The options' step-up, checked once.
    step_up: StepUp,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("options", &self.options)
            .field("keys", &self.keys)
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// A validator. `seed` must be 16 secret random bytes: it keys the cache and view hashers so
    /// an attacker cannot steer them. Revocation keys must not be token keys.
    pub fn new(
        options: Options,
        keys: KeySet,
        revocation_keys: Option<KeySet>,
        seed: [u8; 16],
    ) -> Result<Self, Error> {
        let bad = |message: String| Err(Error::config(ConfigError::InvalidOption, message));
        if options.issuer.is_empty() {
            return bad("issuer is required: the iss every token must carry".into());
        }
        if options.audience.is_empty() {
            return bad("audience is required: a value every token's aud must contain".into());
        }
        if options.clock_tolerance > MAX_CLOCK_TOLERANCE {
            return bad(format!(
                "clockTolerance is {} s; it may be at most {MAX_CLOCK_TOLERANCE} s",
                options.clock_tolerance
            ));
        }
        if options.max_token_bytes < 64 || options.max_token_bytes > 1 << 20 {
            return bad(format!(
                "maxTokenBytes is {}; use 64 to 1048576",
                options.max_token_bytes
            ));
        }
        if options.token_type.is_empty() {
            return bad("type must not be empty".into());
        }
        if options.cache_size > MAX_CACHE_SIZE {
            return bad(format!(
                "cacheSize is {}; use 0 (off) to {MAX_CACHE_SIZE}",
                options.cache_size
            ));
        }
        let step_up = StepUp {
            max_age: options.max_auth_age,
            required_amr: options.required_amr.clone(),
        }
        .checked()?;
        if let Some(rk) = &revocation_keys {
            if rk.shares_key_with(&keys) {
                return Err(Error::config(
                    ConfigError::KeyReuse,
                    "a revocation key is also a token key; sign revocation updates with a key of their own",
                ));
            }
        }
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15] = seed;
        let cache = TokenCache::new(options.cache_size, KeyedState::new(seed));
        // The view's hasher gets a different key from the same secret.
        let view_seed = [
            a8, a9, a10, a11, a12, a13, a14, a15, a0, a1, a2, a3, a4, a5, a6, a7,
        ]
        .map(|b| b ^ 0x5c);
        Ok(Validator {
            options,
            keys,
            revocation_keys,
            view: RevocationView::new(view_seed),
            cache,
            cache_hits: 0,
            view_generation: 0,
            step_up,
        })
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The token keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The revocation view.
    pub fn view(&self) -> &RevocationView {
        &self.view
    }

    /// The sequence of the newest applied revocation update.
    pub fn revocation_seq(&self) -> u64 {
        self.view.seq()
    }

    /// How many tokens the cache holds.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// How many validations were answered from the cache (no signature verification) so far.
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits
    }

    /// A number that changes with every update applied (so whenever the revocation view may
    /// have changed), and at no other time: a revocation or state verdict judged at one
    /// generation may be reused only while the generation is the same.
    pub fn view_generation(&self) -> u64 {
        self.view_generation
    }

    /// The last Unix second at which a valid token is not refused as `state_stale`: the newest
    /// applied update's creation plus `max_state_age`, `i64::MIN` before the first update, and
    /// `None` when `max_state_age` is 0 (the view never goes stale). It moves only when an
    /// update is applied.
    pub fn fresh_until(&self) -> Option<i64> {
        if self.options.max_state_age == 0 {
            return None;
        }
        let max = i64::try_from(self.options.max_state_age).unwrap_or(i64::MAX);
        Some(
            self.view
                .newest_created_at()
                .map_or(i64::MIN, |created| created.saturating_add(max)),
        )
    }

    /// The step-up [`Validator::validate_with`] applies for `per_call`: the options' and the
    /// call's together (the smaller age, every method of either). A refusal with
    /// `insufficient_user_authentication` was judged against this, so a caller can tell the
    /// client what it asked.
    pub fn step_up_for(&self, per_call: &StepUp) -> StepUp {
        self.step_up.and(per_call)
    }

    /// Validates `token` at `now` (Unix seconds) with the options' step-up, if any. Never
    /// panics, for any input.
    pub fn validate(&mut self, token: &str, now: i64) -> Verdict {
        self.validate_with(token, now, &StepUp::default())
    }

    /// Validates `token` at `now` and then asks `step_up` of it on top of the options' step-up
    /// ([`Validator::step_up_for`]): the last step, so a token refused for anything else — a
    /// revocation, a stale view — keeps that reason. A `step_up` no token could meet (see
    /// [`StepUp::checked`]) refuses every token: it fails closed. Never panics, for any input.
    pub fn validate_with(&mut self, token: &str, now: i64, step_up: &StepUp) -> Verdict {
        self.validate_with_host(token, now, step_up, None)
    }

    /// [`Self::validate_with`], with a signature's equation left to `host` when given: the
    /// strict checks around it stay here ([`PublicKey::verify_with_host`](crate::PublicKey::verify_with_host)).
    pub fn validate_with_host(
        &mut self,
        token: &str,
        now: i64,
        step_up: &StepUp,
        host: Option<HostVerify<'_>>,
    ) -> Verdict {
        let session = match self.validate_token(token, now, host) {
            Verdict::Valid(session) => session,
            refused => return refused,
        };
        let asked = if step_up.is_empty() {
            std::borrow::Cow::Borrowed(&self.step_up)
        } else {
            std::borrow::Cow::Owned(self.step_up_for(step_up))
        };
        match asked.check(&session, now, self.options.clock_tolerance) {
            Ok(()) => Verdict::Valid(session),
            Err(why) => refused(Reason::InsufficientUserAuthentication, why.to_string()),
        }
    }

    /// Steps 1 to 9 of the token path: everything but the step-up.
    fn validate_token(&mut self, token: &str, now: i64, host: Option<HostVerify<'_>>) -> Verdict {
        if token.len() > self.options.max_token_bytes {
            return refused(
                Reason::TooLarge,
                format!(
                    "the token is {} bytes; at most {} are accepted",
                    token.len(),
                    self.options.max_token_bytes
                ),
            );
        }
        if let Some(hit) = self.cache.get(token) {
            let (session, account) = (hit.session.clone(), hit.account_key);
            self.cache_hits += 1;
            return match self.check_time(&session, now) {
                Ok(()) => self.check_revocation(session, account, now),
                Err(refusal) => {
                    self.cache.remove(token);
                    Verdict::Refused(refusal)
                }
            };
        }
        let session = match self.verify(token, host) {
            Ok(session) => session,
            Err(refusal) => return Verdict::Refused(refusal),
        };
        if let Err(refusal) = self.check_time(&session, now) {
            return Verdict::Refused(refusal);
        }
        let account = AccountKey::of(session.account.as_str());
        let session = Arc::new(session);
        self.cache.insert(token, session.clone(), account);
        self.check_revocation(session, account, now)
    }

    /// Everything that does not depend on the time or the revocation view: cacheable.
    fn verify(&self, token: &str, host: Option<HostVerify<'_>>) -> Result<Session, Refusal> {
        let unverified = UnverifiedToken::parse(token, &self.options.token_type)?;
        let session = unverified.verify_with(&self.keys, host)?;
        if session.issuer != self.options.issuer {
            return Err(Refusal::new(
                Reason::WrongIssuer,
                format!(
                    "iss is {:?}, expected {:?}",
                    session.issuer, self.options.issuer
                ),
            ));
        }
        if !session.audience.contains(&self.options.audience) {
            return Err(Refusal::new(
                Reason::WrongAudience,
                format!("aud does not contain {:?}", self.options.audience),
            ));
        }
        Ok(session)
    }

    fn check_time(&self, s: &Session, now: i64) -> Result<(), Refusal> {
        let tol = self.options.clock_tolerance as i64;
        if now >= s.expires_at.saturating_add(tol) {
            return Err(Refusal::new(
                Reason::Expired,
                format!("the token expired at {}", s.expires_at),
            ));
        }
        if let Some(nbf) = s.not_before {
            if now < nbf.saturating_sub(tol) {
                return Err(Refusal::new(
                    Reason::NotYetValid,
                    format!("the token is not valid before {nbf}"),
                ));
            }
        }
        if s.issued_at > now.saturating_add(tol) {
            return Err(Refusal::new(
                Reason::IssuedInFuture,
                format!(
                    "the token claims to be issued at {}, in the future",
                    s.issued_at
                ),
            ));
        }
        Ok(())
    }

    fn check_revocation(&self, session: Arc<Session>, account: AccountKey, now: i64) -> Verdict {
        match self.view.check(account, session.epoch, session.device) {
            Some(Reason::RevokedAll) => refused(
                Reason::RevokedAll,
                "the account signed out of all devices after this token was issued",
            ),
            Some(reason) => refused(reason, "this device was signed out"),
            None => match self.stale_by(now) {
                Some(why) => refused(Reason::StateStale, why),
                None => Verdict::Valid(session),
            },
        }
    }

    /// Why the view is too old to trust, when it is.
    fn stale_by(&self, now: i64) -> Option<String> {
        // One deadline for this check and for hosts that cache verdicts up to it.
        let until = self.fresh_until()?;
        let max = self.options.max_state_age;
        match self.view.newest_created_at() {
            None => Some(format!(
                "no revocation update has been applied and maxStateAge is {max} s"
            )),
            Some(created) => (now > until).then(|| {
                let age = now.saturating_sub(created);
                format!("the revocation view is {age} s old, over the maximum of {max} s")
            }),
        }
    }

    /// Verifies and applies a revocation update at `now`; returns the view's new sequence.
    /// A refused update leaves the view as it was.
    pub fn apply_revocation(&mut self, bytes: &[u8], now: i64) -> Result<u64, Error> {
        self.revocation_keys()?;
        self.apply_received(UpdateBytes::from_slice(bytes)?, now)
    }

    fn revocation_keys(&self) -> Result<&KeySet, Error> {
        self.revocation_keys.as_ref().ok_or_else(|| {
            Error::update(
                UpdateError::NoRevocationKeys,
                "this validator has no revocation keys; pass revocationKeys to apply updates",
            )
        })
    }

    /// [`Self::apply_revocation`] for an update received in pieces: the signature is checked
    /// where the bytes lie, and a snapshot is decoded into the view in the same allocation, so
    /// applying an update of `n` bytes needs about `n` bytes more than the view it replaces.
    pub fn apply_received(&mut self, received: UpdateBytes, now: i64) -> Result<u64, Error> {
        let keys = self.revocation_keys()?;
        let layout = Layout::of(received.as_bytes())?;
        layout.verify(keys)?;
        let limit = now.saturating_add(self.options.clock_tolerance as i64);
        if layout.created_at > limit {
            return Err(Error::update(
                UpdateError::FromFuture,
                format!(
                    "the update was created at {}, after now ({now}) plus the clock tolerance",
                    layout.created_at
                ),
            ));
        }
        let applied = match layout.kind {
            UpdateKind::Delta => {
                let update = layout.build()?;
                self.view.apply(update)
            }
            UpdateKind::Snapshot => {
                let at = SnapshotAt {
                    records: layout.records.clone(),
                    count: layout.count,
                    seq: layout.seq,
                    created_at: layout.created_at,
                    horizon: layout.horizon,
                };
                self.view.adopt_snapshot(received.into_vec(), at)
            }
        };
        if applied.is_ok() {
            self.view_generation = self.view_generation.wrapping_add(1);
        }
        applied
    }
}

fn refused(reason: Reason, message: impl Into<std::borrow::Cow<'static, str>>) -> Verdict {
    Verdict::Refused(Refusal::new(reason, message))
}
