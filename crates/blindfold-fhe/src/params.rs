//! The pinned, named and versioned parameter set, the plaintext encodings
//! built on it, and the size limits used when loading untrusted bytes.
//!
//! There is exactly one parameter set today, [`ParamSet::V1`]. Everything a
//! verifier must reproduce bit for bit is derived from it: the tfhe
//! parameter constant, the pixel encoding, the output encodings and the
//! noise budgets that decide how outputs are split into parts.

use serde::{Deserialize, Serialize};
use tfhe::shortint::atomic_pattern::AtomicPatternParameters;
use tfhe::shortint::parameters::v1_8::V1_8_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128;
use tfhe::shortint::parameters::AtomicPatternKind;

use crate::error::{FheError, Result};

/// Largest accepted serialised client key, in bytes.
pub const CLIENT_KEY_LIMIT: u64 = 16 << 20;
/// Largest accepted serialised (uncompressed) server key, in bytes (V1: about 120 MB).
pub const SERVER_KEY_LIMIT: u64 = 256 << 20;
/// Largest accepted serialised compressed server key, in bytes (V1: about 30 MB).
pub const COMPRESSED_SERVER_KEY_LIMIT: u64 = 128 << 20;
/// Largest number of pixels (width x height x frames) in one video.
pub const MAX_VIDEO_PIXELS: u64 = 1 << 25;
/// Largest accepted serialised encrypted video, in bytes (8 bytes per pixel plus headers).
pub const VIDEO_LIMIT: u64 = 8 * MAX_VIDEO_PIXELS + (16 << 20);
/// Largest accepted serialised result blob, in bytes, whatever the job: the
/// ceiling of [`crate::EncryptedResult::limit`], which sizes each job's
/// reads from its plan.
pub const RESULT_LIMIT: u64 = 1 << 30;

/// A pinned parameter set. Its [`name`](ParamSet::name) goes into dataset
/// metadata; a verifier must use the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParamSet {
    /// `blindfold-v1-2_2-ks32-pbs`: tfhe 1.8.2
    /// `V1_8_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128` (128-bit
    /// security, p-fail 2^-129.6, key-switch to a 32-bit small LWE then
    /// classic PBS, 4-bit message space plus padding bit, N = 2048, n = 918).
    /// Chosen over the 64-bit key-switch variant (same n, N) because its PBS
    /// measured about 10% faster here; multi-bit sets are unusable with the
    /// fixed FFT plan (they need N = 4096, which `force_fft_algo_dif4` rejects).
    V1,
}

/// Round `phase / 2^log_delta` to the nearest integer, modulo `2^(64 - log_delta)`.
pub(crate) fn decode_unsigned(phase: u64, log_delta: u32) -> u64 {
    let rounded = phase.wrapping_add(1u64 << (log_delta - 1)) >> log_delta;
    rounded & ((1u64 << (64 - log_delta)) - 1)
}

/// Decode a phase into the unique integer of `[lo, lo + 2^(64 - log_delta))`
/// congruent to `round(phase / 2^log_delta)`.
pub(crate) fn decode_window(phase: u64, log_delta: u32, lo: i64) -> i64 {
    let m = 1u64 << (64 - log_delta);
    let v = decode_unsigned(phase, log_delta);
    let offset = v.wrapping_sub(lo as u64) & (m - 1);
    lo.wrapping_add(offset as i64)
}

/// [`decode_window`] of a 32-bit phase (a part key-switched to the small
/// key, modulus 2^32): `log_delta` is at 32 bits, so the window is
/// `[lo, lo + 2^(32 - log_delta))`. Exactly `decode_window` of the phase
/// lifted to 64 bits (`phase << 32`, `log_delta + 32`).
pub(crate) fn decode_window_32(phase: u32, log_delta: u32, lo: i64) -> i64 {
    decode_window(u64::from(phase) << 32, log_delta + 32, lo)
}

