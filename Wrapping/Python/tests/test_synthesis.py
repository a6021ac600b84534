"""synthesize() from NumPy: determinism, shapes, labels, presets, threads, errors."""
import hashlib
import os
import threading

import numpy as np
import pytest

import nsatoolkit


def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def texture():
    rng = np.random.default_rng(7)
    base = rng.normal(0.5, 0.1, (96, 112)).astype(np.float32)
    # Smooth structure so that Poisson blending has gradients to work with.
    y, x = np.mgrid[0:96, 0:112]
    return base + 0.3 * np.sin(x / 7.0).astype(np.float32) * np.cos(y / 11.0).astype(np.float32)


def test_same_seed_same_result_different_seed_different(texture):
    a = nsatoolkit.synthesize(texture, seed=5, index=3)
    b = nsatoolkit.synthesize(texture, seed=5, index=3)
    c = nsatoolkit.synthesize(texture, seed=6, index=3)
    assert digest(a[0], a[1]) == digest(b[0], b[1])
    assert a[2] == b[2]
    assert digest(a[0], a[1]) != digest(c[0], c[1])


def test_shapes_dtypes_and_label_support(texture):
    image, label, record = nsatoolkit.synthesize(texture, seed=11, parameters={"label_mode": "binary"})
    assert image.shape == texture.shape and label.shape == texture.shape
    assert image.dtype == np.float32 and label.dtype == np.float32
    assert set(np.unique(label)).issubset({0.0, 1.0})
    changed = image != texture
    # Labels are zero where nothing changed (the label marks changed voxels only).
    assert np.all(label[~changed] == 0)
    assert record["patches"], record


def test_three_d_with_spacing_and_source():
    rng = np.random.default_rng(8)
    dst = rng.normal(0.5, 0.1, (24, 40, 36)).astype(np.float32)
    src = rng.normal(0.2, 0.1, (20, 44, 30)).astype(np.float32)
    image, label, record = nsatoolkit.synthesize(dst, src, spacing=(2.5, 1.0, 1.0), source_spacing=(2.0, 1.0, 1.0),
                                                 seed=2, parameters={"blend_mode": "swap", "label_mode": "binary"})
    assert image.shape == dst.shape
    assert label.max() == 1.0
    assert np.all(label[image == dst] == 0)
    # Every changed voxel lies inside a recorded destination box; record indices are ITK's
    # (x, y, z), the reverse of the array's axis order.
    inside = np.zeros(dst.shape, bool)
    for patch in record["patches"]:
        if patch["status"] == "blended":
            (x, y, z), (sx, sy, sz) = patch["destination_index"], patch["destination_size"]
            inside[z : z + sz, y : y + sy, x : x + sx] = True
    assert np.all(inside[image != dst])


def test_presets_and_parameter_dicts():
    params = nsatoolkit.synthesis_parameters("brain-mri")
    assert "num_patches" in params and "blend_mode" in params
    merged = nsatoolkit.synthesis_parameters("brain-mri", {"num_patches": 1})
    assert merged["num_patches"] == 1
    with pytest.raises(nsatoolkit.ParameterError, match="unknown key 'num_patchez'"):
        nsatoolkit.synthesis_parameters(None, {"num_patchez": 1})
    with pytest.raises(nsatoolkit.ParameterError, match="num_patches: 0 is out of range"):
        nsatoolkit.synthesis_parameters(None, {"num_patches": 0})
    with pytest.raises(nsatoolkit.ParameterError, match="preset 'no-such-preset' not found"):
        nsatoolkit.synthesis_parameters("no-such-preset")


def test_concurrent_calls_with_different_seeds_match_serial(texture):
    serial = [digest(*nsatoolkit.synthesize(texture, seed=s)[:2]) for s in range(6)]
    threaded = [None] * 6

    def work(s):
        threaded[s] = digest(*nsatoolkit.synthesize(texture, seed=s)[:2])

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert threaded == serial


