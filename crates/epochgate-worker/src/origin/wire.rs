//! The origin's request and response bodies (docs/CONTRACT.md section 4, `openapi.yaml`), and
//! the checks on their fields. Every request field is optional here so that a missing one is a 400
//! `invalid_input` naming it, not a serde message.

use epochgate::{DeviceSlot, Epoch};
use serde::{Deserialize, Serialize};

use super::proof::Offer;
use crate::error::ApiError;
use crate::origin::store::{Event, SessionRow};
use crate::vocab::SessionStatus;

type R<T> = Result<T, ApiError>;

/// `{name, type}` of a device signing in.
#[derive(Deserialize)]
pub(crate) struct DeviceIn {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `POST /v1/accounts`.
#[derive(Deserialize)]
pub(crate) struct SignUp {
    pub(crate) email: Option<String>,
    pub(crate) password: Option<String>,
}

/// `POST /v1/login`.
#[derive(Deserialize)]
pub(crate) struct Login {
    pub(crate) email: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) device: Option<DeviceIn>,
    pub(crate) totp: Option<String>,
    pub(crate) recovery_code: Option<String>,
}

/// The proof fields of a re-authentication (`origin/proof.rs`), flattened into the bodies of
/// the routes that ask for one.
#[derive(Deserialize, Default)]
pub(crate) struct Reauth {
    pub(crate) password: Option<String>,
    pub(crate) totp: Option<String>,
    pub(crate) recovery_code: Option<String>,
    pub(crate) email_code: Option<String>,
    /// A passkey assertion answering a challenge from `POST /v1/reauth/passkey-options`.
    pub(crate) passkey: Option<AssertionIn>,
}

impl Reauth {
    /// The offer, with `password` standing in for the field a route names differently.
    pub(super) fn offer<'a>(&'a self, password: Option<&'a str>) -> Offer<'a> {
        Offer {
            password: password.or(self.password.as_deref()),
            totp: self.totp.as_deref(),
            recovery_code: self.recovery_code.as_deref(),
            email_code: self.email_code.as_deref(),
            passkey: self.passkey.as_ref(),
        }
    }
}

/// A WebAuthn assertion as `PublicKeyCredential.toJSON()` writes it (binary fields in
/// base64url).
#[derive(Deserialize)]
pub(crate) struct AssertionIn {
    pub(crate) id: Option<String>,
    #[serde(rename = "rawId")]
    pub(crate) raw_id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) response: Option<AssertionResponse>,
}

/// The `response` of an assertion.
#[derive(Deserialize)]
pub(crate) struct AssertionResponse {
    #[serde(rename = "clientDataJSON")]
    pub(crate) client_data_json: Option<String>,
    #[serde(rename = "authenticatorData")]
    pub(crate) authenticator_data: Option<String>,
    pub(crate) signature: Option<String>,
    #[serde(rename = "userHandle")]
    pub(crate) user_handle: Option<String>,
}

/// A WebAuthn registration as `PublicKeyCredential.toJSON()` writes it.
#[derive(Deserialize)]
pub(crate) struct AttestationIn {
    pub(crate) id: Option<String>,
    #[serde(rename = "rawId")]
    pub(crate) raw_id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<String>,
    pub(crate) response: Option<AttestationResponse>,
}

/// The `response` of a registration.
#[derive(Deserialize)]
pub(crate) struct AttestationResponse {
    #[serde(rename = "clientDataJSON")]
    pub(crate) client_data_json: Option<String>,
    #[serde(rename = "attestationObject")]
    pub(crate) attestation_object: Option<String>,
}

/// `POST /v1/passkeys`.
#[derive(Deserialize)]
pub(crate) struct PasskeyRegister {
    pub(crate) name: Option<String>,
    pub(crate) credential: Option<AttestationIn>,
}

/// `PATCH /v1/passkeys/{id}`.
#[derive(Deserialize)]
pub(crate) struct PasskeyRename {
    pub(crate) name: Option<String>,
}

