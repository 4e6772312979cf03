//! The deployment's WebAuthn relying party: the RP id passkeys are scoped to and the page
//! origins their ceremonies may come from, compared exactly (`RP_ID`, `RP_ORIGINS`, `RP_NAME`).
//!
//! Defaults follow `PUBLIC_URL`: its host is the RP id and its origin the one allowed origin.
//! A browser refuses an IP address as RP id, so a loopback `PUBLIC_URL` (the local
//! `http://127.0.0.1:8787`) gives the RP id `localhost` and the origin `http://localhost:<port>`:
//! open the page there to use passkeys locally.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use epochgate_webauthn::{Challenge, Purpose};

use crate::config::{text, DEFAULT_PUBLIC_URL};
use crate::error::ApiError;
use crate::host::random_bytes;

/// The ceremonies' `timeout`, ms: the life of a challenge.
pub const CEREMONY_TIMEOUT_MS: u64 = 300_000;

/// A fresh challenge for `purpose` bound to `binding`, base64url: authenticated under `key`
/// (from `DATA_KEY`), so issuing it writes nothing anywhere.
pub fn new_challenge(
    key: &[u8; 32],
    purpose: Purpose,
    binding: &[u8],
    now: i64,
) -> Result<String, ApiError> {
    let nonce = random_bytes::<16>()?;
    Ok(B64.encode(Challenge::issue(key, purpose, binding, now, nonce)))
}

/// `RP_NAME` when unset.
pub const DEFAULT_RP_NAME: &str = "epochgate";

/// The relying party's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpSettings {
    /// The RP id: a registrable domain (or `localhost`), never an IP address.
    pub id: String,
    /// The display name shown by authenticators.
    pub name: String,
    /// Origins (`scheme://host[:port]`) a ceremony may come from.
    pub origins: Vec<String>,
}

fn bad(m: String) -> ApiError {
    ApiError::not_configured(m)
}

/// `scheme://host[:port]` of an http(s) URL, and its host and port.
fn origin_of(url: &str) -> Option<(String, String, Option<String>)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h.to_owned(), Some(p.to_owned()))
        }
        _ => (authority.to_owned(), None),
    };
    Some((
        format!("{scheme}://{}", authority.to_ascii_lowercase()),
        host.to_ascii_lowercase(),
        port,
    ))
}

fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

fn valid_rp_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 253
        && !is_ip(id)
        && id
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl RpSettings {
    /// From the Worker's vars.
    pub fn from_env(env: &worker::Env) -> Result<Self, ApiError> {
        Self::from_lookup(|name| text(env, name))
    }

    /// From a lookup of vars (`None` when unset or empty): the parser the tests drive.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let public = var("PUBLIC_URL").unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned());
        let (public_origin, public_host, public_port) =
            origin_of(public.trim()).ok_or_else(|| {
                bad(format!(
                    "PUBLIC_URL is {public:?}; it must be an http(s) URL"
                ))
            })?;
        let loopback = public_host == "localhost" || public_host == "127.0.0.1";
        let id = match var("RP_ID") {
            Some(id) => id.trim().to_ascii_lowercase(),
            None if loopback => "localhost".to_owned(),
            None if is_ip(&public_host) => {
                return Err(bad(format!(
                    "PUBLIC_URL's host {public_host} is an IP address, which cannot scope \
                     passkeys: set RP_ID to the site's domain"
                )))
            }
            None => public_host.clone(),
        };
        if !valid_rp_id(&id) {
            return Err(bad(format!(
                "RP_ID is {id:?}; it must be a domain name such as example.com (not an IP address)"
            )));
        }
        let origins = match var("RP_ORIGINS") {
            Some(list) => {
                let mut origins = Vec::new();
                for o in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    match origin_of(o) {
                        Some((origin, _, _)) if origin == o.to_ascii_lowercase() => {
                            origins.push(origin)
                        }
                        _ => {
                            return Err(bad(format!(
                                "RP_ORIGINS holds {o:?}; each must be scheme://host[:port] with \
                                 nothing after it"
                            )))
                        }
                    }
                }
                origins
            }
            None if loopback => vec![match public_port {
                Some(p) => format!("http://localhost:{p}"),
                None => "http://localhost".to_owned(),
            }],
            None => vec![public_origin],
        };
        if origins.is_empty() {
            return Err(bad("RP_ORIGINS is empty".into()));
        }
        let name = var("RP_NAME").unwrap_or_else(|| DEFAULT_RP_NAME.to_owned());
        Ok(RpSettings { id, name, origins })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<RpSettings, ApiError> {
        RpSettings::from_lookup(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn local_defaults_use_localhost_because_browsers_refuse_ip_rp_ids() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.id, "localhost");
        assert_eq!(s.origins, ["http://localhost:8787"]);
        assert_eq!(s.name, "epochgate");
    }

    #[test]
    fn a_public_url_gives_its_host_and_origin() {
        let s = parse(&[("PUBLIC_URL", "https://Acme.example/account/")]).unwrap();
        assert_eq!(s.id, "acme.example");
        assert_eq!(s.origins, ["https://acme.example"]);
    }

    #[test]
    fn explicit_settings_win_and_are_checked() {
        let s = parse(&[
            ("RP_ID", "acme.example"),
            (
                "RP_ORIGINS",
                "https://acme.example, https://login.acme.example:8443",
            ),
            ("RP_NAME", "Acme"),
        ])
        .unwrap();
        assert_eq!(s.id, "acme.example");
        assert_eq!(
            s.origins,
            ["https://acme.example", "https://login.acme.example:8443"]
        );
        assert_eq!(s.name, "Acme");
        for (k, v) in [
            ("RP_ID", "10.0.0.1"),
            ("RP_ID", "acme..example"),
            ("RP_ID", "acme.example/x"),
            ("RP_ORIGINS", "https://acme.example/"),
            ("RP_ORIGINS", "ftp://acme.example"),
            ("RP_ORIGINS", "acme.example"),
            ("PUBLIC_URL", "https://10.1.2.3"),
        ] {
            let e = parse(&[(k, v)]).unwrap_err();
            assert_eq!(e.code(), "not_configured", "{k}={v}");
        }
    }
}
