"""A scripted study with nsatoolkit: synthesise NSA anomalies into a brain MRI slice,
blend by hand, score a naive detector, and write the results.

Run (after `bash Utilities/setup.sh`):

    PYTHONPATH=build/python /usr/bin/python3 Documentation/Examples/python_synthesis_and_metrics.py OUT_DIR
"""
import sys
from pathlib import Path

import numpy as np

import nsatoolkit

out = Path(sys.argv[1] if len(sys.argv) > 1 else "nsa-python-example")
out.mkdir(parents=True, exist_ok=True)

# Colin27 (Debian's mricron-data): NumPy order (z, y, x), spacing in the same order.
colin = nsatoolkit.read_image("/usr/share/mricron/templates/ch2.nii.gz")
axial = colin.array[90]                      # one axial slice, (y, x)
spacing = colin.spacing[1:]                  # its (y, x) spacing

# Ten training examples with the brain-mri preset; seed + index reproduce each one.
maps, truths = [], []
for index in range(10):
    image, label, record = nsatoolkit.synthesize(axial, spacing=spacing, preset="brain-mri", seed=2022, index=index)
    blended = [p for p in record["patches"] if p["status"] == "blended"]
    print(f"example {index}: {len(blended)} patch(es) blended, label max {label.max():.2f}")
    # A naive "detector": the absolute difference to the normal slice (an oracle, to show
    # the metric API; a trained model's map goes here).
    maps.append(np.abs(image - axial) / (np.abs(image - axial).max() + 1e-6))
    truths.append((label > 0.5).astype(np.uint8))
    if index == 0:
        nsatoolkit.write_image(out / "example0_image.nii.gz", image, spacing=spacing)
        nsatoolkit.write_image(out / "example0_label.nii.gz", label, spacing=spacing)

metrics = nsatoolkit.evaluate_maps(maps, truths, threshold=0.5)
print("voxel AUROC %.3f, AP %.3f, AU-PRO %.3f, Dice@0.5 %.3f" % (
    metrics["voxel_auroc"], metrics["voxel_average_precision"], metrics["au_pro"], metrics["dice"]))

# Poisson blending on its own: a disc of one slice into another, mixed gradients.
other = colin.array[100]
yy, xx = np.mgrid[0 : axial.shape[0], 0 : axial.shape[1]]
disc = (((yy - 120) ** 2 + (xx - 90) ** 2) < 15 ** 2).astype(np.uint8)
blended = nsatoolkit.poisson_blend(axial, other, disc, spacing=spacing, gradients="mixed")
nsatoolkit.write_image(out / "poisson_disc.nii.gz", blended, spacing=spacing)
print("wrote", sorted(p.name for p in out.iterdir()))
