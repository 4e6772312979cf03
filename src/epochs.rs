//! The revocation model of docs/CONTRACT.md section 2: per account an epoch `E` and the set `R`
//! of device slots signed out during `E`.
//!
//! Viewer states only ever grow (a higher epoch, or more slots in the same epoch), so applying the
//! same change twice, or two changes in either order, ends in the same state: [`AccountState::merge`].

use crate::error::{Error, LogError, Reason};
use crate::ids::{DeviceSlot, Epoch};

/// The device slots signed out in one epoch, sorted and without duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SlotSet(Vec<u16>);

impl SlotSet {
    /// An empty set.
    pub const fn new() -> Self {
        SlotSet(Vec::new())
    }

    /// A set from slots in any order; duplicates are dropped.
    pub fn from_slots(slots: impl IntoIterator<Item = u16>) -> Self {
        let mut v: Vec<u16> = slots.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        SlotSet(v)
    }

    /// A set from a sorted, duplicate-free list; `None` otherwise.
    pub fn from_sorted(slots: Vec<u16>) -> Option<Self> {
        slots
            .windows(2)
            .all(|w| matches!(w, [a, b] if a < b))
            .then_some(SlotSet(slots))
    }

    /// Whether `slot` is in the set.
    pub fn contains(&self, slot: u16) -> bool {
        self.0.binary_search(&slot).is_ok()
    }

    /// Adds `slot`; returns whether it was new.
    pub fn insert(&mut self, slot: u16) -> bool {
        match self.0.binary_search(&slot) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, slot);
                true
            }
        }
    }

    /// Adds every slot of `other`.
    pub fn union_with(&mut self, other: &SlotSet) {
        if other.0.iter().any(|s| !self.contains(*s)) {
            self.0.extend_from_slice(&other.0);
            self.0.sort_unstable();
            self.0.dedup();
        }
    }

    /// The slots, ascending.
    pub fn as_slice(&self) -> &[u16] {
        &self.0
    }

    /// How many slots.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The set as a 64-bit map when every slot is below 64.
    pub fn to_bitmap(&self) -> Option<u64> {
        self.0
            .iter()
            .try_fold(0u64, |bits, &s| (s < 64).then(|| bits | (1u64 << s)))
    }

    /// The set of the bits of a 64-bit map.
    pub fn from_bitmap(bits: u64) -> Self {
        SlotSet((0u16..64).filter(|s| bits & (1u64 << s) != 0).collect())
    }
}

/// What a viewer knows of one account: its epoch and the slots signed out in it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AccountState {
    /// The account's epoch `E`.
    pub epoch: Epoch,
    /// The slots signed out during `E`.
    pub revoked: SlotSet,
}

impl AccountState {
    /// Whether this is the state of an account that never signed anything out (`E = 0`, `R = {}`).
    pub fn is_default(&self) -> bool {
        self.epoch.0 == 0 && self.revoked.is_empty()
    }

    /// The verdict on a token issued at `epoch` for `device`: revoked, or `None` when this state
    /// does not refuse it (including tokens from a newer epoch than this view knows).
    pub fn check(&self, epoch: Epoch, device: DeviceSlot) -> Option<Reason> {
        check_parts(self.epoch.0, epoch, device, |slot| {
            self.revoked.contains(slot)
        })
    }

    /// Joins `other` into `self`: the higher epoch wins; equal epochs unite their slots.
    pub fn merge(&mut self, other: &AccountState) {
        if other.epoch > self.epoch {
            *self = other.clone();
        } else if other.epoch == self.epoch {
            self.revoked.union_with(&other.revoked);
        }
    }
}

/// The epoch check shared by every representation of a state.
#[inline]
pub(crate) fn check_parts(
    state_epoch: u32,
    epoch: Epoch,
    device: DeviceSlot,
    revoked: impl FnOnce(u16) -> bool,
) -> Option<Reason> {
    if epoch.0 < state_epoch {
        Some(Reason::RevokedAll)
    } else if epoch.0 == state_epoch && revoked(device.0) {
        Some(Reason::RevokedDevice)
    } else {
        None
    }
}

/// What the origin keeps of one account: the viewer state plus the next slot to hand out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OriginAccount {
    /// The state viewers must learn.
    pub state: AccountState,
    /// The next device slot of the current epoch; slots are never reused within an epoch.
    pub next_slot: u32,
}

/// One past the highest device slot.
pub const SLOTS_PER_EPOCH: u32 = 1 << 16;

