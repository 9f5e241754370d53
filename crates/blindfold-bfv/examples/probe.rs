//! Prints key sizes, timings, operation counts and noise for each program
//! on one random 32x32 x 8-frame video: `cargo run --release -p blindfold-bfv --example probe`.
use std::time::Instant;

use blindfold_bfv::{
    evaluate, noise_budget, BfvParamSet, ChaCha20Rng, ClientKey, Layout, Program, SeedableRng,
    Shape, Term, Video,
};
use rand09::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let set = BfvParamSet::V1;
    let t = Instant::now();
    let ck = ClientKey::generate(set, &mut rng)?;
    let sk = ck.server_key(&mut rng)?;
    println!("keygen {:.2}s", t.elapsed().as_secs_f64());
    let skb = sk.to_bytes();
    println!(
        "client key {} B, server key {} B",
        ck.to_bytes().len(),
        skb.len()
    );
    let shape = Shape {
        width: 32,
        height: 32,
        frames: 8,
        bits: 4,
    };
    let frames: Vec<Vec<u8>> = (0..8)
        .map(|_| (0..1024).map(|_| rng.random_range(0..16u8)).collect())
        .collect();
    let t = Instant::now();
    let video = Video::encrypt(&ck, shape, &frames, &mut rng)?;
    let vb = video.to_bytes();
    println!(
        "encrypt {:.3}s, video {} B ({:.1} B/pixel)",
        t.elapsed().as_secs_f64(),
        vb.len(),
        vb.len() as f64 / 8192.0
    );
    let layout = Layout::new(shape)?;
    let mask: Vec<u32> = (0..1024).filter(|p| p % 3 != 0).collect();
    let programs = vec![
        (
            "count-below",
            Program::CountBelow {
                frames: (0..8).collect(),
                mask: mask.clone(),
                threshold: 5,
            },
        ),
        (
            "histogram",
            Program::Histogram {
                frames: (0..8).collect(),
                mask: mask.clone(),
            },
        ),
        (
            "conv3x3",
            Program::Conv3x3 {
                frames: (0..8).collect(),
                kernel: [-1, 0, 1, -2, 0, 2, -1, 0, 1],
            },
        ),
        (
            "linear",
            Program::Linear {
                terms: vec![
                    Term {
                        frame: 0,
                        pixels: mask.clone(),
                        below: Some(6),
                        weight: 3,
                    },
                    Term {
                        frame: 1,
                        pixels: (0..100).collect(),
                        below: None,
                        weight: -2,
                    },
                ],
            },
        ),
    ];
    for (name, p) in programs {
        let plan = p.plan(&layout)?;
        let t = Instant::now();
        let (res, counts) = evaluate(&sk, &plan, &video)?;
        let secs = t.elapsed().as_secs_f64();
        let out = res.decrypt(&ck, &plan)?;
        let budget = res
            .ciphertexts()
            .iter()
            .map(|c| noise_budget(&ck, c))
            .collect::<Result<Vec<_>, _>>()?;
        println!(
            "{name}: {secs:.3}s {counts:?} result {} B, budget {:?}, first outputs {:?}",
            res.to_bytes().len(),
            budget,
            &out[..out.len().min(4)]
        );
    }
    Ok(())
}