/// `POST /v1/login/passkey`.
#[derive(Deserialize)]
pub(crate) struct PasskeyLogin {
    pub(crate) credential: Option<AssertionIn>,
    pub(crate) device: Option<DeviceIn>,
}

/// The binary fields of a credential, decoded and checked: `id` and `rawId` (when both are
/// sent) name the same credential, `type` is `public-key`.
pub(crate) struct Decoded {
    /// The credential id, base64url as sent (the `passkeys` key).
    pub(crate) id: String,
    pub(crate) client_data_json: Vec<u8>,
    /// `authenticatorData` (assertion) or `attestationObject` (registration).
    pub(crate) data: Vec<u8>,
    /// The assertion's signature (empty for a registration).
    pub(crate) signature: Vec<u8>,
    /// The assertion's user handle, when sent.
    pub(crate) user_handle: Option<Vec<u8>>,
}

fn b64(field: &str, v: Option<&String>) -> R<Vec<u8>> {
    use base64::Engine;
    let v = v.ok_or_else(|| ApiError::invalid(format!("credential.{field} is required")))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .map_err(|_| ApiError::invalid(format!("credential.{field} must be base64url")))
}

fn credential_id(id: Option<&String>, raw_id: Option<&String>, kind: Option<&String>) -> R<String> {
    if kind.is_some_and(|k| k != "public-key") {
        return Err(ApiError::invalid("credential.type must be public-key"));
    }
    let id = match (id, raw_id) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "credential.id and credential.rawId name different credentials",
            ))
        }
        (Some(a), _) | (None, Some(a)) => a.clone(),
        (None, None) => return Err(ApiError::invalid("credential.id is required")),
    };
    let bytes = b64("id", Some(&id))?;
    if bytes.is_empty() || bytes.len() > 1023 {
        return Err(ApiError::invalid("credential.id must be 1 to 1023 bytes"));
    }
    Ok(id)
}

/// The credential id and the `response` of a credential, both required.
fn id_and_response<'a, T>(
    id: Option<&String>,
    raw_id: Option<&String>,
    kind: Option<&String>,
    response: Option<&'a T>,
) -> R<(String, &'a T)> {
    let id = credential_id(id, raw_id, kind)?;
    let r = response.ok_or_else(|| ApiError::invalid("credential.response is required"))?;
    Ok((id, r))
}

impl AssertionIn {
    /// The decoded fields; a missing or malformed one is `invalid_input` naming it.
    pub(crate) fn decode(&self) -> R<Decoded> {
        let (id, r) = id_and_response(
            self.id.as_ref(),
            self.raw_id.as_ref(),
            self.kind.as_ref(),
            self.response.as_ref(),
        )?;
        Ok(Decoded {
            id,
            client_data_json: b64("response.clientDataJSON", r.client_data_json.as_ref())?,
            data: b64("response.authenticatorData", r.authenticator_data.as_ref())?,
            signature: b64("response.signature", r.signature.as_ref())?,
            user_handle: match &r.user_handle {
                Some(h) => Some(b64("response.userHandle", Some(h))?),
                None => None,
            },
        })
    }
}

impl AttestationIn {
    /// The decoded fields; a missing or malformed one is `invalid_input` naming it.
    pub(crate) fn decode(&self) -> R<Decoded> {
        let (id, r) = id_and_response(
            self.id.as_ref(),
            self.raw_id.as_ref(),
            self.kind.as_ref(),
            self.response.as_ref(),
        )?;
        Ok(Decoded {
            id,
            client_data_json: b64("response.clientDataJSON", r.client_data_json.as_ref())?,
            data: b64("response.attestationObject", r.attestation_object.as_ref())?,
            signature: Vec::new(),
            user_handle: None,
        })
    }
}

/// A passkey's name: 1 to 64 characters once trimmed.
pub(crate) fn passkey_name(name: &str) -> R<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name must be 1 to 64 characters without control characters",
        ));
    }
    Ok(n.to_owned())
}

/// One entry of `GET /v1/passkeys`.
#[derive(Serialize)]
pub(crate) struct PasskeyOut<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) created_at: i64,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) backed_up: bool,
    pub(crate) backup_eligible: bool,
    pub(crate) algorithm: &'static str,
}

