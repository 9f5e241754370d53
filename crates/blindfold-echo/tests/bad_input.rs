//! Bad input never panics: every case gives a typed error naming the file and
//! the problem.

use std::path::Path;

use blindfold_echo::avi::parse_avi;
use blindfold_echo::echonet::{parse_file_list, parse_volume_tracings, EchoNetDataset};
use blindfold_echo::phantom::{encode_avi, generate_video, write_dataset, PhantomConfig};
use blindfold_echo::EchoError;

fn sample_avi() -> Vec<u8> {
    let cfg = PhantomConfig {
        frames: 4,
        width: 32,
        height: 24,
        ..PhantomConfig::default()
    };
    let v = generate_video(&cfg, 0).expect("generate");
    encode_avi(Path::new("sample.avi"), &v, 80).expect("encode")
}

fn decode(bytes: &[u8]) -> Result<usize, EchoError> {
    let avi = parse_avi(Path::new("clip.avi"), bytes)?;
    Ok(avi.decode_all()?.frames.len())
}

fn find(bytes: &[u8], what: &[u8], nth: usize) -> usize {
    bytes
        .windows(what.len())
        .enumerate()
        .filter(|(_, w)| *w == what)
        .nth(nth)
        .map(|(i, _)| i)
        .expect("marker present")
}

