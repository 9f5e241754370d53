//! DICOM: real multi-frame ultrasound files from pydicom's wheels (fetched by
//! scripts/fetch-test-data.sh), plus hand-built files for exact values and
//! for bad input.
//!
//! The PALETTE COLOR, RLE Lossless and JPEG 2000 files are compared with
//! pydicom's decoding of the same files, reduced to the luma this crate yields
//! (tests/data/dicom_reference.json, made by tests/data/make_dicom_reference.py):
//! per frame the mean, an 8x8 grid of block means and the FNV-1a hash of the
//! whole luma frame. Lossless files must match exactly (hash equal). The lossy
//! JPEG 2000 file may decode slightly differently in `openjp2` than in
//! pylibjpeg-openjpeg, so it gets a tolerance: mean luma within 0.25 and every
//! grid block mean within 1.0 gray level (out of 255).

use std::path::{Path, PathBuf};
use std::process::Command;

use blindfold_echo::dicom::{read_dicom_video, DicomVideo};
use blindfold_echo::preprocess::{preprocess, FrameSelection, PreprocessConfig};
use blindfold_echo::video::{luma, GrayVideo};
use blindfold_echo::EchoError;
use dicom_core::header::Header;
use dicom_core::value::PixelFragmentSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

/// `$BLINDFOLD_TESTDATA`, else `${BLINDFOLD_CACHE:-$HOME/.cache/blindfold}/testdata`.
fn testdata(file: &str) -> Option<PathBuf> {
    blindfold_echo::dicom::test_data_file(file)
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

/// pydicom's decoding of `file`, from tests/data/dicom_reference.json.
fn reference(file: &str) -> serde_json::Value {
    let all: serde_json::Value =
        serde_json::from_str(include_str!("data/dicom_reference.json")).expect("reference json");
    let r = all["files"][file].clone();
    assert!(r.is_object(), "{file} is not in dicom_reference.json");
    r
}

fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Block means over a `g` x `g` grid, blocks split as make_dicom_reference.py does.
fn grid_means(frame: &[u8], w: usize, h: usize, g: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(g * g);
    for i in 0..g {
        for j in 0..g {
            let (r0, r1, c0, c1) = (i * h / g, (i + 1) * h / g, j * w / g, (j + 1) * w / g);
            let block: Vec<u8> = (r0..r1)
                .flat_map(|r| frame[r * w + c0..r * w + c1].iter().copied())
                .collect();
            out.push(mean(&block));
        }
    }
    out
}

/// How closely a file's luma must follow pydicom's.
#[derive(Clone, Copy, Debug)]
enum Agreement {
    /// Every pixel equal.
    Exact,
    /// Mean luma within `mean`, every grid block mean within `block`.
    Within { mean: f64, block: f64 },
}

/// Opens `file`, checks its geometry, transfer syntax and photometric
/// interpretation against the reference, decodes every frame and compares it
/// with pydicom's. `None` when the file has not been fetched.
fn check_against_pydicom(file: &str, agreement: Agreement) -> Option<GrayVideo> {
    let path = testdata(file)?;
    let r = reference(file);
    let v = DicomVideo::open(&path).expect("open");
    let geometry = |k: &str| r[k].as_u64().expect(k) as usize;
    assert_eq!(
        (v.width, v.height, v.frame_count),
        (geometry("columns"), geometry("rows"), geometry("frames")),
        "{file}: columns, rows, frames"
    );
    assert_eq!(v.transfer_syntax, r["transfer_syntax"].as_str().unwrap());
    assert_eq!(v.photometric, r["photometric"].as_str().unwrap());
    let video = v.to_gray_video().expect("decode");
    let g = 8;
    for (i, (frame, want)) in video
        .frames
        .iter()
        .zip(r["per_frame"].as_array().unwrap())
        .enumerate()
    {
        assert_eq!(frame.len(), v.width * v.height);
        let m = mean(frame);
        let want_mean = want["mean"].as_f64().unwrap();
        let want_grid: Vec<f64> = want["grid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let block_diff = grid_means(frame, v.width, v.height, g)
            .iter()
            .zip(&want_grid)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let same = fnv1a64(frame) == want["fnv1a64"].as_str().unwrap();
        println!(
            "{file} frame {i}: mean {m:.4} (pydicom {want_mean}), max block diff {block_diff:.3}, \
             identical: {same}"
        );
        match agreement {
            Agreement::Exact => assert!(same, "{file} frame {i} differs from pydicom's"),
            Agreement::Within { mean, block } => {
                assert!((m - want_mean).abs() <= mean, "{file} frame {i}: mean {m}");
                assert!(
                    block_diff <= block,
                    "{file} frame {i}: block diff {block_diff}"
                );
            }
        }
        // Not a blank frame.
        assert!(m > 1.0, "{file} frame {i}: mean {m}");
    }
    Some(video)
}

#[test]
fn pydicom_data_palette_color_8bit_two_frames() {
    let Some(video) = check_against_pydicom("OBXXXX1A_2frame.dcm", Agreement::Exact) else {
        return;
    };
    assert_ne!(video.frames[0], video.frames[1]);
}

#[test]
fn pydicom_data_palette_color_explicit_big_endian() {
    let Some(video) = check_against_pydicom("OBXXXX1A_expb_2frame.dcm", Agreement::Exact) else {
        return;
    };
    // The same image as the little-endian file.
    if let Some(le) = testdata("OBXXXX1A_2frame.dcm") {
        assert_eq!(video.frames, read_dicom_video(&le).expect("le").frames);
    }
}

#[test]
fn pydicom_data_palette_color_rle_lossless() {
    let Some(video) = check_against_pydicom("OBXXXX1A_rle_2frame.dcm", Agreement::Exact) else {
        return;
    };
    if let Some(le) = testdata("OBXXXX1A_2frame.dcm") {
        assert_eq!(video.frames, read_dicom_video(&le).expect("native").frames);
    }
}

#[test]
fn gdcm_us_aloka_16bit_palette_with_segmented_lut() {
    check_against_pydicom("gdcm-US-ALOKA-16.dcm", Agreement::Exact);
}

#[test]
fn pydicom_data_jpeg2000_lossless() {
    let Some(video) = check_against_pydicom("US1_J2KR.dcm", Agreement::Exact) else {
        return;
    };
    // Lossless: the uncompressed original gives the same luma.
    if let Some(raw) = testdata("US1_UNCR.dcm") {
        assert_eq!(video.frames, read_dicom_video(&raw).expect("uncr").frames);
    }
}

#[test]
fn pydicom_data_jpeg2000_lossy() {
    check_against_pydicom(
        "US1_J2KI.dcm",
        Agreement::Within {
            mean: 0.25,
            block: 1.0,
        },
    );
}

#[test]
fn pydicom_data_single_frame_rgb() {
    let Some(video) = check_against_pydicom("US1_UNCI.dcm", Agreement::Exact) else {
        return;
    };
    assert_eq!(video.frames.len(), 1);
}

fn element(
    tag: dicom_core::Tag,
    vr: VR,
    v: impl Into<PrimitiveValue>,
) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, v.into())
}

