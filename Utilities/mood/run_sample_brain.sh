#!/bin/sh
# MOOD challenge entry point: sample-level scores for the brain data set.
#   sh run_sample_brain.sh INPUT_DIR OUTPUT_DIR
# The harness calls it with sh (not bash); see mood_predict.py and Documentation/Deployment.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec "${NSA_PYTHON:-/usr/bin/python3}" "${here}/mood_predict.py" --task sample --region brain "$@"
