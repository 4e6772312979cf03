//! Step-up: when and how the user last proved who they are (`auth_time` and `amr`, OpenID
//! Connect Core 1.0 section 2 and RFC 8176), and what a route may ask of it. A session token
//! lives for weeks; a payment or a security change wants a recent, strong sign-in on top of it,
//! which the token can only prove if it says when and how the user authenticated.
//!
//! The rules for the two claims live here once, for the token parser (`malformed`), the issuer
//! (`invalid_claim`) and the options that ask for methods (`invalid_option`).

use core::fmt;

use crate::error::{ConfigError, Error};
use crate::session::Session;

/// Largest `auth_time`, as for every time a JS host reads: the largest integer a JS number holds
/// exactly (2⁵³ − 1).
pub const MAX_AUTH_TIME: i64 = (1 << 53) - 1;
/// Most methods one `amr` lists: RFC 8176 registers a dozen, and a token names a few.
pub const MAX_AMR_METHODS: usize = 16;
/// Longest method name in bytes.
pub const MAX_AMR_METHOD_BYTES: usize = 32;

/// Why `auth_time` cannot be used, if it cannot.
pub(crate) fn auth_time_problem(auth_time: i64) -> Option<String> {
    (!(0..=MAX_AUTH_TIME).contains(&auth_time))
        .then(|| format!("auth_time is {auth_time}; it must be 0 to {MAX_AUTH_TIME}"))
}

/// Why a list of methods cannot be an `amr`, if it cannot: 1 to 16 names, each 1 to 32 bytes of
/// printable ASCII, none twice. Printable ASCII keeps a name safe to repeat in a header or a log;
/// a repeated name would make "the same methods" depend on how they are counted.
pub(crate) fn amr_problem<S: AsRef<str>>(methods: &[S]) -> Option<String> {
    if methods.is_empty() || methods.len() > MAX_AMR_METHODS {
        return Some(format!(
            "amr lists {} methods; it must list 1 to {MAX_AMR_METHODS}",
            methods.len()
        ));
    }
    for (i, method) in methods.iter().enumerate() {
        let method = method.as_ref();
        let printable = method.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if method.is_empty() || method.len() > MAX_AMR_METHOD_BYTES || !printable {
            return Some(format!(
                "every amr method must be 1 to {MAX_AMR_METHOD_BYTES} bytes of printable ASCII"
            ));
        }
        if methods.iter().skip(i + 1).any(|m| m.as_ref() == method) {
            return Some(format!("amr lists the method {method:?} twice"));
        }
    }
    None
}

/// What a step-up asks of a valid token: an authentication at most `max_age` seconds old, made
/// with at least the methods of `required_amr`. The default asks nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepUp {
    /// Seconds the authentication (`auth_time`) may be old; `None` asks no age.
    pub max_age: Option<u64>,
    /// Methods that must all appear in the token's `amr`; empty asks none.
    pub required_amr: Vec<String>,
}

/// Why a token does not meet a [`StepUp`]; its `Display` is the refusal's message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Insufficient {
    /// An age was asked and the token has no `auth_time`.
    NoAuthTime,
    /// The authentication is `age` seconds old, more than the `max_age` asked.
    TooOld {
        /// Seconds since `auth_time`.
        age: i64,
        /// The age asked for.
        max_age: u64,
    },
    /// `auth_time` is later than now plus the clock tolerance: no age can be trusted from it.
    InFuture {
        /// The token's `auth_time`.
        auth_time: i64,
    },
    /// Methods were asked and the token has no `amr`.
    NoAmr,
    /// These asked methods are not in the token's `amr`.
    MissingMethods(Vec<String>),
}

impl fmt::Display for Insufficient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Insufficient::NoAuthTime => f.write_str(
                "a recent authentication is required and the token does not say when the user authenticated (no auth_time)",
            ),
            Insufficient::TooOld { age, max_age } => write!(
                f,
                "the user authenticated {age} s ago; at most {max_age} s is accepted here"
            ),
            Insufficient::InFuture { auth_time } => write!(
                f,
                "the token claims an authentication at {auth_time}, in the future"
            ),
            Insufficient::NoAmr => f.write_str(
                "particular authentication methods are required and the token names none (no amr)",
            ),
            Insufficient::MissingMethods(missing) => {
                f.write_str("the authentication did not use the required method(s)")?;
                // Written one by one: `join` would add over a kilobyte to the browser package.
                for (i, method) in missing.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    f.write_str(method)?;
                }
                Ok(())
            }
        }
    }
}

impl StepUp {
    /// Whether this asks nothing: every valid token meets it.
    pub fn is_empty(&self) -> bool {
        self.max_age.is_none() && self.required_amr.is_empty()
    }

    /// This requirement, if it is one a token could meet: `max_age` at most 2⁵³ − 1 and
    /// `required_amr` empty or a valid `amr` list. `invalid_option` otherwise.
    pub fn checked(self) -> Result<StepUp, Error> {
        let bad = |message: String| Err(Error::config(ConfigError::InvalidOption, message));
        if let Some(age) = self.max_age {
            if age > MAX_AUTH_TIME as u64 {
                return bad(format!(
                    "maxAuthAge is {age} s; it may be at most {MAX_AUTH_TIME}"
                ));
            }
        }
        if !self.required_amr.is_empty() {
            if let Some(problem) = amr_problem(&self.required_amr) {
                return bad(format!("requiredAmr: {problem}"));
            }
        }
        Ok(self)
    }

    /// Both requirements at once: the smaller age and every method of either, so a per-call
    /// step-up can only add to what a validator always asks.
    pub fn and(&self, other: &StepUp) -> StepUp {
        let max_age = match (self.max_age, other.max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut required_amr = self.required_amr.clone();
        for method in &other.required_amr {
            if !required_amr.contains(method) {
                required_amr.push(method.clone());
            }
        }
        StepUp {
            max_age,
            required_amr,
        }
    }

    /// Whether `session` meets this at `now`. The age is `now − auth_time` with no tolerance
    /// added (an age is an age), but an `auth_time` more than `tolerance` seconds in the future
    /// fails: it would make any age pass.
    pub fn check(&self, session: &Session, now: i64, tolerance: u64) -> Result<(), Insufficient> {
        if let Some(max_age) = self.max_age {
            let auth_time = session.auth_time.ok_or(Insufficient::NoAuthTime)?;
            let tolerance = i64::try_from(tolerance).unwrap_or(i64::MAX);
            if auth_time > now.saturating_add(tolerance) {
                return Err(Insufficient::InFuture { auth_time });
            }
            let age = now.saturating_sub(auth_time);
            if age > i64::try_from(max_age).unwrap_or(i64::MAX) {
                return Err(Insufficient::TooOld { age, max_age });
            }
        }
        if !self.required_amr.is_empty() {
            let amr = session.amr.as_deref().ok_or(Insufficient::NoAmr)?;
            // A plain loop: iterator adapters here cost the browser package about a kilobyte.
            let mut missing = Vec::new();
            for method in &self.required_amr {
                if !amr.contains(method) {
                    missing.push(method.clone());
                }
            }
            if !missing.is_empty() {
                return Err(Insufficient::MissingMethods(missing));
            }
        }
        Ok(())
    }
}