/// 200 of `POST /v1/reauth`: the caller's session re-minted after a re-authentication.
#[derive(Serialize)]
pub(crate) struct Reauthenticated {
    #[serde(flatten)]
    pub(crate) issued: Issued,
    pub(crate) auth_time: i64,
    pub(crate) amr: Vec<&'static str>,
}

/// `POST /v1/sessions/sign-out-all`.
#[derive(Deserialize)]
pub(crate) struct SignOutAll {
    #[serde(flatten)]
    pub(crate) proof: Reauth,
    pub(crate) keep_current: Option<bool>,
}

/// `POST /v1/password`: `current_password` is the password factor.
#[derive(Deserialize)]
pub(crate) struct PasswordChange {
    pub(crate) current_password: Option<String>,
    pub(crate) new_password: Option<String>,
    pub(crate) keep_current: Option<bool>,
    #[serde(flatten)]
    pub(crate) proof: Reauth,
}

/// `POST /v1/totp`, `DELETE /v1/totp`, `POST /v1/recovery-codes`: a proof and nothing else.
#[derive(Deserialize)]
pub(crate) struct ProofOnly {
    #[serde(flatten)]
    pub(crate) proof: Reauth,
}

/// `POST /v1/email`.
#[derive(Deserialize)]
pub(crate) struct EmailChange {
    pub(crate) new_email: Option<String>,
    #[serde(flatten)]
    pub(crate) proof: Reauth,
}

/// `POST /v1/password/reset`.
#[derive(Deserialize)]
pub(crate) struct ResetRequest {
    pub(crate) email: Option<String>,
}

/// `POST /v1/password/reset/confirm`.
#[derive(Deserialize)]
pub(crate) struct ResetConfirm {
    pub(crate) email: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) new_password: Option<String>,
}

/// `POST /v1/secure-account`.
#[derive(Deserialize)]
pub(crate) struct SecureAccount {
    pub(crate) token: Option<String>,
}

/// `POST /v1/totp/confirm`.
#[derive(Deserialize)]
pub(crate) struct Code {
    pub(crate) code: Option<String>,
}

/// `POST /v1/admin/accounts/{account}/sessions`.
#[derive(Deserialize)]
pub(crate) struct AdminSession {
    pub(crate) device: Option<DeviceIn>,
}

/// A body that must be `{}` (or empty).
#[derive(Deserialize)]
pub(crate) struct Empty {}

/// A device's checked name and type.
pub(crate) struct Device {
    pub(crate) name: String,
    pub(crate) kind: String,
}

/// 201 of a login or an admin-minted session.
#[derive(Serialize)]
pub(crate) struct Issued {
    pub(crate) token: String,
    pub(crate) session: String,
    pub(crate) device: u16,
    pub(crate) epoch: u32,
    pub(crate) expires_at: i64,
}

/// 201 of `POST /v1/accounts`.
#[derive(Serialize)]
pub(crate) struct Created<'a> {
    pub(crate) account: &'a str,
}

/// 200 of a sign-out-all or a password change: the new epoch, and a fresh token for the device
/// that was kept, if one was.
#[derive(Serialize)]
pub(crate) struct NewEpoch {
    epoch: u32,
    #[serde(flatten)]
    kept: Option<Kept>,
}

#[derive(Serialize)]
struct Kept {
    token: String,
    session: String,
    device: u16,
    expires_at: i64,
}

impl NewEpoch {
    pub(crate) fn new(epoch: Epoch, issued: Option<Issued>) -> Self {
        NewEpoch {
            epoch: epoch.0,
            kept: issued.map(|i| Kept {
                token: i.token,
                session: i.session,
                device: i.device,
                expires_at: i.expires_at,
            }),
        }
    }
}

/// 200 of `GET /v1/sessions`.
#[derive(Serialize)]
pub(crate) struct Sessions<'a> {
    pub(crate) sessions: Vec<SessionOut<'a>>,
}

