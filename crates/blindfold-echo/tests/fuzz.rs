//! Property test: mutated real files (a phantom AVI and phantom CSVs, and
//! the real ultrasound DICOM files of `scripts/fetch-test-data.sh`: PALETTE
//! COLOR 8- and 16-bit, explicit big endian, RLE Lossless, JPEG 2000
//! lossless and lossy, a single frame) never make the readers panic. 64
//! cases each by default; set BLINDFOLD_FUZZ_CASES for a long run (see
//! FUZZING.md). The time-based fuzzer is examples/fuzz_parsers.rs.

use std::path::Path;
use std::sync::OnceLock;

use blindfold_echo::avi::parse_avi;
use blindfold_echo::dicom::{read_dicom_video, test_data_file};
use blindfold_echo::echonet::{parse_file_list, parse_volume_tracings};
use blindfold_echo::phantom::{encode_avi, generate_video, write_dataset, PhantomConfig};
use proptest::prelude::*;

fn seeds() -> &'static [Vec<u8>; 3] {
    static SEEDS: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let cfg = PhantomConfig {
            videos: 2,
            frames: 3,
            width: 16,
            height: 16,
            ..PhantomConfig::default()
        };
        let v = generate_video(&cfg, 0).expect("generate");
        let avi = encode_avi(Path::new("seed.avi"), &v, 75).expect("encode");
        let dir = tempfile::tempdir().expect("tmp");
        write_dataset(dir.path(), &cfg).expect("write");
        let read = |f: &str| std::fs::read(dir.path().join(f)).expect("read");
        [avi, read("FileList.csv"), read("VolumeTracings.csv")]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Word(usize, u32),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        (
            any::<usize>(),
            prop_oneof![Just(0u32), Just(u32::MAX), Just(0x7fff_ffff), any::<u32>()]
        )
            .prop_map(|(i, v)| Mutation::Word(i, v)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut b: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let len = b.len().max(1);
        match m {
            Mutation::Set(i, v) if !b.is_empty() => b[i % len] = *v,
            Mutation::Word(i, v) if b.len() >= 4 => {
                let i = i % (b.len() - 3);
                b[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            Mutation::Insert(i, v) => {
                let i = i % (b.len() + 1);
                b.splice(i..i, v.iter().copied());
            }
            Mutation::Delete(i, n) if !b.is_empty() => {
                let i = i % len;
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Mutation::Truncate(n) => b.truncate(n % len),
            _ => {}
        }
    }
    b
}

fn cases() -> u32 {
    std::env::var("BLINDFOLD_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_files_never_panic(which in 0usize..3, ms in prop::collection::vec(mutation(), 1..10)) {
        let input = apply(seeds()[which].clone(), &ms);
        let p = Path::new("mutated");
        if let Ok(avi) = parse_avi(p, &input) {
            for i in 0..avi.frame_count() {
                let _ = avi.decode_frame(i);
            }
        }
        let _ = parse_file_list(p, &input);
        let _ = parse_volume_tracings(p, &input);
    }
}

/// The DICOM seeds: the real files that `scripts/fetch-test-data.sh`
/// fetched ([`test_data_file`]); none when it has not run.
fn dicom_seeds() -> &'static [(String, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let files = [
            "OBXXXX1A_2frame.dcm",
            "OBXXXX1A_expb_2frame.dcm",
            "OBXXXX1A_rle_2frame.dcm",
            "gdcm-US-ALOKA-16.dcm",
            "US1_J2KR.dcm",
            "US1_J2KI.dcm",
            "US1_UNCI.dcm",
        ];
        let seeds: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter_map(|f| {
                let bytes = std::fs::read(test_data_file(f)?).ok()?;
                Some((f.to_string(), bytes))
            })
            .collect();
        seeds
    })
}

/// Reads `bytes` as the DICOM file `name` (written to a temporary file):
/// an error must name the file.
fn read_dicom_bytes(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    if let Err(e) = read_dicom_video(&path) {
        assert!(e.to_string().contains(name), "{e} does not name {name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_dicom_files_never_panic(which in any::<usize>(), ms in prop::collection::vec(mutation(), 1..10)) {
        let seeds = dicom_seeds();
        if !seeds.is_empty() {
            let (name, bytes) = &seeds[which % seeds.len()];
            read_dicom_bytes(name, &apply(bytes.clone(), &ms));
        }
    }
}

/// Every DICOM seed cut short at 16 places (inside the header, the
/// attributes and the pixel data): a clear error naming the file, never a
/// panic. The whole file still reads.
#[test]
fn truncated_dicom_files_are_errors_naming_the_file() {
    for (name, bytes) in dicom_seeds() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        read_dicom_video(&path).expect("the seed itself reads");
        for k in 0..16 {
            let cut = bytes.len() * k / 16;
            std::fs::write(&path, &bytes[..cut]).expect("write");
            let e = read_dicom_video(&path).expect_err("a truncated file");
            assert!(
                e.to_string().contains(name.as_str()),
                "{name} cut at {cut}: {e}"
            );
        }
    }
}

#[test]
fn unmutated_seeds_parse() {
    let s = seeds();
    assert_eq!(
        parse_avi(Path::new("s"), &s[0]).expect("avi").frame_count(),
        3
    );
    assert_eq!(
        parse_file_list(Path::new("s"), &s[1])
            .expect("file list")
            .len(),
        2
    );
    assert_eq!(
        parse_volume_tracings(Path::new("s"), &s[2])
            .expect("tracings")
            .len(),
        2
    );
}
