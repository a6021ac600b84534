#!/usr/bin/python3
"""Paired view of a cross-subject benchmark run: does a lesion move its slice's case score?

brain_cross_subject.py scores every test slice twice, as it is (the normal control) and with
one lesion. Its per-kind sample AUROC compares a kind's lesion cases with *all* normal
controls, so it also measures how the slices that kind happened to land on score without
any lesion. This probe pairs each lesion case with its own control (the same slice) and
prints per kind, over all folds of the given runs: the number of pairs, how many lesion cases
scored above and below their control, and the median and the largest paired difference.
A kind the model does not see gives differences near zero, whatever its AUROC.

With --local, a second table looks inside the lesion instead of at the case score: per pair,
the mean of the lesion case's map over the lesion mask minus the mean of the control's map
over the same voxels (does the map answer where the lesion is?), and whether the lesion holds
the case map's peak (its largest value inside the mask above the largest outside). A kind
whose case scores do not move but whose maps rise inside the lesion is a scoring problem; a
kind whose maps do not rise there is not seen at all. It also prints where the normal
controls' maps are highest: the median depth, below the edge of the head (Otsu's mask with
its holes filled), of each control's top 0.5 % voxels, the voxels the top-k case score reads.

With --figure PNG (one run), a picture of the first pair of every kind in one fold
(--figure_fold; default: the first): the lesion case with the lesion's outline, the lesion minus its
control, the case's map, and the case's map minus the control's.

Reads OUTPUT/<subject>/evaluation/cases.csv (NSAEvaluate's case table) of each run given, and
with --local the maps in OUTPUT/<subject>/predictions/ and the masks in
OUTPUT/<subject>/test/masks/; nothing is trained or predicted.

    /usr/bin/python3 Testing/Benchmarks/paired_case_scores.py [--local] OUTPUT [OUTPUT ...]
    /usr/bin/python3 Testing/Benchmarks/paired_case_scores.py OUTPUT --figure maps.png --figure_fold colin27
"""
import argparse
import collections
import csv
import os
import statistics

NORMAL_SUFFIX = "-normal"
TOP_K_FRACTION = 0.005  # the brain-mri preset's top_k_fraction: what its case score reads


def pairs_of_fold(cases_csv):
    """(kind, lesion score - control score) for every lesion case of one fold."""
    with open(cases_csv, newline="") as handle:
        rows = {row["case_id"]: row for row in csv.DictReader(handle)}
    controls = {case_id[:-len(NORMAL_SUFFIX)]: float(row["score"])
                for case_id, row in rows.items() if case_id.endswith(NORMAL_SUFFIX) and row["label"] == "0"}
    for case_id, row in rows.items():
        if row["label"] != "1":
            continue
        for slice_id, control in controls.items():
            if case_id.startswith(slice_id + "-"):
                yield case_id, slice_id + NORMAL_SUFFIX, case_id[len(slice_id) + 1:], float(row["score"]) - control
                break
        else:
            raise SystemExit(f"{cases_csv}: no normal control for lesion case {case_id}")


def evaluated_folds(run):
    """The subjects of a run whose evaluation finished, sorted."""
    return sorted(name for name in os.listdir(run)
                  if os.path.isfile(os.path.join(run, name, "evaluation", "cases.csv")))


def fold_file(fold_dir, folder, case_id):
    """A case's file in a fold: folder "test/images", "test/masks" or "predictions"."""
    return os.path.join(fold_dir, folder, case_id + ".nii.gz")


def read_array(path):
    import nibabel
    import numpy as np
    return np.asarray(nibabel.load(path).dataobj, dtype=np.float64).squeeze()


def local_response(fold_dir, case_id, control_id):
    """(in-lesion map mean of the case minus the control's there, lesion holds the peak)."""
    lesion = read_array(fold_file(fold_dir, "test/masks", case_id)) > 0
    if not lesion.any():
        raise SystemExit(f"{fold_dir}: the lesion mask of {case_id} is empty")
    case = read_array(fold_file(fold_dir, "predictions", case_id))
    control = read_array(fold_file(fold_dir, "predictions", control_id))
    if case.shape != lesion.shape or control.shape != lesion.shape:
        raise SystemExit(f"{fold_dir}: maps and mask of {case_id} differ in shape")
    outside = case[~lesion]
    peak = bool(case[lesion].max() > (outside.max() if outside.size else -1.0))
    return float(case[lesion].mean() - control[lesion].mean()), peak


