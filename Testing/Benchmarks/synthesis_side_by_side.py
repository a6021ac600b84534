#!/usr/bin/python3
"""NSA synthesis side by side: the paper's `patch_ex` against `nsatoolkit.synthesize` (issue 17).

Both run in this one process, single-threaded, on the same pool of real brain slices and the
same random (destination, source) pairs, in alternating blocks (paper, toolkit, toolkit,
paper, ...) so that load from other processes falls on all alike. Two toolkit calls are
timed: `nsatoolkit.synthesize(..., preset="mvtec-carpet")` (reads the preset on every call,
returns new arrays and the record) and a data loader's `nsatoolkit.Synthesizer("mvtec-carpet")`
called with out=(image, label) buffers and record=False; both give the same bits. Each call is timed in CPU
time (time.process_time: every thread of the process, which is one here); the report gives
the median and the mean per call and their ratios, with the load average (`/proc/loadavg`)
before and after.

The paper's code is not part of this repository: give the path of a checkout of
github.com/hmsch/natural-synthetic-anomalies (it needs OpenCV and scikit-image:
python3-opencv, python3-skimage):

    PYTHONPATH=build/python /usr/bin/python3 Testing/Benchmarks/synthesis_side_by_side.py \
        --paper_code /path/to/natural-synthetic-anomalies [--sizes 128 256 512] [--calls 150] [--rounds 4]

Setting (both sides; the paper's texture setting, the toolkit's `mvtec-carpet` preset): up to
4 patches, half-widths 0.03 + Gamma(2, 0.05) clipped to 0.03-0.4, resize 0.5-2, shift,
mixed-gradient Poisson, logistic-intensity label k = 1/3, x0 = 7 grey levels, tolerance 1 grey
level, no object mask. The paper's side gets uint8 (H, W, 1) arrays, as its data loader does;
the toolkit gets the same values as float32 (H, W).

Pool: 8 real brain MR slices scaled to 0-255, zero-padded to a square and resized (OpenCV
INTER_AREA when shrinking, INTER_LINEAR when enlarging) to n x n:
  * ITK's example slices (insighttoolkit5-examples): BrainProtonDensitySlice.png,
    BrainT1Slice.png, BrainMidSagittalSlice.png, itkBrainSliceComplexMagnitude.mha;
  * Colin27 (mricron-data, /usr/share/mricron/templates/ch2.nii.gz): axial slices 60, 75, 90, 105.
"""

import argparse
import json
import os
import statistics
import sys
import time

# One thread everywhere, set before the libraries start their pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"):
    os.environ[_variable] = "1"

import numpy as np  # noqa: E402

ITK_DATA = "/usr/share/doc/insighttoolkit5-examples/examples/Data"
ITK_SLICES = ("BrainProtonDensitySlice.png", "BrainT1Slice.png", "BrainMidSagittalSlice.png",
              "itkBrainSliceComplexMagnitude.mha")
COLIN27 = "/usr/share/mricron/templates/ch2.nii.gz"
COLIN27_AXIAL = (60, 75, 90, 105)

def load_average():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def to_grey_levels(array):
    array = np.asarray(array, dtype=np.float64)
    low, high = float(array.min()), float(array.max())
    return np.uint8(np.clip(np.rint((array - low) / max(high - low, 1e-12) * 255.0), 0, 255))


def raw_slices(nsatoolkit):
    """The 8 slices, uint8, in their own sizes."""
    import nibabel

    slices = []
    for name in ITK_SLICES:
        image = nsatoolkit.read_image(os.path.join(ITK_DATA, name))
        array = image.array if image.array.ndim == 2 else image.array[..., 0]
        slices.append((name, to_grey_levels(array)))
    volume = np.asarray(nibabel.load(COLIN27).dataobj, dtype=np.float32)  # (x, y, z)
    for z in COLIN27_AXIAL:
        slices.append((f"ch2.nii.gz axial {z}", to_grey_levels(np.rot90(volume[:, :, z]))))
    return slices


