//! `decrypt(evaluate(x)) == plain(x)` for every program, on random frames
//! and on the edge cases all-black (0) and all-white (2^bits - 1), with the
//! plaintext computation written out here; plus the programs `plan`
//! refuses, and the noise left in every result ciphertext.

use std::sync::OnceLock;

use blindfold_bfv::params::PLAINTEXT;
use blindfold_bfv::{
    evaluate, noise_budget, BfvParamSet, ChaCha20Rng, ClientKey, Layout, Program, SeedableRng,
    ServerKey, Shape, Term, Video,
};
use rand09::RngCore;

const SET: BfvParamSet = BfvParamSet::V1;
/// Least noise budget accepted in a result ciphertext (measured: 16 bits
/// at the last level).
const MIN_BUDGET: i64 = 10;
/// Least noise budget accepted in a packed, gathered lv-area result
/// (measured: 6 to 9 bits; the 0/1 product that keeps the counts costs 18).
const MIN_PACKED_BUDGET: i64 = 5;

fn keys() -> &'static (ClientKey, ServerKey) {
    static K: OnceLock<(ClientKey, ServerKey)> = OnceLock::new();
    K.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([11; 32]);
        let ck = ClientKey::generate(SET, &mut rng).unwrap();
        let sk = ck.server_key(&mut rng).unwrap();
        (ck, sk)
    })
}

/// Plain frames and their encryption.
struct Clip {
    shape: Shape,
    frames: Vec<Vec<u8>>,
    video: Video,
}

impl Clip {
    /// `random` frames of random pixels, then one all-black and one
    /// all-white frame.
    fn new(seed: u8, width: u16, height: u16, bits: u8, random: u32) -> Self {
        let mut rng = ChaCha20Rng::from_seed([seed; 32]);
        let pixels = usize::from(width) * usize::from(height);
        let white = (1u8 << bits) - 1;
        let mut frames: Vec<Vec<u8>> = (0..random)
            .map(|_| {
                (0..pixels)
                    .map(|_| (rng.next_u32() % (1 << bits)) as u8)
                    .collect()
            })
            .collect();
        frames.push(vec![0; pixels]);
        frames.push(vec![white; pixels]);
        let shape = Shape {
            width,
            height,
            frames: random + 2,
            bits,
        };
        let video = Video::encrypt(&keys().0, shape, &frames, &mut rng).unwrap();
        Clip {
            shape,
            frames,
            video,
        }
    }

    fn layout(&self) -> Layout {
        Layout::new(self.shape).unwrap()
    }

    fn all_frames(&self) -> Vec<u32> {
        (0..self.shape.frames).collect()
    }

    fn black(&self) -> u32 {
        self.shape.frames - 2
    }

    fn white(&self) -> u32 {
        self.shape.frames - 1
    }

    /// Evaluates `program` and decrypts it; checks the noise budget of
    /// every result ciphertext, and that the plan's static count is the
    /// operations the evaluation ran.
    fn run(&self, label: &str, program: &Program) -> Vec<i64> {
        let (ck, sk) = keys();
        let plan = program.plan(&self.layout()).unwrap();
        let (result, counts) = evaluate(sk, &plan, &self.video).unwrap();
        assert_eq!(plan.counts(), counts, "{label}: static count");
        let budgets: Vec<i64> = result
            .ciphertexts()
            .iter()
            .map(|ct| noise_budget(ck, ct).unwrap())
            .collect();
        println!("{label}: noise budget {budgets:?} bits, {counts:?}");
        for b in &budgets {
            assert!(*b >= MIN_BUDGET, "{label}: noise budget {b} < {MIN_BUDGET}");
        }
        result.decrypt(ck, &plan).unwrap()
    }
}

/// A partial mask: two pixels of three, and not the last pixel.
fn partial_mask(pixels: u32) -> Vec<u32> {
    (0..pixels - 1).filter(|p| p % 3 != 1).collect()
}

// --- The plaintext programs. ---

fn plain_count_below(frames: &[Vec<u8>], sel: &[u32], mask: &[u32], threshold: u8) -> Vec<i64> {
    sel.iter()
        .map(|&f| {
            mask.iter()
                .filter(|&&p| frames[f as usize][p as usize] < threshold)
                .count() as i64
        })
        .collect()
}

fn plain_histogram(frames: &[Vec<u8>], sel: &[u32], mask: &[u32]) -> Vec<i64> {
    let mut bins = vec![0i64; 16];
    for &f in sel {
        for &p in mask {
            bins[usize::from(frames[f as usize][p as usize])] += 1;
        }
    }
    bins
}

