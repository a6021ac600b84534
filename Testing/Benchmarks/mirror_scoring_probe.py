#!/usr/bin/python3
"""Scoring probe for the cross-subject benchmark: does subtracting the mirrored map help?

Brain lesions are mostly one-sided, and many of the normal structures a model answers to
(the insula, the ventricles' edges, the midline) come in left-right pairs. This probe rescores
the maps a benchmark run already wrote (brain_cross_subject.py's OUTPUT/<subject>/predictions)
three ways and prints sample AUROC / AP, pixel AP and per-kind sample AUROC per fold and
their means:

  * top-k   the mean of the map's 0.5 % highest voxels (the brain-mri preset; reproduces
            NSAEvaluate's figures of the run);
  * mirror  the same of max(map - mirror(map), 0);
  * half    the same of max(map - 0.5 mirror(map), 0);

where mirror(map) reflects the map across the plane through the head's centroid (Otsu mask)
normal to the slice axis closest to patient left-right. Nothing is trained; the models and
maps are the run's.

    /usr/bin/python3 Testing/Benchmarks/mirror_scoring_probe.py OUTPUT/colin27 OUTPUT/brainsmall ...

Documentation/Detection.md reports what it found (not kept).
"""
import csv
import os
import sys

import nibabel
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu
from sklearn.metrics import average_precision_score, roc_auc_score


def load(path):
    image = nibabel.load(path)
    return np.squeeze(np.asarray(image.dataobj, dtype=np.float32)), image.affine


def left_right_axis(affine):
    """The array axis (0 or 1) whose direction is closest to patient x (RAS or LPS alike)."""
    return int(np.argmax(np.abs(affine[0, :2])))


def mirrored(values, image, axis):
    head = ndimage.binary_fill_holes(image > threshold_otsu(image))
    weights = head.sum(axis=1 - axis).astype(float)
    coordinates = np.arange(image.shape[axis], dtype=float)
    centre = (weights * coordinates).sum() / max(weights.sum(), 1.0)
    grid = np.meshgrid(np.arange(values.shape[0], dtype=float), np.arange(values.shape[1], dtype=float),
                       indexing="ij")
    grid[axis] = 2.0 * centre - grid[axis]
    return ndimage.map_coordinates(values, grid, order=1, mode="nearest")


def top_k_mean(values, fraction=0.005):
    ordered = np.sort(values.ravel())
    return float(ordered[-max(1, int(round(fraction * ordered.size))):].mean())


def main():
    folds = sys.argv[1:]
    if not folds:
        sys.exit(__doc__)
    rules = ("top-k", "mirror", "half")
    means = {rule: [] for rule in rules}
    for fold in folds:
        rows = list(csv.DictReader(open(os.path.join(fold, "test", "manifest.csv"))))
        cases = {rule: [] for rule in rules}
        for row in rows:
            image, affine = load(os.path.join(fold, "test", row["image"]))
            values, _ = load(os.path.join(fold, "predictions", os.path.basename(row["image"])))
            truth = (load(os.path.join(fold, "test", row["mask"]))[0] > 0 if row["mask"]
                     else np.zeros(values.shape, bool))
            mirror = mirrored(values, image, left_right_axis(affine))
            kind = row["case_id"].split("-z", 1)[1].split("-", 1)[1]
            maps = {"top-k": values, "mirror": np.maximum(values - mirror, 0.0),
                    "half": np.maximum(values - 0.5 * mirror, 0.0)}
            for rule in rules:
                cases[rule].append((top_k_mean(maps[rule]), int(row["label"]), kind, maps[rule].ravel(),
                                    truth.ravel()))
        for rule in rules:
            scores = np.array([c[0] for c in cases[rule]])
            labels = np.array([c[1] for c in cases[rule]])
            kinds = [c[2] for c in cases[rule]]
            result = {"sample_auroc": roc_auc_score(labels, scores), "sample_ap": average_precision_score(labels, scores),
                      "pixel_ap": average_precision_score(np.concatenate([c[4] for c in cases[rule]]),
                                                          np.concatenate([c[3] for c in cases[rule]]))}
            for kind in sorted(set(kinds) - {"normal"}):
                chosen = [i for i, k in enumerate(kinds) if k in ("normal", kind)]
                result[kind] = roc_auc_score(labels[chosen], scores[chosen])
            means[rule].append(result)
            print(os.path.basename(os.path.normpath(fold)), rule,
                  " ".join(f"{k} {v:.3f}" for k, v in result.items()), flush=True)
    for rule in rules:
        keys = sorted({k for result in means[rule] for k in result})
        print("mean", rule, " ".join(
            f"{k} {np.mean([r[k] for r in means[rule] if k in r]):.3f}" for k in keys))


if __name__ == "__main__":
    main()
