#!/usr/bin/python3
"""NSAPredict cuts a 2D model's slices across the patient axis, not the voxel axis.

    /usr/bin/python3 sagittal_storage_test.py NSAPREDICT MODEL STUDY.nii.gz WORK_FOLDER

Writes the study (axial-first, as Colin27 is) a second time with its voxels stored
sagittal-first — voxel axes (z, x, y), the affine's columns permuted with them, so the same
voxel sits at the same place in the patient — as a sagittal acquisition is often stored,
scores both with the model (an axial 2D model) and checks that every voxel's score is the
same in both maps. Slicing across the voxel axis would cut the second copy coronally.
"""
import os
import subprocess
import sys

import nibabel
import numpy as np


def main():
    nsapredict, model, study, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    image = nibabel.load(study)
    data = np.asanyarray(image.dataobj)
    stored = np.ascontiguousarray(np.transpose(data, (2, 0, 1)))  # (z, x, y)
    affine = image.affine[:, [2, 0, 1, 3]]
    sagittal_first = os.path.join(work, "sagittal-first.nii.gz")
    nibabel.save(nibabel.Nifti1Image(stored, affine), sagittal_first)
    maps = {}
    for name, path in (("axial-first", study), ("sagittal-first", sagittal_first)):
        out = os.path.join(work, name + "-map.nii.gz")
        subprocess.run([nsapredict, model, path, out, "--threads", "2"], check=True, stdout=subprocess.DEVNULL)
        maps[name] = np.asanyarray(nibabel.load(out).dataobj).astype(np.float64)
    back = np.transpose(maps["sagittal-first"], (1, 2, 0))
    if back.shape != maps["axial-first"].shape:
        sys.exit(f"FAIL: map shapes {back.shape} and {maps['axial-first'].shape}")
    difference = float(np.max(np.abs(back - maps["axial-first"])))
    if difference > 1e-4 or not np.isfinite(difference):
        sys.exit(f"FAIL: the sagittal-first copy scores differently (largest difference {difference})")
    print(f"sagittal-first storage: same map (largest difference {difference:.2e}); all checks passed")


if __name__ == "__main__":
    main()
