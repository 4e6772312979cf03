//! The words the Worker writes into its answers and rows besides error codes: session statuses,
//! activity-log kinds and the scopes of a WebSocket sign-out message. Each enum's `ALL` lists
//! every word, so a test can compare them with `openapi.yaml` and the page.

use serde::{Deserialize, Serialize};

/// A device session's status (`GET /v1/sessions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Signed in; its token is accepted while its slot and epoch stand.
    Active,
    /// Signed out (one device or all); the row stays for the list. Any stored value other than
    /// `active` reads as signed out, so an unknown word never revives a session.
    #[serde(other)]
    SignedOut,
}

impl SessionStatus {
    /// Every status.
    pub const ALL: [SessionStatus; 2] = [SessionStatus::Active, SessionStatus::SignedOut];

    /// The word on the wire and in the `sessions.status` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::SignedOut => "signed_out",
        }
    }
}

/// An activity-log entry's kind (`GET /v1/activity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// `POST /v1/accounts`.
    AccountCreated,
    /// A login or an admin-minted session.
    SignIn,
    /// A login with a wrong password or two-factor code.
    SignInFailed,
    /// One device signed out.
    SignOut,
    /// Every device signed out (user or admin).
    SignOutAll,
    /// The password changed (every other device signed out).
    PasswordChanged,
    /// A wrong password or code when confirming a change.
    ReauthFailed,
    /// Two-factor authentication turned on.
    TotpEnabled,
    /// Two-factor authentication turned off.
    TotpDisabled,
    /// A sign-in from a user agent or location never seen on the account before (mailed).
    SignInNewDevice,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesGenerated,
    /// A recovery code was used (login or re-authentication).
    RecoveryCodeUsed,
    /// The account's email changed.
    EmailChanged,
    /// The password was reset with a mailed code (every device signed out).
    PasswordReset,
    /// The owner followed a "not you?" link: every device signed out, reset required.
    AccountSecured,
    /// A passkey was registered (mailed).
    PasskeyAdded,
    /// A passkey was removed (mailed).
    PasskeyRemoved,
    /// A passkey sign-in or re-authentication was refused because the authenticator's
    /// signature counter went back: the credential may have been cloned.
    PasskeyCounterRegressed,
}

impl ActivityKind {
    /// Every kind.
    pub const ALL: [ActivityKind; 18] = [
        ActivityKind::AccountCreated,
        ActivityKind::SignIn,
        ActivityKind::SignInFailed,
        ActivityKind::SignOut,
        ActivityKind::SignOutAll,
        ActivityKind::PasswordChanged,
        ActivityKind::ReauthFailed,
        ActivityKind::TotpEnabled,
        ActivityKind::TotpDisabled,
        ActivityKind::SignInNewDevice,
        ActivityKind::RecoveryCodesGenerated,
        ActivityKind::RecoveryCodeUsed,
        ActivityKind::EmailChanged,
        ActivityKind::PasswordReset,
        ActivityKind::AccountSecured,
        ActivityKind::PasskeyAdded,
        ActivityKind::PasskeyRemoved,
        ActivityKind::PasskeyCounterRegressed,
    ];

    /// The word on the wire and in the `events.type` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityKind::AccountCreated => "account_created",
            ActivityKind::SignIn => "sign_in",
            ActivityKind::SignInFailed => "sign_in_failed",
            ActivityKind::SignOut => "sign_out",
            ActivityKind::SignOutAll => "sign_out_all",
            ActivityKind::PasswordChanged => "password_changed",
            ActivityKind::ReauthFailed => "reauth_failed",
            ActivityKind::TotpEnabled => "totp_enabled",
            ActivityKind::TotpDisabled => "totp_disabled",
            ActivityKind::SignInNewDevice => "sign_in_new_device",
            ActivityKind::RecoveryCodesGenerated => "recovery_codes_generated",
            ActivityKind::RecoveryCodeUsed => "recovery_code_used",
            ActivityKind::EmailChanged => "email_changed",
            ActivityKind::PasswordReset => "password_reset",
            ActivityKind::AccountSecured => "account_secured",
            ActivityKind::PasskeyAdded => "passkey_added",
            ActivityKind::PasskeyRemoved => "passkey_removed",
            ActivityKind::PasskeyCounterRegressed => "passkey_counter_regressed",
        }
    }
}

/// What a `{"type":"signed_out","scope":...}` WebSocket message says was signed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignOutScope {
    /// This one device.
    Device,
    /// Every device of the account (sign-out-all, password change).
    All,
}

impl SignOutScope {
    /// Every scope.
    pub const ALL: [SignOutScope; 2] = [SignOutScope::Device, SignOutScope::All];

    /// The word on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            SignOutScope::Device => "device",
            SignOutScope::All => "all",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_status_round_trips_and_unknown_reads_signed_out() {
        for s in SessionStatus::ALL {
            let text = serde_json::to_string(&s).unwrap();
            assert_eq!(text, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<SessionStatus>(&text).unwrap(), s);
        }
        assert_eq!(
            serde_json::from_str::<SessionStatus>("\"paused\"").unwrap(),
            SessionStatus::SignedOut
        );
    }

    #[test]
    fn words_are_distinct() {
        let kinds: std::collections::HashSet<_> =
            ActivityKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds.len(), ActivityKind::ALL.len());
    }
}
