//! Revocation updates: signed, sequence-numbered snapshots and deltas (docs/CONTRACT.md
//! section 2).
//!
//! Wire format, all integers little-endian, every field fixed-size so a reader never guesses:
//!
//! ```text
//! u8   version (2)
//! u8   kind (1 = snapshot, 2 = delta)
//! u8   kid length k (1..=64), then k bytes of UTF-8 kid
//! u64  from_seq   (0 for a snapshot; for a delta, the sequence it applies on top of)
//! u64  seq        (the sequence after applying; >= from_seq)
//! u64  created_at (Unix seconds, the origin's clock)
//! u64  horizon    (seconds; 0 = records never expire; <= created_at)
//! u32  record count n, then n records in strictly increasing account-key order:
//!        u64 account key, u32 epoch, u32 slot count m (<= 65536), m x u16 slots strictly increasing
//! u32  expired count x (0 in a snapshot and when horizon is 0), then x u64 account keys,
//!        strictly increasing, none of them a record's
//! [64] Ed25519 signature over UPDATE_DOMAIN || every byte above
//! ```
//!
//! A record is the account's whole state, not a difference, so records can be merged in any order.
//! Records whose last change is older than `created_at - horizon` can no longer refuse an
//! unexpired token: a snapshot leaves them out and a delta names those a viewer may still hold
//! under `expired`, so the viewer drops them (docs/DESIGN.md, Retention).
//! The signature covers [`UPDATE_DOMAIN`] first: a token signs base64url text, which can never
//! start with that prefix, so neither can pass for the other even under a shared key (which the
//! validator refuses anyway).

use crate::epochs::{AccountState, SlotSet};
use crate::error::{Error, UpdateError};
use crate::ids::{AccountKey, Epoch, KeyId};
use crate::keys::{KeySet, PrivateKey};

/// The format version this build writes and reads.
pub const UPDATE_VERSION: u8 = 2;
/// The signature's domain-separation prefix.
pub const UPDATE_DOMAIN: &[u8] = b"epochgate revocation update v1\0";
/// Largest accepted update, checked before anything is parsed (room for ~8 million accounts).
pub const MAX_UPDATE_BYTES: usize = 128 << 20;

const SIGNATURE_BYTES: usize = 64;
const MAX_SLOTS: u32 = 1 << 16;

/// Whether an update holds every account or only those changed since `from_seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpdateKind {
    /// Every account whose state is not the default.
    Snapshot,
    /// The accounts changed after `from_seq`, with their whole current state.
    Delta,
}

/// One account's state in an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The account's key.
    pub account: AccountKey,
    /// Its whole state; never the default state.
    pub state: AccountState,
}

/// A decoded update whose signature has been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// Snapshot or delta.
    pub kind: UpdateKind,
    /// The sequence a delta applies on top of; 0 for snapshots.
    pub from_seq: u64,
    /// The sequence after applying.
    pub seq: u64,
    /// When the origin created it, Unix seconds; signed, so it bounds how stale a view is.
    pub created_at: i64,
    /// The retention horizon, seconds: records whose last change precedes `created_at - horizon`
    /// were left out (a snapshot) or are named in `expired` (a delta). 0: nothing expires.
    pub horizon: u64,
    /// Account states in strictly increasing key order.
    pub records: Vec<Record>,
    /// Delta only: accounts whose record expired and which a viewer may still hold, in strictly
    /// increasing key order, none of them in `records`. A viewer forgets them.
    pub expired: Vec<AccountKey>,
}

/// A structurally valid update whose signature is not checked yet.
#[derive(Debug)]
pub struct UnverifiedUpdate<'a> {
    update: Update,
    kid: &'a str,
    signed: &'a [u8],
    signature: [u8; SIGNATURE_BYTES],
}

