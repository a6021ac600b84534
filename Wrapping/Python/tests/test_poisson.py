"""poisson_blend from NumPy: axis order, spacing, exactness outside the mask, errors."""
import threading

import numpy as np
import pytest

import nsatoolkit


def box_mask(shape, lo, hi):
    mask = np.zeros(shape, np.uint8)
    mask[tuple(slice(a, b) for a, b in zip(lo, hi))] = 1
    return mask


def test_self_blend_returns_destination_and_outside_is_exact():
    rng = np.random.default_rng(0)
    dst = rng.normal(100.0, 20.0, (40, 50)).astype(np.float32)
    mask = box_mask(dst.shape, (10, 12), (30, 40))
    out = nsatoolkit.poisson_blend(dst, dst, mask)
    assert out.shape == dst.shape and out.dtype == np.float32
    # Blending an image into itself solves Laplace(u) = Laplace(dst) with dst on the boundary:
    # dst is the solution; 1e-4 of the intensity range is the bound for float32 solves.
    assert np.max(np.abs(out - dst)) <= 1e-4 * (dst.max() - dst.min())
    np.testing.assert_array_equal(out[mask == 0], dst[mask == 0])


def test_constant_offset_source_gives_destination_3d():
    rng = np.random.default_rng(1)
    dst = rng.uniform(0, 1, (12, 16, 20)).astype(np.float32)
    mask = box_mask(dst.shape, (3, 4, 5), (9, 12, 15))
    out = nsatoolkit.poisson_blend(dst, dst + 50.0, mask, gradients="source")
    assert np.max(np.abs(out - dst)) < 1e-4


def test_axis_order_matches_numpy_layout():
    # A bump in the source at array position (row 10, column 30) of a non-square image must
    # appear at that same array position in the result: the array is not transposed or
    # reshaped on its way through ITK and back.
    shape = (32, 48)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    bump = 100.0 * np.exp(-((rows - 10) ** 2 + (cols - 30) ** 2) / 8.0).astype(np.float32)
    dst = np.full(shape, 10.0, np.float32)
    mask = box_mask(shape, (3, 20), (18, 42))
    out = nsatoolkit.poisson_blend(dst, bump.astype(np.float32), mask)
    assert np.unravel_index(np.argmax(out), shape) == (10, 30)
    # And the transposed problem gives the transposed answer.
    out_t = nsatoolkit.poisson_blend(dst.T.copy(), bump.T.copy(), mask.T.copy())
    np.testing.assert_allclose(out_t.T, out, atol=1e-4)


def test_spacing_is_in_array_axis_order():
    # Anisotropic spacing changes the solution; giving the spacing in array order must equal
    # transposing the problem and giving the reversed spacing.
    rng = np.random.default_rng(2)
    dst = rng.uniform(0, 1, (30, 34)).astype(np.float32)
    src = rng.uniform(0, 5, (30, 34)).astype(np.float32)
    mask = box_mask(dst.shape, (5, 6), (25, 28))
    a = nsatoolkit.poisson_blend(dst, src, mask, spacing=(3.0, 1.0))
    b = nsatoolkit.poisson_blend(dst.T.copy(), src.T.copy(), mask.T.copy(), spacing=(1.0, 3.0))
    np.testing.assert_allclose(a, b.T, atol=1e-4)
    iso = nsatoolkit.poisson_blend(dst, src, mask)
    assert np.max(np.abs(a - iso)) > 1e-2


def test_non_contiguous_and_float64_inputs_are_accepted():
    rng = np.random.default_rng(3)
    dst = rng.uniform(0, 1, (40, 40))  # float64
    mask = box_mask(dst.shape, (5, 5), (20, 20))
    out = nsatoolkit.poisson_blend(dst[::2, ::2], dst[::2, ::2], mask[::2, ::2])
    assert out.shape == (20, 20)
    np.testing.assert_allclose(out, dst[::2, ::2].astype(np.float32), atol=1e-4)


def test_concurrent_calls_from_threads_agree():
    rng = np.random.default_rng(4)
    dst = rng.uniform(0, 1, (64, 64)).astype(np.float32)
    src = rng.uniform(0, 1, (64, 64)).astype(np.float32)
    mask = box_mask(dst.shape, (10, 10), (50, 54))
    reference = nsatoolkit.poisson_blend(dst, src, mask, gradients="mixed")
    results = [None] * 4

    def work(i):
        results[i] = nsatoolkit.poisson_blend(dst, src, mask, gradients="mixed")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        np.testing.assert_array_equal(result, reference)


def test_bad_input_raises_documented_exceptions():
    dst = np.zeros((20, 20), np.float32)
    with pytest.raises(nsatoolkit.InputError, match="same shape"):
        nsatoolkit.poisson_blend(dst, np.zeros((20, 21), np.float32), np.zeros((20, 20), np.uint8))
    with pytest.raises(nsatoolkit.ParameterError, match="gradients: 'strong' is not one of"):
        nsatoolkit.poisson_blend(dst, dst, box_mask(dst.shape, (5, 5), (10, 10)), gradients="strong")
    with pytest.raises(nsatoolkit.ParameterError, match="spacing: expected 2 values"):
        nsatoolkit.poisson_blend(dst, dst, box_mask(dst.shape, (5, 5), (10, 10)), spacing=(1, 1, 1))
    with pytest.raises(nsatoolkit.InputError, match="2D or 3D"):
        nsatoolkit.poisson_blend(np.zeros(5, np.float32), np.zeros(5, np.float32), np.zeros(5, np.uint8))
    # Empty mask and NaN are refused by the filter itself, with its message.
    with pytest.raises(nsatoolkit.Error):
        nsatoolkit.poisson_blend(dst, dst, np.zeros((20, 20), np.uint8))
    nan = dst.copy()
    nan[10, 10] = np.nan
    with pytest.raises(nsatoolkit.Error):
        nsatoolkit.poisson_blend(nan, dst, box_mask(dst.shape, (5, 5), (15, 15)))
    assert issubclass(nsatoolkit.ParameterError, ValueError)