def draw_pairs(fold_dir, output):
    """One column per kind (its first pair): image, image difference, map, map difference."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    first = {}
    for case_id, control_id, kind, _ in pairs_of_fold(os.path.join(fold_dir, "evaluation", "cases.csv")):
        first.setdefault(kind, (case_id, control_id))
    kinds = sorted(first)
    figure, axes = plt.subplots(4, len(kinds), figsize=(2.2 * len(kinds), 9.2), squeeze=False)
    for column, kind in enumerate(kinds):
        case_id, control_id = first[kind]
        image = read_array(fold_file(fold_dir, "test/images", case_id))
        control = read_array(fold_file(fold_dir, "test/images", control_id))
        lesion = read_array(fold_file(fold_dir, "test/masks", case_id)) > 0
        case_map = read_array(fold_file(fold_dir, "predictions", case_id))
        control_map = read_array(fold_file(fold_dir, "predictions", control_id))
        low, high = np.percentile(control, [1, 99])
        change = np.abs(image - control).max() or 1.0
        panels = [(image, "gray", low, high), (image - control, "coolwarm", -change, change),
                  (case_map, "inferno", 0.0, max(0.5, float(case_map.max()))),
                  (case_map - control_map, "coolwarm", -0.1, 0.1)]
        for row, (values, colours, vmin, vmax) in enumerate(panels):
            axis = axes[row, column]
            axis.imshow(values.T, cmap=colours, vmin=vmin, vmax=vmax, origin="lower", interpolation="nearest")
            axis.contour(lesion.T, [0.5], colors="lime", linewidths=0.8, origin="lower")
            axis.set_xticks([])
            axis.set_yticks([])
        axes[0, column].set_title(kind, fontsize=10)
    for row, name in enumerate(("lesion case", "case - control", "map of the case", "map difference (±0.1)")):
        axes[row, 0].set_ylabel(name, fontsize=9)
    figure.tight_layout()
    figure.savefig(output, dpi=60)


def peak_depth(fold_dir, control_id, fraction=TOP_K_FRACTION):
    """Median depth (mm) below the head's edge of the top `fraction` of a control's map."""
    import nibabel
    import numpy as np
    from scipy import ndimage
    from skimage.filters import threshold_otsu
    path = fold_file(fold_dir, "test/images", control_id)
    image = read_array(path)
    spacing = nibabel.load(path).header.get_zooms()[:image.ndim]
    values = read_array(fold_file(fold_dir, "predictions", control_id))
    head = ndimage.binary_fill_holes(image > threshold_otsu(image))
    depth = ndimage.distance_transform_edt(head, sampling=spacing)
    count = max(1, int(round(fraction * values.size)))
    top = np.argsort(values.ravel(), kind="stable")[-count:]
    return float(np.median(depth.ravel()[top]))


def print_score_table(differences):
    print("| kind | pairs | lesion above control | lesion below control | median difference | largest |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in sorted(differences):
        values = differences[kind]
        above = sum(1 for value in values if value > 0)
        below = sum(1 for value in values if value < 0)
        largest = max(values, key=abs)
        print(f"| {kind} | {len(values)} | {above} | {below} | {statistics.median(values):+.4f} | "
              f"{largest:+.4f} |")


def print_local_table(local):
    print("| kind | pairs | map higher in the lesion | median in-lesion difference | lesion holds the map's peak |")
    print("|---|---:|---:|---:|---:|")
    for kind in sorted(local):
        values = [difference for difference, _ in local[kind]]
        higher = sum(1 for value in values if value > 0)
        peaks = sum(1 for _, peak in local[kind] if peak)
        print(f"| {kind} | {len(values)} | {higher} | {statistics.median(values):+.4f} | {peaks} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="OUTPUT", help="output folders of brain_cross_subject.py")
    parser.add_argument("--local", action="store_true", help="also compare the maps inside each lesion")
    parser.add_argument("--figure", metavar="PNG", help="draw the first pair of every kind of one fold")
    parser.add_argument("--figure_fold", metavar="SUBJECT", help="the fold to draw (default: the first)")
    arguments = parser.parse_args()
    if arguments.figure:
        if len(arguments.runs) != 1:
            raise SystemExit("--figure draws one run")
        run = arguments.runs[0]
        folds = evaluated_folds(run)
        fold = arguments.figure_fold or (folds[0] if folds else None)
        if fold not in folds:
            raise SystemExit(f"{run}: no evaluated fold {fold}")
        draw_pairs(os.path.join(run, fold), arguments.figure)
    for run in arguments.runs:
        differences = collections.defaultdict(list)
        local = collections.defaultdict(list)
        folds = evaluated_folds(run)
        if not folds:
            raise SystemExit(f"{run}: no <subject>/evaluation/cases.csv")
        depths = {}
        for fold in folds:
            fold_dir = os.path.join(run, fold)
            for case_id, control_id, kind, difference in pairs_of_fold(os.path.join(fold_dir, "evaluation", "cases.csv")):
                differences[kind].append(difference)
                if arguments.local:
                    local[kind].append(local_response(fold_dir, case_id, control_id))
                    if (fold, control_id) not in depths:
                        depths[(fold, control_id)] = peak_depth(fold_dir, control_id)
        print(f"\n{run} ({', '.join(folds)})\n")
        print_score_table(differences)
        if arguments.local:
            print()
            print_local_table(local)
            values = sorted(depths.values())
            print(f"\nnormal controls: the top {100 * TOP_K_FRACTION:g} % of a map lies a median {statistics.median(values):.1f} mm below the "
                  f"head's edge (quartiles {values[len(values) // 4]:.1f} and {values[(3 * len(values)) // 4]:.1f} mm, "
                  f"{len(values)} controls)")


if __name__ == "__main__":
    main()
