#!/usr/bin/python3
"""Exact Poisson blending side by side: `nsatoolkit.poisson_blend` against OpenCV's
`seamlessClone` over a distribution of patch sizes and shapes (issue 17).

Both run in this one process, single-threaded, on the same inputs, each case's calls
interleaved (OpenCV, toolkit exact, toolkit box, in a rotating order) so that load from other
processes falls on all alike; every call is timed in CPU time (time.process_time). Per case the
median of the repetitions is taken; the report gives the geometric mean of the per-case ratios
(OpenCV time / toolkit time), the minimum and the maximum, overall and per size band, with the
load average (/proc/loadavg) before and after.

    PYTHONPATH=build/python /usr/bin/python3 Testing/Benchmarks/poisson_side_by_side.py \
        [--cases 96] [--repetitions 7] [--image 512] [--sweep]

Cases (drawn from --seed, not chosen): a 512 x 512 destination and a source, two different real
brain slices (the pool of synthesis_side_by_side.py: ITK's example slices and Colin27 axial
slices, scaled to 0-255); patch width and height each log-uniform in [40, 256] pixels; shape
uniform among the full box, the inscribed ellipse and a union of 4 random ellipses (the
toolkit's `patch_shape: ellipses`, rotated); random source and destination positions. As the
NSA paper's code does, the mask's outer ring is zeroed and the gray patch is padded to 3 uint8
channels for OpenCV (NORMAL_CLONE: source gradients). The toolkit gets the same values as
float32, the patch placed into a full-size source array and the mask into a full-size mask
(the arrays `poisson_blend` takes; building them is not timed), gradients "source".
--sweep adds the fixed sweep of the issue (elliptic patches 40, 52, ..., 256).
"""

import argparse
import math
import os
import statistics
import sys
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"):
    os.environ[_variable] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthesis_side_by_side import load_average, raw_slices, square_resized  # noqa: E402

BANDS = ((40, 64), (64, 96), (96, 128), (128, 192), (192, 257))