def square_resized(cv2, grey, n):
    h, w = grey.shape
    side = max(h, w)
    padded = np.zeros((side, side), np.uint8)
    padded[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = grey
    interpolation = cv2.INTER_AREA if n < side else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(padded, (n, n), interpolation=interpolation))


def run_block(function, calls):
    """CPU time of each call, in seconds."""
    times = []
    for call in calls:
        start = time.process_time()
        call_result = function(*call)
        times.append(time.process_time() - start)
        del call_result
    return times


def summarise(times):
    return statistics.median(times) * 1e3, statistics.fmean(times) * 1e3


def volume_timings(nsatoolkit, calls, seed):
    """3D, toolkit only: Colin27 (181 x 217 x 181) with the brain-mri preset and an object mask
    given (the volume above its 60th percentile, as a data loader passes precomputed masks),
    synthesize() against Synthesizer(out=..., record=False), alternating call by call."""
    import nibabel

    volume = np.ascontiguousarray(np.asarray(nibabel.load(COLIN27).dataobj, dtype=np.float32).T)  # (z, y, x)
    mask = (volume > np.percentile(volume, 60)).astype(np.uint8)
    parameters = {"object_mask": "image"}
    synthesizer = nsatoolkit.Synthesizer("brain-mri", parameters)
    buffers = (np.empty_like(volume), np.empty_like(volume))
    functions = {
        "synthesize": lambda i: nsatoolkit.synthesize(volume, mask=mask, preset="brain-mri", parameters=parameters,
                                                      seed=seed, index=i),
        "Synthesizer": lambda i: synthesizer(volume, mask=mask, seed=seed, index=i, out=buffers, record=False),
    }
    for function in functions.values():
        function(0)
    times = {name: [] for name in functions}
    load_start = load_average()
    for index in range(calls):
        for name in (list(functions) if index % 2 else list(functions)[::-1]):
            start = time.process_time()
            functions[name](index)
            times[name].append(time.process_time() - start)
    row = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    row["load"] = f"{load_start} -> {load_average()}"
    print(f"\n3D, Colin27 181 x 217 x 181, brain-mri preset, object mask given, {calls} calls each: "
          f"synthesize() {row['synthesize']:.1f} ms, Synthesizer(out=..., record=False) {row['Synthesizer']:.1f} ms "
          f"(median CPU time per call; load {row['load']})", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paper_code", required=True,
                        help="checkout of github.com/hmsch/natural-synthetic-anomalies (its self_sup_data package)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--calls", type=int, default=150, help="calls per block")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of (paper block, toolkit block)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--volume_calls", type=int, default=30,
                        help="3D: calls per API on the whole Colin27 volume (the paper's code is 2D only); 0: skip")
    arguments = parser.parse_args()

    import cv2
    cv2.setNumThreads(1)
    import nsatoolkit

    sys.path.insert(0, os.path.abspath(arguments.paper_code))
    try:
        from self_sup_data.self_sup_tasks import patch_ex
    except ImportError as error:
        sys.exit(f"cannot import the paper's patch_ex from {arguments.paper_code}: {error} "
                 "(it needs python3-opencv and python3-skimage)")

    paper_kwargs = dict(same=False, num_patches=4, mode=cv2.MIXED_CLONE, width_bounds_pct=((0.03, 0.4), (0.03, 0.4)),
                        shift=True, label_mode="logistic-intensity", skip_background=None, tol=1, resize=True,
                        gamma_params=(2, 0.05, 0.03), intensity_logistic_params=(1 / 3, 7),
                        resize_bounds=(0.5, 2), verbose=False)
    # The same setting from the toolkit's preset (checked against the paper's arguments above).
    toolkit_parameters = nsatoolkit.synthesis_parameters("mvtec-carpet")
    assert toolkit_parameters["num_patches"] == 4 and toolkit_parameters["blend_mode"] == "poisson-mixed"
    assert toolkit_parameters["resize_bounds"] == [0.5, 2.0] and toolkit_parameters["object_mask"] == "none"

    slices = raw_slices(nsatoolkit)
    results = {"load_before": load_average(), "sizes": {}, "pool": [name for name, _ in slices],
               "calls_per_block": arguments.calls, "rounds": arguments.rounds}
    print(f"<!-- load average before: {results['load_before']}; {arguments.rounds} rounds of "
          f"{arguments.calls} calls per side and size; OpenCV {cv2.__version__}, NumPy {np.__version__} -->")
    print("| n | paper median ms | synthesize() median ms | ratio | Synthesizer median ms | ratio | "
          "paper mean ms | synthesize() mean ms | Synthesizer mean ms | ratio of means (Synthesizer) | "
          "per-round ratios (Synthesizer, medians) | load |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for n in arguments.sizes:
        uint8_pool = [square_resized(cv2, grey, n) for _, grey in slices]
        paper_pool = [image[..., None] for image in uint8_pool]
        toolkit_pool = [image.astype(np.float32) for image in uint8_pool]
        pair_stream = np.random.RandomState(arguments.seed)
        total = arguments.calls * arguments.rounds
        destinations = pair_stream.randint(0, len(uint8_pool), total)
        offsets = pair_stream.randint(1, len(uint8_pool), total)
        sources = (destinations + offsets) % len(uint8_pool)
        np.random.seed(arguments.seed)  # the paper's code draws from NumPy's global stream

        def paper(index):
            return patch_ex(paper_pool[destinations[index]], paper_pool[sources[index]], **paper_kwargs)

        def toolkit(index):
            return nsatoolkit.synthesize(toolkit_pool[destinations[index]], toolkit_pool[sources[index]],
                                         preset="mvtec-carpet", seed=arguments.seed, index=index)

        synthesizer = nsatoolkit.Synthesizer("mvtec-carpet")
        buffers = (np.empty((n, n), np.float32), np.empty((n, n), np.float32))

        def loader(index):
            return synthesizer(toolkit_pool[destinations[index]], toolkit_pool[sources[index]], seed=arguments.seed,
                               index=index, out=buffers, record=False)

        paper(0), toolkit(0), loader(0)  # warm-up: imports, FFT plans, caches
        times = {paper: [], toolkit: [], loader: []}
        round_ratios = []
        load_start = load_average()
        for round_index in range(arguments.rounds):
            calls = [(index,) for index in range(round_index * arguments.calls, (round_index + 1) * arguments.calls)]
            order = (paper, toolkit, loader)
            if round_index % 2:
                order = order[::-1]
            round_medians = {}
            for function in order:
                block = run_block(function, calls)
                times[function].extend(block)
                round_medians[function] = statistics.median(block)
            round_ratios.append(round_medians[paper] / round_medians[loader])
        load_end = load_average()
        paper_median, paper_mean = summarise(times[paper])
        toolkit_median, toolkit_mean = summarise(times[toolkit])
        loader_median, loader_mean = summarise(times[loader])
        row = {"paper_median_ms": paper_median, "synthesize_median_ms": toolkit_median,
               "synthesizer_median_ms": loader_median, "paper_mean_ms": paper_mean,
               "synthesize_mean_ms": toolkit_mean, "synthesizer_mean_ms": loader_mean,
               "ratio_synthesize": paper_median / toolkit_median, "ratio_synthesizer": paper_median / loader_median,
               "ratio_of_means_synthesizer": paper_mean / loader_mean, "round_ratios": round_ratios,
               "load": f"{load_start} -> {load_end}"}
        results["sizes"][n] = row
        print(f"| {n} | {paper_median:.2f} | {toolkit_median:.3f} | {row['ratio_synthesize']:.1f}× | "
              f"{loader_median:.3f} | **{row['ratio_synthesizer']:.1f}×** | {paper_mean:.2f} | {toolkit_mean:.3f} | "
              f"{loader_mean:.3f} | {row['ratio_of_means_synthesizer']:.1f}× | "
              f"{', '.join(f'{r:.1f}' for r in round_ratios)} | {row['load']} |", flush=True)
    if arguments.volume_calls > 0:
        results["colin27_3d"] = volume_timings(nsatoolkit, arguments.volume_calls, arguments.seed)
    results["load_after"] = load_average()
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
