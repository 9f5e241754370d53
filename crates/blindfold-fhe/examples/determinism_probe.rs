//! Cross-build determinism probe: evaluates fixed pipelines on fixed key and
//! video blobs and prints the SHA-256 of every result (and of the server
//! key expanded from the compressed key). Run it from two builds (for
//! example with and without `--features avx512`, or on two machines) on the
//! same directory and compare the output.
//!
//! ```text
//! cargo run --release -p blindfold-fhe --example determinism_probe -- DIR
//! ```
//! The first run creates `DIR/{client.key,server.ckey,video.bin}`.
use std::path::Path;

use blindfold_fhe::{
    evaluate, ClientKey, CompressedServerKey, EncryptedVideo, Feature, FeatureKind,
    HistogramParams, LinearModelParams, LvAreaParams, Mask, ParamSet, PipelineParams, PlainVideo,
    Progress,
};
use sha2::{Digest, Sha256};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "determinism-probe".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let (ck_path, sk_path, v_path) = (
        dir.join("client.key"),
        dir.join("server.ckey"),
        dir.join("video.bin"),
    );
    if !v_path.exists() {
        let ck = ClientKey::generate(ParamSet::V1);
        let frames = (0..2)
            .map(|f| (0..64u32).map(|i| ((i * 7 + f * 3) % 16) as u8).collect())
            .collect();
        let video = PlainVideo::new(8, 8, 4, frames, ParamSet::V1)?;
        std::fs::write(&ck_path, ck.to_bytes()?)?;
        std::fs::write(&sk_path, ck.compressed_server_key().to_bytes()?)?;
        std::fs::write(&v_path, video.encrypt(&ck)?.to_bytes()?)?;
    }
    let ck = ClientKey::from_bytes(&std::fs::read(&ck_path)?, ParamSet::V1)?;
    let csk = CompressedServerKey::from_bytes(&std::fs::read(&sk_path)?, ParamSet::V1)?;
    let video = EncryptedVideo::from_bytes(&std::fs::read(&v_path)?, ParamSet::V1)?;
    let sk = csk.decompress();
    println!(
        "{{\"object\":\"server-key\",\"sha256\":\"{}\",\"avx512\":{}}}",
        hex::encode(Sha256::digest(sk.to_bytes()?)),
        cfg!(feature = "avx512")
    );
    let cases = [
        PipelineParams::LvArea(LvAreaParams {
            frames: vec![],
            mask: Mask::All,
            threshold: 8,
        }),
        PipelineParams::Histogram(HistogramParams {
            frames: vec![0],
            mask: Mask::All,
        }),
        PipelineParams::LinearModel(LinearModelParams {
            features: vec![Feature {
                frame: 1,
                region: Mask::All,
                kind: FeatureKind::DarkCount { threshold: 5 },
                weight: -2,
            }],
            bias: 7,
        }),
    ];
    for p in &cases {
        let r = evaluate(&sk, p, &video, &Progress::new())?;
        let out = r.decrypt(&ck, p)?;
        println!(
            "{{\"object\":\"{}\",\"sha256\":\"{}\",\"threads\":{},\"avx512\":{},\"decrypted\":{}}}",
            p.id(),
            hex::encode(r.sha256()?),
            rayon::current_num_threads(),
            cfg!(feature = "avx512"),
            serde_json::to_string(&out)?
        );
    }
    Ok(())
}