def test_bad_input(texture):
    with pytest.raises(nsatoolkit.InputError, match="NaN"):
        bad = texture.copy()
        bad[3, 3] = np.nan
        nsatoolkit.synthesize(bad)
    with pytest.raises(nsatoolkit.InputError, match="source: contains NaN"):
        bad = texture.copy()
        bad[5, 5] = np.inf
        nsatoolkit.synthesize(texture, bad)
    with pytest.raises(nsatoolkit.InputError, match="2D or 3D"):
        nsatoolkit.synthesize(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(nsatoolkit.InputError, match="source: expected a 2D array"):
        nsatoolkit.synthesize(texture, np.zeros((4, 4, 4), np.float32))
    with pytest.raises(nsatoolkit.ParameterError):
        nsatoolkit.synthesize(texture, parameters=["num_patches", 3])


def test_identical_to_nsasynthesize(output_dir, texture):
    """The same seed and input give the same image, label and record as the C++ program."""
    import json
    import pathlib
    import subprocess

    program = pathlib.Path(os.environ.get("NSA_BUILD_DIR", "")) / "bin" / "NSASynthesize"
    if not program.exists():
        pytest.skip("NSASynthesize not built")
    source = output_dir / "texture.nrrd"
    nsatoolkit.write_image(source, texture, spacing=(0.8, 1.2))
    for seed in (3, 4):
        subprocess.run([str(program), "--preset", "brain-mri", "--seed", str(seed), "--count", "2", "--output_record",
                        str(output_dir / "record.json"), str(source), str(output_dir / "image.nrrd"),
                        str(output_dir / "label.nrrd")], check=True, capture_output=True)
        record = json.loads((output_dir / "record.json").read_text())
        for index in range(2):
            image, label, python_record = nsatoolkit.synthesize(texture, spacing=(0.8, 1.2), preset="brain-mri",
                                                                seed=seed, index=index)
            cli_image = nsatoolkit.read_image(output_dir / ("image_%d.nrrd" % index))
            cli_label = nsatoolkit.read_image(output_dir / ("label_%d.nrrd" % index))
            np.testing.assert_array_equal(image, cli_image.array)
            np.testing.assert_array_equal(label, cli_label.array)
            assert cli_image.spacing == pytest.approx((0.8, 1.2))
            samples = record["samples"] if isinstance(record, dict) else record
            assert samples[index]["record"] == python_record


def test_synthesizer_matches_synthesize_and_reuses_out_buffers(texture):
    """nsatoolkit.Synthesizer (issue 17): parameters resolved once, optional output buffers
    reused across calls and an optional record; the same bits as synthesize()."""
    other = np.ascontiguousarray(texture[::-1]) + np.float32(0.1)
    parameters = {"num_patches": 4, "label_mode": "logistic-intensity", "blend_mode": "poisson-mixed"}
    synthesizer = nsatoolkit.Synthesizer("brain-mri", parameters)
    assert synthesizer.parameters == nsatoolkit.synthesis_parameters("brain-mri", parameters)
    out = (np.empty_like(texture), np.empty_like(texture))
    for index in range(4):
        expected = nsatoolkit.synthesize(texture, other, preset="brain-mri", parameters=parameters, seed=3, index=index)
        plain = synthesizer(texture, other, seed=3, index=index)
        image, label, record = synthesizer(texture, other, seed=3, index=index, out=out, record=False)
        assert image is out[0] and label is out[1] and record is None
        assert digest(*expected[:2]) == digest(*plain[:2]) == digest(image, label)
        assert plain[2] == expected[2]
    with pytest.raises(nsatoolkit.InputError):
        synthesizer(texture, out=(np.empty((3, 3), np.float32), out[1]))
    with pytest.raises(nsatoolkit.InputError):
        synthesizer(texture, out=(out[0].astype(np.float64), out[1]))
    with pytest.raises(nsatoolkit.InputError):
        synthesizer(texture, out=(out[0], out[0]))
    with pytest.raises(nsatoolkit.InputError):
        synthesizer(texture, out=(texture, out[1]))  # the destination as its own output
    with pytest.raises(nsatoolkit.ParameterError):
        nsatoolkit.Synthesizer(parameters={"num_patches": 0})


def test_preset_file_changes_are_seen_between_calls(tmp_path, texture):
    """synthesize() remembers resolved presets (issue 17) but re-reads a file that changed."""
    import json
    path = tmp_path / "my-preset.json"
    preset = {"name": "my-preset", "synthesis": {"num_patches": 1, "label_mode": "binary"}}
    path.write_text(json.dumps(preset))
    first = nsatoolkit.synthesize(texture, preset=str(path), seed=4)
    assert len(first[2]["patches"]) == 1
    preset["synthesis"]["num_patches"] = 5
    path.write_text(json.dumps(preset) + "\n")  # another size, whatever the clock's resolution
    second = nsatoolkit.synthesize(texture, preset=str(path), seed=4)
    assert len(second[2]["patches"]) == 5
    path.unlink()
    with pytest.raises(nsatoolkit.Error):
        nsatoolkit.synthesize(texture, preset=str(path), seed=4)
