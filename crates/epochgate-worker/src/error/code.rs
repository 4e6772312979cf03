//! The Worker's own error codes: each with its one status and, for a 401, its one
//! `WWW-Authenticate` scheme.

/// The error codes the Worker itself answers, besides the core's token reasons and error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiCode {
    /// 400: a field is missing or out of range.
    InvalidInput,
    /// 400: the body is not a JSON object.
    InvalidJson,
    /// 413: the body is larger than the cap.
    PayloadTooLarge,
    /// 404: no such route.
    NotFound,
    /// 405: the route exists with another method.
    MethodNotAllowed,
    /// 500: the server failed; details go to the log only.
    InternalError,
    /// 503: a var or secret is missing or invalid.
    NotConfigured,
    /// 429: too many failed authentications on the account.
    RateLimited,
    /// 401: wrong email, password or two-factor code at login.
    InvalidCredentials,
    /// 401: the account has two-factor authentication and no code was sent.
    TotpRequired,
    /// 401: the action needs the password (or a code) again.
    ReauthRequired,
    /// 401: the re-authentication was wrong.
    ReauthFailed,
    /// 409: an account with this email exists.
    AccountExists,
    /// 404: no such session on this account.
    UnknownSession,
    /// 409: the account has no password here (managed elsewhere).
    NoPassword,
    /// 409: two-factor authentication is already on.
    TotpAlreadyEnabled,
    /// 409: no pending two-factor secret to confirm.
    TotpNotStarted,
    /// 409: two-factor authentication is off, so there is nothing to turn off.
    TotpNotEnabled,
    /// 400: the two-factor code does not match.
    InvalidCode,
    /// 426: a WebSocket route called without `Upgrade: websocket`.
    UpgradeRequired,
    /// 503: the admin API is off (no `ADMIN_TOKEN`).
    AdminDisabled,
    /// 401: the admin token is wrong.
    InvalidAdminToken,
    /// 409: a revocation `since` ahead of the origin.
    SinceAhead,
    /// 502: the `/app` upstream failed.
    UpstreamUnreachable,
    /// 400: a secure-account link that is unknown, used or expired.
    InvalidLink,
    /// 403: the account was secured from a "not you?" link; reset the password first.
    PasswordResetRequired,
    /// 401: a WebSocket ticket that is unknown, used or expired.
    InvalidTicket,
    /// 503: this edge has spent its password-hashing budget for now (or a check took too long);
    /// retry after `Retry-After`.
    Overloaded,
    /// 503: a sign-out is recorded but has not reached the revocation feed yet; it will without
    /// another call (the origin retries), and the edges refuse the token once it has.
    PropagationDelayed,
    /// 400: a passkey registration that does not verify (the message names the WebAuthn check).
    InvalidPasskey,
    /// 400: a WebAuthn challenge that is forged, expired, of another purpose or already used.
    InvalidChallenge,
    /// 409: this credential is already registered.
    PasskeyExists,
    /// 404: no such passkey on this account.
    UnknownPasskey,
    /// 409: the account has no passkey to re-authenticate with.
    NoPasskeys,
}

impl ApiCode {
    /// Every code, for vocabulary checks.
    pub const ALL: [ApiCode; 34] = [
        ApiCode::InvalidInput,
        ApiCode::InvalidJson,
        ApiCode::PayloadTooLarge,
        ApiCode::NotFound,
        ApiCode::MethodNotAllowed,
        ApiCode::InternalError,
        ApiCode::NotConfigured,
        ApiCode::RateLimited,
        ApiCode::InvalidCredentials,
        ApiCode::TotpRequired,
        ApiCode::ReauthRequired,
        ApiCode::ReauthFailed,
        ApiCode::AccountExists,
        ApiCode::UnknownSession,
        ApiCode::NoPassword,
        ApiCode::TotpAlreadyEnabled,
        ApiCode::TotpNotStarted,
        ApiCode::TotpNotEnabled,
        ApiCode::InvalidCode,
        ApiCode::UpgradeRequired,
        ApiCode::AdminDisabled,
        ApiCode::InvalidAdminToken,
        ApiCode::SinceAhead,
        ApiCode::UpstreamUnreachable,
        ApiCode::InvalidLink,
        ApiCode::PasswordResetRequired,
        ApiCode::InvalidTicket,
        ApiCode::Overloaded,
        ApiCode::PropagationDelayed,
        ApiCode::InvalidPasskey,
        ApiCode::InvalidChallenge,
        ApiCode::PasskeyExists,
        ApiCode::UnknownPasskey,
        ApiCode::NoPasskeys,
    ];