impl Update {
    /// Encodes and signs the update. Records must be in strictly increasing key order and never
    /// hold the default state; a snapshot's `from_seq` must be 0.
    pub fn sign(&self, key: &PrivateKey) -> Result<Vec<u8>, Error> {
        self.check_canonical()?;
        let kid = key.kid().as_str().as_bytes();
        let slots: usize = self.records.iter().map(|r| r.state.revoked.len()).sum();
        let mut out = Vec::with_capacity(
            UPDATE_DOMAIN.len()
                + 44
                + kid.len()
                + 16 * self.records.len()
                + 2 * slots
                + 8 * self.expired.len()
                + 64,
        );
        out.extend_from_slice(UPDATE_DOMAIN);
        out.push(UPDATE_VERSION);
        out.push(match self.kind {
            UpdateKind::Snapshot => 1,
            UpdateKind::Delta => 2,
        });
        out.push(u8::try_from(kid.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(kid);
        out.extend_from_slice(&self.from_seq.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.created_at.unsigned_abs().to_le_bytes());
        out.extend_from_slice(&self.horizon.to_le_bytes());
        let count = u32::try_from(self.records.len()).map_err(|_| {
            Error::update(
                UpdateError::Malformed,
                "more than 2^32 records in one update",
            )
        })?;
        out.extend_from_slice(&count.to_le_bytes());
        for record in &self.records {
            out.extend_from_slice(&record.account.0.to_le_bytes());
            out.extend_from_slice(&record.state.epoch.0.to_le_bytes());
            let n = u32::try_from(record.state.revoked.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&n.to_le_bytes());
            for slot in record.state.revoked.as_slice() {
                out.extend_from_slice(&slot.to_le_bytes());
            }
        }
        let expired = u32::try_from(self.expired.len()).map_err(|_| {
            Error::update(
                UpdateError::Malformed,
                "more than 2^32 expired accounts in one update",
            )
        })?;
        out.extend_from_slice(&expired.to_le_bytes());
        for account in &self.expired {
            out.extend_from_slice(&account.0.to_le_bytes());
        }
        let signature = key.sign(&out);
        out.extend_from_slice(&signature);
        out.drain(..UPDATE_DOMAIN.len());
        if out.len() > MAX_UPDATE_BYTES {
            return Err(Error::update(
                UpdateError::Malformed,
                "the update exceeds the largest accepted size",
            ));
        }
        Ok(out)
    }

    fn check_canonical(&self) -> Result<(), Error> {
        let bad = |why: &'static str| Err(Error::update(UpdateError::Malformed, why));
        if self.kind == UpdateKind::Snapshot && self.from_seq != 0 {
            return bad("a snapshot's from_seq must be 0");
        }
        if self.seq < self.from_seq {
            return bad("seq is below from_seq");
        }
        if self.created_at < 0 {
            return bad("created_at is before 1970");
        }
        if self
            .records
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.account >= b.account))
        {
            return bad("records are not in strictly increasing account-key order");
        }
        if self.records.iter().any(|r| r.state.is_default()) {
            return bad("a record holds the default state (epoch 0, no slot), which is never sent");
        }
        if self.horizon > self.created_at.unsigned_abs() {
            return bad("the horizon reaches before 1970 (horizon > created_at)");
        }
        if self.expired.is_empty() {
            return Ok(());
        }
        if self.kind == UpdateKind::Snapshot {
            return bad("a snapshot names expired accounts; it simply leaves them out");
        }
        if self.horizon == 0 {
            return bad("expired accounts in an update whose horizon is 0 (nothing expires)");
        }
        if self
            .expired
            .windows(2)
            .any(|w| matches!(w, [a, b] if a >= b))
        {
            return bad("expired accounts are not in strictly increasing key order");
        }
        self.check_expired_apart()
    }

    /// No account is both expired and a record.
    fn check_expired_apart(&self) -> Result<(), Error> {
        if self
            .expired
            .iter()
            .any(|k| self.records.binary_search_by_key(k, |r| r.account).is_ok())
        {
            return Err(Error::update(
                UpdateError::Malformed,
                "an account is both expired and a record",
            ));
        }
        Ok(())
    }
}

/// Where the parts of a structurally valid update lie, found without building its records:
/// every check [`UnverifiedUpdate::decode`] makes except that no expired account is also a
/// record (a snapshot names no expired account, so for a snapshot the layout is the whole check).
#[derive(Debug)]
pub(crate) struct Layout<'a> {
    pub(crate) kind: UpdateKind,
    pub(crate) kid: &'a str,
    pub(crate) from_seq: u64,
    pub(crate) seq: u64,
    pub(crate) created_at: i64,
    pub(crate) horizon: u64,
    /// How many records, and where they lie in the update's bytes.
    pub(crate) count: u32,
    pub(crate) records: std::ops::Range<usize>,
    /// Where the expired accounts lie.
    pub(crate) expired: std::ops::Range<usize>,
    /// Every byte before the signature.
    pub(crate) signed: &'a [u8],
    pub(crate) signature: [u8; SIGNATURE_BYTES],
}

