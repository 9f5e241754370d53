//! The phantom generator end to end: determinism, EchoNet layout round trip,
//! ffmpeg compatibility and the plaintext lv-area EF accuracy.

use std::path::Path;
use std::process::Command;

use blindfold_echo::echonet::EchoNetDataset;
use blindfold_echo::lv_area::{estimate_ef, LvMask};
use blindfold_echo::phantom::{generate_video, write_dataset, PhantomConfig};
use blindfold_echo::preprocess::{preprocess, FrameSelection, PreprocessConfig};

fn small() -> PhantomConfig {
    PhantomConfig {
        videos: 3,
        frames: 24,
        seed: 7,
        ..PhantomConfig::default()
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("Videos")] {
        let mut names: Vec<_> = std::fs::read_dir(&sub)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        for p in names.into_iter().filter(|p| p.is_file()) {
            let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
            out.push((rel, std::fs::read(&p).expect("read")));
        }
    }
    out
}

#[test]
fn same_seed_gives_same_bytes_and_another_seed_does_not() {
    let (a, b, c) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    write_dataset(a.path(), &small()).expect("write a");
    write_dataset(b.path(), &small()).expect("write b");
    write_dataset(c.path(), &PhantomConfig { seed: 8, ..small() }).expect("write c");
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(
        fa.len(),
        5,
        "FileList, VolumeTracings and 3 videos: {:?}",
        fa.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(fa, fb);
    for ((name, x), (_, y)) in fa.iter().zip(&fc) {
        assert_ne!(x, y, "{name} did not change with the seed");
    }
}

#[test]
fn dataset_reads_back_with_truth() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = small();
    let truths = write_dataset(dir.path(), &cfg).expect("write");
    let ds = EchoNetDataset::open(dir.path()).expect("open");
    assert_eq!(ds.entries().len(), 3);
    for t in &truths {
        let e = ds.entry(&t.name).expect("entry");
        assert!((e.ef - t.ef).abs() < 1e-9);
        assert!(
            (100.0 * (e.edv - e.esv) / e.edv - e.ef).abs() < 1e-6,
            "EF consistent with volumes"
        );
        assert_eq!(
            (e.frame_width, e.frame_height, e.number_of_frames),
            (112, 112, 24)
        );
        let k = ds.key_frames(&t.name).expect("key frames");
        assert_eq!((k.ed, k.es), (t.ed_frame, t.es_frame));
        // Tracing polygons follow the ellipses: the 20-chord polygon misses
        // only the caps, so it is a little smaller than the ellipse.
        let tr = ds.tracings(&t.name).expect("tracings");
        for (traced, lv) in [
            (tr.ed().expect("ed"), &t.ed_lv),
            (tr.es().expect("es"), &t.es_lv),
        ] {
            let ratio = traced.area() / lv.area_px(112, 112);
            assert!(
                (0.95..1.0).contains(&ratio),
                "{}: traced/ellipse area {ratio}",
                t.name
            );
        }
        // Decoded frames match the generated ones up to JPEG loss.
        let video = ds.read_video(&t.name).expect("read video");
        let original = generate_video(
            &cfg,
            truths.iter().position(|x| x.name == t.name).expect("idx"),
        )
        .expect("gen");
        assert_eq!(video.frames.len(), original.frames.len());
        let (mut sum, mut n) = (0u64, 0u64);
        for (d, o) in video.frames.iter().zip(&original.frames) {
            for (x, y) in d.iter().zip(o) {
                sum += u64::from(x.abs_diff(*y));
                n += 1;
            }
        }
        let mad = sum as f64 / n as f64;
        assert!(mad < 6.0, "{}: mean abs JPEG error {mad}", t.name);
        assert_eq!(video.fps, Some(50.0));
    }
}

#[test]
fn ffmpeg_reads_phantom_avi() {
    if Command::new("ffprobe").arg("-version").output().is_err() {
        println!("SKIPPED ffmpeg_reads_phantom_avi: ffprobe/ffmpeg not installed (apt-get install ffmpeg)");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    write_dataset(
        dir.path(),
        &PhantomConfig {
            videos: 1,
            ..small()
        },
    )
    .expect("write");
    let avi = dir.path().join("Videos/PHANTOM_00000.avi");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
        ])
        .arg("stream=codec_name,width,height,nb_read_frames,r_frame_rate")
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(&avi)
        .output()
        .expect("ffprobe");
    let text = String::from_utf8_lossy(&probe.stdout);
    assert!(
        probe.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    for want in [
        "codec_name=mjpeg",
        "width=112",
        "height=112",
        "r_frame_rate=50/1",
        "nb_read_frames=24",
    ] {
        assert!(text.contains(want), "ffprobe output lacks {want}: {text}");
    }
    // ffmpeg decodes the same pictures as we do (independent JPEG decoder).
    let raw = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&avi)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        raw.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&raw.stderr)
    );
    assert_eq!(raw.stdout.len(), 24 * 112 * 112);
    let ours = blindfold_echo::read_avi(&avi).expect("read");
    let flat: Vec<u8> = ours.frames.concat();
    let max = flat
        .iter()
        .zip(&raw.stdout)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap_or(0);
    assert!(
        max <= 3,
        "ffmpeg and blindfold-echo disagree by up to {max}"
    );
    println!("ffmpeg_reads_phantom_avi: ffprobe ok, max |ffmpeg - ours| = {max}");
}

