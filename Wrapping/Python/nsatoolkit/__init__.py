"""NSA Toolkit from Python: Natural Synthetic Anomalies for medical images.

Arrays use NumPy's axis order, (z, y, x) for volumes and (y, x) for images, with x varying
fastest, the layout of SimpleITK's GetArrayFromImage(). Spacing is given in the same axis
order as the array. See Documentation/Python.md.
"""

import collections as _collections
import json as _json
import sys as _sys

from ._build_info import PYTHON_EXECUTABLE as _BUILT_FOR, PYTHON_VERSION as _BUILT_FOR_VERSION


def _extension_error(error):
    """The compiled extensions load only in the interpreter they were built for (with its numpy);
    `python3` on PATH may be another one (pyenv, conda): say which one to use."""
    return ImportError(
        "nsatoolkit cannot be loaded by this interpreter (%s, Python %d.%d): %s. "
        "It was built for %s (Python %s, with Debian's python3-numpy); run your script with that interpreter, "
        "e.g. `%s script.py`, or rebuild the toolkit with -DPython3_EXECUTABLE=<your python>. "
        "See Documentation/Deployment.md." % (_sys.executable, _sys.version_info[0], _sys.version_info[1], error,
                                              _BUILT_FOR, _BUILT_FOR_VERSION, _BUILT_FOR))


try:
    # The extensions exchange arrays with NumPy but import it only on first use: import it now,
    # so that an interpreter without it fails here, with the message above.
    import numpy as _numpy  # noqa: F401

    from . import _nsatoolkit
except ImportError as _error:
    raise _extension_error(_error) from None
from ._nsatoolkit import __version__, average_precision, evaluate_maps, poisson_blend, roc_auc
from .errors import Error, InputError, OutputError, ParameterError

__all__ = [
    "Error",
    "InputError",
    "OutputError",
    "ParameterError",
    "__version__",
    "average_precision",
    "evaluate_maps",
    "roc_auc",
    "poisson_blend",
    "Image",
    "Model",
    "load_model",
    "read_image",
    "synthesis_parameters",
    "synthesize",
    "Synthesizer",
    "write_image",
]

Image = _collections.namedtuple("Image", ["array", "spacing", "origin", "direction"])
Image.__doc__ = """An image read from a file: `array` in NumPy axis order ((z, y, x) or (y, x)),
`spacing` in the same order as the array axes, `origin` as a physical point (x, y[, z]) in
ITK's LPS coordinates, `direction` as ITK's direction matrix (rows x, y[, z]; column j is the
direction of ITK axis j, i.e. of array axis -1 - j)."""


def read_image(path, series_uid=None, allow_non_finite=False):
    """Reads an image file (NIfTI, NRRD, MHA, PNG, DICOM file) or a DICOM series folder as
    float32 with its geometry (an `Image`). 2D files give 2D arrays. series_uid chooses a
    series in a folder with several; NaN/inf voxels raise InputError unless allowed."""
    result = _nsatoolkit._read_image(str(path), series_uid or "", bool(allow_non_finite))
    return Image(result["array"], tuple(result["spacing"]), tuple(result["origin"]),
                 tuple(tuple(row) for row in result["direction"]))


def write_image(path, array, spacing=None, origin=None, direction=None, compress=True):
    """Writes an array (float32, or uint8/bool as a mask) atomically; the format follows
    the extension (.nii.gz, .nii, .nrrd, .mha, .png). `array` may also be an `Image`, whose
    geometry is used unless given. Raises OutputError naming the file on failure."""
    if isinstance(array, Image):
        spacing = array.spacing if spacing is None else spacing
        origin = array.origin if origin is None else origin
        direction = array.direction if direction is None else direction
        array = array.array
    _nsatoolkit._write_image(array, str(path), None if spacing is None else list(spacing),
                             None if origin is None else list(origin),
                             None if direction is None else [list(row) for row in direction], bool(compress))


def _overrides(parameters):
    if parameters is None:
        return ""
    if not isinstance(parameters, dict):
        raise ParameterError("parameters: expected a dict of parameter keys, got %s" % type(parameters).__name__)
    return _json.dumps(parameters)