fn plain_conv(frames: &[Vec<u8>], sel: &[u32], w: usize, h: usize, k: [i8; 9]) -> Vec<i64> {
    let mut out = Vec::new();
    for &f in sel {
        let frame = &frames[f as usize];
        for y in 0..h - 2 {
            for x in 0..w - 2 {
                let mut acc = 0i64;
                for dy in 0..3 {
                    for dx in 0..3 {
                        acc += i64::from(k[dy * 3 + dx]) * i64::from(frame[(y + dy) * w + x + dx]);
                    }
                }
                out.push(acc);
            }
        }
    }
    out
}

fn plain_linear(frames: &[Vec<u8>], terms: &[Term]) -> i64 {
    terms
        .iter()
        .map(|t| {
            let frame = &frames[t.frame as usize];
            t.pixels
                .iter()
                .map(|&p| {
                    let x = frame[p as usize];
                    t.weight * t.below.map_or(i64::from(x), |th| i64::from(x < th))
                })
                .sum::<i64>()
        })
        .sum()
}

// --- The tests. ---

#[test]
fn count_below_every_threshold() {
    let clip = Clip::new(21, 8, 8, 4, 6);
    let mask = partial_mask(64);
    let frames = clip.all_frames();
    for threshold in 0..=16u8 {
        let program = Program::CountBelow {
            frames: frames.clone(),
            mask: mask.clone(),
            threshold,
        };
        let got = clip.run(&format!("count-below T={threshold}"), &program);
        let want = plain_count_below(&clip.frames, &frames, &mask, threshold);
        assert_eq!(got, want, "threshold {threshold}");
        // The black frame: every mask pixel from T = 1; the white one: only at T = 16.
        let n = mask.len() as i64;
        assert_eq!(
            got[clip.black() as usize],
            if threshold > 0 { n } else { 0 }
        );
        assert_eq!(
            got[clip.white() as usize],
            if threshold == 16 { n } else { 0 }
        );
    }
    // A subset of frames, the full mask and an empty mask.
    for (sel, mask) in [
        (
            vec![1, clip.black(), clip.white()],
            (0..64).collect::<Vec<u32>>(),
        ),
        (vec![0, 5], vec![]),
        (vec![2], vec![63]),
    ] {
        let program = Program::CountBelow {
            frames: sel.clone(),
            mask: mask.clone(),
            threshold: 9,
        };
        let got = clip.run("count-below subset", &program);
        assert_eq!(got, plain_count_below(&clip.frames, &sel, &mask, 9));
    }
}

#[test]
fn count_below_two_bit_pixels() {
    let clip = Clip::new(22, 4, 4, 2, 3);
    let mask = partial_mask(16);
    let frames = clip.all_frames();
    for threshold in 0..=4u8 {
        let program = Program::CountBelow {
            frames: frames.clone(),
            mask: mask.clone(),
            threshold,
        };
        let got = clip.run(&format!("count-below 2-bit T={threshold}"), &program);
        assert_eq!(
            got,
            plain_count_below(&clip.frames, &frames, &mask, threshold)
        );
    }
    // Thresholds above 2^bits are refused.
    let program = Program::CountBelow {
        frames,
        mask,
        threshold: 5,
    };
    assert!(program.plan(&clip.layout()).is_err());
}

#[test]
fn histogram_four_bits() {
    let clip = Clip::new(23, 8, 8, 4, 6);
    let mask = partial_mask(64);
    let all = clip.all_frames();
    for (label, sel) in [
        ("histogram all frames", all.clone()),
        ("histogram black", vec![clip.black()]),
        ("histogram white", vec![clip.white()]),
    ] {
        let program = Program::Histogram {
            frames: sel.clone(),
            mask: mask.clone(),
        };
        let got = clip.run(label, &program);
        assert_eq!(got.len(), 16);
        assert_eq!(got, plain_histogram(&clip.frames, &sel, &mask), "{label}");
        assert_eq!(
            got.iter().sum::<i64>(),
            (sel.len() * mask.len()) as i64,
            "{label}: the bins do not sum to frames x mask"
        );
    }
    let program = Program::Histogram {
        frames: vec![clip.black()],
        mask: mask.clone(),
    };
    assert_eq!(clip.run("histogram black", &program)[0], mask.len() as i64);
}

#[test]
fn histogram_two_bits() {
    let clip = Clip::new(24, 8, 8, 2, 4);
    let mask = partial_mask(64);
    for sel in [clip.all_frames(), vec![clip.white()]] {
        let program = Program::Histogram {
            frames: sel.clone(),
            mask: mask.clone(),
        };
        let got = clip.run("histogram 2-bit", &program);
        assert_eq!(got, plain_histogram(&clip.frames, &sel, &mask));
        assert!(got[4..].iter().all(|&b| b == 0), "bins 4..16: {got:?}");
        assert_eq!(got.iter().sum::<i64>(), (sel.len() * mask.len()) as i64);
    }
}

