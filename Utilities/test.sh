#!/usr/bin/env bash
# Sets everything up (Utilities/setup.sh) and runs the whole test suite.
# Tests labelled REQUIRES_GPU run only where an NVIDIA GPU answers nvidia-smi.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${NSA_BUILD_DIR:-${here}/build}"

bash "${here}/Utilities/setup.sh"

exclude=()
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "test: no GPU found, skipping tests labelled REQUIRES_GPU"
  exclude=(--label-exclude REQUIRES_GPU)
fi
cd "${build_dir}"
ctest --output-on-failure --parallel "${NSA_TEST_JOBS:-$(nproc)}" --timeout 1200 "${exclude[@]}" "$@"