/// Derived constants of a parameter set (encodings and budgets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoding {
    /// Size of an LWE ciphertext under the big (GLWE-derived) key: k*N + 1.
    pub lwe_size: usize,
    /// Size of an LWE ciphertext under the small key (n + 1, 32-bit
    /// coefficients): what the server key's key-switching key maps to, and
    /// how result parts are stored when their noise allows it.
    pub small_lwe_size: usize,
    /// Number of slots of the PBS input space (message * carry modulus).
    pub pbs_slots: u64,
    /// log2 of the PBS input scaling: a PBS input encodes `x * 2^pbs_log_delta`.
    pub pbs_log_delta: u32,
    /// log2 of the pixel scaling in encrypted videos. Pixels are encrypted
    /// with `2^(pbs_log_delta - pixel_log_delta)` times less scaling than a PBS
    /// input, which leaves headroom for exact leveled sums (decoding range
    /// `2^(64 - pixel_log_delta)`); multiplying by that factor gives a PBS input.
    pub pixel_log_delta: u32,
    /// log2 of the scaling of lookup-table outputs ("coarse" parts).
    pub pbs_out_log_delta: u32,
    /// Largest pixel bit width the PBS input space holds.
    pub max_pixel_bits: u8,
    /// Largest sum of squared coefficients of PBS outputs in one output
    /// part (noise budget, in units of the PBS output noise variance).
    pub max_pbs_noise_units: u64,
    /// Largest sum of absolute coefficients of fresh pixel ciphertexts in one
    /// output part (noise budget of leveled "fine" parts).
    pub max_fine_l1: u64,
    /// Coefficient spacing of LUT boxes in the accumulator (N / pbs_slots).
    pub box_size: usize,
    /// log2 of a bound on |fresh pixel noise| (64-bit scale).
    pub fresh_noise_log2: u32,
    /// log2 of an upper bound on the variance of one PBS output's error
    /// (64-bit scale): the unit of `max_pbs_noise_units`.
    pub pbs_noise_var_log2: u32,
    /// log2 of an upper bound on the variance the key switch of a result
    /// part to the small key adds (64-bit scale).
    pub ks_noise_var_log2: u32,
    /// A part is key-switched only if its decoding rounding limit stays this
    /// many standard deviations (of the summed Gaussian noise, after the
    /// worst-case fresh noise) away: see [`crate::eval`]'s part storage.
    pub ks_sigmas: u32,
}

impl ParamSet {
    /// Every known parameter set.
    pub const ALL: [ParamSet; 1] = [ParamSet::V1];

