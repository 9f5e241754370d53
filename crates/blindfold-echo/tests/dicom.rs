//! DICOM: real multi-frame ultrasound files from pydicom's wheels (fetched by
//! scripts/fetch-test-data.sh), plus hand-built files for exact values and
//! for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use blindfold_echo::dicom::{read_dicom_video, DicomVideo};
use blindfold_echo::preprocess::{preprocess, FrameSelection, PreprocessConfig};
use blindfold_echo::video::luma;
use blindfold_echo::EchoError;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

/// `$BLINDFOLD_TESTDATA`, else `${BLINDFOLD_CACHE:-$HOME/.cache/blindfold}/testdata`.
fn testdata(file: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("BLINDFOLD_TESTDATA")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("BLINDFOLD_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/blindfold"))
                })
                .map(|c| c.join("testdata"))
        })?;
    let p = dir.join(file);
    if p.is_file() {
        Some(p)
    } else {
        println!(
            "SKIPPED: {} not found; run scripts/fetch-test-data.sh",
            p.display()
        );
        None
    }
}

fn mean(v: &[u8]) -> f64 {
    v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64
}

/// Decodes a JPEG file to gray with ffmpeg, if installed.
fn ffmpeg_gray(jpeg: &Path) -> Option<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(jpeg)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// Checks frame 0 against ffmpeg's decode of the same JPEG fragment.
fn cross_check_first_frame(path: &Path, ours: &[u8]) {
    let obj = dicom_object::open_file(path).expect("open");
    let pixel = obj.element(tags::PIXEL_DATA).expect("pixel data");
    let frag = &pixel.value().fragments().expect("encapsulated")[0];
    let dir = tempfile::tempdir().expect("tmp");
    let jpg = dir.path().join("frame0.jpg");
    std::fs::write(&jpg, frag).expect("write");
    let Some(reference) = ffmpeg_gray(&jpg) else {
        println!(
            "SKIPPED ffmpeg cross-check for {}: ffmpeg not installed",
            path.display()
        );
        return;
    };
    assert_eq!(reference.len(), ours.len());
    let diffs: Vec<u8> = ours
        .iter()
        .zip(&reference)
        .map(|(a, b)| a.abs_diff(*b))
        .collect();
    let max = diffs.iter().copied().max().unwrap_or(0);
    let mad = mean(&diffs);
    println!(
        "{}: frame 0 vs ffmpeg: mean |diff| {mad:.3}, max {max}",
        path.display()
    );
    assert!(
        mad < 1.0 && max <= 8,
        "luminance disagrees with ffmpeg: mean {mad}, max {max}"
    );
}

#[test]
fn pydicom_examples_ybr_color_30_frames() {
    let Some(path) = testdata("examples_ybr_color.dcm") else {
        return;
    };
    let v = DicomVideo::open(&path).expect("open");
    assert_eq!((v.width, v.height, v.frame_count), (320, 240, 30));
    assert_eq!(v.photometric, "YBR_FULL_422");
    assert_eq!(v.transfer_syntax, "1.2.840.10008.1.2.4.50");
    let fps = v.fps.expect("frame time");
    assert!((fps - 30.0).abs() < 0.01, "{fps}");
    let video = v.to_gray_video().expect("decode");
    assert_eq!(video.frames.len(), 30);
    assert!(video.frames.iter().all(|f| f.len() == 320 * 240));
    // Real content: not constant, and frames differ over time.
    let m0 = mean(&video.frames[0]);
    assert!(m0 > 5.0 && m0 < 200.0, "mean {m0}");
    assert_ne!(video.frames[0], video.frames[15]);
    cross_check_first_frame(&path, &video.frames[0]);
    let pre = preprocess(
        &video,
        &PreprocessConfig::demo(FrameSelection::Stride { start: 0, step: 10 }),
    )
    .expect("pre");
    assert_eq!(
        (
            pre.width,
            pre.height,
            pre.frames.len(),
            pre.frame_indices.clone()
        ),
        (32, 32, 3, vec![0, 10, 20])
    );
    assert!(pre.frames.iter().flatten().all(|&q| q < 16));
}

#[test]
fn pydicom_data_color3d_jpeg_baseline_120_frames() {
    let Some(path) = testdata("color3d_jpeg_baseline.dcm") else {
        return;
    };
    let v = DicomVideo::open(&path).expect("open");
    assert_eq!((v.width, v.height, v.frame_count), (640, 480, 120));
    let last = v.frame(119).expect("frame 119");
    assert_eq!(last.len(), 640 * 480);
    assert!(matches!(v.frame(120), Err(EchoError::Dicom { .. })));
    let video = read_dicom_video(&path).expect("all frames");
    assert_eq!(video.frames.len(), 120);
    assert_eq!(video.frames[119], last);
    cross_check_first_frame(&path, &video.frames[0]);
}

