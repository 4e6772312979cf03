//! The viewer side of revocation: the state of many accounts, held compactly, fed by verified
//! updates.
//!
//! Layout (see docs/DESIGN.md): accounts whose epoch is below 255 and whose signed-out slots are
//! all below 64 live in one sorted array of 15-byte entries — the low 48 bits of the account key,
//! the epoch in a byte, the slots as a 64-bit map — found through a directory on the key's top 16
//! bits, so the full key is implied and never stored. Every other account, and accounts changed
//! since the array was last rebuilt, live in a small hash map that takes precedence. The map is
//! folded into the array once it holds more than an eighth of it. An account a delta names as
//! expired is forgotten: removed from the map, and its array entry set to the default state (a
//! tombstone, counted like a map entry and left out at the next fold).

use std::collections::HashMap;

use crate::epochs::{check_parts, AccountState, SlotSet};
use crate::error::{Error, Reason, UpdateError};
use crate::hash::KeyedState;
use crate::ids::{AccountKey, DeviceSlot, Epoch};
use crate::update::{read_record, RawRecord, Reader, Update, UpdateKind};

const FP_BITS: u32 = 48;
const FP_MASK: u64 = (1 << FP_BITS) - 1;
const BUCKETS: usize = 1 << (64 - FP_BITS);
const ENTRY_BYTES: usize = 15;
/// Epochs from this value up are kept in the map instead of the one-byte epoch field.
const INLINE_EPOCH_LIMIT: u32 = 255;
/// The map is folded into the array when it holds more than this many accounts and more than an
/// eighth of the array.
const MIN_FOLD: usize = 4096;

type Packed = [u8; ENTRY_BYTES];

fn pack(key: u64, state: &AccountState) -> Option<Packed> {
    if state.epoch.0 >= INLINE_EPOCH_LIMIT {
        return None;
    }
    Some(pack_parts(
        key,
        state.epoch.0 as u8,
        state.revoked.to_bitmap()?,
    ))
}

/// The entry of `key` with a one-byte epoch and the slots as a 64-bit map.
fn pack_parts(key: u64, epoch: u8, bits: u64) -> Packed {
    let [f0, f1, f2, f3, f4, f5, _, _] = (key & FP_MASK).to_le_bytes();
    let [b0, b1, b2, b3, b4, b5, b6, b7] = bits.to_le_bytes();
    [
        f0, f1, f2, f3, f4, f5, epoch, b0, b1, b2, b3, b4, b5, b6, b7,
    ]
}

/// [`pack`] for a record as it lies in an update, without building its slot set.
fn pack_raw(record: &RawRecord<'_>) -> Option<Packed> {
    let epoch = u8::try_from(record.epoch)
        .ok()
        .filter(|e| u32::from(*e) < INLINE_EPOCH_LIMIT)?;
    let bits = record
        .slots()
        .try_fold(0u64, |bits, s| (s < 64).then(|| bits | (1u64 << s)))?;
    Some(pack_parts(record.key, epoch, bits))
}

fn state_of(record: &RawRecord<'_>) -> AccountState {
    AccountState {
        epoch: Epoch(record.epoch),
        revoked: SlotSet::from_slots(record.slots()),
    }
}

/// A verified snapshot lying in a received buffer: where its records are (offsets in the
/// buffer) and its signed fields.
#[derive(Clone, Debug)]
pub(crate) struct SnapshotAt {
    pub(crate) records: std::ops::Range<usize>,
    pub(crate) count: u32,
    pub(crate) seq: u64,
    pub(crate) created_at: i64,
    pub(crate) horizon: u64,
}

fn fingerprint(e: &Packed) -> u64 {
    let [f0, f1, f2, f3, f4, f5, ..] = *e;
    u64::from_le_bytes([f0, f1, f2, f3, f4, f5, 0, 0])
}

fn epoch_of(e: &Packed) -> u32 {
    let [_, _, _, _, _, _, epoch, ..] = *e;
    u32::from(epoch)
}

fn bits_of(e: &Packed) -> u64 {
    let [_, _, _, _, _, _, _, b0, b1, b2, b3, b4, b5, b6, b7] = *e;
    u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
}

