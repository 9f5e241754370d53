//! Shared fixtures: one key set per test binary (keygen costs seconds) and
//! seeded synthetic videos.
#![allow(dead_code)]

use std::sync::{Mutex, OnceLock};

use blindfold_fhe::{ClientKey, CompressedServerKey, ParamSet, PlainVideo, ServerKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct Keys {
    pub client: ClientKey,
    pub server: ServerKey,
    pub compressed: CompressedServerKey,
}

/// BFV keys, through the scheme-generic API the job layer uses.
pub struct BfvKeys {
    pub client: blindfold_fhe::SchemeClientKey,
    pub server: blindfold_fhe::SchemeServerKey,
}

pub fn bfv_keys() -> &'static BfvKeys {
    static KEYS: OnceLock<BfvKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let scheme = blindfold_fhe::Scheme::BFV;
        let (client, server) = blindfold_fhe::SchemeClientKey::generate(scheme).expect("keygen");
        let server =
            blindfold_fhe::SchemeServerKey::from_blob(&server, scheme).expect("server key");
        BfvKeys { client, server }
    })
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let client = ClientKey::generate(ParamSet::V1);
        let compressed = client.compressed_server_key();
        let server = compressed.decompress();
        Keys {
            client,
            server,
            compressed,
        }
    })
}

/// Serialises tests that read tfhe's process-wide PBS counter.
pub fn pbs_counter_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn random_video(seed: u64, width: u16, height: u16, bits: u8, frames: usize) -> PlainVideo {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = usize::from(width) * usize::from(height);
    let frames = (0..frames)
        .map(|_| {
            (0..n)
                .map(|_| rng.gen_range(0..(1u16 << bits)) as u8)
                .collect()
        })
        .collect();
    PlainVideo::new(width, height, bits, frames, ParamSet::V1).expect("valid video")
}

pub fn constant_video(value: u8, width: u16, height: u16, bits: u8, frames: usize) -> PlainVideo {
    let n = usize::from(width) * usize::from(height);
    PlainVideo::new(
        width,
        height,
        bits,
        vec![vec![value; n]; frames],
        ParamSet::V1,
    )
    .expect("valid video")
}
