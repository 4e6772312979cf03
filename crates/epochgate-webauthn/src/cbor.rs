//! A small strict CBOR decoder for attestation objects, authenticator data and COSE keys.
//!
//! WebAuthn needs only a sliver of CBOR, so this decodes exactly that and refuses the rest rather
//! than guess: definite lengths only (indefinite strings, arrays and maps are refused), at most
//! [`MAX_DEPTH`] levels of nesting, UTF-8 checked text, no duplicate map keys, at most
//! [`MAX_MAP_ENTRIES`] entries a map. Floats and tags are decoded only so that an ignored
//! attestation statement may carry them. Every length is checked against the bytes that remain
//! before anything is allocated, and nothing here can panic on any input.

/// Deepest nesting of arrays, maps and tags accepted.
pub const MAX_DEPTH: usize = 16;

/// Most entries one map may have: WebAuthn maps have a handful, and the duplicate-key check is
/// quadratic.
pub const MAX_MAP_ENTRIES: usize = 64;

/// One decoded CBOR data item, borrowing strings from the input.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the value is `-1 - n`, kept as `n` so the full range fits.
    Negative(u64),
    /// Major type 2.
    Bytes(&'a [u8]),
    /// Major type 3, valid UTF-8.
    Text(&'a str),
    /// Major type 4.
    Array(Vec<Value<'a>>),
    /// Major type 5, in input order, keys distinct.
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// Major type 6: a tag number and its item.
    Tag(u64, Box<Value<'a>>),
    /// `false` / `true`.
    Bool(bool),
    /// `null`.
    Null,
    /// `undefined`.
    Undefined,
    /// Any other simple value.
    Simple(u8),
    /// A half, single or double precision float, as its raw bits.
    Float(u64),
}

impl<'a> Value<'a> {
    /// The value as a signed integer, when it is one that fits an `i64`.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Unsigned(n) => i64::try_from(n).ok(),
            Value::Negative(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    /// The value of `key` in a map whose keys are text.
    pub fn get_text(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Text(t) if *t == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why bytes are not acceptable CBOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CborError {
    /// The input ends inside an item.
    Truncated,
    /// An indefinite length, a reserved additional-information value or a bad simple value.
    Unsupported,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A map repeats a key or has more than [`MAX_MAP_ENTRIES`] entries.
    BadMap,
    /// A text string is not UTF-8.
    BadText,
    /// Bytes follow the single top-level item.
    TrailingBytes,
}

/// Decodes exactly one item that must span all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value<'_>, CborError> {
    let (value, used) = decode_prefix(bytes)?;
    if used == bytes.len() {
        Ok(value)
    } else {
        Err(CborError::TrailingBytes)
    }
}

/// Decodes one item at the start of `bytes` and says how many bytes it took; the authenticator
/// data puts the credential key and the extensions back to back with no length of their own.
pub fn decode_prefix(bytes: &[u8]) -> Result<(Value<'_>, usize), CborError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.item(0)?;
    Ok((value, reader.pos))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self.pos.checked_add(n).ok_or(CborError::Truncated)?;
        let out = self.bytes.get(self.pos..end).ok_or(CborError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// The argument of an item head: `info` < 24 is the value itself, 24..=27 are followed by
    /// 1, 2, 4 or 8 big-endian bytes; 28..=30 are reserved and 31 is an indefinite length.
    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Err(CborError::Unsupported),
        };
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A length that must fit in what is left of the input (each element takes at least one
    /// byte), so no allocation is ever sized by an attacker beyond the input's own size.
    fn length(&mut self, info: u8) -> Result<usize, CborError> {
        let n = self.argument(info)?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(CborError::Truncated),
        }
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let head = *self.take(1)?.first().ok_or(CborError::Truncated)?;
        let major = head >> 5;
        let info = head & 0x1f;
        match major {
            0 => Ok(Value::Unsigned(self.argument(info)?)),
            1 => Ok(Value::Negative(self.argument(info)?)),
            2 => {
                let n = self.length(info)?;
                Ok(Value::Bytes(self.take(n)?))
            }
            3 => {
                let n = self.length(info)?;
                let raw = self.take(n)?;
                core::str::from_utf8(raw)
                    .map(Value::Text)
                    .map_err(|_| CborError::BadText)
            }
            4 => {
                let n = self.length(info)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let n = self.length(info)?;
                if n > MAX_MAP_ENTRIES {
                    return Err(CborError::BadMap);
                }
                let mut entries: Vec<(Value<'a>, Value<'a>)> = Vec::new();
                for _ in 0..n {
                    let key = self.item(depth + 1)?;
                    let value = self.item(depth + 1)?;
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(CborError::BadMap);
                    }
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            6 => {
                let tag = self.argument(info)?;
                Ok(Value::Tag(tag, Box::new(self.item(depth + 1)?)))
            }
            _ => self.simple(info),
        }
    }

    fn simple(&mut self, info: u8) -> Result<Value<'a>, CborError> {
        match info {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 => Ok(Value::Null),
            23 => Ok(Value::Undefined),
            0..=19 => Ok(Value::Simple(info)),
            // One-byte simple values below 32 are not well formed (RFC 8949 section 3.3).
            24 => match self.take(1)?.first() {
                Some(&v) if v >= 32 => Ok(Value::Simple(v)),
                _ => Err(CborError::Unsupported),
            },
            25..=27 => Ok(Value::Float(self.argument(info)?)),
            _ => Err(CborError::Unsupported),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(hex_text: &str) -> Value<'static> {
        let bytes: &'static [u8] = Box::leak(
            hex::decode(hex_text.replace(' ', ""))
                .unwrap()
                .into_boxed_slice(),
        );
        decode(bytes).unwrap()
    }

    fn err(hex_text: &str) -> CborError {
        decode(&hex::decode(hex_text.replace(' ', "")).unwrap()).unwrap_err()
    }

    #[test]
    fn unsigned_integers_of_every_width() {
        assert_eq!(ok("00"), Value::Unsigned(0));
        assert_eq!(ok("17"), Value::Unsigned(23));
        assert_eq!(ok("1818"), Value::Unsigned(24));
        assert_eq!(ok("190100"), Value::Unsigned(256));
        assert_eq!(ok("1a00010000"), Value::Unsigned(65536));
        assert_eq!(ok("1bffffffffffffffff"), Value::Unsigned(u64::MAX));
    }

    #[test]
    fn negative_integers() {
        assert_eq!(ok("20").as_int(), Some(-1));
        assert_eq!(ok("26").as_int(), Some(-7));
        assert_eq!(ok("390100").as_int(), Some(-257));
        assert_eq!(ok("3b7fffffffffffffff").as_int(), Some(i64::MIN));
        // -2^64 is valid CBOR but not an i64.
        assert_eq!(ok("3bffffffffffffffff"), Value::Negative(u64::MAX));
        assert_eq!(ok("3bffffffffffffffff").as_int(), None);
        assert_eq!(ok("1b8000000000000000").as_int(), None);
    }

    #[test]
    fn byte_and_text_strings() {
        assert_eq!(ok("40"), Value::Bytes(&[]));
        assert_eq!(ok("43010203"), Value::Bytes(&[1, 2, 3]));
        assert_eq!(ok("5803aabbcc"), Value::Bytes(&[0xaa, 0xbb, 0xcc]));
        assert_eq!(ok("646e6f6e65"), Value::Text("none"));
        assert_eq!(ok("62c3a9"), Value::Text("é"));
        assert_eq!(err("62c328"), CborError::BadText);
    }

    #[test]
    fn arrays_maps_and_lookups() {
        assert_eq!(
            ok("83010203"),
            Value::Array(vec![
                Value::Unsigned(1),
                Value::Unsigned(2),
                Value::Unsigned(3)
            ])
        );
        let map = ok("a263666d74646e6f6e656161f5");
        assert_eq!(map.get_text("fmt"), Some(&Value::Text("none")));
        assert_eq!(map.get_text("a"), Some(&Value::Bool(true)));
        assert_eq!(map.get_text("b"), None);
        assert_eq!(ok("a0"), Value::Map(vec![]));
    }

    #[test]
    fn tags_simple_values_and_floats() {
        assert_eq!(
            ok("c11a514b67b0"),
            Value::Tag(1, Box::new(Value::Unsigned(1363896240)))
        );
        assert_eq!(ok("f4"), Value::Bool(false));
        assert_eq!(ok("f6"), Value::Null);
        assert_eq!(ok("f7"), Value::Undefined);
        assert_eq!(ok("f0"), Value::Simple(16));
        assert_eq!(ok("f8ff"), Value::Simple(255));
        assert_eq!(err("f818"), CborError::Unsupported);
        assert_eq!(ok("f93c00"), Value::Float(0x3c00));
        assert_eq!(ok("fa47c35000"), Value::Float(0x47c3_5000));
        assert_eq!(
            ok("fb3ff199999999999a"),
            Value::Float(0x3ff1_9999_9999_999a)
        );
    }

    #[test]
    fn duplicate_and_oversized_maps_are_refused() {
        assert_eq!(err("a2 0102 0103"), CborError::BadMap);
        // The same key in another encoding is still the same key.
        assert_eq!(err("a201021801 03"), CborError::BadMap);
        let mut big = vec![0xb8, (MAX_MAP_ENTRIES + 1) as u8];
        for i in 0..=MAX_MAP_ENTRIES {
            big.extend([0x18, i as u8, 0x00]);
        }
        assert_eq!(decode(&big).unwrap_err(), CborError::BadMap);
        big[1] = MAX_MAP_ENTRIES as u8;
        big.truncate(big.len() - 3);
        assert!(decode(&big).is_ok());
    }

    #[test]
    fn indefinite_lengths_and_reserved_heads_are_refused() {
        for hex_text in [
            "5f41aaff",
            "7f61 61ff",
            "9f01ff",
            "bf0102ff",
            "1c",
            "1d",
            "1e",
            "3f",
            "ff",
        ] {
            assert_eq!(err(hex_text), CborError::Unsupported, "{hex_text}");
        }
    }

    #[test]
    fn truncated_input_is_refused() {
        for hex_text in [
            "",
            "18",
            "19 01",
            "1b00000000000000",
            "43 0102",
            "62 61",
            "82 01",
            "a1 01",
            "c1",
            "f8",
            "fa 0000",
        ] {
            assert_eq!(err(hex_text), CborError::Truncated, "{hex_text:?}");
        }
        // A length far beyond the input must not allocate or overflow.
        assert_eq!(err("9bffffffffffffffff"), CborError::Truncated);
        assert_eq!(err("5bffffffffffffffff"), CborError::Truncated);
        assert_eq!(err("bbffffffffffffffff"), CborError::Truncated);
    }

    #[test]
    fn depth_limit() {
        let nested = |n: usize| {
            let mut bytes = vec![0x81; n];
            bytes.push(0x00);
            bytes
        };
        assert!(decode(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(
            decode(&nested(MAX_DEPTH + 1)).unwrap_err(),
            CborError::TooDeep
        );
        let tags = [vec![0xc1; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(decode(&tags).unwrap_err(), CborError::TooDeep);
    }

    #[test]
    fn trailing_bytes_and_prefixes() {
        assert_eq!(err("0000"), CborError::TrailingBytes);
        let bytes = hex::decode("a1010243aabbcc").unwrap();
        let (value, used) = decode_prefix(&bytes).unwrap();
        assert_eq!(used, 3);
        assert_eq!(
            value,
            Value::Map(vec![(Value::Unsigned(1), Value::Unsigned(2))])
        );
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            if let Ok((_, used)) = decode_prefix(&bytes) {
                prop_assert!(used <= bytes.len());
            }
        }

        #[test]
        fn nested_random_heads_never_panic(bytes in proptest::collection::vec(
            prop_oneof![Just(0x81u8), Just(0xa1), Just(0xc1), Just(0x5f), Just(0x9f), Just(0x18), any::<u8>()],
            0..256,
        )) {
            let _ = decode(&bytes);
        }
    }
}
