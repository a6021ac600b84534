"""Prediction from Python equals NSAPredict's, for the tiny model NSATrain's test writes."""
import os
import pathlib
import subprocess

import numpy as np
import pytest

import nsatoolkit

MODEL = os.environ.get("NSA_TINY_MODEL", "")
COLIN = "/usr/share/mricron/templates/ch2.nii.gz"

pytestmark = pytest.mark.skipif(not (MODEL and os.path.exists(MODEL)),
                                reason="run through CTest (Python.pytest.learning needs NSATrain's tiny model)")


def test_predict_file_matches_nsapredict(output_dir):
    model = nsatoolkit.load_model(MODEL, {"device": "cpu"})
    assert model.description["network"]
    score_map, scores = model.predict_file(COLIN)
    assert score_map.shape == (181, 217, 181)
    assert 0.0 <= scores["mean"] <= 1.0
    # The C++ program on the same study and model.
    program = pathlib.Path(os.environ["NSA_BUILD_DIR"]) / "bin" / "NSAPredict"
    out = output_dir / "colin.nii.gz"
    subprocess.run([str(program), "--device", "cpu", MODEL, COLIN, str(out)],
                   check=True, capture_output=True)
    reference = nsatoolkit.read_image(out)
    # Same code path, same threads: identical maps.
    np.testing.assert_array_equal(score_map, reference.array)


def test_predict_array_equals_predict_file():
    model = nsatoolkit.load_model(MODEL, {"device": "cpu"})
    image = nsatoolkit.read_image(COLIN)
    from_array, scores = model.predict(image.array, spacing=image.spacing)
    from_file, file_scores = model.predict_file(COLIN)
    np.testing.assert_array_equal(from_array, from_file)
    assert scores == file_scores


def test_bad_model_and_input(output_dir):
    with pytest.raises(nsatoolkit.InputError, match="no-such-model.pt"):
        nsatoolkit.load_model(output_dir / "no-such-model.pt")
    model = nsatoolkit.load_model(MODEL)
    with pytest.raises(nsatoolkit.InputError, match="NaN"):
        model.predict(np.full((8, 40, 40), np.nan, np.float32))
    with pytest.raises(nsatoolkit.ParameterError, match="case_score"):
        nsatoolkit.load_model(MODEL, {"case_score": "median"})