/// A viewer's knowledge of every account's revocation state, its sequence and its freshness.
pub struct RevocationView {
    /// `dir[b]..dir[b + 1]` are the entries whose key has top bits `b`; empty when there are none.
    dir: Vec<u32>,
    /// The packed entries, [`ENTRY_BYTES`] each, in increasing key order (flat bytes, so a
    /// snapshot can be decoded into them where it was received).
    entries: Vec<u8>,
    overlay: HashMap<u64, AccountState, KeyedState>,
    /// Array entries holding the default state (forgotten accounts), until the next fold.
    tombstones: usize,
    seq: u64,
    newest_created_at: Option<i64>,
    horizon: u64,
}

impl std::fmt::Debug for RevocationView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationView")
            .field("accounts", &self.len())
            .field("seq", &self.seq)
            .field("newest_created_at", &self.newest_created_at)
            .finish()
    }
}

impl RevocationView {
    /// An empty view at sequence 0 that has applied no update. `seed` keys the overlay's hasher.
    pub fn new(seed: [u8; 16]) -> Self {
        RevocationView {
            dir: Vec::new(),
            entries: Vec::new(),
            overlay: HashMap::with_hasher(KeyedState::new(seed)),
            tombstones: 0,
            seq: 0,
            newest_created_at: None,
            horizon: 0,
        }
    }

    /// The retention horizon of the last applied update (0: nothing expires).
    pub fn horizon(&self) -> u64 {
        self.horizon
    }

    /// The sequence of the last applied update.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The signed creation time of the newest applied update, if any was applied.
    pub fn newest_created_at(&self) -> Option<i64> {
        self.newest_created_at
    }

    /// How many accounts the view holds a non-default state for (an account may be counted in
    /// both tiers between folds).
    pub fn len(&self) -> usize {
        self.packed().len().saturating_sub(self.tombstones) + self.overlay.len()
    }

    /// Whether the view holds no account.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held, by capacity (the overlay counted at its entry size, without allocator
    /// overhead).
    pub fn memory_bytes(&self) -> usize {
        let overlay_entry = std::mem::size_of::<(u64, AccountState)>() + 1;
        let slots: usize = self.overlay.values().map(|s| s.revoked.len() * 2).sum();
        self.dir.capacity() * 4
            + self.entries.capacity()
            + self.overlay.capacity() * overlay_entry
            + slots
    }

    /// The revocation verdict for a token of `account` issued at `epoch` for `device`.
    #[inline]
    pub fn check(&self, account: AccountKey, epoch: Epoch, device: DeviceSlot) -> Option<Reason> {
        if !self.overlay.is_empty() {
            if let Some(state) = self.overlay.get(&account.0) {
                return state.check(epoch, device);
            }
        }
        let entry = self.entry(account.0)?;
        let bits = bits_of(entry);
        check_parts(epoch_of(entry), epoch, device, |slot| {
            slot < 64 && bits & (1u64 << slot) != 0
        })
    }

    /// The state the view holds for `account` (the default state when it holds none).
    pub fn state(&self, account: AccountKey) -> AccountState {
        if let Some(state) = self.overlay.get(&account.0) {
            return state.clone();
        }
        self.entry(account.0).map(unpack).unwrap_or_default()
    }

    fn position(&self, key: u64) -> Option<usize> {
        let bucket = (key >> FP_BITS) as usize;
        let lo = *self.dir.get(bucket)? as usize;
        let hi = *self.dir.get(bucket + 1)? as usize;
        let entries = self.packed().get(lo..hi)?;
        let fp = key & FP_MASK;
        // Keys are uniform within a bucket, so the fingerprint predicts the position; a short scan
        // from the guess usually stays within one cache line.
        let guess = ((u128::from(fp) * entries.len() as u128) >> FP_BITS) as usize;
        let mut at = guess.min(entries.len().saturating_sub(1));
        let probe = |i: usize| entries.get(i).map(fingerprint);
        match probe(at)?.cmp(&fp) {
            std::cmp::Ordering::Equal => Some(lo + at),
            std::cmp::Ordering::Less => loop {
                at += 1;
                match probe(at)?.cmp(&fp) {
                    std::cmp::Ordering::Equal => return Some(lo + at),
                    std::cmp::Ordering::Greater => return None,
                    std::cmp::Ordering::Less => {}
                }
            },
            std::cmp::Ordering::Greater => loop {
                at = at.checked_sub(1)?;
                match probe(at)?.cmp(&fp) {
                    std::cmp::Ordering::Equal => return Some(lo + at),
                    std::cmp::Ordering::Less => return None,
                    std::cmp::Ordering::Greater => {}
                }
            },
        }
    }

