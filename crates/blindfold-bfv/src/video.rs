//! [`Video`]: one encrypted video, one blob.
//!
//! Bytes (after the [`wire`](crate::wire) header):
//!
//! ```text
//! width u16, height u16, frames u32, bits u8
//! class u8              < Layout::classes (0 unless packed: see pack.rs)
//! count u32             = Layout::ciphertexts of that shape
//! count x item          seeded fhe.rs Ciphertext protobuf at level 0
//! ```

use fhe::bfv::Ciphertext;
use fhe_traits::Serialize;
use rand09::{CryptoRng, RngCore};

use crate::cipher;
use crate::error::{BfvError, Result};
use crate::keys::ClientKey;
use crate::layout::{Layout, Shape};
use crate::params::{BfvParamSet, DEGREE, MAX_CIPHERTEXTS};
use crate::wire::{header, put_item, Kind, Reader};

/// An encrypted video: its shape and one level-0 ciphertext per
/// [`Layout::ciphertexts`].
#[derive(Clone, Debug)]
pub struct Video {
    set: BfvParamSet,
    layout: Layout,
    class: u8,
    cts: Vec<Ciphertext>,
}

impl Video {
    /// Encrypts `frames` (each `width * height` pixels, row-major, below
    /// `2^bits`) under `key`.
    pub fn encrypt<R: RngCore + CryptoRng>(
        key: &ClientKey,
        shape: Shape,
        frames: &[Vec<u8>],
        rng: &mut R,
    ) -> Result<Self> {
        Self::encrypt_in_class(key, shape, frames, 0, rng)
    }

    /// [`encrypt`](Self::encrypt) into the slots of class `class` (see
    /// [`Layout::classes`]): videos of distinct classes are packed into one
    /// ciphertext by adding them, with no rotation (a rotation before the
    /// polynomial would add key-switching noise the polynomial cannot afford).
    pub fn encrypt_in_class<R: RngCore + CryptoRng>(
        key: &ClientKey,
        shape: Shape,
        frames: &[Vec<u8>],
        class: u8,
        rng: &mut R,
    ) -> Result<Self> {
        let layout = Layout::new(shape)?;
        layout.check_class(class)?;
        let shift = u32::from(class) * shape.frames;
        if frames.len() != shape.frames as usize {
            return Err(BfvError::Invalid(format!(
                "{} frames given for a {}-frame shape",
                frames.len(),
                shape.frames
            )));
        }
        let mut slots = vec![vec![0u64; DEGREE]; layout.ciphertexts];
        for (f, frame) in frames.iter().enumerate() {
            if frame.len() != layout.frame_pixels {
                return Err(BfvError::Invalid(format!(
                    "frame {f} has {} pixels, not {}",
                    frame.len(),
                    layout.frame_pixels
                )));
            }
            for (p, &v) in frame.iter().enumerate() {
                if u16::from(v) >= 1u16 << shape.bits {
                    return Err(BfvError::Invalid(format!(
                        "frame {f} pixel {p} is {v}, not a {}-bit value",
                        shape.bits
                    )));
                }
                let (ct, slot) = layout.place(shift + f as u32, p);
                slots[ct][slot] = u64::from(v);
            }
        }
        let set = key.param_set();
        let mut cts = Vec::with_capacity(slots.len());
        for s in &slots {
            let bytes = cipher::encrypt(key, s, rng)?;
            cts.push(cipher::decode(&bytes, set, 0, "fresh ciphertext")?);
        }
        Ok(Video {
            set,
            layout,
            class,
            cts,
        })
    }

    /// The video's class (0 unless it was encrypted for packing).
    pub fn class(&self) -> u8 {
        self.class
    }

    /// The layout (and shape).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The ciphertexts.
    pub(crate) fn ciphertexts(&self) -> &[Ciphertext] {
        &self.cts
    }

    /// The blob's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let s = self.layout.shape;
        let mut out = header(Kind::Video, self.set);
        out.extend_from_slice(&s.width.to_be_bytes());
        out.extend_from_slice(&s.height.to_be_bytes());
        out.extend_from_slice(&s.frames.to_be_bytes());
        out.push(s.bits);
        out.push(self.class);
        out.extend_from_slice(&(self.cts.len() as u32).to_be_bytes());
        for ct in &self.cts {
            put_item(&mut out, &ct.to_bytes());
        }
        out
    }

    /// The largest blob a video of `shape` can be.
    pub fn limit(set: BfvParamSet, shape: Shape) -> Result<u64> {
        let layout = Layout::new(shape)?;
        Ok(64 + layout.ciphertexts as u64 * (4 + set.ciphertext_limit(0)))
    }

    /// Reads untrusted video bytes, which must have the shape `expected`
    /// (the dataset's): the size is checked before anything is decoded.
    pub fn from_bytes(bytes: &[u8], set: BfvParamSet, expected: Shape) -> Result<Self> {
        let mut r = Reader::open(bytes, Kind::Video, set, Self::limit(set, expected)?)?;
        let shape = Shape {
            width: r.u16()?,
            height: r.u16()?,
            frames: r.u32()?,
            bits: r.u8()?,
        };
        if shape != expected {
            return Err(BfvError::malformed(
                r.what(),
                format!("shape {shape:?} is not the dataset's {expected:?}"),
            ));
        }
        let layout = Layout::new(shape)?;
        let class = r.u8()?;
        layout
            .check_class(class)
            .map_err(|e| BfvError::malformed(r.what(), e.to_string()))?;
        let count = r.u32()? as usize;
        if count != layout.ciphertexts || count > MAX_CIPHERTEXTS {
            return Err(BfvError::malformed(
                r.what(),
                format!("{count} ciphertexts, not {}", layout.ciphertexts),
            ));
        }
        let mut cts = Vec::with_capacity(count);
        for _ in 0..count {
            let item = r.item(set.ciphertext_limit(0))?;
            cts.push(cipher::decode(item, set, 0, "video ciphertext")?);
        }
        r.finish()?;
        Ok(Video {
            set,
            layout,
            class,
            cts,
        })
    }
}