    /// The stable name recorded in dataset metadata.
    pub const fn name(self) -> &'static str {
        match self {
            ParamSet::V1 => "blindfold-v1-2_2-ks32-pbs",
        }
    }

    /// The stable numeric id (used in binary headers and the canonical params encoding).
    pub const fn id(self) -> u16 {
        match self {
            ParamSet::V1 => 1,
        }
    }

    /// Look a parameter set up by name.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| FheError::UnknownParamSet(name.to_owned()))
    }

    /// Look a parameter set up by id.
    pub fn from_id(id: u16) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == id)
            .ok_or_else(|| FheError::UnknownParamSet(format!("id {id}")))
    }

    /// The name of the tfhe constant this set maps to.
    pub const fn tfhe_parameters_name(self) -> &'static str {
        match self {
            ParamSet::V1 => "tfhe 1.8.2 V1_8_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128",
        }
    }

    /// The tfhe parameters.
    pub fn tfhe_parameters(self) -> AtomicPatternParameters {
        match self {
            ParamSet::V1 => V1_8_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128.into(),
        }
    }

    /// The tfhe high-level config: block parameters only (no compression,
    /// public-key, noise-squashing or dedicated OPRF key material, which the
    /// pipelines never use and which would only make the server key larger).
    pub fn config(self) -> tfhe::Config {
        tfhe::ConfigBuilder::with_custom_parameters(self.tfhe_parameters())
            .use_dedicated_oprf_key(false)
            .build()
    }

    /// The tfhe atomic pattern of the ciphertexts fed to the PBS.
    pub fn atomic_pattern(self) -> AtomicPatternKind {
        match self {
            ParamSet::V1 => AtomicPatternKind::KeySwitch32,
        }
    }

    /// Derived encodings and budgets.
    pub const fn encoding(self) -> Encoding {
        match self {
            ParamSet::V1 => Encoding {
                lwe_size: 2048 + 1,
                small_lwe_size: 918 + 1,
                pbs_slots: 16,
                // 16 slots plus the padding bit: 2^64 / 32.
                pbs_log_delta: 59,
                // 20 bits of headroom: leveled sums decode in [-2^24, 2^24).
                pixel_log_delta: 39,
                // LUT outputs use the same scaling as PBS inputs: 32 values
                // (padding bit included) per coarse part.
                pbs_out_log_delta: 59,
                max_pixel_bits: 4,
                // The PBS output noise std measures about 2^49 (largest of
                // 24 errors: 2^50.0 to 2^50.5 over three runs of
                // tests/noise.rs); 64 units give a std of about 2^52, i.e.
                // the 2^58 half-step is about 64 std away.
                max_pbs_noise_units: 64,
                // Fresh big-key noise is TUniform(17) (|e| <= 2^17); 2^20 of
                // it stays below 2^37, far under the half-step 2^38.
                max_fine_l1: 1 << 20,
                box_size: 2048 / 16,
                fresh_noise_log2: 17,
                // Measured std about 2^49 (see max_pbs_noise_units); the
                // bound takes 2^50.
                pbs_noise_var_log2: 100,
                // The KS32 key switch (base 2^4, 4 levels, u64 -> u32):
                // rounding each of the 2048 mask coefficients to its top 16
                // bits, times a binary key, has variance at most
                // 2048 * 2^96 / 12 = 2^103.4; the key-switching key's
                // TUniform(13) noise at 32 bits (variance 2^24.4, 2^88.4 at
                // 64 bits) times 2048 * 4 balanced digits (E[d^2] about
                // 21.5) adds 2^105.8: about 2^106.2 in all (std 2^53.1).
                // The bound takes 2^107 (std 2^53.5); tests/noise.rs
                // measures the std of key-switched parts against it.
                ks_noise_var_log2: 107,
                // Gaussian tail beyond 16 std: about 2^-189 per part.
                ks_sigmas: 16,
            },
        }
    }
}

impl std::fmt::Display for ParamSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_window_round_trips_every_value_with_noise() {
        for log_delta in [39u32, 59] {
            let span = 1i64 << (64 - log_delta);
            for lo in [-span / 2, 0, -3, 5] {
                for v in [lo, lo + 1, lo + span / 2, lo + span - 1] {
                    for noise in [0i64, (1 << (log_delta - 2)), -(1 << (log_delta - 2))] {
                        let phase = (v as u64)
                            .wrapping_shl(log_delta)
                            .wrapping_add(noise as u64);
                        assert_eq!(decode_window(phase, log_delta, lo), v);
                    }
                }
            }
        }
    }

    #[test]
    fn decode_window_32_round_trips_every_value_with_noise() {
        for log_delta in [1u32, 7, 27, 31] {
            let span = 1i64 << (32 - log_delta);
            for lo in [-span / 2, 0, -3, 5] {
                for v in [lo, lo + 1, lo + span / 2, lo + span - 1] {
                    let noises: &[i64] = if log_delta >= 2 {
                        &[0, 1 << (log_delta - 2), -(1 << (log_delta - 2))]
                    } else {
                        &[0]
                    };
                    for &noise in noises {
                        let phase = (v as u32)
                            .wrapping_shl(log_delta)
                            .wrapping_add(noise as u32);
                        assert_eq!(decode_window_32(phase, log_delta, lo), v);
                    }
                }
            }
        }
    }
}