def synthesis_parameters(preset=None, parameters=None):
    """The synthesis parameters (a dict with the JSON keys of Data/Presets) of `preset`
    (a name or a JSON file path; None: the defaults), updated by the keys of `parameters`."""
    return _json.loads(_nsatoolkit.synthesis_parameters(preset, _overrides(parameters)))


def synthesize(destination, source=None, mask=None, source_mask=None, *, spacing=None, source_spacing=None,
               preset=None, parameters=None, seed=0, epoch=0, index=0):
    """One NSA training example: patches of `source` (default: `destination` itself)
    resized, moved and blended into `destination`.

    destination, source: 2D or 3D float arrays, NumPy axis order; mask, source_mask:
    optional uint8 object masks (non-zero = object) on the same grids. spacing,
    source_spacing: voxel sizes in array axis order (default 1). preset: a preset name (e.g.
    "brain-mri") or a JSON path; parameters: a dict of synthesis keys overriding it. The
    random stream is (seed, epoch, index), as for NSASynthesize and the trainer.

    Returns (image, label, record): the anomalous image and its float label (arrays of the
    destination's shape) and a dict describing every patch (boxes, scale, status).
    Raises ParameterError, InputError with the toolkit's messages.
    """
    image, label, record = _nsatoolkit._synthesize(
        destination, source, mask, source_mask, spacing, source_spacing, preset, _overrides(parameters),
        int(seed), int(epoch), int(index))
    return image, label, record


class Synthesizer:
    """NSA synthesis with its parameters resolved once, for code that synthesises many
    examples (a data loader): `preset` and `parameters` as for synthesize(), read and
    checked here rather than on every call.

    synthesizer(destination, source=None, mask=None, source_mask=None, *, spacing=None,
    source_spacing=None, seed=0, epoch=0, index=0, out=None, record=True) gives exactly
    what synthesize() gives for the same arguments. out=(image, label): two writable
    C-contiguous float32 arrays of the destination's shape that receive the result and are
    returned (reused across calls: no new arrays); record=False skips building the record
    dict (None is returned in its place). Raises ParameterError, InputError.
    """

    def __init__(self, preset=None, parameters=None):
        self._synthesizer = _nsatoolkit._Synthesizer(preset, _overrides(parameters))
        self.parameters = _json.loads(self._synthesizer.parameters_json())

    def __call__(self, destination, source=None, mask=None, source_mask=None, *, spacing=None, source_spacing=None,
                 seed=0, epoch=0, index=0, out=None, record=True):
        if out is not None and (not isinstance(out, (tuple, list)) or len(out) != 2):
            raise InputError("out: expected a pair of arrays (image, label)")
        return self._synthesizer.synthesize(
            destination, source, mask, source_mask, spacing, source_spacing, int(seed), int(epoch), int(index),
            None if out is None else out[0], None if out is None else out[1], bool(record))


class Model:
    """A trained NSA model (a file written by NSATrain) ready to predict.

    predict(array, spacing=None) normalises the array with the model's saved normalisation
    (exactly as training did), runs the network (2D models slice by slice across the
    model's slice axis, 3D models by sliding windows) and returns (score_map, scores):
    the map has the array's shape, scores is a dict with "mean" (the paper's case score),
    "percentile", "top_k_mean" and "selected" (the model's case_score choice).
    predict_file(path) does the same for a study on disk, as NSAPredict does.
    """

    def __init__(self, path, prediction=None):
        try:
            from . import _nsalearning  # loads LibTorch only when a model is used
        except ImportError as error:
            raise _extension_error(error) from None

        self._model = _nsalearning.Model(str(path), _overrides(prediction))
        self.description = _json.loads(self._model.description_json())

    def predict(self, array, spacing=None):
        return self._model.predict(array, None if spacing is None else list(spacing))

    def predict_file(self, path, modality=""):
        return self._model.predict_file(str(path), modality)


def load_model(path, prediction=None):
    """Loads a model file; `prediction` is a dict of prediction keys overriding the model's
    own (e.g. {"case_score": "percentile", "device": "cpu"})."""
    return Model(path, prediction)
