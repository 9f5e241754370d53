#!/usr/bin/env python3
"""Makes dicom_reference.json: pydicom's decoding of real ultrasound DICOM files,
reduced to the 8-bit luminance that blindfold-echo's `DicomVideo::frame` yields.

Produced with (files from scripts/fetch-test-data.sh):

    python3 -m venv /tmp/pyref
    /tmp/pyref/bin/pip install pydicom==3.0.2 numpy==2.4.6 pylibjpeg==2.1.0 \
        pylibjpeg-openjpeg==2.6.0 pylibjpeg-rle==2.2.0
    /tmp/pyref/bin/python crates/blindfold-echo/tests/data/make_dicom_reference.py \
        ~/.cache/blindfold/testdata > crates/blindfold-echo/tests/data/dicom_reference.json

Pipeline, mirroring the Rust side but using only pydicom's decoders:
  - `ds.pixel_array` (pydicom's native reader, pylibjpeg-rle for RLE Lossless,
    pylibjpeg-openjpeg for JPEG 2000, whose YBR_RCT/YBR_ICT frames come out RGB);
  - PALETTE COLOR: `pydicom.pixels.apply_color_lut` (plain and segmented LUTs;
    plain LUT words of a big-endian file are byte-swapped first, see below);
  - every sample reduced to 8 bits: 16-bit LUT entries keep their high byte,
    other 16-bit samples are shifted right by Bits Stored - 8;
  - RGB to luma with the integer BT.601 weights of `blindfold_echo::video::luma`:
    (77 R + 150 G + 29 B + 128) >> 8.

Per frame it records the mean luma, an 8x8 grid of block means (block (i, j)
covers rows i*H/8 .. (i+1)*H/8 and columns j*W/8 .. (j+1)*W/8, integer
division) and the FNV-1a 64-bit hash of the whole row-major luma frame.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut

FILES = [
    "OBXXXX1A_2frame.dcm",
    "OBXXXX1A_expb_2frame.dcm",
    "OBXXXX1A_rle_2frame.dcm",
    "gdcm-US-ALOKA-16.dcm",
    "US1_J2KR.dcm",
    "US1_J2KI.dcm",
    "US1_UNCI.dcm",
]
GRID = 8


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def to8(arr: np.ndarray, shift: int) -> np.ndarray:
    return (arr.astype(np.uint32) >> shift).clip(0, 255).astype(np.uint8)


def luma_frames(ds) -> list[np.ndarray]:
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    arr = ds.pixel_array
    if frames == 1:
        arr = arr[np.newaxis]
    pi = ds.PhotometricInterpretation
    if pi == "PALETTE COLOR":
        if not ds.original_encoding[1] and "RedPaletteColorLookupTableData" in ds:
            # pydicom 3.0.2 reads plain (non-segmented) LUT data as native
            # little-endian words even in a big-endian file, which turns
            # OBXXXX1A_expb_2frame.dcm black. Swap the words so the LUT is read
            # as the file means it (its pixels equal OBXXXX1A_2frame.dcm's).
            for c in ("Red", "Green", "Blue"):
                kw = f"{c}PaletteColorLookupTableData"
                words = np.frombuffer(ds[kw].value, dtype=">u2")
                ds[kw].value = words.astype("<u2").tobytes()
        rgb = apply_color_lut(arr, ds)
        shift = 8 if rgb.dtype == np.uint16 else 0
        rgb = to8(rgb, shift)
    elif ds.SamplesPerPixel == 3:
        # pixel_array already converted YBR_FULL(_422) to RGB; JPEG 2000
        # YBR_RCT/YBR_ICT decode to RGB in the codec.
        rgb = to8(arr, max(int(ds.BitsStored) - 8, 0))
    else:
        raise SystemExit(f"{pi} is not used by the reference files")
    r, g, b = (rgb[..., c].astype(np.uint32) for c in range(3))
    y = ((77 * r + 150 * g + 29 * b + 128) >> 8).astype(np.uint8)
    return [y[i] for i in range(frames)]


def stats(y: np.ndarray) -> dict:
    h, w = y.shape
    grid = []
    for i in range(GRID):
        for j in range(GRID):
            block = y[i * h // GRID : (i + 1) * h // GRID, j * w // GRID : (j + 1) * w // GRID]
            grid.append(round(float(block.mean()), 3))
    return {
        "mean": round(float(y.mean()), 4),
        "grid": grid,
        "fnv1a64": fnv1a64(np.ascontiguousarray(y).tobytes()),
    }


def main() -> None:
    root = Path(sys.argv[1])
    out = {
        "generator": "make_dicom_reference.py",
        "pydicom": pydicom.__version__,
        "numpy": np.__version__,
        "grid": GRID,
        "files": {},
    }
    for name in FILES:
        ds = pydicom.dcmread(root / name)
        frames = luma_frames(ds)
        out["files"][name] = {
            "transfer_syntax": str(ds.file_meta.TransferSyntaxUID),
            "photometric": str(ds.PhotometricInterpretation),
            "rows": int(ds.Rows),
            "columns": int(ds.Columns),
            "frames": len(frames),
            "per_frame": [stats(y) for y in frames],
        }
    text = json.dumps(out, indent=1)
    # One line per grid.
    text = re.sub(r"\[\s*([-0-9.,\s]+?)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m[1]) + "]", text)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