/// Writes `elems` (plus SOP class/instance UIDs and Modality US) as a file
/// with transfer syntax `ts`.
fn write_object(path: &Path, ts: &str, elems: Vec<DataElement<InMemDicomObject>>) {
    let mut all = vec![
        element(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.3.1"),
        element(tags::SOP_INSTANCE_UID, VR::UI, "1.2.3.4.5"),
        element(tags::MODALITY, VR::CS, "US"),
    ];
    all.extend(elems);
    InMemDicomObject::from_element_iter(all)
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(ts)
                .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.3.1")
                .media_storage_sop_instance_uid("1.2.3.4.5"),
        )
        .expect("meta")
        .write_to_file(path)
        .expect("write dicom");
}

/// Image Pixel attributes without Pixel Data.
fn image_pixel(
    photometric: &str,
    samples: u16,
    (rows, cols, frames): (u16, u16, u32),
    bits: u16,
) -> Vec<DataElement<InMemDicomObject>> {
    let mut e = vec![
        element(tags::SAMPLES_PER_PIXEL, VR::US, samples),
        element(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, photometric),
        element(tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string()),
        element(tags::ROWS, VR::US, rows),
        element(tags::COLUMNS, VR::US, cols),
        element(tags::BITS_ALLOCATED, VR::US, bits),
        element(tags::BITS_STORED, VR::US, bits),
        element(tags::HIGH_BIT, VR::US, bits - 1),
        element(tags::PIXEL_REPRESENTATION, VR::US, 0u16),
    ];
    if samples == 3 {
        e.push(element(tags::PLANAR_CONFIGURATION, VR::US, 0u16));
    }
    e
}

