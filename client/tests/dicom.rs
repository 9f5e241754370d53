//! DICOM input: a hand-built multi-frame ultrasound file (a synthetic
//! phantom's frames, uncompressed MONOCHROME2) goes through the same
//! `Source` → `prepare` path as `blindfold submit --dicom`. DICOM has no
//! tracings, so the ED/ES frames are the largest and smallest plaintext LV
//! areas.

use std::path::{Path, PathBuf};

use blindfold_client::sources::{prepare, FrameSpec, PrepSpec, Source};
use blindfold_echo::{generate_video, PhantomConfig};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

fn element(
    tag: dicom_core::Tag,
    vr: VR,
    v: impl Into<PrimitiveValue>,
) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, v.into())
}

/// Writes frames (`width x height` gray bytes each) as an uncompressed
/// multi-frame MONOCHROME2 ultrasound file.
fn write_dicom(path: &Path, width: u16, height: u16, frames: &[Vec<u8>]) {
    let pixels: Vec<u8> = frames.concat();
    let elems = vec![
        element(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.3.1"),
        element(tags::SOP_INSTANCE_UID, VR::UI, "1.2.3.4.5"),
        element(tags::MODALITY, VR::CS, "US"),
        element(tags::SAMPLES_PER_PIXEL, VR::US, 1u16),
        element(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        element(tags::NUMBER_OF_FRAMES, VR::IS, frames.len().to_string()),
        element(tags::ROWS, VR::US, height),
        element(tags::COLUMNS, VR::US, width),
        element(tags::BITS_ALLOCATED, VR::US, 8u16),
        element(tags::BITS_STORED, VR::US, 8u16),
        element(tags::HIGH_BIT, VR::US, 7u16),
        element(tags::PIXEL_REPRESENTATION, VR::US, 0u16),
        element(tags::FRAME_TIME, VR::DS, "20"),
        element(tags::PIXEL_DATA, VR::OB, pixels),
    ];
    InMemDicomObject::from_element_iter(elems)
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax("1.2.840.10008.1.2.1")
                .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.3.1")
                .media_storage_sop_instance_uid("1.2.3.4.5"),
        )
        .expect("meta")
        .write_to_file(path)
        .expect("write dicom");
}

#[test]
fn dicom_files_prepare_with_ed_es_from_plaintext_areas() {
    let config = PhantomConfig {
        videos: 1,
        frames: 24,
        width: 48,
        height: 48,
        noise: 0.0,
        ..PhantomConfig::default()
    };
    let phantom = generate_video(&config, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_dicom(&dir.path().join("echo.dcm"), 48, 48, &phantom.frames);
    std::fs::write(dir.path().join("notes.txt"), "not DICOM").unwrap();

    // A directory means every file in it; a non-DICOM file is a clear error.
    let videos = Source::Dicom(vec![dir.path().to_path_buf()])
        .videos()
        .unwrap();
    assert_eq!(videos.len(), 2);
    let err = videos[1].read().unwrap_err();
    assert!(err.to_string().contains("notes.txt"), "{err}");

    let video = videos[0].read().unwrap();
    assert!(video.key_frames.is_none() && video.label_ef.is_none());
    assert_eq!(video.video.frames.len(), 24);
    let spec = PrepSpec {
        width: 16,
        height: 16,
        bits: 4,
        frames: FrameSpec::EdEs,
        roi: None,
    };
    let plain = prepare(&video, &spec).unwrap();
    assert_eq!(plain.frames.len(), 2);
    let params = blindfold_echo::LvMask::default_for(16, 16, 4);
    let ed = blindfold_echo::lv_area(&plain.frames[0], &params.mask, params.threshold);
    let es = blindfold_echo::lv_area(&plain.frames[1], &params.mask, params.threshold);
    assert!(ed > es, "ED area {ed} must exceed ES area {es}");

    let strided = PrepSpec {
        frames: FrameSpec::Stride {
            start: 0,
            step: 3,
            count: 8,
        },
        ..spec
    };
    assert_eq!(prepare(&video, &strided).unwrap().frames.len(), 8);

    let missing = Source::Dicom(vec![dir.path().join("nope.dcm")])
        .videos()
        .unwrap_err();
    assert!(missing.to_string().contains("does not exist"), "{missing}");
}

/// A real file fetched by scripts/fetch-test-data.sh: `$BLINDFOLD_TESTDATA`,
/// else `${BLINDFOLD_CACHE:-$HOME/.cache/blindfold}/testdata`.
fn testdata(file: &str) -> Option<PathBuf> {
    blindfold_echo::dicom::test_data_file(file)
}

#[test]
fn single_frame_dicom_needs_an_explicit_frame_selection() {
    let Some(path) = testdata("US1_UNCI.dcm") else {
        return;
    };
    let videos = Source::Dicom(vec![path]).videos().unwrap();
    let video = videos[0].read().unwrap();
    assert_eq!(video.video.frames.len(), 1);
    let spec = PrepSpec {
        width: 16,
        height: 16,
        bits: 4,
        frames: FrameSpec::EdEs,
        roi: None,
    };
    // One frame has no distinct ED and ES: the refusal names the option to use.
    let err = prepare(&video, &spec).unwrap_err().to_string();
    assert!(
        err.contains("US1_UNCI.dcm") && err.contains("--frames stride:"),
        "{err}"
    );
    let one = PrepSpec {
        frames: FrameSpec::Stride {
            start: 0,
            step: 1,
            count: 1,
        },
        ..spec
    };
    assert_eq!(prepare(&video, &one).unwrap().frames.len(), 1);
}
