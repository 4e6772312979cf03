//! An update's bytes as they arrive, in pieces, in one allocation that the signature check reads
//! where it lies and that a snapshot is decoded into (the view's packed array takes it over;
//! docs/DESIGN.md, "Memory at cold start"): receiving and applying an update of `n` bytes needs
//! about `n` bytes, not the update, a copy for the signature, a list of records and the view at
//! once.

use crate::error::{Error, UpdateError};
use crate::update::MAX_UPDATE_BYTES;

/// A revocation update received in pieces (or in one), not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct UpdateBytes {
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
        UpdateBytes {
            buf: Vec::with_capacity(expected.min(MAX_UPDATE_BYTES)),
        }
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
        let len = self.buf.len().saturating_add(chunk.len());
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
        &self.buf
    }

    /// How many bytes of the update were received.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The allocation.
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
