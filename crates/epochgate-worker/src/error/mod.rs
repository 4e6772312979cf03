//! The Worker's one error boundary: every failure becomes an [`ApiError`], answered as
//! `{"error": code, "message": ...}` (docs/CONTRACT.md section 4). Codes come from three closed
//! sets only: the Worker's own [`ApiCode`]s, the core's token [`Reason`]s (through
//! [`ApiError::token`]) and the core's [`epochgate::Error`] codes (through `From`). The status and
//! the `WWW-Authenticate` value follow from the code, so each is chosen in one place.

mod code;

pub use code::ApiCode;

use epochgate::{ConfigError, Error, LogError, Reason, Refusal};
use serde::Serialize;
use worker::{Headers, Response, Result};

/// An error answered as `{"error": code, "message": ...}` with a status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    code: &'static str,
    message: String,
    /// The rarer parts, boxed so that `Result<_, ApiError>` stays small.
    extra: Option<Box<Extra>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Extra {
    /// What the log gets and the client does not (internal errors).
    detail: Option<String>,
    /// `Retry-After`, seconds.
    retry_after: Option<u64>,
    /// `WWW-Authenticate`.
    authenticate: Option<String>,
    /// `Allow`.
    allow: Option<&'static str>,
    /// A header for the edge only (`http::internal`), on answers of an object to the edge;
    /// the edge drops it before the client sees the answer.
    internal: Option<(&'static str, &'static str)>,
    /// More members of the body (what a step-up asks for).
    fields: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    fields: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    fn raw(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    fn extras(&self) -> Option<&Extra> {
        self.extra.as_deref()
    }

    /// An error with the code's status (and `WWW-Authenticate` for a 401).
    pub fn new(code: ApiCode, message: impl Into<String>) -> Self {
        let mut e = Self::raw(code.status(), code.as_str(), message);
        if let Some(a) = code.authenticate() {
            e.extra().authenticate = Some(a.to_owned());
        }
        e
    }

    /// 400 `invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ApiCode::InvalidInput, message)
    }

    /// 503 `not_configured`.
    pub fn not_configured(message: impl Into<String>) -> Self {
        Self::new(ApiCode::NotConfigured, message)
    }

    /// 500 `internal_error`; the detail goes to the log when answered, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            ApiCode::InternalError,
            "the server failed to handle the request; it changed nothing it did not report",
        );
        e.extra().detail = Some(detail.to_string());
        e
    }

    /// A token refusal: 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750),
    /// the reason as the code. A token too old or too weak for a route is
    /// [`ApiError::step_up`] instead.
    pub fn token(refusal: &Refusal) -> Self {
        let code = refusal.reason.code();
        let mut e = Self::raw(401, code, refusal.message.to_string());
        e.extra().authenticate = Some(
            if refusal.reason == Reason::InsufficientUserAuthentication {
                format!("Bearer error=\"{code}\", error_description=\"{code}\"")
            } else {
                format!("Bearer error=\"invalid_token\", error_description=\"{code}\"")
            },
        );
        e
    }

    /// A valid token whose authentication is too old or too weak for the route (RFC 9470):
    /// 401 `insufficient_user_authentication` with `WWW-Authenticate: Bearer
    /// error="insufficient_user_authentication"` and, when the route limits the age,
    /// `max_age`; the body also names the methods the route asks for (`required_amr`).
    pub fn step_up(message: &str, max_age: Option<u64>, required_amr: &[String]) -> Self {
        let code = Reason::InsufficientUserAuthentication.code();
        let mut e = Self::raw(401, code, message.to_owned());
        let mut header = format!(
            "Bearer error=\"{code}\", error_description=\"authenticate again{}\"",
            if required_amr.is_empty() {
                String::new()
            } else {
                format!(" with {}", required_amr.join(" and "))
            }
        );
        let mut fields = serde_json::Map::new();
        if let Some(age) = max_age {
            header.push_str(&format!(", max_age={age}"));
            fields.insert("max_age".into(), age.into());
        }
        fields.insert("required_amr".into(), required_amr.into());
        let x = e.extra();
        x.authenticate = Some(header);
        x.fields = Some(fields);
        e
    }

    /// The body's extra members, if any.
    pub fn fields(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.extras().and_then(|x| x.fields.as_ref())
    }

    /// A refusal with `reason` and `message`, answered as [`ApiError::token`].
    pub fn refused(reason: Reason, message: &'static str) -> Self {
        Self::token(&Refusal {
            reason,
            message: message.into(),
        })
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            ApiCode::RateLimited,
            format!("too many attempts; retry in {retry_after} s"),
        );
        e.extra().retry_after = Some(retry_after);
        e
    }

    /// 503 `overloaded` with `Retry-After`: `why`, then when to retry.
    pub fn overloaded(why: &str, retry_after: u64) -> Self {
        let mut e = Self::new(
            ApiCode::Overloaded,
            format!("{why}; retry in {retry_after} s"),
        );
        e.extra().retry_after = Some(retry_after);
        e
    }

    /// 503 `propagation_delayed` with `Retry-After`: the sign-out is recorded and the origin
    /// keeps handing it to the revocation feed until the feed has it.
    pub fn propagation_delayed(retry_after: u64) -> Self {
        let mut e = Self::new(
            ApiCode::PropagationDelayed,
            format!(
                "the sign-out is recorded but the revocation feed has not confirmed it yet; it will \
                 reach the edges without another call (retry in {retry_after} s to see it confirmed)"
            ),
        );
        e.extra().retry_after = Some(retry_after);
        e
    }

    /// 404 `not_found`.
    pub fn not_found(path: &str) -> Self {
        Self::new(ApiCode::NotFound, format!("no route for {path}"))
    }

    /// 405 `method_not_allowed` with `Allow`.
    pub fn method_not_allowed(method: &str, allow: &'static str) -> Self {
        let mut e = Self::new(
            ApiCode::MethodNotAllowed,
            format!("{method} is not allowed here; use {allow}"),
        );
        e.extra().allow = Some(allow);
        e
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message the client reads.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the log should say: the detail of an internal error, else code and message.
    pub fn log_line(&self) -> String {
        match self.extras().and_then(|x| x.detail.as_ref()) {
            Some(d) => format!("{}: {d}", self.code),
            None => format!("{}: {}", self.code, self.message),
        }
    }

    /// The same error with an internal header for the edge.
    pub fn with_internal_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.extra().internal = Some((name, value));
        self
    }

    /// The `WWW-Authenticate` value, on 401.
    pub fn authenticate(&self) -> Option<&str> {
        self.extras().and_then(|x| x.authenticate.as_deref())
    }

    /// The response (an internal error's detail is logged here).
    pub fn into_response(self) -> Result<Response> {
        let extra = self.extra.map(|x| *x).unwrap_or_default();
        if let Some(d) = &extra.detail {
            worker::console_error!("internal error: {d}");
        }
        let body = serde_json::to_string(&ErrorBody {
            error: self.code,
            message: &self.message,
            fields: extra.fields.as_ref(),
        })?;
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        headers.set("cache-control", "no-store")?;
        if let Some(s) = extra.retry_after {
            headers.set("retry-after", &s.to_string())?;
        }
        if let Some(a) = &extra.authenticate {
            headers.set("www-authenticate", a)?;
        }
        if let Some(a) = extra.allow {
            headers.set("allow", a)?;
        }
        if let Some((name, value)) = extra.internal {
            headers.set(name, value)?;
        }
        Ok(Response::ok(body)?
            .with_status(self.status)
            .with_headers(headers))
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal(e)
    }
}