    fn entry(&self, key: u64) -> Option<&Packed> {
        self.packed().get(self.position(key)?)
    }

    fn packed(&self) -> &[Packed] {
        self.entries.as_chunks::<ENTRY_BYTES>().0
    }

    fn packed_mut(&mut self) -> &mut [Packed] {
        self.entries.as_chunks_mut::<ENTRY_BYTES>().0
    }

    /// Applies a verified update. A delta must start at this view's sequence; a snapshot must not
    /// be older than it. A refused update leaves the view unchanged.
    pub fn apply(&mut self, update: Update) -> Result<u64, Error> {
        match update.kind {
            UpdateKind::Snapshot if update.seq < self.seq => {
                return Err(Error::update(
                    UpdateError::Stale,
                    format!("snapshot at sequence {} is older than the view's {}; it would roll the view back", update.seq, self.seq),
                ))
            }
            UpdateKind::Snapshot => {
                if update.seq > self.seq || self.newest_created_at.is_none() {
                    self.rebuild(update.records.into_iter().map(|r| (r.account.0, r.state)).collect());
                }
            }
            UpdateKind::Delta if update.from_seq > self.seq => {
                return Err(Error::update(
                    UpdateError::Gap,
                    format!(
                        "delta starts at sequence {} but the view is at {}; fetch a snapshot or a delta since {}",
                        update.from_seq, self.seq, self.seq
                    ),
                ))
            }
            UpdateKind::Delta if update.from_seq < self.seq => {
                return Err(Error::update(
                    UpdateError::Stale,
                    format!("delta starts at sequence {} but the view is already at {}", update.from_seq, self.seq),
                ))
            }
            UpdateKind::Delta => {
                for account in &update.expired {
                    self.forget(account.0);
                }
                for record in update.records {
                    self.merge(record.account.0, &record.state);
                }
                if self.overlay.len() + self.tombstones > MIN_FOLD.max(self.packed().len() / 8) {
                    self.fold();
                }
            }
        }
        Ok(self.advance(update.seq, update.horizon, update.created_at))
    }

    /// Applies a verified snapshot that lies in `buf` (its layout checked), decoding its records
    /// into the packed array in the same allocation: the same rules and the same view as
    /// [`Self::apply`], without a list of records or a second copy of the bytes.
    pub(crate) fn adopt_snapshot(&mut self, buf: Vec<u8>, at: SnapshotAt) -> Result<u64, Error> {
        if at.seq < self.seq {
            return Err(Error::update(
                UpdateError::Stale,
                format!("snapshot at sequence {} is older than the view's {}; it would roll the view back", at.seq, self.seq),
            ));
        }
        if at.seq > self.seq || self.newest_created_at.is_none() {
            self.build_in_place(buf, at.records, at.count)?;
        }
        Ok(self.advance(at.seq, at.horizon, at.created_at))
    }

    fn advance(&mut self, seq: u64, horizon: u64, created_at: i64) -> u64 {
        self.seq = seq;
        self.horizon = horizon;
        self.newest_created_at = Some(
            self.newest_created_at
                .map_or(created_at, |t| t.max(created_at)),
        );
        self.seq
    }

