#!/usr/bin/python3
"""Does a model find NSA's own synthetic anomalies on a subject? A probe of how far what a
model learnt transfers to a subject (or contrast) it never saw.

    /usr/bin/python3 Testing/Benchmarks/nsa_transfer_probe.py --build build \\
        --model Data/Models/brain-mri-2d.pt --subject .nsa-data/subjects/colin27.nii.gz

About ten axial slices between 45 % and 85 % of the volume's array axis 0 are each scored
twice: as they are (normal) and with one NSA sample made with the model's own synthesis
settings (nsatoolkit.synthesize, seed 7, index = slice number in the list). Prints the sample AUROC (model's case score), and
the pixel AUROC and average precision of the map against the NSA label above 0.5. Compare a
training subject with a held-out one: a model that learnt its training contrasts finds the
anomalies on the first and much less on the second (Documentation/Detection.md).
"""
import argparse
import os
import sys

import numpy as np


def auroc(labels, scores):
    """Area under the ROC curve (ties counted half), by the rank-sum formula."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties.
    edges = np.concatenate(([0], np.nonzero(np.diff(sorted_scores))[0] + 1, [len(scores)]))
    for a, b in zip(edges[:-1], edges[1:]):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    positives = labels.sum()
    negatives = len(labels) - positives
    return (ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives)


def average_precision(labels, scores):
    """Average precision: the mean of the precision at each positive, ties taken together."""
    labels = np.asarray(labels, dtype=bool)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    hits = np.cumsum(labels[order])
    last = np.concatenate((np.nonzero(np.diff(sorted_scores))[0], [len(labels) - 1]))
    precision = hits[last] / (last + 1.0)
    new_hits = np.diff(np.concatenate(([0], hits[last])))
    return float((precision * new_hits).sum() / max(1, labels.sum()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--model", required=True)
    parser.add_argument("--subject", required=True, help="a volume (file or DICOM folder)")
    parser.add_argument("--slices", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.build, "python"))
    import nsatoolkit as nsa  # noqa: E402

    model = nsa.load_model(args.model, {"device": "cpu"})
    synthesis = model.description["synthesis"]  # the model's own synthesis settings
    image = nsa.read_image(args.subject)
    volume = image.array.astype(np.float32)
    spacing = image.spacing
    n = volume.shape[0]
    picks = list(range(int(n * 0.45), int(n * 0.85)))
    picks = picks[:: max(1, len(picks) // args.slices)][: args.slices]
    case_labels, case_scores, pixel_labels, pixel_scores = [], [], [], []
    for i, k in enumerate(picks):
        normal = volume[k]
        anomalous, label, _ = nsa.synthesize(normal, spacing=spacing[1:], parameters=synthesis, seed=7, index=i)
        for array, truth, y in ((normal, np.zeros_like(normal), 0), (anomalous, label, 1)):
            score_map, scores = model.predict(array[None], spacing=spacing)
            case_labels.append(y)
            case_scores.append(scores["selected"])
            pixel_labels.append((truth > 0.5).ravel())
            pixel_scores.append(np.squeeze(score_map).ravel())
    pixel_labels = np.concatenate(pixel_labels)
    pixel_scores = np.concatenate(pixel_scores)
    print(f"{os.path.basename(args.subject.rstrip('/'))}: {len(picks)} slices, sample AUROC "
          f"{auroc(case_labels, case_scores):.3f}, pixel AUROC {auroc(pixel_labels, pixel_scores):.3f}, "
          f"pixel AP {average_precision(pixel_labels, pixel_scores):.3f} "
          f"(anomalous pixel fraction {pixel_labels.mean():.4f})")


if __name__ == "__main__":
    main()