#[test]
fn pydicom_data_us1_uncompressed_rgb() {
    let Some(path) = testdata("US1_UNCR.dcm") else {
        return;
    };
    let v = DicomVideo::open(&path).expect("open");
    assert_eq!((v.width, v.height, v.frame_count), (640, 480, 1));
    assert_eq!(v.photometric, "RGB");
    let gray = v.frame(0).expect("frame");
    // Independent check: luma of the raw interleaved RGB bytes.
    let obj = dicom_object::open_file(&path).expect("open");
    let raw = obj
        .element(tags::PIXEL_DATA)
        .expect("pixels")
        .to_bytes()
        .expect("bytes");
    let expect: Vec<u8> = raw[..640 * 480 * 3]
        .chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect();
    assert_eq!(gray, expect);
    assert!(mean(&gray) > 1.0);
}

fn element(
    tag: dicom_core::Tag,
    vr: VR,
    v: impl Into<PrimitiveValue>,
) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, v.into())
}

/// Writes a small uncompressed MONOCHROME2 DICOM file.
fn write_mono(path: &Path, rows: u16, cols: u16, frames: &str, pixels: Option<Vec<u8>>) {
    let mut elems = vec![
        element(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.3.1"),
        element(tags::SOP_INSTANCE_UID, VR::UI, "1.2.3.4.5"),
        element(tags::MODALITY, VR::CS, "US"),
        element(tags::SAMPLES_PER_PIXEL, VR::US, 1u16),
        element(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        element(tags::NUMBER_OF_FRAMES, VR::IS, frames),
        element(tags::ROWS, VR::US, rows),
        element(tags::COLUMNS, VR::US, cols),
        element(tags::BITS_ALLOCATED, VR::US, 8u16),
        element(tags::BITS_STORED, VR::US, 8u16),
        element(tags::HIGH_BIT, VR::US, 7u16),
        element(tags::PIXEL_REPRESENTATION, VR::US, 0u16),
        element(tags::FRAME_TIME, VR::DS, "20"),
    ];
    if let Some(p) = pixels {
        elems.push(element(tags::PIXEL_DATA, VR::OB, p));
    }
    let obj = InMemDicomObject::from_element_iter(elems)
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax("1.2.840.10008.1.2.1")
                .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.3.1")
                .media_storage_sop_instance_uid("1.2.3.4.5"),
        )
        .expect("meta");
    obj.write_to_file(path).expect("write dicom");
}

#[test]
fn hand_built_multiframe_monochrome_decodes_exactly() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mono.dcm");
    let pixels: Vec<u8> = (0..24).map(|i| i * 10).collect();
    write_mono(&p, 3, 4, "2", Some(pixels.clone()));
    let v = read_dicom_video(&p).expect("read");
    assert_eq!((v.width, v.height, v.frames.len()), (4, 3, 2));
    assert_eq!(v.frames[0], pixels[..12].to_vec());
    assert_eq!(v.frames[1], pixels[12..].to_vec());
    assert_eq!(v.fps, Some(50.0));
}

#[test]
fn dicom_without_pixel_data_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("nopixels.dcm");
    write_mono(&p, 3, 4, "1", None);
    let e = DicomVideo::open(&p).expect_err("no pixel data");
    assert!(matches!(e, EchoError::NoPixelData { .. }), "{e:?}");
    assert!(
        e.to_string().contains("nopixels.dcm") && e.to_string().contains("no pixel data"),
        "{e}"
    );
}

#[test]
fn dicom_with_bad_dimensions_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let zero = dir.path().join("zero.dcm");
    write_mono(&zero, 0, 4, "1", Some(vec![0; 4]));
    let e = DicomVideo::open(&zero).expect_err("zero rows");
    assert!(matches!(e, EchoError::Dimensions { .. }), "{e:?}");
    assert!(e.to_string().contains("zero.dcm"), "{e}");

    let frames = dir.path().join("frames.dcm");
    write_mono(&frames, 3, 4, "0", Some(vec![0; 12]));
    assert!(matches!(
        DicomVideo::open(&frames),
        Err(EchoError::Dimensions { .. })
    ));

    // Pixel data shorter than Rows x Columns x frames says.
    let short = dir.path().join("short.dcm");
    write_mono(&short, 3, 4, "2", Some(vec![0; 14]));
    let v = DicomVideo::open(&short).expect("header is fine");
    let e = v.frame(1).expect_err("frame 1 is missing");
    assert!(
        e.to_string().contains("short.dcm") && e.to_string().contains("frame 1"),
        "{e}"
    );
}

#[test]
fn non_dicom_file_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("junk.dcm");
    std::fs::write(&p, vec![0x42u8; 300]).expect("write");
    let e = DicomVideo::open(&p).expect_err("junk");
    assert!(matches!(e, EchoError::Dicom { .. }), "{e:?}");
    assert!(e.to_string().contains("junk.dcm"), "{e}");
    let missing = dir.path().join("missing.dcm");
    assert!(DicomVideo::open(&missing)
        .expect_err("missing")
        .to_string()
        .contains("missing.dcm"));
}