#[test]
fn sample_is_valid() {
    assert_eq!(decode(&sample_avi()).expect("valid"), 4);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = sample_avi();
    for len in (0..bytes.len()).step_by(7) {
        let e = decode(&bytes[..len]).expect_err("truncated file must not parse");
        assert!(matches!(e, EchoError::Avi { .. }), "len {len}: {e:?}");
        let msg = e.to_string();
        assert!(msg.starts_with("clip.avi: malformed AVI"), "{msg}");
    }
    let e = decode(&bytes[..bytes.len() - 100]).expect_err("truncated");
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn corrupt_structures_are_errors() {
    let bytes = sample_avi();
    // Not RIFF at all.
    let e = decode(b"RIFX\0\0\0\0AVI junk").expect_err("not riff");
    assert!(e.to_string().contains("not a RIFF 'AVI ' file"), "{e}");
    // A chunk size running past the end.
    let mut b = bytes.clone();
    let movi = find(&b, b"movi", 0) - 4;
    b[movi..movi + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(decode(&b), Err(EchoError::Avi { .. })));
    // No header list.
    let mut b = bytes.clone();
    let hdrl = find(&b, b"hdrl", 0);
    b[hdrl..hdrl + 4].copy_from_slice(b"xxxx");
    assert!(decode(&b)
        .expect_err("no hdrl")
        .to_string()
        .contains("hdrl"));
    // An index entry pointing nowhere.
    let mut b = bytes.clone();
    let idx = find(&b, b"idx1", 0) + 8;
    b[idx + 8..idx + 12].copy_from_slice(&9999u32.to_le_bytes());
    assert!(decode(&b)
        .expect_err("bad idx1")
        .to_string()
        .contains("index entry 0"));
    // A frame that is not JPEG: overwrite the SOI marker of frame 2.
    let mut b = bytes.clone();
    let soi = find(&b, &[0xFF, 0xD8, 0xFF], 2);
    b[soi..soi + 2].copy_from_slice(&[0, 0]);
    let e = decode(&b).expect_err("bad jpeg");
    assert!(matches!(e, EchoError::Jpeg { frame: 2, .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("clip.avi: frame 2: bad JPEG data"),
        "{e}"
    );
}

#[test]
fn non_mjpeg_codecs_are_rejected() {
    let bytes = sample_avi();
    let strf = find(&bytes, b"strf", 0);
    for (codec, shown) in [
        (*b"H264", "H264"),
        (*b"XVID", "XVID"),
        ([0, 0, 0, 0], "uncompressed"),
    ] {
        let mut b = bytes.clone();
        b[strf + 8 + 16..strf + 8 + 20].copy_from_slice(&codec);
        let e = decode(&b).expect_err("codec");
        assert!(matches!(e, EchoError::UnsupportedCodec { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("clip.avi") && msg.contains(shown) && msg.contains("only Motion-JPEG"),
            "{msg}"
        );
    }
}

#[test]
fn unexpected_dimensions_are_rejected() {
    let bytes = sample_avi();
    let strf = find(&bytes, b"strf", 0);
    // Header says 30 wide, the JPEG frames are 32 wide.
    let mut b = bytes.clone();
    b[strf + 12..strf + 16].copy_from_slice(&30u32.to_le_bytes());
    let e = decode(&b).expect_err("mismatch");
    assert!(matches!(e, EchoError::Dimensions { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("frame 0 is 32x24 but the AVI header says 30x24"),
        "{e}"
    );
    // Zero and absurd sizes.
    for w in [0u32, 100_000] {
        let mut b = bytes.clone();
        b[strf + 12..strf + 16].copy_from_slice(&w.to_le_bytes());
        assert!(
            matches!(decode(&b), Err(EchoError::Dimensions { .. })),
            "width {w}"
        );
    }
    // FileList.csv disagreeing with the video.
    let dir = tempfile::tempdir().expect("tmp");
    write_dataset(
        dir.path(),
        &PhantomConfig {
            videos: 1,
            frames: 8,
            ..PhantomConfig::default()
        },
    )
    .expect("write");
    let fl = dir.path().join("FileList.csv");
    let text = std::fs::read_to_string(&fl).expect("read");
    std::fs::write(&fl, text.replace(",112,112,", ",112,100,")).expect("write");
    let ds = EchoNetDataset::open(dir.path()).expect("open");
    let e = ds.read_video("PHANTOM_00000").expect_err("dims");
    assert!(matches!(e, EchoError::Dimensions { .. }), "{e:?}");
    assert!(
        e.to_string().contains("PHANTOM_00000.avi")
            && e.to_string().contains("FileList.csv says 100x112"),
        "{e}"
    );
}

const FILE_LIST: &str = "FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split\n\
                         0X1,55.5,40.1,90.2,112,112,50,201,TRAIN\n";

#[test]
fn csv_missing_columns_and_bad_numbers() {
    let fl = Path::new("data/FileList.csv");
    assert_eq!(
        parse_file_list(fl, FILE_LIST.as_bytes()).expect("valid")[0].number_of_frames,
        201
    );

    let no_ef = FILE_LIST.replace("FileName,EF,", "FileName,Ef,");
    let e = parse_file_list(fl, no_ef.as_bytes()).expect_err("missing EF");
    assert!(matches!(e, EchoError::Csv { line: 1, .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("data/FileList.csv: line 1: missing column \"EF\""),
        "{e}"
    );

    let bad_ef = FILE_LIST.replace("55.5", "fifty");
    let e = parse_file_list(fl, bad_ef.as_bytes()).expect_err("bad EF");
    assert!(
        e.to_string()
            .contains("data/FileList.csv: line 2: column \"EF\": not a number: \"fifty\""),
        "{e}"
    );

    let frac = FILE_LIST.replace(",201,", ",20.5,");
    assert!(parse_file_list(fl, frac.as_bytes())
        .expect_err("fractional")
        .to_string()
        .contains("NumberOfFrames"));
    let short = FILE_LIST.replace(",TRAIN", "");
    assert!(parse_file_list(fl, short.as_bytes())
        .expect_err("short row")
        .to_string()
        .contains("expected 9 fields"));

    let vt = Path::new("data/VolumeTracings.csv");
    let tracings = "FileName,X1,Y1,X2,Y2,Frame\n0X1.avi,1,2,3,4,10\n";
    assert!(parse_volume_tracings(vt, tracings.as_bytes()).is_ok());
    let e = parse_volume_tracings(vt, b"FileName,X1,Y1,X2,Frame\n0X1.avi,1,2,3,10\n")
        .expect_err("no Y2");
    assert!(
        e.to_string().contains("data/VolumeTracings.csv") && e.to_string().contains("\"Y2\""),
        "{e}"
    );
    let e =
        parse_volume_tracings(vt, tracings.replace(",2,", ",inf,").as_bytes()).expect_err("inf");
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("not a finite number"),
        "{e}"
    );
    let e = parse_volume_tracings(vt, tracings.replace(",10", ",-3").as_bytes())
        .expect_err("negative frame");
    assert!(e.to_string().contains("\"Frame\""), "{e}");
}

#[test]
fn dataset_level_problems() {
    let dir = tempfile::tempdir().expect("tmp");
    let e = EchoNetDataset::open(dir.path()).expect_err("empty dir");
    assert!(
        matches!(e, EchoError::Io { .. }) && e.to_string().contains("FileList.csv"),
        "{e}"
    );
    std::fs::write(dir.path().join("FileList.csv"), FILE_LIST).expect("write");
    std::fs::write(
        dir.path().join("VolumeTracings.csv"),
        "FileName,X1,Y1,X2,Y2,Frame\n0X1.avi,1,2,3,4,10\n",
    )
    .expect("write");
    let ds = EchoNetDataset::open(dir.path()).expect("open");
    let e = ds.key_frames("0X1").expect_err("one traced frame");
    assert!(
        e.to_string()
            .contains("at least two distinct traced frames"),
        "{e}"
    );
    assert!(ds
        .key_frames("0X2")
        .expect_err("untraced")
        .to_string()
        .contains("no tracings"));
    let e = ds.read_video("0X1").expect_err("no video file");
    assert!(
        matches!(e, EchoError::Io { .. }) && e.to_string().contains("Videos/0X1.avi"),
        "{e}"
    );
    assert!(ds.read_video("nope").is_err());
}