    /// Replaces the whole state with the `count` records lying at `records` in `buf`, writing
    /// the packed entries from the start of `buf` over bytes already read: a record takes at
    /// least 16 bytes and an entry 15, and the records start after the update's header, so the
    /// writing never reaches a record not yet read. Builds aside and swaps at the end, so an error
    /// leaves the view as it was.
    fn build_in_place(
        &mut self,
        mut buf: Vec<u8>,
        records: std::ops::Range<usize>,
        count: u32,
    ) -> Result<(), Error> {
        if count as usize <= MIN_FOLD {
            let mut r = Reader(buf.get(records).unwrap_or_default());
            let mut sorted = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let raw = read_record(&mut r)?;
                sorted.push((raw.key, state_of(&raw)));
            }
            self.rebuild(sorted);
            return Ok(());
        }
        let mut dir = vec![0u32; BUCKETS + 1];
        let mut overlay = HashMap::with_hasher(self.overlay.hasher().clone());
        let mut written = 0usize;
        let mut at = records.start;
        for _ in 0..count {
            let (key, packed, next) = {
                let mut r = Reader(buf.get(at..records.end).unwrap_or_default());
                let raw = read_record(&mut r)?;
                let packed = pack_raw(&raw);
                if packed.is_none() {
                    overlay.insert(raw.key, state_of(&raw));
                }
                (raw.key, packed, records.end - r.0.len())
            };
            if let Some(packed) = packed {
                let slot = buf
                    .get_mut(written..written + ENTRY_BYTES)
                    .and_then(|d| <&mut Packed>::try_from(d).ok());
                if let Some(slot) = slot {
                    *slot = packed;
                    written += ENTRY_BYTES;
                    if let Some(n) = dir.get_mut((key >> FP_BITS) as usize + 1) {
                        *n += 1;
                    }
                }
            }
            at = next;
        }
        buf.truncate(written);
        buf.shrink_to_fit();
        self.dir = directory(dir, buf.is_empty());
        self.entries = buf;
        self.overlay = overlay;
        self.tombstones = 0;
        Ok(())
    }

    /// Forgets `key`: its record expired, so it can refuse no unexpired token.
    fn forget(&mut self, key: u64) {
        self.overlay.remove(&key);
        if let Some(at) = self.position(key) {
            let Some(entry) = self.packed_mut().get_mut(at) else {
                return;
            };
            if epoch_of(entry) != 0 || bits_of(entry) != 0 {
                if let Some(packed) = pack(key, &AccountState::default()) {
                    *entry = packed;
                    self.tombstones += 1;
                }
            }
        }
    }

    fn merge(&mut self, key: u64, change: &AccountState) {
        let mut state = self.state(AccountKey(key));
        state.merge(change);
        if let Some(at) = self.position(key) {
            if let (Some(packed), Some(entry)) = (pack(key, &state), self.packed_mut().get_mut(at))
            {
                // Only a forgotten account's entry holds the default state.
                let forgotten = epoch_of(entry) == 0 && bits_of(entry) == 0;
                *entry = packed;
                if forgotten {
                    self.tombstones = self.tombstones.saturating_sub(1);
                }
                self.overlay.remove(&key);
                return;
            }
        }
        self.overlay.insert(key, state);
    }

    /// Moves the overlay into the array, keeping there only what cannot be packed.
    fn fold(&mut self) {
        let mut all: Vec<(u64, AccountState)> = Vec::with_capacity(self.len());
        for (bucket, pair) in self.dir.windows(2).enumerate() {
            let [lo, hi] = pair else { continue };
            for entry in self
                .packed()
                .get(*lo as usize..*hi as usize)
                .unwrap_or_default()
            {
                let key = ((bucket as u64) << FP_BITS) | fingerprint(entry);
                if (epoch_of(entry) != 0 || bits_of(entry) != 0) && !self.overlay.contains_key(&key)
                {
                    all.push((key, unpack(entry)));
                }
            }
        }
        all.extend(self.overlay.drain());
        all.sort_unstable_by_key(|(key, _)| *key);
        self.rebuild(all);
    }

    /// Replaces the whole state with `sorted` (strictly increasing keys). Small views live in
    /// the map alone: the array's directory only pays off past a few thousand accounts.
    fn rebuild(&mut self, sorted: Vec<(u64, AccountState)>) {
        if sorted.len() <= MIN_FOLD {
            let mut overlay =
                HashMap::with_capacity_and_hasher(sorted.len(), self.overlay.hasher().clone());
            overlay.extend(sorted);
            self.dir = Vec::new();
            self.entries = Vec::new();
            self.overlay = overlay;
            self.tombstones = 0;
            return;
        }
        let mut entries = Vec::with_capacity(sorted.len() * ENTRY_BYTES);
        let mut overlay = HashMap::with_hasher(self.overlay.hasher().clone());
        let mut dir = vec![0u32; BUCKETS + 1];
        for (key, state) in sorted {
            match pack(key, &state) {
                Some(packed) => {
                    entries.extend_from_slice(&packed);
                    if let Some(count) = dir.get_mut((key >> FP_BITS) as usize + 1) {
                        *count += 1;
                    }
                }
                None => {
                    overlay.insert(key, state);
                }
            }
        }
        entries.shrink_to_fit();
        self.dir = directory(dir, entries.is_empty());
        self.entries = entries;
        self.overlay = overlay;
        self.tombstones = 0;
    }
}

