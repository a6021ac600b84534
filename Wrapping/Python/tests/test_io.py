"""Images by path from Python: geometry, axis order, round trips, errors."""
import os

import numpy as np
import pytest

import nsatoolkit

COLIN = "/usr/share/mricron/templates/ch2.nii.gz"


@pytest.mark.skipif(not os.path.exists(COLIN), reason="mricron-data not installed (setup.sh installs it)")
def test_read_colin27_geometry_and_axis_order():
    image = nsatoolkit.read_image(COLIN)
    # Colin27 in mricron-data: 181 x 217 x 181 voxels of 1 mm; NumPy order is (z, y, x).
    assert image.array.shape == (181, 217, 181)
    assert image.spacing == pytest.approx((1.0, 1.0, 1.0))
    assert image.array.dtype == np.float32
    assert len(image.origin) == 3 and len(image.direction) == 3


def test_round_trip_keeps_geometry_and_values(output_dir):
    rng = np.random.default_rng(0)
    array = rng.normal(0, 1, (7, 9, 11)).astype(np.float32)
    direction = ((0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    for name in ("volume.nii.gz", "volume.nrrd", "volume.mha"):
        path = output_dir / name
        nsatoolkit.write_image(path, array, spacing=(3.0, 0.5, 0.75), origin=(10.0, -20.0, 5.5), direction=direction)
        back = nsatoolkit.read_image(path)
        np.testing.assert_array_equal(back.array, array)
        assert back.spacing == pytest.approx((3.0, 0.5, 0.75))
        assert back.origin == pytest.approx((10.0, -20.0, 5.5))
        np.testing.assert_allclose(np.array(back.direction), np.array(direction), atol=1e-6)
    mask = (array > 0).astype(np.uint8)
    nsatoolkit.write_image(output_dir / "mask.nii.gz", mask)
    np.testing.assert_array_equal(nsatoolkit.read_image(output_dir / "mask.nii.gz").array, mask.astype(np.float32))
    # An Image carries its geometry through write_image.
    image = nsatoolkit.read_image(output_dir / "volume.nrrd")
    nsatoolkit.write_image(output_dir / "copy.nii.gz", image)
    assert nsatoolkit.read_image(output_dir / "copy.nii.gz").spacing == pytest.approx(image.spacing)


def test_io_errors_name_the_file(output_dir):
    with pytest.raises(nsatoolkit.InputError, match="no-such-file.nii.gz"):
        nsatoolkit.read_image(output_dir / "no-such-file.nii.gz")
    with pytest.raises(nsatoolkit.OutputError, match="does not exist"):
        nsatoolkit.write_image(output_dir / "missing" / "x.nii.gz", np.zeros((3, 3), np.float32))
    nan = np.zeros((4, 4, 4), np.float32)
    nan[1, 2, 3] = np.nan
    # NRRD: ITK 5.2's NIfTI reader turns NaN voxels into 0 (see Documentation/Python.md).
    nsatoolkit.write_image(output_dir / "nan.nrrd", nan)
    with pytest.raises(nsatoolkit.InputError):
        nsatoolkit.read_image(output_dir / "nan.nrrd")
    assert np.isnan(nsatoolkit.read_image(output_dir / "nan.nrrd", allow_non_finite=True).array[1, 2, 3])
    assert not any(p.name.startswith(".nsa-tmp") for p in output_dir.iterdir())


def _nifti_with_header(path, pixdim=(1.0, 1.0, 1.0), size=(4, 4, 4), value=0.0):
    """A float32 .nii written with struct (NIfTI-1 layout), for headers nibabel would refuse."""
    import struct
    fmt = "<i10s18sihcb8h3f4h8f3fhbb4f2i80s24s2h6f4f4f4f16s4s"
    dim = [3, *size, 1, 1, 1, 1]
    header = struct.pack(fmt, 348, b"", b"", 0, 0, b"r", 0, *dim, 0.0, 0.0, 0.0, 0, 16, 32, 0,
                         1.0, *pixdim, 1.0, 1.0, 1.0, 1.0, 352.0, 1.0, 0.0, 0, 0, 2, 0.0, 0.0, 0.0, 0.0, 0, 0,
                         b"", b"", 1, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, *([0.0] * 12), b"", b"n+1\0")
    data = np.zeros([abs(n) for n in size[::-1]], np.float32)
    data[1, 2, 3] = value
    path.write_bytes(header + b"\0" * 4 + data.tobytes())


def test_hostile_nifti_headers_raise_instead_of_aborting(output_dir):
    # A NaN spacing used to abort inside ITK/vnl and take the interpreter with it.
    _nifti_with_header(output_dir / "nan-pixdim.nii", pixdim=(1.0, float("nan"), 1.0))
    with pytest.raises(nsatoolkit.InputError, match=r"pixdim\[2\] is nan"):
        nsatoolkit.read_image(output_dir / "nan-pixdim.nii")
    _nifti_with_header(output_dir / "negative.nii", size=(4, -4, 4))
    with pytest.raises(nsatoolkit.InputError, match="axis 1 has -4 voxels"):
        nsatoolkit.read_image(output_dir / "negative.nii")
    # NaN voxels of a NIfTI file: refused, also when non-finite values are allowed (ITK
    # would return 0 in their place).
    _nifti_with_header(output_dir / "nan-voxel.nii", value=float("nan"))
    for allow in (False, True):
        with pytest.raises(nsatoolkit.InputError, match=r"voxel \[3, 2, 1\] is nan"):
            nsatoolkit.read_image(output_dir / "nan-voxel.nii", allow_non_finite=allow)