#[test]
fn conv3x3_kernels() {
    let clip = Clip::new(25, 8, 8, 4, 3);
    let all = clip.all_frames();
    let kernels: [(&str, [i8; 9]); 5] = [
        ("box", [1; 9]),
        ("sobel-x", [-1, 0, 1, -2, 0, 2, -1, 0, 1]),
        ("sharpen", [0, -1, 0, -1, 5, -1, 0, -1, 0]),
        ("127", [127; 9]),
        ("-128", [-128; 9]),
    ];
    for (name, kernel) in kernels {
        let program = Program::Conv3x3 {
            frames: all.clone(),
            kernel,
        };
        let got = clip.run(&format!("conv3x3 {name}"), &program);
        assert_eq!(got.len(), all.len() * 6 * 6);
        assert_eq!(got, plain_conv(&clip.frames, &all, 8, 8, kernel), "{name}");
    }
    // The extremes on the white frame alone: 9 x 127 x 15 and 9 x -128 x 15.
    for (kernel, value) in [([127i8; 9], 17_145i64), ([-128; 9], -17_280)] {
        let program = Program::Conv3x3 {
            frames: vec![clip.white()],
            kernel,
        };
        let got = clip.run("conv3x3 extreme on white", &program);
        assert_eq!(got, vec![value; 36]);
    }
    // An all-zero kernel, and a non-square frame.
    let program = Program::Conv3x3 {
        frames: vec![0],
        kernel: [0; 9],
    };
    assert_eq!(clip.run("conv3x3 zero", &program), vec![0; 36]);
    let wide = Clip::new(26, 7, 3, 4, 1);
    let program = Program::Conv3x3 {
        frames: wide.all_frames(),
        kernel: [1, 2, 3, -4, 5, -6, 7, -8, 9],
    };
    assert_eq!(
        wide.run("conv3x3 7x3", &program),
        plain_conv(
            &wide.frames,
            &wide.all_frames(),
            7,
            3,
            [1, 2, 3, -4, 5, -6, 7, -8, 9]
        )
    );
}

#[test]
fn linear_mixed_terms() {
    let clip = Clip::new(27, 8, 8, 4, 4);
    let (black, white) = (clip.black(), clip.white());
    let term = |frame: u32, pixels: Vec<u32>, below: Option<u8>, weight: i64| Term {
        frame,
        pixels,
        below,
        weight,
    };
    let terms = vec![
        // Pixels 10 .. 20 in two terms of the same threshold and weight.
        term(0, (0..20).collect(), Some(5), 3),
        term(0, (10..30).collect(), Some(5), 3),
        // The same pixels under another threshold, and a negative weight.
        term(0, (0..64).step_by(3).collect(), Some(11), -7),
        term(1, (0..64).collect(), None, -2),
        // A plain pixel twice within a term, and again in another term.
        term(2, vec![0, 7, 7, 63], None, 5),
        term(2, vec![7], None, 5),
        term(3, partial_mask(64), Some(9), -1),
        term(3, vec![1, 2, 3], Some(0), 7),
        term(3, vec![4], Some(16), 0),
        term(black, (0..64).collect(), Some(1), -4),
        term(white, (0..64).collect(), Some(16), 1),
        term(white, (0..64).step_by(2).collect(), None, 1),
    ];
    let program = Program::Linear {
        terms: terms.clone(),
    };
    let got = clip.run("linear mixed", &program);
    assert_eq!(got, vec![plain_linear(&clip.frames, &terms)]);

    // One term per frame, each alone.
    for t in &terms {
        let one = vec![t.clone()];
        let got = clip.run(
            "linear single term",
            &Program::Linear { terms: one.clone() },
        );
        assert_eq!(got, vec![plain_linear(&clip.frames, &one)], "{t:?}");
    }
}

