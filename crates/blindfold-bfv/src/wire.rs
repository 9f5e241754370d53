//! The byte layout of every BFV blob, written once.
//!
//! ```text
//! magic    8 bytes   "BFBFV\0\0\x01"
//! kind     1 byte    1 client key, 2 server key, 3 video, 4 result, 5 packed result
//! set      2 bytes   BfvParamSet id, big-endian
//! body     ...       per kind (see keys.rs, video.rs, result.rs, pack.rs)
//! ```
//!
//! Inside a body every variable-length item is a big-endian `u32` length
//! followed by that many bytes (an fhe.rs protobuf message). Every length
//! is checked against the bytes left and against the item's own limit
//! before anything is decoded, and a blob must be read to its last byte.

use crate::error::{BfvError, Result};
use crate::params::BfvParamSet;

/// The first 8 bytes of every BFV blob.
pub const MAGIC: &[u8; 8] = b"BFBFV\0\0\x01";

/// What a blob holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A [`ClientKey`](crate::ClientKey).
    ClientKey = 1,
    /// A [`ServerKey`](crate::ServerKey).
    ServerKey = 2,
    /// A [`Video`](crate::Video).
    Video = 3,
    /// A [`BfvResult`](crate::BfvResult).
    Result = 4,
    /// A [`PackedResult`](crate::pack::PackedResult).
    PackedResult = 5,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::ClientKey => "BFV client key",
            Kind::ServerKey => "BFV server key",
            Kind::Video => "BFV video",
            Kind::Result => "BFV result",
            Kind::PackedResult => "BFV packed result",
        }
    }
}

/// Starts a blob of `kind` under `set`.
pub(crate) fn header(kind: Kind, set: BfvParamSet) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(kind as u8);
    out.extend_from_slice(&set.id().to_be_bytes());
    out
}

/// Appends one length-prefixed item.
pub(crate) fn put_item(out: &mut Vec<u8>, item: &[u8]) {
    out.extend_from_slice(&(item.len() as u32).to_be_bytes());
    out.extend_from_slice(item);
}

/// A bounds-checked reader over a blob's bytes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Checks the total size against `limit`, the magic, the kind and that
    /// the parameter set is `set`.
    pub(crate) fn open(bytes: &'a [u8], kind: Kind, set: BfvParamSet, limit: u64) -> Result<Self> {
        let what = kind.what();
        if bytes.len() as u64 > limit {
            return Err(BfvError::TooLarge {
                what,
                size: bytes.len() as u64,
                limit,
            });
        }
        let mut r = Reader { bytes, what };
        if r.take(8)? != MAGIC {
            return Err(BfvError::malformed(
                what,
                "not a Blindfold BFV blob (bad magic)",
            ));
        }
        let k = r.u8()?;
        if k != kind as u8 {
            return Err(BfvError::malformed(
                what,
                format!("the blob holds kind {k}, not {} ({what})", kind as u8),
            ));
        }
        let id = r.u16()?;
        if id != set.id() {
            return Err(BfvError::malformed(
                what,
                format!(
                    "made under BFV parameter set id {id}, not {} ({})",
                    set.id(),
                    set.name()
                ),
            ));
        }
        Ok(r)
    }

    pub(crate) fn what(&self) -> &'static str {
        self.what
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.bytes.len() {
            return Err(BfvError::malformed(
                self.what,
                format!("truncated: {n} bytes wanted, {} left", self.bytes.len()),
            ));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// One length-prefixed item of at most `limit` bytes.
    pub(crate) fn item(&mut self, limit: u64) -> Result<&'a [u8]> {
        let len = self.u32()?;
        if u64::from(len) > limit {
            return Err(BfvError::TooLarge {
                what: self.what,
                size: u64::from(len),
                limit,
            });
        }
        self.take(len as usize)
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(self) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(BfvError::malformed(
                self.what,
                format!("{} trailing bytes", self.bytes.len()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_docs() {
        let h = header(Kind::Video, BfvParamSet::V1);
        assert_eq!(h, b"BFBFV\0\0\x01\x03\x00\x01");
        let r = Reader::open(&h, Kind::Video, BfvParamSet::V1, 64).unwrap();
        r.finish().unwrap();
        assert!(Reader::open(&h, Kind::Result, BfvParamSet::V1, 64).is_err());
        assert!(Reader::open(&h, Kind::Video, BfvParamSet::V1, 4).is_err());
        assert!(Reader::open(&h[..10], Kind::Video, BfvParamSet::V1, 64).is_err());
    }
}