/// The core's errors, with the status per variant: an exhausted counter is the caller's
/// conflict (409, the core's code), a `since` ahead of the log is 409 `since_ahead`, a key or
/// option the configuration gave is `not_configured`; anything else — an unknown device, an
/// update the origin failed to build — is a request the Worker should never have made, so it is
/// internal. (The edge logs the update errors of its refreshes; it never answers them.)
impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match &e {
            Error::Log(
                LogError::SlotsExhausted | LogError::EpochExhausted | LogError::SeqExhausted,
                _,
            ) => Self::raw(409, e.code(), e.message().to_owned()),
            Error::Log(LogError::SinceAhead, _) => {
                Self::new(ApiCode::SinceAhead, e.message().to_owned())
            }
            Error::Log(LogError::InvalidAccount, _) => Self::invalid(e.message().to_owned()),
            Error::Key(..)
            | Error::Config(ConfigError::InvalidOption | ConfigError::KeyReuse, _) => {
                Self::not_configured(e.to_string())
            }
            _ => Self::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use epochgate::{KeyError, UpdateError};

    fn status_of(e: Error) -> (u16, &'static str) {
        let a = ApiError::from(e);
        (a.status(), a.code())
    }

    #[test]
    fn token_refusals_carry_rfc6750_header() {
        for reason in Reason::ALL {
            if reason == Reason::InsufficientUserAuthentication {
                continue;
            }
            let e = ApiError::refused(reason, "m");
            assert_eq!((e.status(), e.code()), (401, reason.code()));
            assert_eq!(
                e.authenticate(),
                Some(
                    format!(
                        "Bearer error=\"invalid_token\", error_description=\"{}\"",
                        reason.code()
                    )
                    .as_str()
                )
            );
        }
    }

    #[test]
    fn a_step_up_names_its_error_its_age_and_its_methods() {
        let e = ApiError::step_up("m", Some(300), &["hwk".to_owned()]);
        assert_eq!(
            (e.status(), e.code()),
            (401, "insufficient_user_authentication")
        );
        assert_eq!(
            e.authenticate(),
            Some(
                "Bearer error=\"insufficient_user_authentication\", \
                 error_description=\"authenticate again with hwk\", max_age=300"
            )
        );
        assert_eq!(
            serde_json::Value::Object(e.fields().unwrap().clone()),
            serde_json::json!({ "max_age": 300, "required_amr": ["hwk"] })
        );
        let e = ApiError::step_up("m", None, &[]);
        assert!(!e.authenticate().unwrap().contains("max_age"));
        assert!(!e.fields().unwrap().contains_key("max_age"));
        let r = ApiError::refused(Reason::InsufficientUserAuthentication, "m");
        assert!(r
            .authenticate()
            .unwrap()
            .starts_with("Bearer error=\"insufficient_user_authentication\""));
    }

    #[test]
    fn core_errors_map_per_variant() {
        let m = || "m".into();
        assert_eq!(
            status_of(Error::Log(LogError::SlotsExhausted, m())),
            (409, "slots_exhausted")
        );
        assert_eq!(
            status_of(Error::Log(LogError::EpochExhausted, m())),
            (409, "epoch_exhausted")
        );
        assert_eq!(
            status_of(Error::Log(LogError::UnknownDevice, m())),
            (500, "internal_error")
        );
        assert_eq!(
            status_of(Error::Log(LogError::InvalidAccount, m())),
            (400, "invalid_input")
        );
        assert_eq!(
            status_of(Error::Log(LogError::SeqExhausted, m())),
            (409, "seq_exhausted")
        );
        assert_eq!(
            status_of(Error::Log(LogError::SinceAhead, m())),
            (409, "since_ahead")
        );
        for u in UpdateError::ALL {
            assert_eq!(status_of(Error::Update(u, m())), (500, "internal_error"));
        }
        assert_eq!(
            status_of(Error::Key(KeyError::InvalidJwk, m())),
            (503, "not_configured")
        );
        assert_eq!(
            status_of(Error::Config(ConfigError::InvalidOption, m())),
            (503, "not_configured")
        );
        assert_eq!(
            status_of(Error::Config(ConfigError::KeyReuse, m())),
            (503, "not_configured")
        );
        assert_eq!(
            status_of(Error::Config(ConfigError::InvalidClaim, m())),
            (500, "internal_error")
        );
    }

    #[test]
    fn internal_detail_stays_out_of_the_message() {
        let e = ApiError::internal("secret detail");
        assert!(!e.message().contains("secret"));
        assert_eq!(e.log_line(), "internal_error: secret detail");
    }
}