#[test]
fn linear_near_the_bound() {
    let clip = Clip::new(28, 8, 8, 4, 1);
    let layout = clip.layout();
    let white = clip.white();
    // t = 114689: one part must stay strictly inside +-57344.
    assert_eq!(PLAINTEXT, 114_689);
    let plain = |weight: i64| Program::Linear {
        terms: vec![Term {
            frame: white,
            pixels: (0..64).collect(),
            below: None,
            weight,
        }],
    };
    // 59 x 15 x 64 = 56640 < 57344: exact, on either side of zero.
    for weight in [59, -59] {
        let got = clip.run("linear near t/2", &plain(weight));
        assert_eq!(got, vec![weight * 15 * 64]);
    }
    // 60 x 15 x 64 = 57600 > t/2: refused by plan.
    for weight in [60, -60, i64::MAX, i64::MIN] {
        assert!(plain(weight).plan(&layout).is_err(), "weight {weight}");
    }
    // Threshold terms count 1 per pixel: 896 x 64 = 57344 is refused, 895 x 64 is not.
    let below = |weight: i64| Program::Linear {
        terms: vec![Term {
            frame: white,
            pixels: (0..64).collect(),
            below: Some(16),
            weight,
        }],
    };
    assert!(below(896).plan(&layout).is_err());
    assert_eq!(
        clip.run("linear below near t/2", &below(-895)),
        vec![-895 * 64]
    );
    // The bound adds up over terms sharing a frame.
    let split = Program::Linear {
        terms: vec![
            Term {
                frame: 0,
                pixels: (0..32).collect(),
                below: None,
                weight: 60,
            },
            Term {
                frame: 0,
                pixels: (32..64).collect(),
                below: Some(3),
                weight: -1000,
            },
        ],
    };
    assert!(split.plan(&layout).is_err());
}

#[test]
fn frames_larger_than_one_row() {
    // 80x60 = 4800 pixels > 4096: 2 segments of 4096 per frame, one frame
    // per ciphertext.
    let clip = Clip::new(29, 80, 60, 4, 1);
    let layout = clip.layout();
    assert_eq!(
        (layout.segment, layout.chunks, layout.ciphertexts),
        (4096, 2, 3)
    );
    let all = clip.all_frames();
    let mask: Vec<u32> = (0..4800).filter(|p| p % 5 != 1).collect();
    let sel = vec![0, clip.white()];
    for threshold in [0u8, 9, 16] {
        let program = Program::CountBelow {
            frames: sel.clone(),
            mask: mask.clone(),
            threshold,
        };
        let got = clip.run(&format!("80x60 count-below T={threshold}"), &program);
        assert_eq!(got, plain_count_below(&clip.frames, &sel, &mask, threshold));
    }
    // A mask only in the second segment.
    let tail: Vec<u32> = (4096..4800).collect();
    let program = Program::CountBelow {
        frames: vec![0],
        mask: tail.clone(),
        threshold: 7,
    };
    let got = clip.run("80x60 count-below tail", &program);
    assert_eq!(got, plain_count_below(&clip.frames, &[0], &tail, 7));

    let program = Program::Histogram {
        frames: all.clone(),
        mask: mask.clone(),
    };
    let got = clip.run("80x60 histogram", &program);
    assert_eq!(got, plain_histogram(&clip.frames, &all, &mask));
    assert_eq!(got.iter().sum::<i64>(), (all.len() * mask.len()) as i64);

    let terms = vec![
        Term {
            frame: 0,
            pixels: vec![0, 4095, 4096, 4799],
            below: None,
            weight: -3,
        },
        Term {
            frame: 0,
            pixels: (4000..4200).collect(),
            below: Some(8),
            weight: 2,
        },
        Term {
            frame: clip.black(),
            pixels: (0..4800).step_by(7).collect(),
            below: Some(4),
            weight: 1,
        },
    ];
    let got = clip.run(
        "80x60 linear",
        &Program::Linear {
            terms: terms.clone(),
        },
    );
    assert_eq!(got, vec![plain_linear(&clip.frames, &terms)]);

    let program = Program::Conv3x3 {
        frames: vec![0],
        kernel: [1; 9],
    };
    assert!(program.plan(&layout).is_err());
}

#[test]
fn invalid_programs_are_refused() {
    let layout = Layout::new(Shape {
        width: 8,
        height: 8,
        frames: 3,
        bits: 4,
    })
    .unwrap();
    let count = |frames: Vec<u32>, mask: Vec<u32>, threshold: u8| Program::CountBelow {
        frames,
        mask,
        threshold,
    };
    let refused = [
        ("no frame", count(vec![], vec![1], 3)),
        ("frame out of range", count(vec![3], vec![1], 3)),
        ("frames not increasing", count(vec![1, 0], vec![1], 3)),
        ("repeated frame", count(vec![1, 1], vec![1], 3)),
        ("pixel out of range", count(vec![0], vec![64], 3)),
        ("threshold 17", count(vec![0], vec![1], 17)),
        // A repeated mask pixel would be counted as a phantom black pixel.
        ("repeated mask pixel", count(vec![0], vec![5, 5], 3)),
        ("mask not increasing", count(vec![0], vec![6, 5], 3)),
        (
            "histogram repeated mask pixel",
            Program::Histogram {
                frames: vec![0],
                mask: vec![0, 0],
            },
        ),
        (
            "conv on no frame",
            Program::Conv3x3 {
                frames: vec![],
                kernel: [1; 9],
            },
        ),
        (
            "linear frame out of range",
            Program::Linear {
                terms: vec![Term {
                    frame: 3,
                    pixels: vec![0],
                    below: None,
                    weight: 1,
                }],
            },
        ),
        (
            "linear threshold 17",
            Program::Linear {
                terms: vec![Term {
                    frame: 0,
                    pixels: vec![0],
                    below: Some(17),
                    weight: 1,
                }],
            },
        ),
    ];
    for (name, program) in refused {
        assert!(program.plan(&layout).is_err(), "{name} was planned");
    }
    let tiny = Layout::new(Shape {
        width: 2,
        height: 8,
        frames: 1,
        bits: 4,
    })
    .unwrap();
    let conv = Program::Conv3x3 {
        frames: vec![0],
        kernel: [1; 9],
    };
    assert!(conv.plan(&tiny).is_err());
}