impl OriginAccount {
    /// Hands out the next device slot of the current epoch.
    pub fn allocate_device(&mut self) -> Result<DeviceSlot, Error> {
        let slot = u16::try_from(self.next_slot).map_err(|_| {
            Error::log(
                LogError::SlotsExhausted,
                "all 65536 device slots of this epoch are used; sign out of all devices to start a new epoch",
            )
        })?;
        self.next_slot += 1;
        Ok(DeviceSlot(slot))
    }

    /// Signs out one device of the current epoch. Returns whether the state changed (signing out
    /// a device twice is harmless and changes nothing).
    pub fn revoke_device(&mut self, device: DeviceSlot) -> Result<bool, Error> {
        if u32::from(device.0) >= self.next_slot {
            return Err(Error::log(
                LogError::UnknownDevice,
                format!(
                    "device slot {} was not handed out in epoch {} (next slot is {})",
                    device.0, self.state.epoch.0, self.next_slot
                ),
            ));
        }
        Ok(self.state.revoked.insert(device.0))
    }

    /// Signs out every device: `E += 1`, `R = {}`, slots start again at 0. Returns the new epoch.
    pub fn revoke_all(&mut self) -> Result<Epoch, Error> {
        let next = self.state.epoch.0.checked_add(1).ok_or_else(|| {
            Error::log(
                LogError::EpochExhausted,
                "the account's epoch is at its maximum (4294967295)",
            )
        })?;
        self.state = AccountState {
            epoch: Epoch(next),
            revoked: SlotSet::new(),
        };
        self.next_slot = 0;
        Ok(Epoch(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_semantics() {
        let mut acct = OriginAccount::default();
        let a = acct.allocate_device().unwrap();
        let b = acct.allocate_device().unwrap();
        assert_eq!((a, b), (DeviceSlot(0), DeviceSlot(1)));
        assert!(acct.revoke_device(a).unwrap());
        assert!(
            !acct.revoke_device(a).unwrap(),
            "second sign-out of one device changes nothing"
        );
        assert_eq!(
            acct.revoke_device(DeviceSlot(7)).unwrap_err().code(),
            "unknown_device"
        );
        let s = &acct.state;
        assert_eq!(s.check(Epoch(0), a), Some(Reason::RevokedDevice));
        assert_eq!(s.check(Epoch(0), b), None);
        assert_eq!(acct.revoke_all().unwrap(), Epoch(1));
        assert_eq!(acct.state.check(Epoch(0), b), Some(Reason::RevokedAll));
        assert_eq!(
            acct.state.check(Epoch(1), a),
            None,
            "slot 0 of the new epoch is a new device"
        );
        assert_eq!(
            acct.state.check(Epoch(2), a),
            None,
            "a viewer behind the origin judges on claims"
        );
        assert_eq!(acct.allocate_device().unwrap(), DeviceSlot(0));
    }

    #[test]
    fn exhaustion_is_an_error() {
        let mut acct = OriginAccount {
            next_slot: SLOTS_PER_EPOCH - 1,
            ..Default::default()
        };
        assert_eq!(acct.allocate_device().unwrap(), DeviceSlot(u16::MAX));
        assert_eq!(
            acct.allocate_device().unwrap_err().code(),
            "slots_exhausted"
        );
        acct.state.epoch = Epoch(u32::MAX);
        assert_eq!(acct.revoke_all().unwrap_err().code(), "epoch_exhausted");
        assert_eq!(
            acct.state.epoch,
            Epoch(u32::MAX),
            "a refused change leaves the state as it was"
        );
    }

    #[test]
    fn merge_is_monotone() {
        let mut s = AccountState {
            epoch: Epoch(2),
            revoked: SlotSet::from_slots([1, 3]),
        };
        s.merge(&AccountState {
            epoch: Epoch(1),
            revoked: SlotSet::from_slots([9]),
        });
        assert_eq!(s.revoked.as_slice(), &[1, 3]);
        s.merge(&AccountState {
            epoch: Epoch(2),
            revoked: SlotSet::from_slots([2]),
        });
        assert_eq!(s.revoked.as_slice(), &[1, 2, 3]);
        s.merge(&AccountState {
            epoch: Epoch(3),
            revoked: SlotSet::new(),
        });
        assert_eq!(
            s,
            AccountState {
                epoch: Epoch(3),
                revoked: SlotSet::new()
            }
        );
    }

    #[test]
    fn bitmaps() {
        let s = SlotSet::from_slots([0, 5, 63]);
        assert_eq!(SlotSet::from_bitmap(s.to_bitmap().unwrap()), s);
        assert_eq!(SlotSet::from_slots([64]).to_bitmap(), None);
        assert_eq!(SlotSet::from_sorted(vec![2, 1]), None);
        assert_eq!(SlotSet::from_sorted(vec![1, 1]), None);
    }
}