    /// The stable snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiCode::InvalidInput => "invalid_input",
            ApiCode::InvalidJson => "invalid_json",
            ApiCode::PayloadTooLarge => "payload_too_large",
            ApiCode::NotFound => "not_found",
            ApiCode::MethodNotAllowed => "method_not_allowed",
            ApiCode::InternalError => "internal_error",
            ApiCode::NotConfigured => "not_configured",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::InvalidCredentials => "invalid_credentials",
            ApiCode::TotpRequired => "totp_required",
            ApiCode::ReauthRequired => "reauth_required",
            ApiCode::ReauthFailed => "reauth_failed",
            ApiCode::AccountExists => "account_exists",
            ApiCode::UnknownSession => "unknown_session",
            ApiCode::NoPassword => "no_password",
            ApiCode::TotpAlreadyEnabled => "totp_already_enabled",
            ApiCode::TotpNotStarted => "totp_not_started",
            ApiCode::TotpNotEnabled => "totp_not_enabled",
            ApiCode::InvalidCode => "invalid_code",
            ApiCode::UpgradeRequired => "upgrade_required",
            ApiCode::AdminDisabled => "admin_disabled",
            ApiCode::InvalidAdminToken => "invalid_admin_token",
            ApiCode::SinceAhead => "since_ahead",
            ApiCode::UpstreamUnreachable => "upstream_unreachable",
            ApiCode::InvalidLink => "invalid_link",
            ApiCode::PasswordResetRequired => "password_reset_required",
            ApiCode::InvalidTicket => "invalid_ticket",
            ApiCode::Overloaded => "overloaded",
            ApiCode::PropagationDelayed => "propagation_delayed",
            ApiCode::InvalidPasskey => "invalid_passkey",
            ApiCode::InvalidChallenge => "invalid_challenge",
            ApiCode::PasskeyExists => "passkey_exists",
            ApiCode::UnknownPasskey => "unknown_passkey",
            ApiCode::NoPasskeys => "no_passkeys",
        }
    }

    /// The HTTP status this code is always answered with.
    pub const fn status(self) -> u16 {
        match self {
            ApiCode::InvalidInput
            | ApiCode::InvalidJson
            | ApiCode::InvalidCode
            | ApiCode::InvalidLink
            | ApiCode::InvalidPasskey
            | ApiCode::InvalidChallenge => 400,
            ApiCode::InvalidTicket
            | ApiCode::InvalidCredentials
            | ApiCode::TotpRequired
            | ApiCode::ReauthRequired
            | ApiCode::ReauthFailed
            | ApiCode::InvalidAdminToken => 401,
            ApiCode::PasswordResetRequired => 403,
            ApiCode::NotFound | ApiCode::UnknownSession | ApiCode::UnknownPasskey => 404,
            ApiCode::MethodNotAllowed => 405,
            ApiCode::AccountExists
            | ApiCode::NoPassword
            | ApiCode::TotpAlreadyEnabled
            | ApiCode::TotpNotStarted
            | ApiCode::TotpNotEnabled
            | ApiCode::SinceAhead
            | ApiCode::PasskeyExists
            | ApiCode::NoPasskeys => 409,
            ApiCode::PayloadTooLarge => 413,
            ApiCode::UpgradeRequired => 426,
            ApiCode::RateLimited => 429,
            ApiCode::InternalError => 500,
            ApiCode::UpstreamUnreachable => 502,
            ApiCode::NotConfigured | ApiCode::AdminDisabled | ApiCode::Overloaded => 503,
            ApiCode::PropagationDelayed => 503,
        }
    }

    /// The `WWW-Authenticate` value of a 401 that is not about the session token (RFC 6750).
    pub(super) const fn authenticate(self) -> Option<&'static str> {
        match self {
            ApiCode::InvalidCredentials
            | ApiCode::TotpRequired
            | ApiCode::ReauthRequired
            | ApiCode::ReauthFailed
            | ApiCode::InvalidTicket => Some("Bearer realm=\"epochgate\""),
            ApiCode::InvalidAdminToken => Some(
                "Bearer realm=\"epochgate-admin\", error=\"invalid_token\", error_description=\"invalid_admin_token\"",
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ApiCode::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} twice");
            assert!(c
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn every_401_names_its_scheme() {
        for c in ApiCode::ALL {
            assert_eq!(c.status() == 401, c.authenticate().is_some(), "{c:?}");
            let e = ApiError::new(c, "m");
            assert_eq!(e.authenticate().is_some(), c.status() == 401);
        }
    }
}