/// One record as it lies in the bytes: the key, the epoch and its slots, little-endian u16s.
pub(crate) struct RawRecord<'a> {
    pub(crate) key: u64,
    pub(crate) epoch: u32,
    pub(crate) slots: &'a [u8],
}

impl RawRecord<'_> {
    /// The slots, in the order they lie (strictly increasing once the layout was checked).
    pub(crate) fn slots(&self) -> impl Iterator<Item = u16> + '_ {
        self.slots.chunks_exact(2).map(|p| {
            u16::from_le_bytes([
                p.first().copied().unwrap_or(0),
                p.get(1).copied().unwrap_or(0),
            ])
        })
    }
}

/// Reads the record at the start of `r`, checking its slot count and order and that it is not
/// the default state.
pub(crate) fn read_record<'a>(r: &mut Reader<'a>) -> Result<RawRecord<'a>, Error> {
    let key = r.u64()?;
    let epoch = r.u32()?;
    let n = r.u32()?;
    if n > MAX_SLOTS || u64::from(n) * 2 > r.0.len() as u64 {
        return Err(Error::update(
            UpdateError::Malformed,
            "a record's slot count is out of range",
        ));
    }
    let record = RawRecord {
        key,
        epoch,
        slots: r.take(n as usize * 2)?,
    };
    let mut previous: Option<u16> = None;
    for slot in record.slots() {
        if previous.is_some_and(|p| p >= slot) {
            return Err(Error::update(
                UpdateError::Malformed,
                "a record's slots are not strictly increasing",
            ));
        }
        previous = Some(slot);
    }
    if epoch == 0 && n == 0 {
        return Err(Error::update(
            UpdateError::Malformed,
            "a record holds the default state (epoch 0, no slot), which is never sent",
        ));
    }
    Ok(record)
}

