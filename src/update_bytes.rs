//! An update's bytes as they arrive, in pieces, kept where the signature check and the snapshot
//! decoder can use them without a copy.
//!
//! The buffer starts with [`UPDATE_DOMAIN`], so the signed message (the domain, then every byte
//! of the update but the signature) already lies in one piece. A snapshot is then decoded into
//! the view's packed array in the same allocation (docs/DESIGN.md, "Memory at cold start"):
//! receiving and applying an update of `n` bytes needs about `n` bytes, not the update, a copy for
//! the signature, a list of records and the view at once.

use crate::error::{Error, UpdateError};
use crate::update::{MAX_UPDATE_BYTES, UPDATE_DOMAIN};

/// A revocation update received in pieces (or in one), not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct UpdateBytes {
    /// [`UPDATE_DOMAIN`], then the update's bytes as received.
    buf: Vec<u8>,
}

impl std::fmt::Debug for UpdateBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateBytes")
            .field("len", &self.len())
            .finish()
    }
}

impl Default for UpdateBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl UpdateBytes {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty buffer with room for `expected` bytes (a `Content-Length`), at most
    /// [`MAX_UPDATE_BYTES`]. Pass the length when it is known: growing by doubling holds the
    /// old and the new allocation at once, up to three times the update.
    pub fn with_capacity(expected: usize) -> Self {
        let mut buf = Vec::with_capacity(UPDATE_DOMAIN.len() + expected.min(MAX_UPDATE_BYTES));
        buf.extend_from_slice(UPDATE_DOMAIN);
        UpdateBytes { buf }
    }

    /// The whole update at once (one copy).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let mut out = Self::with_capacity(bytes.len());
        out.push(bytes)?;
        Ok(out)
    }

    /// Appends the next piece. Refuses (`update_malformed`, nothing appended) a piece that
    /// would take the update over [`MAX_UPDATE_BYTES`], so a body that never ends is cut off.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let len = self.len().saturating_add(chunk.len());
        if len > MAX_UPDATE_BYTES {
            return Err(Error::update(
                UpdateError::Malformed,
                format!("the update is over {len} bytes, over the limit of {MAX_UPDATE_BYTES}"),
            ));
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// The update's bytes received so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(UPDATE_DOMAIN.len()..).unwrap_or_default()
    }

    /// How many bytes of the update were received.
    pub fn len(&self) -> usize {
        self.buf.len().saturating_sub(UPDATE_DOMAIN.len())
    }

    /// Whether nothing was received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The domain followed by the update: what the signature covers, once the last 64 bytes
    /// (the signature) are left off.
    pub(crate) fn with_domain(&self) -> &[u8] {
        &self.buf
    }

    /// The allocation, the domain first.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_make_the_whole() {
        let mut b = UpdateBytes::new();
        assert!(b.is_empty());
        b.push(b"abc").unwrap();
        b.push(b"").unwrap();
        b.push(b"de").unwrap();
        assert_eq!(b.as_bytes(), b"abcde");
        assert_eq!(b.len(), 5);
        assert_eq!(b, UpdateBytes::from_slice(b"abcde").unwrap());
        assert!(b.with_domain().starts_with(UPDATE_DOMAIN));
    }

    #[test]
    fn a_body_that_never_ends_is_cut_off_and_nothing_is_appended() {
        let mut b = UpdateBytes::with_capacity(usize::MAX);
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..MAX_UPDATE_BYTES / chunk.len() {
            b.push(&chunk).unwrap();
        }
        let e = b.push(b"x").unwrap_err();
        assert_eq!(e.code(), "update_malformed");
        assert_eq!(b.len(), MAX_UPDATE_BYTES);
    }
}
