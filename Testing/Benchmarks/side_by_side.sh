#!/bin/sh
# The side-by-side speed figures of Documentation/Benchmarks.md (issue 17), in one go, for a
# quiet machine: synthesis against the NSA paper's code, exact Poisson against OpenCV's
# seamlessClone, training threads (PyTorch and NSATrain, alone and beside a busy process).
#
#   sh Testing/Benchmarks/side_by_side.sh /path/to/natural-synthetic-anomalies [build] [out]
#
# The paper's code is a checkout of github.com/hmsch/natural-synthetic-anomalies (never copied
# into this repository). Writes <out>/{synthesis,poisson,threads-pytorch,threads-nsatrain}.md
# (default out: side-by-side-results) and prints them; about 10 minutes on 2 cores.
set -eu
paper=${1:?usage: side_by_side.sh PAPER_CODE [BUILD] [OUT]}
build=${2:-build}
out=${3:-side-by-side-results}
here=$(dirname "$0")
mkdir -p "$out"
export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
run() {
  name=$1
  shift
  { echo "<!-- $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'), uptime: $(uptime) -->"
    /usr/bin/python3 "$@" 2>&1 | grep -v 'libpng warning'
    echo "<!-- after: $(uptime) -->"; } > "$out/$name.md"
  cat "$out/$name.md"
}
run synthesis "$here/synthesis_side_by_side.py" --paper_code "$paper" --json "$out/synthesis.json"
run poisson "$here/poisson_side_by_side.py" --sweep
run threads-pytorch "$here/thread_scaling.py" --rounds 2
run threads-nsatrain "$here/thread_scaling.py" --nsatrain "$build/bin/NSATrain" --threads 1 2 0 --rounds 2
