//! clientDataJSON: the browser's statement of ceremony type, challenge and origin.
//!
//! It is parsed as JSON, never compared against a template (browsers add members). The three
//! members that matter must be strings; a repeated member is refused, so a second `origin` can
//! never hide behind the first. The raw bytes, not this parse, are what the signature covers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use crate::challenge::{Challenge, Opened, Purpose};
use crate::{Error, RelyingParty};

/// Largest clientDataJSON accepted; real ones are a few hundred bytes.
pub const MAX_CLIENT_DATA_BYTES: usize = 8 * 1024;

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
}

/// The ceremony a clientDataJSON claims to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    const fn type_name(self) -> &'static str {
        match self {
            Ceremony::Create => "webauthn.create",
            Ceremony::Get => "webauthn.get",
        }
    }
}

/// Checks clientDataJSON in order: JSON shape, `type`, `challenge` (opened with `purpose` and
/// `binding`), `origin`, `crossOrigin`. Returns the opened challenge for the final spend.
pub(crate) fn check(
    rp: &RelyingParty,
    json: &[u8],
    ceremony: Ceremony,
    key: &[u8; 32],
    purpose: Purpose,
    binding: &[u8],
    now: i64,
) -> Result<Opened, Error> {
    if json.len() > MAX_CLIENT_DATA_BYTES {
        return Err(Error::Malformed);
    }
    let data: ClientData = serde_json::from_slice(json).map_err(|_| Error::Malformed)?;
    if data.kind != ceremony.type_name() {
        return Err(Error::WrongType);
    }
    let challenge = URL_SAFE_NO_PAD
        .decode(data.challenge.as_bytes())
        .map_err(|_| Error::ChallengeInvalid)?;
    let opened = Challenge::open(key, &challenge, purpose, binding, now)?;
    if !rp.allows_origin(&data.origin) {
        return Err(Error::WrongOrigin);
    }
    if data.cross_origin == Some(true) {
        return Err(Error::CrossOrigin);
    }
    Ok(opened)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [3; 32];
    const NOW: i64 = 1_800_000_000;

    fn json(body: &str) -> Result<Opened, Error> {
        let rp = RelyingParty::new("example.com", &["https://example.com"]);
        let c = URL_SAFE_NO_PAD.encode(Challenge::issue(&KEY, Purpose::Login, b"", NOW, [5; 16]));
        let text = body.replace("CH", &c);
        check(
            &rp,
            text.as_bytes(),
            Ceremony::Get,
            &KEY,
            Purpose::Login,
            b"",
            NOW,
        )
    }

    #[test]
    fn members_are_required_typed_and_unique() {
        let base = r#"{"type":"webauthn.get","challenge":"CH","origin":"https://example.com""#;
        assert!(json(&format!("{base}}}")).is_ok());
        assert!(json(&format!("{base},\"crossOrigin\":false,\"extra\":[1]}}")).is_ok());
        assert_eq!(
            json(&format!("{base},\"crossOrigin\":true}}")),
            Err(Error::CrossOrigin)
        );
        assert_eq!(
            json(&format!("{base},\"crossOrigin\":\"no\"}}")),
            Err(Error::Malformed)
        );
        assert_eq!(
            json(&format!("{base},\"origin\":\"https://evil.example\"}}")),
            Err(Error::Malformed)
        );
        assert_eq!(
            json(r#"{"type":"webauthn.get","challenge":"CH"}"#),
            Err(Error::Malformed)
        );
        assert_eq!(
            json(r#"{"type":1,"challenge":"CH","origin":"https://example.com"}"#),
            Err(Error::Malformed)
        );
        assert_eq!(
            json(&format!("{base}}} ")),
            Ok(json(&format!("{base}}}")).unwrap())
        );
        assert_eq!(json(&format!("{base}}}x")), Err(Error::Malformed));
        assert_eq!(json("[]"), Err(Error::Malformed));
    }

    #[test]
    fn challenge_encoding_is_strict() {
        let base = r#"{"type":"webauthn.get","origin":"https://example.com","challenge":"#;
        assert_eq!(
            json(&format!("{base}\"CH=\"}}")),
            Err(Error::ChallengeInvalid)
        );
        assert_eq!(
            json(&format!("{base}\"AAAA\"}}")),
            Err(Error::ChallengeInvalid)
        );
        assert_eq!(
            json(&format!("{base}\"*\"}}")),
            Err(Error::ChallengeInvalid)
        );
    }

    #[test]
    fn oversized_client_data_is_refused_before_parsing() {
        let pad = " ".repeat(MAX_CLIENT_DATA_BYTES);
        let body = format!(
            r#"{{"type":"webauthn.get","challenge":"CH","origin":"https://example.com"{pad}}}"#
        );
        assert_eq!(json(&body), Err(Error::Malformed));
    }
}