/// A US or OW value.
fn words(v: &[u16]) -> PrimitiveValue {
    PrimitiveValue::U16(v.iter().copied().collect())
}

/// Red, Green and Blue Palette Color LUT descriptors and (plain) data.
fn palette(desc: [u16; 3], rgb: [Vec<u16>; 3]) -> Vec<DataElement<InMemDicomObject>> {
    let [r, g, b] = rgb;
    vec![
        element(
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            VR::US,
            words(&desc),
        ),
        element(
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            VR::US,
            words(&desc),
        ),
        element(
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            VR::US,
            words(&desc),
        ),
        element(tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA, VR::OW, words(&r)),
        element(
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            VR::OW,
            words(&g),
        ),
        element(
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            VR::OW,
            words(&b),
        ),
    ]
}

#[test]
fn hand_built_palette_color_maps_through_the_lut() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("palette.dcm");
    // Four 16-bit entries, the first mapped from stored value 10.
    let lut = palette(
        [4, 10, 16],
        [
            vec![0x0000, 0xFF00, 0x0000, 0x8000],
            vec![0x0000, 0x0000, 0xFFFF, 0x8000],
            vec![0xFF00, 0x0000, 0x0000, 0x8000],
        ],
    );
    let pixels: Vec<u8> = vec![0, 10, 11, 12, 13, 200, 12, 12, 12, 11, 11, 11];
    let mut elems = image_pixel("PALETTE COLOR", 1, (2, 3, 2), 8);
    elems.extend(lut);
    elems.push(element(tags::PIXEL_DATA, VR::OB, pixels));
    write_object(&p, "1.2.840.10008.1.2.1", elems);
    let v = read_dicom_video(&p).expect("read");
    let (blue, red, green, gray) = (luma(0, 0, 255), luma(255, 0, 0), luma(0, 255, 0), 128);
    // Below the first mapped value: entry 0; beyond the last: the last entry.
    assert_eq!(v.frames[0], vec![blue, blue, red, green, gray, gray]);
    assert_eq!(v.frames[1], vec![green, green, green, red, red, red]);
}