/// A 32x32 ED+ES video of 4-bit pixels: 4 fit one ciphertext.
const ED_ES_32: Shape = Shape {
    width: 32,
    height: 32,
    frames: 2,
    bits: 4,
};

/// Encrypts `plains` (of `ED_ES_32`), video `i` into class `class(i)`.
fn encrypt_classes(plains: &[Vec<Vec<u8>>], class: impl Fn(usize) -> u8, seed: u8) -> Vec<Video> {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    plains
        .iter()
        .enumerate()
        .map(|(i, f)| Video::encrypt_in_class(&keys().0, ED_ES_32, f, class(i), &mut rng).unwrap())
        .collect()
}

/// Random 32x32 ED+ES videos.
fn random_videos(n: usize, seed: u8) -> Vec<Vec<Vec<u8>>> {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    (0..n)
        .map(|_| {
            (0..2)
                .map(|_| (0..1024).map(|_| (rng.next_u32() % 16) as u8).collect())
                .collect()
        })
        .collect()
}

/// Per video, per frame: the mask pixels below `threshold`.
fn plain_counts(plains: &[Vec<Vec<u8>>], mask: &[u32], threshold: u8) -> Vec<Vec<i64>> {
    plains
        .iter()
        .map(|frames| {
            frames
                .iter()
                .map(|f| mask.iter().filter(|&&p| f[p as usize] < threshold).count() as i64)
                .collect()
        })
        .collect()
}

/// Packing: 4 videos per ciphertext, the packs gathered into one result
/// ciphertext, and every video's areas still equal the plain counts, also
/// after the result's bytes are read back.
#[test]
fn packed_lv_area_matches_each_video() {
    use blindfold_bfv::pack::{evaluate_packed, PackedResult};
    let (ck, sk) = (&keys().0, &keys().1);
    let shape = ED_ES_32;
    let layout = Layout::new(shape).unwrap();
    let mask: Vec<u32> = (0..1024).filter(|p| p % 5 != 1).collect();
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    // 11 videos: 4 packs, the last ones short.
    let plains = random_videos(11, 9);
    // Classes round-robin, except that video 5 repeats class 0 (as after a
    // revoked neighbour): packs fill greedily, in order.
    let classes: Vec<u8> = (0..11)
        .map(|v| if v == 5 { 0 } else { (v % 4) as u8 })
        .collect();
    let videos: Vec<Video> = plains
        .iter()
        .zip(&classes)
        .map(|(f, &c)| Video::encrypt_in_class(ck, shape, f, c, &mut rng).unwrap())
        .collect();
    assert_eq!(layout.classes(), 4);
    assert!(Video::encrypt_in_class(ck, shape, &plains[0], 4, &mut rng).is_err());
    let mut least = i64::MAX;
    for threshold in 0..=16u8 {
        let program = Program::CountBelow {
            frames: vec![0, 1],
            mask: mask.clone(),
            threshold,
        };
        let (result, plan, counts) = evaluate_packed(sk, &program, &layout, &videos).unwrap();
        assert_eq!(plan.counts(), counts, "threshold {threshold}: static count");
        assert_eq!(plan.per_pack, 4);
        assert_eq!(
            blindfold_bfv::pack::packs(&classes),
            vec![vec![0, 1, 2, 3], vec![4, 6, 7, 9], vec![5, 10], vec![8]]
        );
        assert_eq!(result.result().ciphertexts().len(), 1, "4 packs, gathered");
        // [x < 0] and [x < 16] are constants: no multiplication at all.
        let per_pack = if threshold % 16 == 0 { 0 } else { 7 };
        assert_eq!(counts.multiplications, 4 * per_pack);
        // 10 rotations per pack's sums, 3 to gather 4 packs.
        assert_eq!(counts.rotations, 4 * 10 + 3);
        let want = plain_counts(&plains, &mask, threshold);
        assert_eq!(
            result.decrypt(ck, &plan).unwrap(),
            want,
            "threshold {threshold}"
        );
        let (read, read_plan) =
            PackedResult::from_bytes(&result.to_bytes(), SET, &program, &layout, 11).unwrap();
        assert_eq!(read.classes(), &classes[..]);
        assert_eq!(read.decrypt(ck, &read_plan).unwrap(), want);
        assert!(
            PackedResult::from_bytes(&result.to_bytes(), SET, &program, &layout, 12).is_err(),
            "a unit of another size"
        );
        let b = result.result().least_noise_budget(ck).unwrap().unwrap();
        least = least.min(b);
        assert!(
            b >= MIN_PACKED_BUDGET,
            "threshold {threshold}: noise budget {b}"
        );
    }
    println!("packed lv-area, thresholds 0..=16: least noise budget {least} bits");
}

