//! Evaluation is deterministic: the result bytes depend only on the
//! server key and the input bytes, not on the rayon thread count nor on
//! whether the key and the video were reloaded from their bytes; and a
//! golden run from a fixed seed pins keys, input and result by hash.

use std::sync::OnceLock;

use blindfold_bfv::{
    evaluate, BfvParamSet, BfvResult, ChaCha20Rng, ClientKey, Layout, Program, SeedableRng,
    ServerKey, Shape, Term, Video,
};
use rand09::RngCore;
use sha2::{Digest, Sha256};

const SET: BfvParamSet = BfvParamSet::V1;

/// 32x32 frames: 8 per ciphertext, so 9 frames span 2 ciphertexts and the
/// evaluation has 2 independent ciphertexts to run in parallel.
const SHAPE: Shape = Shape {
    width: 32,
    height: 32,
    frames: 9,
    bits: 4,
};

struct Fixture {
    server: ServerKey,
    server_bytes: Vec<u8>,
    video: Video,
    video_bytes: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let ck = ClientKey::generate(SET, &mut rng).unwrap();
        let server = ck.server_key(&mut rng).unwrap();
        let frames = random_frames(&mut rng, SHAPE);
        let video = Video::encrypt(&ck, SHAPE, &frames, &mut rng).unwrap();
        assert_eq!(video.layout().ciphertexts, 2);
        Fixture {
            server_bytes: server.to_bytes(),
            server,
            video_bytes: video.to_bytes(),
            video,
        }
    })
}

