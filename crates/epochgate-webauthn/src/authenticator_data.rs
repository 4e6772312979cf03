//! Authenticator data: the bytes the authenticator signs about itself.
//!
//! `rpIdHash(32) ‖ flags(1) ‖ signCount(u32 BE) ‖ [attested credential data] ‖ [extensions]`,
//! where attested credential data is `aaguid(16) ‖ idLength(u16 BE) ‖ id ‖ COSE_Key` (AT flag)
//! and extensions a CBOR map (ED flag). Nothing may follow: with neither flag the data is exactly
//! 37 bytes.

use crate::cbor::{self, Value};
use crate::cose::{parse_cose_key, StoredKey};
use crate::Error;

/// Largest authenticator data accepted (a generous bound: real ones are under 1 KiB).
pub const MAX_AUTHENTICATOR_DATA_BYTES: usize = 16 * 1024;
/// Longest credential id WebAuthn allows.
pub const MAX_CREDENTIAL_ID_BYTES: usize = 1023;

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;
const ED: u8 = 0x80;

/// Parsed authenticator data; the key inside has passed the strict COSE checks.
#[derive(Debug)]
pub(crate) struct AuthenticatorData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential>,
}

/// The AT-flag part: which credential was created and its public key.
#[derive(Debug)]
pub(crate) struct AttestedCredential {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    pub public_key: StoredKey,
}

impl AuthenticatorData {
    /// What every ceremony asks of the authenticator data: made for this relying party
    /// (`wrong_rp_id`), with the user present (`user_not_present`) and verified
    /// (`user_not_verified`).
    pub fn check_for(&self, rp: &crate::RelyingParty) -> Result<(), Error> {
        if self.rp_id_hash != *rp.id_hash() {
            return Err(Error::WrongRpId);
        }
        if !self.user_present() {
            return Err(Error::UserNotPresent);
        }
        if !self.user_verified() {
            return Err(Error::UserNotVerified);
        }
        Ok(())
    }

    pub fn user_present(&self) -> bool {
        self.flags & UP != 0
    }
    pub fn user_verified(&self) -> bool {
        self.flags & UV != 0
    }
    pub fn backup_eligible(&self) -> bool {
        self.flags & BE != 0
    }
    pub fn backed_up(&self) -> bool {
        self.flags & BS != 0
    }

    /// Parses `bytes`. A COSE key's own refusal (`unsupported_algorithm`, `invalid_key`) comes
    /// out as is; everything else wrong is `malformed`.
    pub fn parse(bytes: &[u8]) -> Result<AuthenticatorData, Error> {
        if bytes.len() > MAX_AUTHENTICATOR_DATA_BYTES {
            return Err(Error::Malformed);
        }
        let mut cursor = Cursor(bytes);
        let rp_id_hash: [u8; 32] = cursor.array()?;
        let [flags] = cursor.array::<1>()?;
        let sign_count = u32::from_be_bytes(cursor.array()?);
        // Backed up without being eligible for backup is a contradiction (WebAuthn 6.1).
        if flags & BS != 0 && flags & BE == 0 {
            return Err(Error::Malformed);
        }
        let attested = if flags & AT != 0 {
            let aaguid: [u8; 16] = cursor.array()?;
            let id_len = usize::from(u16::from_be_bytes(cursor.array()?));
            if id_len == 0 || id_len > MAX_CREDENTIAL_ID_BYTES {
                return Err(Error::Malformed);
            }
            let credential_id = cursor.take(id_len)?.to_vec();
            let key = cursor.cbor()?;
            Some(AttestedCredential {
                aaguid,
                credential_id,
                public_key: parse_cose_key(&key)?,
            })
        } else {
            None
        };
        if flags & ED != 0 && !matches!(cursor.cbor()?, Value::Map(_)) {
            return Err(Error::Malformed);
        }
        if !cursor.0.is_empty() {
            return Err(Error::Malformed);
        }
        Ok(AuthenticatorData {
            rp_id_hash,
            flags,
            sign_count,
            attested,
        })
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(Error::Malformed)?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        self.take(N)?.try_into().map_err(|_| Error::Malformed)
    }

