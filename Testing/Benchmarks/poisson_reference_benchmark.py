#!/usr/bin/python3
"""Reference timings for the Poisson blending benchmark (issue 8), single-threaded.

Times, on the same box sizes as NSAPoissonBlendBenchmark:
  * OpenCV's seamlessClone (what the NSA paper's code calls): a gray patch of n x n padded to
    3 channels of uint8, as the paper does, cloned into the middle of a 512 x 512 image, with a
    full rectangular mask ("rect") and with the inscribed ellipse ("ellipse"), NORMAL_CLONE;
  * SciPy's spectral solve of the same box: scipy.fft.dstn (type 1) forward, division by the
    Laplacian's eigenvalues, inverse, in float32, workers=1; 2D 64^2..256^2 and 3D 32^3..96^3.

Run with Debian's interpreter, which sees python3-opencv and python3-scipy:

    /usr/bin/python3 Testing/Benchmarks/poisson_reference_benchmark.py [--repetitions 7]

Prints one Markdown table row per case: median wall time and median process CPU time in ms.
"""

import argparse
import statistics
import sys
import time

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover - reported, not fatal
    cv2 = None
try:
    import scipy.fft
except ImportError:  # pragma: no cover
    scipy = None


def measure(function, repetitions):
    """Median wall time and median process CPU time in ms (the CPU time is what the C++
    benchmark's CPU column reports; on a shared, oversubscribed machine it excludes the time
    spent waiting for a core)."""
    function()  # warm-up (plans, caches)
    wall = []
    cpu = []
    for _ in range(repetitions):
        start_wall = time.perf_counter()
        start_cpu = time.process_time()
        function()
        cpu.append((time.process_time() - start_cpu) * 1e3)
        wall.append((time.perf_counter() - start_wall) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def texture(shape, amplitude, seed):
    grids = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    phase = sum(c * g for c, g in zip((0.05, 0.03, 0.04), grids)) + seed
    noise = np.sin(sum(c * g for c, g in zip((12.9898, 78.233, 37.719), grids)) + seed) * 43758.5453
    return 100.0 + amplitude * np.sin(phase) + 0.1 * amplitude * (noise - np.floor(noise))


def opencv_cases(repetitions):
    rows = []
    cv2.setNumThreads(1)
    destination = np.clip(texture((512, 512), 30.0, 1.0), 0, 255).astype(np.uint8)
    destination = cv2.cvtColor(destination, cv2.COLOR_GRAY2BGR)
    for n in (64, 128, 256):
        patch = np.clip(texture((n, n), 60.0, 2.0), 0, 255).astype(np.uint8)
        patch = cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
        for shape in ("rect", "ellipse"):
            mask = np.zeros((n, n), np.uint8)
            if shape == "rect":
                mask[:] = 255
            else:
                cv2.ellipse(mask, (n // 2, n // 2), (n // 2 - 1, n // 2 - 1), 0, 0, 360, 255, -1)
            for mode, flag in (("normal", cv2.NORMAL_CLONE), ("mixed", cv2.MIXED_CLONE)):
                wall, cpu = measure(lambda: cv2.seamlessClone(patch, destination, mask, (256, 256), flag),
                                    repetitions)
                rows.append((f"OpenCV seamlessClone {mode}", f"2D {shape}", n, wall, cpu))
    return rows


def dst_solve(box):
    """Solves -Laplacian x = box with zero Dirichlet values around it (float32, one worker)."""
    coefficients = scipy.fft.dstn(box, type=1, workers=1)
    eigenvalues = np.zeros(box.shape, np.float32)
    for axis, n in enumerate(box.shape):
        k = np.arange(1, n + 1, dtype=np.float32)
        shape = [1] * box.ndim
        shape[axis] = n
        eigenvalues = eigenvalues + (2.0 - 2.0 * np.cos(np.pi * k / (n + 1))).reshape(shape).astype(np.float32)
    return scipy.fft.idstn(coefficients / eigenvalues, type=1, workers=1)


def scipy_cases(repetitions):
    rows = []
    for dimension, sizes in ((2, (64, 128, 256)), (3, (32, 64, 96))):
        for n in sizes:
            box = texture((n,) * dimension, 30.0, 3.0).astype(np.float32)
            wall, cpu = measure(lambda: dst_solve(box), repetitions)
            rows.append(("SciPy dstn solve (float32)", f"{dimension}D box", n, wall, cpu))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=7)
    arguments = parser.parse_args()
    rows = []
    if cv2 is not None:
        rows += opencv_cases(arguments.repetitions)
    else:
        print("python3-opencv not installed: OpenCV cases skipped", file=sys.stderr)
    if scipy is not None:
        rows += scipy_cases(arguments.repetitions)
    else:
        print("python3-scipy not installed: SciPy cases skipped", file=sys.stderr)
    versions = []
    if cv2 is not None:
        versions.append(f"OpenCV {cv2.__version__}")
    if scipy is not None:
        versions.append(f"SciPy {scipy.__version__}")
    print(f"<!-- {', '.join(versions)}, NumPy {np.__version__}, {arguments.repetitions} repetitions -->")
    print("| method | case | n | wall ms (median) | CPU ms (median) |")
    print("|---|---|---:|---:|---:|")
    for method, case, n, wall, cpu in rows:
        print(f"| {method} | {case} | {n} | {wall:.3f} | {cpu:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