/// One entry of `GET /v1/sessions`.
#[derive(Serialize)]
pub(crate) struct SessionOut<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    location: &'a Option<String>,
    ip: &'a Option<String>,
    user_agent: &'a Option<String>,
    created_at: i64,
    last_seen_at: i64,
    current: bool,
    status: SessionStatus,
    device: u16,
    epoch: u32,
}

impl<'a> SessionOut<'a> {
    pub(crate) fn new(s: &'a SessionRow, current: bool) -> Self {
        SessionOut {
            id: s.id.as_str(),
            name: &s.name,
            kind: &s.kind,
            location: &s.location,
            ip: &s.ip,
            user_agent: &s.user_agent,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            current,
            status: s.status,
            device: s.slot.0,
            epoch: s.epoch.0,
        }
    }
}

/// 200 of `GET /v1/activity`.
#[derive(Serialize)]
pub(crate) struct Activity {
    pub(crate) events: Vec<Event>,
}

/// 200 of `POST /v1/totp`.
#[derive(Serialize)]
pub(crate) struct TotpStarted {
    pub(crate) secret: String,
    pub(crate) otpauth_uri: String,
}

/// A required field.
pub(crate) fn required(v: Option<String>, what: &str) -> R<String> {
    v.ok_or_else(|| ApiError::invalid(format!("{what} is required")))
}

/// A trimmed, lower-cased email address of a plausible shape.
pub(crate) fn clean_email(email: &str) -> R<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    ok.then_some(e)
        .ok_or_else(|| ApiError::invalid("email must be an address like name@example.com"))
}

/// The device of a login or an admin-minted session: name 1 to 100 characters, type 1 to 40.
pub(crate) fn device(d: Option<DeviceIn>) -> R<Device> {
    let d =
        d.ok_or_else(|| ApiError::invalid("device is required: {\"name\": ..., \"type\": ...}"))?;
    let name = required(d.name, "device.name")?.trim().to_owned();
    let kind = required(d.kind, "device.type")?.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("device.name must be 1 to 100 characters"));
    }
    if kind.is_empty() || kind.chars().count() > 40 {
        return Err(ApiError::invalid("device.type must be 1 to 40 characters"));
    }
    Ok(Device { name, kind })
}

/// The answer's device and epoch fields, from the core's types.
pub(crate) fn issued(
    token: String,
    session: &str,
    slot: DeviceSlot,
    epoch: Epoch,
    expires_at: i64,
) -> Issued {
    Issued {
        token,
        session: session.to_owned(),
        device: slot.0,
        epoch: epoch.0,
        expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(clean_email(" A@Example.COM ").unwrap(), "a@example.com");
        for bad in [
            "a",
            "@example.com",
            "a@example",
            "a@.com",
            "a b@example.com",
        ] {
            assert_eq!(
                clean_email(bad).unwrap_err().code(),
                "invalid_input",
                "{bad}"
            );
        }
    }

    #[test]
    fn devices() {
        let d = |name: &str, kind: &str| {
            device(Some(DeviceIn {
                name: Some(name.into()),
                kind: Some(kind.into()),
            }))
        };
        let ok = d(" Laptop ", "browser").unwrap();
        assert_eq!((ok.name.as_str(), ok.kind.as_str()), ("Laptop", "browser"));
        assert!(d(" ", "browser").is_err());
        assert!(d("x", &"t".repeat(41)).is_err());
        assert!(device(None).is_err());
    }

    #[test]
    fn new_epoch_with_and_without_token() {
        let plain = serde_json::to_value(NewEpoch::new(Epoch(3), None)).unwrap();
        assert_eq!(plain, serde_json::json!({ "epoch": 3 }));
        let kept = NewEpoch::new(
            Epoch(3),
            Some(issued("t".into(), "s", DeviceSlot(1), Epoch(3), 9)),
        );
        assert_eq!(
            serde_json::to_value(kept).unwrap(),
            serde_json::json!({ "epoch": 3, "token": "t", "session": "s", "device": 1, "expires_at": 9 })
        );
    }

    #[test]
    fn passwords() {}
}