/// The directory from per-bucket counts (bucket `b` counted at `b + 1`): running sums, so bucket
/// `b`'s entries are `dir[b]..dir[b + 1]`; none at all for an empty array.
fn directory(mut counts: Vec<u32>, empty: bool) -> Vec<u32> {
    if empty {
        return Vec::new();
    }
    let mut sum = 0u32;
    for slot in counts.iter_mut() {
        sum += *slot;
        *slot = sum;
    }
    counts
}

fn unpack(entry: &Packed) -> AccountState {
    AccountState {
        epoch: Epoch(epoch_of(entry)),
        revoked: SlotSet::from_bitmap(bits_of(entry)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::Record;

    fn state(epoch: u32, slots: &[u16]) -> AccountState {
        AccountState {
            epoch: Epoch(epoch),
            revoked: SlotSet::from_slots(slots.iter().copied()),
        }
    }

    fn snapshot(seq: u64, mut records: Vec<(u64, AccountState)>) -> Update {
        records.sort_by_key(|r| r.0);
        let records = records
            .into_iter()
            .map(|(k, s)| Record {
                account: AccountKey(k),
                state: s,
            })
            .collect();
        Update {
            kind: UpdateKind::Snapshot,
            from_seq: 0,
            seq,
            created_at: 100,
            horizon: 0,
            expired: vec![],
            records,
        }
    }

    #[test]
    fn both_tiers_answer_the_same() {
        let mut view = RevocationView::new([7; 16]);
        let records: Vec<_> = (0..20_000u64)
            .map(|i| {
                let key = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let st = match i % 4 {
                    0 => state(1 + (i % 200) as u32, &[]),
                    1 => state(3, &[(i % 64) as u16, 2]),
                    2 => state(300, &[1]),
                    _ => state(0, &[100, 7]),
                };
                (key, st)
            })
            .collect();
        view.apply(snapshot(5, records.clone())).unwrap();
        assert!(
            view.packed().len() >= 10_000 && view.overlay.len() == 10_000,
            "epoch >= 255 and slot 100 go to the map"
        );
        for (key, st) in &records {
            assert_eq!(&view.state(AccountKey(*key)), st);
            for dev in [0u16, 1, 2, 7, 63, 100] {
                for epo in [0u32, st.epoch.0, st.epoch.0 + 1] {
                    assert_eq!(
                        view.check(AccountKey(*key), Epoch(epo), DeviceSlot(dev)),
                        st.check(Epoch(epo), DeviceSlot(dev))
                    );
                }
            }
        }
        assert_eq!(view.check(AccountKey(12345), Epoch(0), DeviceSlot(0)), None);
        // Neighbours of present keys are absent: the scan from the guess stops on both sides.
        let present: std::collections::HashSet<u64> = records.iter().map(|r| r.0).collect();
        for (key, _) in &records {
            for near in [key.wrapping_add(1), key.wrapping_sub(1), key ^ (1 << 47)] {
                if !present.contains(&near) {
                    assert_eq!(view.state(AccountKey(near)), AccountState::default());
                }
            }
        }
        assert_eq!(view.state(AccountKey(u64::MAX)), AccountState::default());
    }

    #[test]
    fn small_views_need_no_directory() {
        let mut view = RevocationView::new([2; 16]);
        view.apply(snapshot(1, vec![(5, state(1, &[])), (9, state(2, &[3]))]))
            .unwrap();
        assert!(view.dir.is_empty() && view.entries.is_empty());
        assert!(view.memory_bytes() < 1024);
        assert_eq!(
            view.check(AccountKey(9), Epoch(2), DeviceSlot(3)),
            Some(Reason::RevokedDevice)
        );
        assert_eq!(
            view.check(AccountKey(5), Epoch(0), DeviceSlot(3)),
            Some(Reason::RevokedAll)
        );
    }

    #[test]
    fn deltas_fold_into_the_array() {
        let mut view = RevocationView::new([1; 16]);
        for (seq, i) in (0..(3 * MIN_FOLD as u64)).enumerate() {
            let seq = seq as u64;
            let key = i.wrapping_mul(0xD1B5_4A32_D192_ED03);
            let rec = Record {
                account: AccountKey(key),
                state: state(1, &[(i % 3) as u16]),
            };
            view.apply(Update {
                kind: UpdateKind::Delta,
                from_seq: seq,
                seq: seq + 1,
                created_at: 1,
                horizon: 0,
                expired: vec![],
                records: vec![rec],
            })
            .unwrap();
        }
        assert!(!view.entries.is_empty(), "the overlay was folded");
        for i in 0..(3 * MIN_FOLD as u64) {
            let key = AccountKey(i.wrapping_mul(0xD1B5_4A32_D192_ED03));
            assert_eq!(
                view.check(key, Epoch(1), DeviceSlot((i % 3) as u16)),
                Some(Reason::RevokedDevice)
            );
            assert_eq!(
                view.check(key, Epoch(0), DeviceSlot(9)),
                Some(Reason::RevokedAll)
            );
        }
    }

    #[test]
    fn expired_accounts_are_forgotten_in_both_tiers() {
        let mut view = RevocationView::new([4; 16]);
        let key = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // 39,900 accounts in the array, 100 (epoch 300) in the map.
        let epoch = |i: u64| if i % 400 == 1 { 300 } else { 1 };
        let records: Vec<_> = (0..40_000u64)
            .map(|i| (key(i), state(epoch(i), &[])))
            .collect();
        view.apply(snapshot(1, records)).unwrap();
        let delta = |from: u64, expired: Vec<u64>, records: Vec<(u64, AccountState)>| {
            let mut expired: Vec<AccountKey> = expired.into_iter().map(AccountKey).collect();
            expired.sort();
            let mut records: Vec<Record> = records
                .into_iter()
                .map(|(k, s)| Record {
                    account: AccountKey(k),
                    state: s,
                })
                .collect();
            records.sort_by_key(|r| r.account);
            Update {
                kind: UpdateKind::Delta,
                from_seq: from,
                seq: from + 1,
                created_at: 100,
                horizon: 10,
                expired,
                records,
            }
        };
        // Forget 2000 accounts (5 of them in the map), then sign 10 forgotten ones out again.
        view.apply(delta(1, (0..2000).map(key).collect(), vec![]))
            .unwrap();
        assert_eq!((view.len(), view.tombstones), (38_000, 1995));
        let again = (0..20)
            .step_by(2)
            .map(|i| (key(i), state(2, &[5])))
            .collect();
        view.apply(delta(2, vec![], again)).unwrap();
        assert_eq!((view.len(), view.tombstones), (38_010, 1985));
        for i in 0..2000u64 {
            let expected = if i < 20 && i % 2 == 0 {
                state(2, &[5])
            } else {
                AccountState::default()
            };
            assert_eq!(view.state(AccountKey(key(i))), expected);
            assert_eq!(
                view.check(AccountKey(key(i)), Epoch(0), DeviceSlot(5))
                    .is_some(),
                i < 20 && i % 2 == 0
            );
        }
        // Tombstones count towards a fold, which leaves them out and changes nothing else.
        view.apply(delta(3, (2000..5500).map(key).collect(), vec![]))
            .unwrap();
        assert_eq!((view.len(), view.tombstones), (34_510, 0));
        for i in 5500..40_000u64 {
            assert_eq!(view.state(AccountKey(key(i))).epoch.0, epoch(i));
        }
        assert_eq!(view.horizon(), 10);
    }

    #[test]
    fn sequence_rules() {
        let mut view = RevocationView::new([0; 16]);
        let delta = |from, seq| Update {
            kind: UpdateKind::Delta,
            from_seq: from,
            seq,
            created_at: 50,
            horizon: 0,
            expired: vec![],
            records: vec![],
        };
        assert_eq!(view.apply(delta(1, 2)).unwrap_err().code(), "update_gap");
        assert_eq!(view.apply(delta(0, 2)).unwrap(), 2);
        assert_eq!(view.apply(delta(0, 3)).unwrap_err().code(), "update_stale");
        assert_eq!(
            view.apply(snapshot(1, vec![])).unwrap_err().code(),
            "update_stale"
        );
        assert_eq!(
            view.apply(delta(2, 2)).unwrap(),
            2,
            "an empty delta refreshes"
        );
        assert_eq!(view.newest_created_at(), Some(50));
    }
}