/// The accuracy target: 20 synthetic videos, written as AVI and read back,
/// preprocessed to 32x32 at 4 bits (ED+ES), default mask and threshold:
/// plaintext EF MAE must be at most 5 EF points.
#[test]
fn lv_area_ef_mae_on_20_phantoms() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = PhantomConfig {
        videos: 20,
        seed: 2024,
        ..PhantomConfig::default()
    };
    let truths = write_dataset(dir.path(), &cfg).expect("write");
    let ds = EchoNetDataset::open(dir.path()).expect("open");
    let mut abs_err = Vec::new();
    for t in &truths {
        let video = ds.read_video(&t.name).expect("video");
        let k = ds.key_frames(&t.name).expect("key frames");
        let pre = preprocess(
            &video,
            &PreprocessConfig::demo(FrameSelection::EdEs { ed: k.ed, es: k.es }),
        )
        .expect("pre");
        let params = LvMask::default_for(pre.width, pre.height, pre.bits);
        let ef = estimate_ef(&pre, &params).expect("ef");
        println!(
            "{}: true EF {:5.1}  estimated {:5.1}  error {:+5.1}",
            t.name,
            t.ef,
            ef,
            ef - t.ef
        );
        abs_err.push((ef - t.ef).abs());
    }
    let mae = abs_err.iter().sum::<f64>() / abs_err.len() as f64;
    let max = abs_err.iter().cloned().fold(0.0, f64::max);
    println!(
        "lv-area EF on 20 phantoms (32x32, 4-bit, ED+ES): MAE = {mae:.2} EF points, max = {max:.2}"
    );
    assert!(mae <= 5.0, "MAE {mae}");
}

/// Whole cycles in plaintext: 20 phantoms of 192 frames (in memory), the
/// owner's `cycle:2:2:64` selection found on the plaintext area curve: every
/// video gives 64 frames from an end-diastole holding at least 2 beats, and
/// the mean EF of the beats is within 5 EF points of the truth on average.
#[test]
fn whole_cycle_ef_on_20_phantoms() {
    use blindfold_echo::cycle::{curve_ef, preprocess_cycles, CycleSelection};
    use blindfold_echo::lv_area::lv_areas;
    let cfg = PhantomConfig {
        videos: 20,
        frames: 192,
        seed: 2024,
        ..PhantomConfig::default()
    };
    let sel = CycleSelection {
        cycles: 2,
        step: 2,
        count: 64,
    };
    let (mut abs_err, mut abs_err_pair) = (Vec::new(), Vec::new());
    for i in 0..cfg.videos {
        let v = generate_video(&cfg, i).expect("phantom");
        let gray = v.to_gray_video();
        let pre = preprocess_cycles(&gray, &PreprocessConfig::demo(FrameSelection::All), sel)
            .expect("whole cycles");
        assert_eq!(pre.frames.len(), 64);
        assert_eq!(pre.frame_indices[63] - pre.frame_indices[0], 126);
        let mask = LvMask::default_for(pre.width, pre.height, pre.bits);
        let areas = lv_areas(&pre, &mask).expect("areas");
        let ef = curve_ef(&areas).expect("EF");
        assert!(
            ef.beats.len() >= 2,
            "{}: {:?} on {areas:?}",
            v.truth.name,
            ef.beats
        );
        assert_eq!(
            ef.beats[0].ed, 0,
            "{}: starts at an end-diastole",
            v.truth.name
        );
        let pair = preprocess(
            &gray,
            &PreprocessConfig::demo(FrameSelection::EdEs {
                ed: v.truth.ed_frame,
                es: v.truth.es_frame,
            }),
        )
        .expect("ED+ES");
        let pair_ef = estimate_ef(&pair, &mask).expect("ED+ES EF");
        println!(
            "{}: true EF {:5.1}  ED+ES {:5.1}  whole cycle {:5.1} over {} beats (SD {:.2}), frames {}..={}",
            v.truth.name,
            v.truth.ef,
            pair_ef,
            ef.ef_percent,
            ef.beats.len(),
            ef.beat_sd.unwrap_or(0.0),
            pre.frame_indices[0],
            pre.frame_indices[63]
        );
        abs_err.push((ef.ef_percent - v.truth.ef).abs());
        abs_err_pair.push((pair_ef - v.truth.ef).abs());
    }
    let mae = abs_err.iter().sum::<f64>() / abs_err.len() as f64;
    let mae_pair = abs_err_pair.iter().sum::<f64>() / abs_err_pair.len() as f64;
    println!("20 phantoms: EF MAE whole cycle {mae:.2}, ED+ES {mae_pair:.2}");
    assert!(mae <= 5.0, "whole-cycle MAE {mae}");
}