/// A full unit: 64 videos, 16 packs gathered into one 88 kB ciphertext,
/// every count exact and the noise budget above the floor.
#[test]
fn a_full_unit_gathers_into_one_ciphertext() {
    use blindfold_bfv::pack::{evaluate_packed, unit_size};
    let (ck, sk) = (&keys().0, &keys().1);
    let shape = ED_ES_32;
    let layout = Layout::new(shape).unwrap();
    let n = unit_size(&layout);
    assert_eq!(n, 64);
    let plains = random_videos(n, 21);
    let videos = encrypt_classes(&plains, |i| (i % 4) as u8, 22);
    let mask: Vec<u32> = (0..1024).filter(|p| p % 3 != 0).collect();
    let program = Program::CountBelow {
        frames: vec![0, 1],
        mask: mask.clone(),
        threshold: 9,
    };
    let (result, plan, counts) = evaluate_packed(sk, &program, &layout, &videos).unwrap();
    assert_eq!(result.result().ciphertexts().len(), 1);
    assert_eq!(counts.rotations, 16 * 10 + 15);
    assert_eq!(plan.counts(), counts, "static count");
    assert_eq!(
        result.decrypt(ck, &plan).unwrap(),
        plain_counts(&plains, &mask, 9)
    );
    let bytes = result.to_bytes().len();
    let b = result.result().least_noise_budget(ck).unwrap().unwrap();
    println!(
        "full unit: {bytes} bytes ({} per video), noise budget {b} bits",
        bytes / n
    );
    assert!(b >= MIN_PACKED_BUDGET, "noise budget {b}");
    assert!(bytes / n <= 2048, "{} bytes per video", bytes / n);
}

/// A video encrypted for packing (class 3 of 4) runs every program on its
/// own, outside a pack: the plan moves to the class's segments, the result
/// records the class, and every output equals the plaintext twin's.
#[test]
fn every_program_runs_on_a_video_of_any_class() {
    let (ck, sk) = keys();
    let shape = Shape {
        width: 16,
        height: 16,
        frames: 2,
        bits: 4,
    };
    let layout = Layout::new(shape).unwrap();
    assert_eq!(layout.classes(), 16);
    let frames = random_videos(1, 31).remove(0);
    let frames: Vec<Vec<u8>> = frames.iter().map(|f| f[..256].to_vec()).collect();
    let mask = partial_mask(256);
    let kernel = [1, -2, 3, 0, 5, -1, 2, 1, -3];
    let terms = vec![
        Term {
            frame: 1,
            pixels: mask.clone(),
            below: Some(6),
            weight: -3,
        },
        Term {
            frame: 0,
            pixels: vec![0, 17, 255],
            below: None,
            weight: 2,
        },
    ];
    let cases: Vec<(Program, Vec<i64>)> = vec![
        (
            Program::CountBelow {
                frames: vec![0, 1],
                mask: mask.clone(),
                threshold: 9,
            },
            plain_count_below(&frames, &[0, 1], &mask, 9),
        ),
        (
            Program::Histogram {
                frames: vec![1],
                mask: mask.clone(),
            },
            plain_histogram(&frames, &[1], &mask),
        ),
        (
            Program::Conv3x3 {
                frames: vec![0, 1],
                kernel,
            },
            plain_conv(&frames, &[0, 1], 16, 16, kernel),
        ),
        (
            Program::Linear {
                terms: terms.clone(),
            },
            vec![plain_linear(&frames, &terms)],
        ),
    ];
    let mut rng = ChaCha20Rng::from_seed([32; 32]);
    for class in [0u8, 3, 15] {
        let video = Video::encrypt_in_class(ck, shape, &frames, class, &mut rng).unwrap();
        let read = Video::from_bytes(&video.to_bytes(), SET, shape).unwrap();
        assert_eq!(read.class(), class);
        for (program, want) in &cases {
            let plan = program.plan(&layout).unwrap();
            let (result, counts) = evaluate(sk, &plan, &read).unwrap();
            // The class moves the plan (Plan::for_class), not its cost.
            assert_eq!(plan.counts(), counts, "class {class}: {program:?}");
            let bytes = result.to_bytes();
            let back = blindfold_bfv::BfvResult::from_bytes(&bytes, SET, &plan).unwrap();
            assert_eq!(
                &back.decrypt(ck, &plan).unwrap(),
                want,
                "class {class}: {program:?}"
            );
        }
    }
}

