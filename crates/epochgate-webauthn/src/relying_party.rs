//! The relying party: its id and the exact origins its pages are served from.

use sha2::{Digest, Sha256};

/// A relying party. Both ceremonies are methods on it:
/// [`verify_registration`](RelyingParty::verify_registration) and
/// [`verify_assertion`](RelyingParty::verify_assertion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelyingParty {
    id: String,
    id_hash: [u8; 32],
    origins: Vec<String>,
}

impl RelyingParty {
    /// `id` is the RP id (a registrable domain, e.g. `example.com`); `origins` are compared
    /// exactly with clientData `origin` (scheme, host and port, no trailing slash), with no
    /// suffix or wildcard matching, so a subdomain must be listed to be allowed.
    pub fn new(id: &str, origins: &[&str]) -> RelyingParty {
        RelyingParty {
            id: id.to_owned(),
            id_hash: Sha256::digest(id.as_bytes()).into(),
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    /// The RP id, for the `rp.id` / `rpId` members of the options.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The allowed origins.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    pub(crate) fn id_hash(&self) -> &[u8; 32] {
        &self.id_hash
    }

    pub(crate) fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}