impl<'a> Layout<'a> {
    /// Checks the structure of `bytes` (an update, signature last) without allocating.
    pub(crate) fn of(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_UPDATE_BYTES {
            return Err(Error::update(
                UpdateError::Malformed,
                format!(
                    "the update is {} bytes, over the limit of {MAX_UPDATE_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let Some((signed, signature)) = bytes.split_last_chunk::<SIGNATURE_BYTES>() else {
            return Err(truncated());
        };
        let mut r = Reader(signed);
        let version = r.u8()?;
        if version != UPDATE_VERSION {
            return Err(Error::update(
                UpdateError::UnsupportedVersion,
                format!("update format version {version} is not supported; this build reads version {UPDATE_VERSION}"),
            ));
        }
        let kind = match r.u8()? {
            1 => UpdateKind::Snapshot,
            2 => UpdateKind::Delta,
            other => {
                return Err(Error::update(
                    UpdateError::Malformed,
                    format!("unknown update kind {other}"),
                ))
            }
        };
        let kid_len = usize::from(r.u8()?);
        let kid = std::str::from_utf8(r.take(kid_len)?)
            .ok()
            .and_then(|k| KeyId::new(k).map(|_| k))
            .ok_or_else(|| {
                Error::update(
                    UpdateError::Malformed,
                    "the key id is not 1 to 64 bytes of UTF-8",
                )
            })?;
        let from_seq = r.u64()?;
        let seq = r.u64()?;
        let created_at = i64::try_from(r.u64()?)
            .map_err(|_| Error::update(UpdateError::Malformed, "created_at is out of range"))?;
        let horizon = r.u64()?;
        let count = r.u32()?;
        // Each record takes at least 16 bytes: refuse a count the input cannot hold.
        if u64::from(count) * 16 > r.0.len() as u64 {
            return Err(truncated());
        }
        let bad = |why: &'static str| Err(Error::update(UpdateError::Malformed, why));
        let records_at = signed.len() - r.0.len();
        let mut previous: Option<u64> = None;
        for _ in 0..count {
            let record = read_record(&mut r)?;
            if previous.is_some_and(|p| p >= record.key) {
                return bad("records are not in strictly increasing account-key order");
            }
            previous = Some(record.key);
        }
        let records = records_at..signed.len() - r.0.len();
        let n_expired = r.u32()?;
        if u64::from(n_expired) * 8 > r.0.len() as u64 {
            return Err(truncated());
        }
        let expired_at = signed.len() - r.0.len();
        let mut previous: Option<u64> = None;
        for _ in 0..n_expired {
            let key = r.u64()?;
            if previous.is_some_and(|p| p >= key) {
                return bad("expired accounts are not in strictly increasing key order");
            }
            previous = Some(key);
        }
        let expired = expired_at..signed.len() - r.0.len();
        if !r.0.is_empty() {
            return Err(Error::update(
                UpdateError::Malformed,
                format!("{} trailing bytes after the expired accounts", r.0.len()),
            ));
        }
        if kind == UpdateKind::Snapshot && from_seq != 0 {
            return bad("a snapshot's from_seq must be 0");
        }
        if seq < from_seq {
            return bad("seq is below from_seq");
        }
        if horizon > created_at.unsigned_abs() {
            return bad("the horizon reaches before 1970 (horizon > created_at)");
        }
        if n_expired > 0 && kind == UpdateKind::Snapshot {
            return bad("a snapshot names expired accounts; it simply leaves them out");
        }
        if n_expired > 0 && horizon == 0 {
            return bad("expired accounts in an update whose horizon is 0 (nothing expires)");
        }
        Ok(Layout {
            kind,
            kid,
            from_seq,
            seq,
            created_at,
            horizon,
            count,
            records,
            expired,
            signed,
            signature: *signature,
        })
    }

    /// Checks the signature over [`UPDATE_DOMAIN`] and `self.signed`, where they lie.
    pub(crate) fn verify(&self, keys: &KeySet) -> Result<(), Error> {
        check_signature(keys, self.kid, self.signed, &self.signature)
    }

    /// The update with its records built (the layout was checked, so this only allocates).
    pub(crate) fn build(&self) -> Result<Update, Error> {
        let mut records = Vec::with_capacity(self.count as usize);
        let mut r = Reader(self.signed.get(self.records.clone()).unwrap_or_default());
        for _ in 0..self.count {
            let raw = read_record(&mut r)?;
            records.push(Record {
                account: AccountKey(raw.key),
                state: AccountState {
                    epoch: Epoch(raw.epoch),
                    revoked: SlotSet::from_slots(raw.slots()),
                },
            });
        }
        let mut r = Reader(self.signed.get(self.expired.clone()).unwrap_or_default());
        let mut expired = Vec::with_capacity(r.0.len() / 8);
        while !r.0.is_empty() {
            expired.push(AccountKey(r.u64()?));
        }
        let update = Update {
            kind: self.kind,
            from_seq: self.from_seq,
            seq: self.seq,
            created_at: self.created_at,
            horizon: self.horizon,
            records,
            expired,
        };
        // The layout checked everything else.
        update.check_expired_apart()?;
        Ok(update)
    }
}

impl<'a> UnverifiedUpdate<'a> {
    /// Decodes the structure of an update without checking its signature.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        let layout = Layout::of(bytes)?;
        Ok(UnverifiedUpdate {
            update: layout.build()?,
            kid: layout.kid,
            signed: layout.signed,
            signature: layout.signature,
        })
    }

    /// The key id the update claims to be signed with.
    pub fn kid(&self) -> &str {
        self.kid
    }

    /// Checks the signature with the key of the update's kid.
    pub fn verify(self, keys: &KeySet) -> Result<Update, Error> {
        check_signature(keys, self.kid, self.signed, &self.signature)?;
        Ok(self.update)
    }
}

/// The signed bytes are hashed in pieces of this size, so a WebAssembly engine moves the hashing
/// to its optimising tier after the first few pieces instead of running a whole snapshot in its
/// baseline tier.
const HASH_PIECE: usize = 64 << 10;

/// Checks `signature` over [`UPDATE_DOMAIN`] then `signed`, where they lie, with the key of `kid`.
fn check_signature(
    keys: &KeySet,
    kid: &str,
    signed: &[u8],
    signature: &[u8; SIGNATURE_BYTES],
) -> Result<(), Error> {
    let key = keys.get(kid).ok_or_else(|| {
        Error::update(
            UpdateError::UnknownKey,
            format!("no revocation key has the kid {kid:?}"),
        )
    })?;
    let pieces = std::iter::once(UPDATE_DOMAIN).chain(signed.chunks(HASH_PIECE));
    if !key.verify_pieces(pieces, signature) {
        return Err(Error::update(
            UpdateError::BadSignature,
            format!("the update's signature does not verify under revocation key {kid:?}"),
        ));
    }
    Ok(())
}

fn truncated() -> Error {
    Error::update(UpdateError::Malformed, "the update is truncated")
}

pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(truncated)?;
        self.0 = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or_else(truncated)?;
        self.0 = rest;
        Ok(*head)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}