/// The static counts (`Plan::counts`) of each program equal the
/// operations a real evaluation ran, on the cases whose counts differ the
/// most: constant and full polynomials, kernels with zero taps (and none
/// at all), linear models with plain terms only, threshold terms only,
/// several layers, and terms on another ciphertext. (Every other
/// evaluation in this file checks the same through `Clip::run`.)
#[test]
fn static_counts_equal_evaluated_counts() {
    let (_, sk) = keys();
    // 8x8, 6 frames: one ciphertext, segments of 64 slots.
    let clip = Clip::new(61, 8, 8, 4, 4);
    let layout = clip.layout();
    let all = clip.all_frames();
    let mask = partial_mask(64);
    let term = |frame: u32, pixels: Vec<u32>, below: Option<u8>, weight: i64| Term {
        frame,
        pixels,
        below,
        weight,
    };
    let mut programs: Vec<(&str, Program)> = Vec::new();
    for threshold in [0u8, 1, 5, 15, 16] {
        programs.push((
            "count-below",
            Program::CountBelow {
                frames: all.clone(),
                mask: mask.clone(),
                threshold,
            },
        ));
    }
    programs.push((
        "histogram",
        Program::Histogram {
            frames: all.clone(),
            mask: mask.clone(),
        },
    ));
    for kernel in [
        [1i8; 9],
        [0, -1, 0, -1, 5, -1, 0, -1, 0],
        [0, 0, 0, 0, 0, 0, 1, 0, -1],
        [0; 9],
    ] {
        programs.push((
            "conv3x3",
            Program::Conv3x3 {
                frames: vec![0, 2],
                kernel,
            },
        ));
    }
    for terms in [
        vec![term(0, vec![1, 2], None, 3)],
        vec![term(1, vec![1, 2], None, 0)],
        vec![term(0, (0..20).collect(), Some(7), 0)],
        vec![
            term(0, (0..20).collect(), Some(5), 3),
            term(0, (10..30).collect(), Some(5), 3),
            term(1, (0..64).step_by(3).collect(), Some(11), -7),
            term(2, vec![4], Some(16), 2),
            term(3, vec![4], Some(0), 2),
            term(3, vec![0, 63], None, -1),
        ],
    ] {
        programs.push(("linear", Program::Linear { terms }));
    }
    for (label, program) in &programs {
        let plan = program.plan(&layout).unwrap();
        let (_, counts) = evaluate(sk, &plan, &clip.video).unwrap();
        assert_eq!(plan.counts(), counts, "{label}: {program:?}");
    }
    // The known costs: [x < 5] is 7 multiplications, a 64-slot segment sum 6 rotations.
    let plan = programs[2].1.plan(&layout).unwrap();
    assert_eq!(
        (plan.counts().multiplications, plan.counts().rotations),
        (7, 6)
    );
    // A frame per ciphertext (80x60: two segments of 4096), so several groups.
    let big = Clip::new(62, 80, 60, 4, 1);
    let layout = big.layout();
    assert_eq!(layout.ciphertexts, 3);
    for program in [
        Program::CountBelow {
            frames: vec![0, 2],
            mask: (0..4800).collect(),
            threshold: 9,
        },
        Program::Linear {
            terms: vec![
                term(0, vec![0, 4096], None, 2),
                term(2, (4000..4200).collect(), Some(8), 1),
            ],
        },
    ] {
        let plan = program.plan(&layout).unwrap();
        assert_eq!(plan.groups.len(), 2);
        let (_, counts) = evaluate(sk, &plan, &big.video).unwrap();
        assert_eq!(plan.counts(), counts, "80x60: {program:?}");
    }
}