    fn cbor(&mut self) -> Result<Value<'a>, Error> {
        let (value, used) = cbor::decode_prefix(self.0).map_err(|_| Error::Malformed)?;
        self.take(used)?;
        Ok(value)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn data(flags: u8, tail: &[u8]) -> Vec<u8> {
        [&[0xab; 32][..], &[flags], &7u32.to_be_bytes(), tail].concat()
    }

    #[test]
    fn minimal_data_and_flags() {
        let parsed = AuthenticatorData::parse(&data(UP | UV | BE | BS, &[])).unwrap();
        assert_eq!(parsed.rp_id_hash, [0xab; 32]);
        assert_eq!(parsed.sign_count, 7);
        assert!(parsed.user_present() && parsed.user_verified());
        assert!(parsed.backup_eligible() && parsed.backed_up());
        assert!(parsed.attested.is_none());
    }

    #[test]
    fn refusals() {
        let short = data(UP, &[]);
        assert_eq!(
            AuthenticatorData::parse(&short[..36]).unwrap_err(),
            Error::Malformed
        );
        assert_eq!(
            AuthenticatorData::parse(&data(UP, &[0])).unwrap_err(),
            Error::Malformed
        );
        assert_eq!(
            AuthenticatorData::parse(&data(UP | BS, &[])).unwrap_err(),
            Error::Malformed
        );
        // Extensions must be a map, and must be there when ED says so.
        assert!(AuthenticatorData::parse(&data(UP | ED, &[0xa0])).is_ok());
        assert_eq!(
            AuthenticatorData::parse(&data(UP | ED, &[0x80])).unwrap_err(),
            Error::Malformed
        );
        assert_eq!(
            AuthenticatorData::parse(&data(UP | ED, &[])).unwrap_err(),
            Error::Malformed
        );
        assert_eq!(
            AuthenticatorData::parse(&data(UP | ED, &[0xa0, 0xa0])).unwrap_err(),
            Error::Malformed
        );
        // AT with a zero-length or truncated credential id.
        let zero_id = [&[0u8; 16][..], &[0, 0]].concat();
        assert_eq!(
            AuthenticatorData::parse(&data(UP | AT, &zero_id)).unwrap_err(),
            Error::Malformed
        );
        let long_id = [&[0u8; 16][..], &[0x04, 0x00], &[1; 1024]].concat();
        assert_eq!(
            AuthenticatorData::parse(&data(UP | AT, &long_id)).unwrap_err(),
            Error::Malformed
        );
        // Credential ids of 1..=1023 bytes, each followed by a valid key.
        let key = hex::decode(concat!(
            "a401010327200621582",
            "0d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        ))
        .unwrap();
        let with_id = |len: usize| {
            let tail = [
                &[0u8; 16][..],
                &(len as u16).to_be_bytes(),
                &vec![1; len],
                &key,
            ]
            .concat();
            AuthenticatorData::parse(&data(UP | AT, &tail))
        };
        assert_eq!(with_id(1).unwrap().attested.unwrap().credential_id, vec![1]);
        assert_eq!(
            with_id(1023).unwrap().attested.unwrap().credential_id.len(),
            1023
        );
        assert_eq!(with_id(0).unwrap_err(), Error::Malformed);
        assert_eq!(with_id(1024).unwrap_err(), Error::Malformed);
        let cut = [&[0u8; 16][..], &[0, 4], &[1; 3]].concat();
        assert_eq!(
            AuthenticatorData::parse(&data(UP | AT, &cut)).unwrap_err(),
            Error::Malformed
        );
        let big = vec![0u8; MAX_AUTHENTICATOR_DATA_BYTES + 1];
        assert_eq!(
            AuthenticatorData::parse(&big).unwrap_err(),
            Error::Malformed
        );
    }
}