/// `shape.frames` frames of 4-bit pixels, each `next_u32() % 2^bits` of
/// the RNG (a fixed function of the ChaCha20 stream).
fn random_frames(rng: &mut ChaCha20Rng, shape: Shape) -> Vec<Vec<u8>> {
    let pixels = usize::from(shape.width) * usize::from(shape.height);
    (0..shape.frames)
        .map(|_| {
            (0..pixels)
                .map(|_| (rng.next_u32() % (1 << shape.bits)) as u8)
                .collect()
        })
        .collect()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn result_bytes(threads: usize, key: &ServerKey, program: &Program, video: &Video) -> Vec<u8> {
    let plan = program.plan(&Layout::new(SHAPE).unwrap()).unwrap();
    let (result, _) = pool(threads)
        .install(|| evaluate(key, &plan, video))
        .unwrap();
    result.to_bytes()
}

/// Same bytes in pools of 1 and 2 threads, and after reloading the server
/// key and the video from their bytes.
fn check(name: &str, program: Program) {
    let f = fixture();
    let plan = program.plan(&Layout::new(SHAPE).unwrap()).unwrap();
    let one = result_bytes(1, &f.server, &program, &f.video);
    let two = result_bytes(2, &f.server, &program, &f.video);
    assert!(one == two, "{name}: 1 and 2 threads differ");
    let server = ServerKey::from_bytes(&f.server_bytes, SET).unwrap();
    let video = Video::from_bytes(&f.video_bytes, SET, SHAPE).unwrap();
    let reloaded = result_bytes(2, &server, &program, &video);
    assert!(one == reloaded, "{name}: reloaded key and video differ");
    // The bytes read back as a result of this plan, and write the same bytes.
    let back = BfvResult::from_bytes(&one, SET, &plan).unwrap();
    assert!(
        back.to_bytes() == one,
        "{name}: result bytes do not round-trip"
    );
    println!(
        "{name}: {} result ciphertexts, sha256 {}",
        plan.result_ciphertexts(),
        hex::encode(Sha256::digest(&one))
    );
}

fn mask() -> Vec<u32> {
    (0..1024).filter(|p| p % 3 != 0).collect()
}

#[test]
fn count_below_is_deterministic() {
    check(
        "count-below",
        Program::CountBelow {
            frames: (0..9).collect(),
            mask: mask(),
            threshold: 7,
        },
    );
}

#[test]
fn histogram_is_deterministic() {
    check(
        "histogram",
        Program::Histogram {
            frames: (0..9).collect(),
            mask: mask(),
        },
    );
}

#[test]
fn conv3x3_is_deterministic() {
    check(
        "conv3x3",
        Program::Conv3x3 {
            frames: (0..9).collect(),
            kernel: [-1, 0, 1, -2, 0, 2, -1, 0, 1],
        },
    );
}

#[test]
fn linear_is_deterministic() {
    check(
        "linear",
        Program::Linear {
            terms: vec![
                Term {
                    frame: 0,
                    pixels: mask(),
                    below: Some(6),
                    weight: 3,
                },
                Term {
                    frame: 8,
                    pixels: (0..100).collect(),
                    below: None,
                    weight: -2,
                },
            ],
        },
    );
}

// ---------------------------------------------------------------------------
// Golden run.
//
// Key generation and encryption take *all* their randomness from the
// caller's RNG (see `cipher.rs`: the crate encrypts itself because fhe.rs
// 0.1.1 would draw the seed of `a` from its thread RNG; and `keys.rs`
// builds one Galois key at a time so that fhe.rs's HashSet order cannot
// change the order the RNG is consumed in). Evaluation is exact integer
// arithmetic mod q (RNS + NTT), with no floating point and no randomness.
// So from the seed [42; 32] the client key, the server key, the video and
// the result are fixed bytes, and their SHA-256 below must hold on any
// x86-64 machine (any CPU model, any thread count) whichever SIMD path the
// build and the CPU select: a SIMD path computes the same residues, only
// faster. What selects one, precisely (Cargo.lock: fhe-math 0.1.1 with
// feature `tfhe-ntt`):
// - fhe-math's element-wise Zq vector ops (add/sub/mul/reduce of slices,
//   through pulp 0.22's `Arch::dispatch`) take pulp's AVX-512 path (V4) on
//   an AVX-512 CPU when pulp 0.22 is built with `x86-v4`. That happens in
//   any build that also holds tfhe: tfhe 1.8.2 depends on tfhe-ntt 0.7.1
//   with default features, whose `avx512` enables `pulp/x86-v4`, and Cargo
//   unifies pulp's features. So the workspace run (`cargo test
//   --workspace`) takes V4, and `cargo test -p blindfold-bfv` alone takes
//   the AVX2 path (V3); scripts/test.sh runs this test both ways.
// - The NTT (tfhe-ntt 0.6.1 on pulp 0.21) runs AVX2 in every stable build:
//   its AVX-512 kernels need fhe-math's `tfhe-ntt-nightly` feature (pulp
//   0.21 `nightly`), a nightly compiler, which nothing here uses.
// - `blindfold-fhe/avx512` (tfhe's `avx512`: tfhe-fft's AVX-512 FFT, plus
//   tfhe-ntt 0.7 `avx512` and pulp 0.22 `x86-v4`, already on) changes only
//   tfhe's FFT, nothing BFV runs.
// A change of any hash is a change of the wire format, of key generation,
// of encryption or of the evaluation's arithmetic, and breaks every stored
// dataset or the verification of results: update the constants only for a
// deliberate, versioned change.
//
// The order the RNG is used in is part of the test: client key, server
// key, the pixels (`next_u32() % 16`, frame by frame, row-major), then the
// encryption.
// ---------------------------------------------------------------------------

const GOLDEN_SHAPE: Shape = Shape {
    width: 32,
    height: 32,
    frames: 2,
    bits: 4,
};
const GOLDEN_CLIENT_KEY: &str = "1f638aa20639d0de6d030651ad8d1c4219ffdeb922237ab1feace573f797ef21";
const GOLDEN_SERVER_KEY: &str = "e5b70b04895ebe3db1f12970632e5544c182c2ad2cb2ef433ea4fbb8fcdc3f12";
const GOLDEN_VIDEO: &str = "e78b1e73ba2ea3ed81b90e446a614aeaccd23de0698e5d341370dbd031a67f8c";
const GOLDEN_RESULT: &str = "e92f8d2a95c370632635ab235bcd0338ecb3219563f0d1a8ed56276cbe6830e5";
const GOLDEN_PACKED: &str = "4e6154109a1970eb6ed3dec03823118e895bc911aa87b3e3e50e6ac74d7f3e25";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn golden_count_below() {
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let ck = ClientKey::generate(SET, &mut rng).unwrap();
    let sk = ck.server_key(&mut rng).unwrap();
    let frames = random_frames(&mut rng, GOLDEN_SHAPE);
    let video = Video::encrypt(&ck, GOLDEN_SHAPE, &frames, &mut rng).unwrap();
    let program = Program::CountBelow {
        frames: vec![0, 1],
        mask: (0..1024).collect(),
        threshold: 6,
    };
    let plan = program.plan(&Layout::new(GOLDEN_SHAPE).unwrap()).unwrap();
    let (result, _) = evaluate(&sk, &plan, &video).unwrap();
    // The job path: a unit of 5 videos in classes 0, 1, 2, 3, 0 (two packs,
    // gathered into one ciphertext), the golden video first.
    let mut unit = vec![video.clone()];
    for class in [1u8, 2, 3, 0] {
        let frames = random_frames(&mut rng, GOLDEN_SHAPE);
        unit.push(Video::encrypt_in_class(&ck, GOLDEN_SHAPE, &frames, class, &mut rng).unwrap());
    }
    let layout = Layout::new(GOLDEN_SHAPE).unwrap();
    let (packed, packed_plan, _) =
        blindfold_bfv::pack::evaluate_packed(&sk, &program, &layout, &unit).unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| blindfold_bfv::pack::evaluate_packed(&sk, &program, &layout, &unit))
        .unwrap()
        .0;
    assert_eq!(
        one_thread.to_bytes(),
        packed.to_bytes(),
        "1 thread against the pool"
    );

    // The outputs are the plain counts.
    let plain: Vec<i64> = frames
        .iter()
        .map(|f| f.iter().filter(|&&x| x < 6).count() as i64)
        .collect();
    assert_eq!(result.decrypt(&ck, &plan).unwrap(), plain);
    assert_eq!(plain, [374, 365], "the golden pixels changed");
    assert_eq!(packed.decrypt(&ck, &packed_plan).unwrap()[0], plain);

    let hashes = [
        ("client key", sha256(&ck.to_bytes()), GOLDEN_CLIENT_KEY),
        ("server key", sha256(&sk.to_bytes()), GOLDEN_SERVER_KEY),
        ("video", sha256(&video.to_bytes()), GOLDEN_VIDEO),
        ("result", sha256(&result.to_bytes()), GOLDEN_RESULT),
        ("packed result", sha256(&packed.to_bytes()), GOLDEN_PACKED),
    ];
    for (name, got, _) in &hashes {
        println!("golden {name}: {got}");
    }
    println!("golden outputs: {plain:?}");
    for (name, got, want) in hashes {
        assert_eq!(got, want, "the golden {name} hash changed");
    }
}