/// The static count of a packed unit (`PackedPlan::counts`) equals the
/// operations `evaluate_packed` ran, here on 18 packs (one full, seventeen
/// of one video each, as when the members repeat a class): two result
/// ciphertexts, so two gathering trees (of 16 packs and of 2).
#[test]
fn packed_static_counts_equal_evaluated_counts() {
    use blindfold_bfv::pack::{evaluate_packed, packed_plan};
    let sk = &keys().1;
    let layout = Layout::new(ED_ES_32).unwrap();
    let plains = random_videos(21, 63);
    let class = |i: usize| if i < 4 { i as u8 } else { 1 };
    let videos = encrypt_classes(&plains, class, 64);
    let classes: Vec<u8> = (0..21).map(class).collect();
    let program = Program::CountBelow {
        frames: vec![0, 1],
        mask: (0..1024).filter(|p| p % 7 != 0).collect(),
        threshold: 9,
    };
    let plan = packed_plan(&program, &layout, &classes).unwrap();
    assert_eq!(plan.results, 2);
    let want = plan.counts();
    // 18 packs: 7 multiplications and 10 rotations each, 15 + 1 to gather.
    assert_eq!(
        (want.multiplications, want.rotations),
        (18 * 7, 18 * 10 + 16)
    );
    let (_, plan, counts) = evaluate_packed(sk, &program, &layout, &videos).unwrap();
    assert_eq!(plan.counts(), counts);
    assert_eq!(counts, want);
}

/// Untrusted packed results and class bytes: a wrong member count, a class
/// out of range, truncation or trailing bytes are refused with an error,
/// never a panic.
#[test]
fn malformed_packed_results_are_refused() {
    use blindfold_bfv::pack::{evaluate_packed, PackedResult};
    let sk = &keys().1;
    let layout = Layout::new(ED_ES_32).unwrap();
    let plains = random_videos(3, 41);
    let videos = encrypt_classes(&plains, |i| i as u8, 42);
    let program = Program::CountBelow {
        frames: vec![0, 1],
        mask: (0..1024).collect(),
        threshold: 4,
    };
    let (packed, _, _) = evaluate_packed(sk, &program, &layout, &videos).unwrap();
    let good = packed.to_bytes();
    let read = |b: &[u8], members| {
        std::panic::catch_unwind(|| PackedResult::from_bytes(b, SET, &program, &layout, members))
            .expect("the reader panicked")
            .map(|_| ())
    };
    read(&good, 3).unwrap();
    assert!(read(&good, 2).unwrap_err().to_string().contains("members"));
    // Header (11 bytes), members u32, then one class byte per member.
    let mut bad_class = good.clone();
    bad_class[15 + 1] = 4;
    assert!(read(&bad_class, 3)
        .unwrap_err()
        .to_string()
        .contains("class 4"));
    for cut in [0, 11, 14, 17, 18, 22, good.len() - 1] {
        assert!(read(&good[..cut], 3).is_err(), "cut at {cut}");
    }
    let mut long = good.clone();
    long.push(0);
    assert!(read(&long, 3).is_err(), "a trailing byte");

    // A single result's class byte (after the 11-byte header) out of range.
    let plan = program.plan(&layout).unwrap();
    let (single, _) = evaluate(sk, &plan, &videos[2]).unwrap();
    let mut b = single.to_bytes();
    assert_eq!(b[11], 2);
    blindfold_bfv::BfvResult::from_bytes(&b, SET, &plan).unwrap();
    b[11] = 4;
    let e = blindfold_bfv::BfvResult::from_bytes(&b, SET, &plan).unwrap_err();
    assert!(e.to_string().contains("class 4"), "{e}");
}

/// Input size: a video that fills its ciphertext (8 frames of 32x32: a
/// whole cardiac cycle at 8 frames) costs under 32 bytes per pixel, since
/// a fresh ciphertext is stored seeded (its random half as a 32-byte seed).
/// An ED+ES video (2 frames) uses a quarter of the slots and costs 4 times
/// as much per pixel.
#[test]
fn a_full_ciphertext_costs_under_32_bytes_per_pixel() {
    let ck = &keys().0;
    let mut rng = ChaCha20Rng::from_seed([51; 32]);
    for (frames, most) in [(8u32, 32usize), (2, 128)] {
        let shape = Shape {
            width: 32,
            height: 32,
            frames,
            bits: 4,
        };
        let plains: Vec<Vec<u8>> = random_videos(frames as usize, 52)
            .into_iter()
            .map(|v| v[0].clone())
            .collect();
        let video = Video::encrypt(ck, shape, &plains, &mut rng).unwrap();
        let bytes = video.to_bytes().len();
        let pixels = 1024 * frames as usize;
        println!(
            "{frames} frames of 32x32: {bytes} bytes, {:.1} bytes per pixel",
            bytes as f64 / pixels as f64
        );
        assert!(bytes <= most * pixels, "{bytes} bytes for {pixels} pixels");
    }
}
