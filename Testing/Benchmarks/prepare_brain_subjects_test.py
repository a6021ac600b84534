#!/usr/bin/python3
"""Tests of Utilities/prepare_brain_subjects.py.

    /usr/bin/python3 prepare_brain_subjects_test.py UTILITIES_FOLDER SUBJECTS_FOLDER WORK_FOLDER

1. BrainBrowser's MINC export (JSON header + gzip'd uint8 voxels) is read with MINC's
   geometry: a small oblique volume stored z-first, with negative steps, is written by hand and
   every voxel's world position is checked against the formula in MINC's definition
   (x = sum over dimensions of (start + index * step) * cosines), and its values against the
   voxels written.
2. Every subject set-up prepared is a 3D NIfTI whose third voxel axis runs inferior to
   superior (so that a 2D model's slice axis 2 cuts it axially; the reordered npm subjects
   are RAS), with positive spacing, and the subjects of the npm packages are there when their
   packages are.
"""
import gzip
import json
import os
import sys

import numpy as np
import nibabel


def check(condition, message):
    if not condition:
        sys.exit("FAIL: " + message)


def main():
    utilities, subjects, work = sys.argv[1:4]
    sys.path.insert(0, utilities)
    import prepare_brain_subjects as prepare  # noqa: E402

    os.makedirs(work, exist_ok=True)
    # 1. A 3 x 4 x 5 (x, y, z) volume stored in the order z, x, y, rotated 30 degrees about z.
    angle = np.deg2rad(30.0)
    cos_x = [np.cos(angle), np.sin(angle), 0.0]
    cos_y = [-np.sin(angle), np.cos(angle), 0.0]
    header = {"order": ["zspace", "xspace", "yspace"],
              "xspace": {"start": 10.0, "space_length": 3, "step": -1.5, "direction_cosines": cos_x},
              "yspace": {"start": -4.0, "space_length": 4, "step": 2.0, "direction_cosines": cos_y},
              "zspace": {"start": 7.0, "space_length": 5, "step": 3.0, "direction_cosines": [0.0, 0.0, 1.0]}}
    stored = np.arange(5 * 3 * 4, dtype=np.uint8).reshape(5, 3, 4)  # (z, x, y)
    header_path = os.path.join(work, "tiny.mnc.header.gz")
    raw_path = os.path.join(work, "tiny.mnc.raw.gz")
    with gzip.open(header_path, "wt") as f:
        json.dump(header, f)
    with gzip.open(raw_path, "wb") as f:
        f.write(stored.tobytes())
    volume, affine = prepare.minc_json(header_path, raw_path)
    check(volume.shape == (3, 4, 5), f"MINC volume shape {volume.shape}, expected (3, 4, 5)")
    for i, j, k in [(0, 0, 0), (2, 3, 4), (1, 2, 3), (2, 0, 1)]:
        check(volume[i, j, k] == stored[k, i, j], f"MINC voxel ({i}, {j}, {k}) read from the wrong place")
        expected = ((10.0 - 1.5 * i) * np.asarray(cos_x) + (-4.0 + 2.0 * j) * np.asarray(cos_y)
                    + (7.0 + 3.0 * k) * np.asarray([0.0, 0.0, 1.0]))
        world = affine @ np.array([i, j, k, 1.0])
        check(np.allclose(world[:3], expected), f"MINC voxel ({i}, {j}, {k}) at {world[:3]}, expected {expected}")
    # A truncated voxel file is refused.
    with gzip.open(raw_path, "wb") as f:
        f.write(stored.tobytes()[:-1])
    try:
        prepare.minc_json(header_path, raw_path)
        check(False, "a truncated MINC voxel file was accepted")
    except ValueError as error:
        check("uint8 volume" in str(error), f"unclear message for a truncated MINC file: {error}")

    # 2. The prepared subjects.
    names = sorted(n[:-len(".nii.gz")] for n in os.listdir(subjects) if n.endswith(".nii.gz"))
    check({"colin27", "brainsmall", "epi"} <= set(names), f"Debian's subjects missing in {subjects}: {names}")
    npm = os.path.join(os.path.dirname(os.path.abspath(subjects)), "npm")
    if os.path.isdir(os.path.join(npm, "cornerstone-nifti-image-loader")):
        check("almi5" in names, "almi5 was not prepared although its npm package is there")
    if os.path.isdir(os.path.join(npm, "brainbrowser")):
        check({"brainbrowser", "brainbrowser-rescan"} <= set(names), "BrainBrowser's scans were not prepared")
    for name in names:
        image = nibabel.load(os.path.join(subjects, name + ".nii.gz"))
        check(len(image.shape) == 3, f"{name}: {len(image.shape)} dimensions, expected 3")
        codes = nibabel.aff2axcodes(image.affine)
        check(codes[2] == "S", f"{name}: voxel order {codes}: its third axis does not run inferior to superior")
        if name in ("almi5", "brainbrowser", "brainbrowser-rescan"):
            check(codes == ("R", "A", "S"), f"{name}: voxel order {codes}, expected RAS")
        check(all(z > 0 for z in image.header.get_zooms()[:3]), f"{name}: spacing {image.header.get_zooms()}")
    print("prepare_brain_subjects: all checks passed (" + ", ".join(names) + ")")


if __name__ == "__main__":
    main()