#[test]
fn hand_built_16bit_palette_with_segmented_lut() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("segmented.dcm");
    // Discrete [0], linear to 0xFF00 over 4 entries, discrete [0x1000, 0x2000]:
    // 0, 16320, 32640, 48960, 65280, 4096, 8192 -> high bytes 0, 63, 127, 191, 255, 16, 32.
    let segments: Vec<u16> = vec![0, 1, 0, 1, 4, 0xFF00, 0, 2, 0x1000, 0x2000];
    let desc: &[u16] = &[0, 0, 16];
    let mut elems = image_pixel("PALETTE COLOR", 1, (2, 4, 1), 16);
    for (d, s) in [
        (
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
    ] {
        elems.push(element(d, VR::US, words(desc)));
        elems.push(element(s, VR::OW, words(&segments)));
    }
    let pixels = words(&[0, 1, 2, 3, 4, 5, 6, 60000]);
    elems.push(element(tags::PIXEL_DATA, VR::OW, pixels));
    write_object(&p, "1.2.840.10008.1.2.1", elems);
    let v = read_dicom_video(&p).expect("read");
    assert_eq!(v.frames, vec![vec![0, 63, 127, 191, 255, 16, 32, 32]]);

    // An indirect segment is refused with a reason.
    let bad = dir.path().join("indirect.dcm");
    let mut elems = image_pixel("PALETTE COLOR", 1, (1, 1, 1), 16);
    elems.extend(palette([4, 0, 16], [vec![0; 4], vec![0; 4], vec![0; 4]]));
    elems.retain(|e| e.tag() != tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA);
    elems.push(element(
        tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        VR::OW,
        words(&[0, 1, 7, 2, 1, 0, 0]),
    ));
    elems.push(element(tags::PIXEL_DATA, VR::OW, words(&[0])));
    write_object(&bad, "1.2.840.10008.1.2.1", elems);
    let e = DicomVideo::open(&bad).expect_err("indirect segment");
    assert!(
        e.to_string().contains("indirect.dcm") && e.to_string().contains("indirect segments"),
        "{e}"
    );
}

/// One RLE Lossless fragment: 8-bit samples, one literal run per segment.
fn rle_fragment(planes: &[Vec<u8>]) -> Vec<u8> {
    let mut header = vec![0u8; 64];
    header[..4].copy_from_slice(&(planes.len() as u32).to_le_bytes());
    let mut body = Vec::new();
    for (i, plane) in planes.iter().enumerate() {
        assert!(!plane.is_empty() && plane.len() <= 128);
        let offset = 64 + body.len() as u32;
        header[4 + 4 * i..8 + 4 * i].copy_from_slice(&offset.to_le_bytes());
        body.push((plane.len() - 1) as u8);
        body.extend_from_slice(plane);
        if body.len() % 2 == 1 {
            body.push(0x80); // no-op, pads the segment to even length
        }
    }
    header.extend(body);
    header
}

#[test]
fn hand_built_rle_ybr_full_takes_y() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("rle.dcm");
    let y = [vec![10u8, 20, 30, 40], vec![50u8, 60, 70, 80]];
    let fragments: Vec<Vec<u8>> = y
        .iter()
        .map(|y| rle_fragment(&[y.clone(), vec![100; 4], vec![200; 4]]))
        .collect();
    let mut elems = image_pixel("YBR_FULL", 3, (2, 2, 2), 8);
    elems.push(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PixelFragmentSequence::new(Vec::<u32>::new(), fragments),
    ));
    write_object(&p, "1.2.840.10008.1.2.5", elems);
    let v = DicomVideo::open(&p).expect("open");
    assert_eq!(v.transfer_syntax, "1.2.840.10008.1.2.5");
    assert_eq!(v.to_gray_video().expect("decode").frames, y.to_vec());
}

#[test]
fn undecodable_transfer_syntax_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("jpegls.dcm");
    let mut elems = image_pixel("MONOCHROME2", 1, (2, 2, 1), 8);
    elems.push(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PixelFragmentSequence::new(Vec::<u32>::new(), vec![vec![0xFF, 0xD8, 0xFF, 0xD9]]),
    ));
    write_object(&p, "1.2.840.10008.1.2.4.80", elems);
    let e = DicomVideo::open(&p).expect_err("JPEG-LS");
    let text = e.to_string();
    assert!(matches!(e, EchoError::Dicom { .. }), "{e:?}");
    assert!(
        text.contains("jpegls.dcm")
            && text.contains("JPEG-LS")
            && text.contains("1.2.840.10008.1.2.4.80"),
        "{text}"
    );
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
