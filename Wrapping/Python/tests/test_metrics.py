"""Metrics from NumPy: hand-computed values, scikit-learn agreement, cohort voxel metrics."""
import numpy as np
import pytest

import nsatoolkit


def test_case_metrics_hand_computed():
    # Positives score 0.35 and 0.8, negatives 0.1 and 0.4: of the 4 positive-negative pairs
    # 3 are ranked correctly -> AUROC 3/4. Going down the thresholds 0.8, 0.4, 0.35, 0.1,
    # (recall, precision) = (1/2, 1), (1/2, 1/2), (1, 2/3), (1, 1/2); AP = sum of recall
    # steps times precision = 1/2 * 1 + 1/2 * 2/3 = 5/6.
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    labels = np.array([0, 0, 1, 1], np.uint8)
    assert nsatoolkit.roc_auc(scores, labels) == pytest.approx(0.75, abs=1e-12)
    assert nsatoolkit.average_precision(scores, labels) == pytest.approx(5.0 / 6.0, abs=1e-12)
    # Ties: one tied positive-negative pair counts 1/2.
    assert nsatoolkit.roc_auc(np.array([0.5, 0.5]), np.array([1, 0], np.uint8)) == pytest.approx(0.5)
    assert nsatoolkit.roc_auc(np.array([0.5, 0.6]), np.array([1, 1], np.uint8)) is None


def test_agrees_with_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    scores = np.round(rng.uniform(0, 1, 2000), 2)  # rounding creates many ties
    labels = (rng.uniform(0, 1, 2000) < 0.3).astype(np.uint8)
    assert nsatoolkit.roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-9)
    assert nsatoolkit.average_precision(scores, labels) == pytest.approx(
        sklearn_metrics.average_precision_score(labels, scores), abs=1e-9)


def test_cohort_voxel_metrics_perfect_and_known():
    truth = np.zeros((2, 20, 20), np.uint8)
    truth[0, 5:10, 5:10] = 1
    truth[1, 12:15, 3:9] = 1
    # A map equal to the lesion is perfect.
    perfect = nsatoolkit.evaluate_maps([truth[0].astype(np.float32), truth[1].astype(np.float32)],
                                       [truth[0], truth[1]])
    assert perfect["voxel_auroc"] == 1.0
    assert perfect["voxel_average_precision"] == 1.0
    assert perfect["au_pro"] == pytest.approx(1.0, abs=1e-9)
    assert perfect["dice"] == 1.0
    assert perfect["components"] == 2
    # Shifted maps: metrics equal those computed over the concatenated voxels.
    maps = [np.roll(truth[i], 2, axis=1).astype(np.float32) * 0.9 + 0.05 for i in range(2)]
    result = nsatoolkit.evaluate_maps(maps, [truth[0], truth[1]], threshold=0.5)
    flat_scores = np.concatenate([m.ravel() for m in maps]).astype(np.float64)
    flat_labels = np.concatenate([t.ravel() for t in truth])
    assert result["voxel_auroc"] == pytest.approx(nsatoolkit.roc_auc(flat_scores, flat_labels), abs=1e-12)
    tp = np.sum((flat_scores >= 0.5) & (flat_labels == 1))
    fp = np.sum((flat_scores >= 0.5) & (flat_labels == 0))
    fn = np.sum((flat_scores < 0.5) & (flat_labels == 1))
    assert result["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-12)
    assert result["case_scores"] == pytest.approx([m.mean() for m in maps], rel=1e-6)


def test_region_restricts_voxels_and_errors():
    truth = np.zeros((16, 16), np.uint8)
    truth[4:8, 4:8] = 1
    score = truth.astype(np.float32)
    score[12, 12] = 1.0  # a false positive outside the region
    region = np.zeros_like(truth)
    region[:10, :10] = 1
    assert nsatoolkit.evaluate_maps([score], [truth], regions=[region])["voxel_average_precision"] == 1.0
    assert nsatoolkit.evaluate_maps([score], [truth])["voxel_average_precision"] < 1.0
    with pytest.raises(nsatoolkit.InputError, match="shape"):
        nsatoolkit.evaluate_maps([score], [truth[:8]])
    with pytest.raises(nsatoolkit.InputError, match="one ground truth"):
        nsatoolkit.evaluate_maps([score, score], [truth])
    nan = score.copy()
    nan[0, 0] = np.nan
    with pytest.raises(nsatoolkit.InputError):
        nsatoolkit.evaluate_maps([nan], [truth])