def ellipse_mask(cv2, height, width, rng, shape):
    mask = np.zeros((height, width), np.uint8)
    if shape == "box":
        mask[:] = 255
    elif shape == "ellipse":
        cv2.ellipse(mask, (width // 2, height // 2), (max(width // 2 - 1, 1), max(height // 2 - 1, 1)), 0, 0, 360,
                    255, -1)
    else:  # union of 4 random rotated ellipses inside the box, half-axes 1/4..1/2 of the box
        for _ in range(4):
            centre = (int(rng.randint(width // 4, 3 * width // 4 + 1)), int(rng.randint(height // 4, 3 * height // 4 + 1)))
            axes = (int(rng.randint(width // 4, width // 2 + 1)), int(rng.randint(height // 4, height // 2 + 1)))
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = 0  # the paper zeroes the border ring
    return mask


def draw_cases(cv2, rng, count):
    cases = []
    for _ in range(count):
        height, width = (int(round(math.exp(rng.uniform(math.log(40), math.log(256))))) for _ in range(2))
        shape = ("box", "ellipse", "ellipses")[rng.randint(3)]
        cases.append((height, width, shape, ellipse_mask(cv2, height, width, rng, shape)))
    return cases


def sweep_cases(cv2, rng):
    return [(n, n, "ellipse", ellipse_mask(cv2, n, n, rng, "ellipse")) for n in range(40, 257, 12)]


def prepare(cv2, case, destination, source, rng):
    """The inputs of both sides for one case."""
    height, width, _, mask = case
    size = destination.shape[0]
    sy, sx = rng.randint(0, size - height + 1), rng.randint(0, size - width + 1)
    # Destination position: the mask stays 2 pixels inside the image (OpenCV's requirement).
    dy, dx = rng.randint(2, size - height - 1), rng.randint(2, size - width - 1)
    patch = source[sy:sy + height, sx:sx + width]
    zeros = np.zeros_like(patch)
    patch3 = np.ascontiguousarray(np.dstack((patch, zeros, zeros)))
    destination3 = np.ascontiguousarray(np.dstack((destination, np.zeros_like(destination), np.zeros_like(destination))))
    bx, by, bw, bh = cv2.boundingRect(mask)
    centre = (dx + bx + bw // 2, dy + by + bh // 2)
    # Where OpenCV puts the mask's bounding box: centre - (bw // 2, bh // 2) (seamless_cloning.cpp).
    oy, ox = centre[1] - bh // 2 - by, centre[0] - bw // 2 - bx
    full_source = destination.astype(np.float32)
    full_source[oy:oy + height, ox:ox + width] = patch
    full_mask = np.zeros(destination.shape, np.uint8)
    full_mask[oy:oy + height, ox:ox + width] = mask
    return {"opencv": (patch3, destination3, mask, centre),
            "toolkit": (destination.astype(np.float32), full_source, full_mask)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=96)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--image", type=int, default=512)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--sweep", action="store_true", help="also the issue's fixed elliptic sweep 40..256 step 12")
    parser.add_argument("--details", action="store_true", help="one line per case")
    arguments = parser.parse_args()

    import cv2
    cv2.setNumThreads(1)
    import nsatoolkit

    pool = [square_resized(cv2, grey, arguments.image) for _, grey in raw_slices(nsatoolkit)]
    rng = np.random.RandomState(arguments.seed)
    sets = [("distribution", draw_cases(cv2, rng, arguments.cases))]
    if arguments.sweep:
        sets.append(("sweep (ellipses 40..256 step 12)", sweep_cases(cv2, rng)))

    methods = {
        "opencv": lambda a: cv2.seamlessClone(*a, cv2.NORMAL_CLONE),
        "exact": lambda a: nsatoolkit.poisson_blend(*a, gradients="source", formulation="exact"),
        "box": lambda a: nsatoolkit.poisson_blend(*a, gradients="source", formulation="box"),
    }
    print(f"<!-- OpenCV {cv2.__version__}, NumPy {np.__version__}, {arguments.image}^2 images, "
          f"{arguments.repetitions} repetitions per case, seed {arguments.seed} -->")
    for title, cases in sets:
        load_start = load_average()
        rows = []
        for index, case in enumerate(cases):
            d = rng.randint(len(pool))
            s = (d + rng.randint(1, len(pool))) % len(pool)
            inputs = prepare(cv2, case, pool[d], pool[s], rng)
            arguments_of = {"opencv": inputs["opencv"], "exact": inputs["toolkit"], "box": inputs["toolkit"]}
            times = {name: [] for name in methods}
            for name in methods:  # warm-up (FFT plans of this size)
                methods[name](arguments_of[name])
            names = list(methods)
            for repetition in range(arguments.repetitions):
                for name in names[repetition % 3:] + names[:repetition % 3]:
                    start = time.process_time()
                    methods[name](arguments_of[name])
                    times[name].append(time.process_time() - start)
            median = {name: statistics.median(values) * 1e3 for name, values in times.items()}
            side = math.sqrt(case[0] * case[1])
            unknowns = int(np.count_nonzero(case[3]))
            rows.append((side, case, unknowns, median))
            if arguments.details:
                print(f"  {case[1]}x{case[0]} {case[2]:8s} unknowns {unknowns:6d}: OpenCV {median['opencv']:.3f} ms, "
                      f"exact {median['exact']:.3f} ms ({median['opencv'] / median['exact']:.2f}x), "
                      f"box {median['box']:.3f} ms ({median['opencv'] / median['box']:.2f}x)", flush=True)
        load_end = load_average()

        def summary(selected, method):
            ratios = [row[3]["opencv"] / row[3][method] for row in selected]
            return (math.exp(statistics.fmean(math.log(r) for r in ratios)), min(ratios), max(ratios))

        print(f"\n**{title}**: {len(rows)} cases, load {load_start} -> {load_end}\n")
        print("| sqrt(w h) | cases | OpenCV median ms | exact median ms | exact: geo-mean ratio (min, max) | "
              "box median ms | box: geo-mean ratio (min, max) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        bands = BANDS if title == "distribution" else ((0, 10**6),)
        for low, high in bands + (((0, 10**6),) if title == "distribution" else ()):
            selected = [row for row in rows if low <= row[0] < high]
            if not selected:
                continue
            label = "all" if high == 10**6 else f"{low}–{min(high, 256)}"
            exact = summary(selected, "exact")
            box = summary(selected, "box")
            cell = lambda method: statistics.median(row[3][method] for row in selected)  # noqa: E731
            print(f"| {label} | {len(selected)} | {cell('opencv'):.3f} | {cell('exact'):.3f} | "
                  f"**{exact[0]:.2f}×** ({exact[1]:.2f}, {exact[2]:.2f}) | {cell('box'):.3f} | "
                  f"{box[0]:.2f}× ({box[1]:.2f}, {box[2]:.2f}) |", flush=True)
        if title != "distribution":
            for side, case, unknowns, median in rows:
                print(f"  {case[0]}: OpenCV {median['opencv']:.3f} ms, exact {median['exact']:.3f} ms "
                      f"({median['opencv'] / median['exact']:.2f}×), box {median['box']:.3f} ms")


if __name__ == "__main__":
    main()
