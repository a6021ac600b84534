#!/usr/bin/env bash
# Sets everything up (Utilities/setup.sh) and runs the main job on bundled default data.
#
# Today the main job is NSA synthesis on a real brain MRI: Colin27 (ch2.nii.gz, 1 mm,
# 181x217x181, from Debian's mricron-data) becomes a set of training examples (anomalous
# volume + label) in nsa-demo-output/. When the detection network lands, this becomes the
# detection demo (score map, DICOM SEG, overlay, case score).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${NSA_BUILD_DIR:-${here}/build}"
output="${NSA_DEMO_OUTPUT:-${here}/nsa-demo-output}"

bash "${here}/Utilities/setup.sh"

mkdir -p "${output}"
colin=/usr/share/mricron/templates/ch2.nii.gz
program="${build_dir}/bin/NSASynthesize"
if [[ ! -x "${program}" ]]; then
  echo "demo: ${program} was not built" >&2
  exit 1
fi
"${program}" --preset brain-mri --seed 2022 --count 3 \
  --output_record "${output}/colin27-synthesis.json" \
  "${colin}" "${output}/colin27-anomalous.nii.gz" "${output}/colin27-label.nii.gz"
echo
echo "demo: wrote, in ${output}:"
ls -1 "${output}"
echo "demo: open colin27-anomalous*.nii.gz with colin27-label*.nii.gz as a label map in 3D Slicer (see Documentation/GettingStarted.md)"
