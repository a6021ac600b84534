#!/usr/bin/python3
"""Training steps in C++ (LibTorch) against PyTorch, side by side, at equal thread counts
(issue 17).

One run alternates the two on every configuration: NSATrainingBenchmark's TrainingStep (the
toolkit's network, Adam, BCE on logits, batch 8 of random inputs) and
nsa_pytorch_reference.py benchmark (the same network from nsatoolkit.torch, whose module names
and layers are the C++ network's, Adam, BCE, batch 8), the order swapped every round, each in
a fresh process with the same OpenMP settings. Both are Debian's LibTorch 1.13 underneath, so
the comparison is of what each side adds around the same kernels. Reports per configuration
and thread count the median over rounds of each side's median step time (wall and process
CPU) and the ratio C++ / PyTorch (below 1: C++ faster), as Markdown rows.

The C++ side runs with the glibc malloc settings NSATrain and NSAPredict set for themselves
(Modules/Core/Common/include/nsaAllocator.h); PyTorch runs as Python starts it. With
--allocators, each round also runs the C++ side with glibc's own settings and PyTorch with the
toolkit's (through GLIBC_TUNABLES), so that the table shows how much of the difference is the
allocator and how much the rest.

    PYTHONPATH=build/python /usr/bin/python3 Testing/Benchmarks/training_side_by_side.py \
        --build build [--threads 1 2] [--rounds 3] [--steps 10]

Run it on a quiet machine: /proc/loadavg is printed before every row.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

CONFIGURATIONS = [  # (width multiplier, input channels, image size): NSATrainingBenchmark's Args
    (0.25, 1, 128),
    (0.25, 1, 256),
    (1.0, 1, 128),
    (1.0, 3, 256),
]


#: nsaAllocator.h's settings (AllocatorMmapThreshold, AllocatorTrimThreshold) as glibc tunables.
TOOLKIT_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"


def run_cpp(binary, width, channels, size, threads, steps, glibc_default=False):
    name = "TrainingStep/width_x1000:%d/channels:%d/size:%d/process_time/real_time" % (
        round(width * 1000), channels, size)
    environment = dict(os.environ, NSA_BENCHMARK_THREADS=str(threads))
    if glibc_default:
        environment["NSA_BENCHMARK_GLIBC_MALLOC"] = "default"
    output = subprocess.run(
        [binary, "--benchmark_filter=^%s$" % re.escape(name), "--benchmark_format=json",
         "--benchmark_repetitions=%d" % steps, "--benchmark_min_time=0"],
        env=environment, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(output)["benchmarks"] if b.get("run_type") == "iteration"]
    if not runs:
        raise SystemExit("NSATrainingBenchmark has no benchmark %s" % name)
    scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[runs[0]["time_unit"]]
    wall = statistics.median(b["real_time"] * scale for b in runs)
    cpu = statistics.median(b["cpu_time"] * scale for b in runs)
    return wall, cpu


def run_python(script, width, channels, size, threads, steps, toolkit_malloc=False):
    environment = dict(os.environ)
    if toolkit_malloc:
        environment["GLIBC_TUNABLES"] = TOOLKIT_TUNABLES
    output = subprocess.run(
        [sys.executable, script, "benchmark", "--width", str(width), "--channels", str(channels),
         "--size", str(size), "--batch", "8", "--threads", str(threads), "--steps", str(steps)],
        env=environment, check=True, capture_output=True, text=True).stdout
    match = re.search(r"median ([0-9.]+) s/step wall, ([0-9.]+) s/step process CPU", output)
    if not match:
        raise SystemExit("unexpected output of nsa_pytorch_reference.py: " + output)
    return float(match.group(1)), float(match.group(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per process (after 2 warm-up steps)")
    parser.add_argument("--configurations", default="",
                        help="'width,channels,size;...' (default: all of NSATrainingBenchmark's)")
    parser.add_argument("--allocators", action="store_true",
                        help="also C++ with glibc's malloc settings and PyTorch with the toolkit's")
    args = parser.parse_args()
    binary = os.path.join(args.build, "bin", "NSATrainingBenchmark")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nsa_pytorch_reference.py")
    configurations = CONFIGURATIONS
    if args.configurations:
        configurations = [(float(w), int(c), int(s)) for w, c, s in
                          (item.split(",") for item in args.configurations.split(";"))]
    header = "| width, input | threads | C++ wall | PyTorch wall | C++ / PyTorch (wall) | C++ CPU | PyTorch CPU "
    rule = "|---|---|---|---|---|---|---|"
    if args.allocators:
        header += "| C++ wall, glibc malloc | PyTorch wall, toolkit malloc | C++ / PyTorch, both toolkit malloc "
        rule += "---|---|---|"
    print(header + "| load before |")
    print(rule + "---|")
    for width, channels, size in configurations:
        for threads in args.threads:
            with open("/proc/loadavg") as f:
                load = f.read().split()[0]
            sides = [("cpp", lambda: run_cpp(binary, width, channels, size, threads, args.steps)),
                     ("python", lambda: run_python(script, width, channels, size, threads, args.steps))]
            if args.allocators:
                sides += [("cpp-glibc", lambda: run_cpp(binary, width, channels, size, threads, args.steps,
                                                        glibc_default=True)),
                          ("python-toolkit", lambda: run_python(script, width, channels, size, threads, args.steps,
                                                                toolkit_malloc=True))]
            times = {side: [] for side, _ in sides}
            for round_ in range(args.rounds):
                for side, function in (sides if round_ % 2 == 0 else list(reversed(sides))):
                    times[side].append(function())
            wall = {side: statistics.median(w for w, _ in t) for side, t in times.items()}
            cpu = {side: statistics.median(c for _, c in t) for side, t in times.items()}
            row = "| %g, %d x %d² | %d | %.4f s | %.4f s | **%.2f** | %.4f s | %.4f s |" % (
                width, channels, size, threads, wall["cpp"], wall["python"], wall["cpp"] / wall["python"],
                cpu["cpp"], cpu["python"])
            if args.allocators:
                row += " %.4f s | %.4f s | %.2f |" % (wall["cpp-glibc"], wall["python-toolkit"],
                                                     wall["cpp"] / wall["python-toolkit"])
            print(row + " %s |" % load, flush=True)

if __name__ == "__main__":
    sys.exit(main())
