"""The NSA network in PyTorch, built from a model file written by NSATrain, and its export.

A model file is a LibTorch archive: its `configuration` attribute is the JSON description
(network, normalisation, prediction, training, ...) and its `network` submodule holds the
weights and batch-norm statistics under PyTorch's names (Documentation/Learning.md, "Model
files"). This module rebuilds the network from that description alone, with the same module
names as the C++ network (`layer1.0.conv1`, `uplayer1.0.upsample.1`, `convtranspose1`), loads
the weights strictly and exports the result:

    import nsatoolkit.torch as nt
    network, description = nt.load_network("brain.pt")      # torch.nn.Module in eval mode
    nt.export_onnx("brain.pt", "brain.onnx")                 # + brain.onnx.json
    nt.export_torchscript("brain.pt", "brain.torchscript.pt")  # + brain.torchscript.pt.json

or from a shell: `python3 -m nsatoolkit.torch onnx brain.pt brain.onnx`.

The exported network maps a normalised, padded input to scores; what a deployer must do
around it (normalisation, slicing, padding, spacing) is written beside the file as JSON
(`deployment_description`) and done by `predict_array` for 2D models, which reproduces
NSAPredict (Documentation/Deployment.md).

Needs PyTorch (Debian's python3-torch 1.13); written for the NSA Toolkit from the paper's
published architecture (Schlueter et al., ECCV 2022), not copied from its code.
"""

import json
import math
import os
import sys
import tempfile
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from .errors import InputError, OutputError, ParameterError

__all__ = [
    "NSANetwork",
    "deployment_description",
    "export_network_onnx",
    "export_onnx",
    "export_torchscript",
    "load_network",
    "normalise",
    "predict_array",
    "read_model_file",
]

#: ONNX opset of export_onnx: 13 is the lowest with every operator the network needs in the
#: form it is exported (Resize with align_corners, BatchNormalization without training outputs)
#: and is read by every onnxruntime since 1.6.
ONNX_OPSET = 13
#: The encoder halves every spatial size five times.
SIZE_DIVISOR = 32


def _channels(paper_channels, width):
    # C++'s std::lround (halves away from zero), not Python's round (halves to even).
    return max(1, int(math.floor(paper_channels * width + 0.5)))


class _Layers:
    """Conv / ConvTranspose / BatchNorm / max-pool / upsampling of one spatial dimension."""

    def __init__(self, dimension):
        if dimension not in (2, 3):
            raise ParameterError("network.dimension: %r is not 2 or 3" % (dimension,))
        self.dimension = dimension
        self.conv = nn.Conv2d if dimension == 2 else nn.Conv3d
        self.conv_transpose = nn.ConvTranspose2d if dimension == 2 else nn.ConvTranspose3d
        self.batch_norm = nn.BatchNorm2d if dimension == 2 else nn.BatchNorm3d
        self.max_pool = nn.MaxPool2d if dimension == 2 else nn.MaxPool3d
        self.mode = "bilinear" if dimension == 2 else "trilinear"


class _BasicBlock(nn.Module):
    """The encoder's residual block: conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus the
    identity or a 1x1 conv - BN "downsample" shortcut, then ReLU."""

    def __init__(self, layers, cin, cout, stride):
        super().__init__()
        self.conv1 = layers.conv(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = layers.batch_norm(cout)
        self.conv2 = layers.conv(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = layers.batch_norm(cout)
        # nn.Identity holds no tensor, so the state dict keeps the C++ network's names.
        self.downsample = (nn.Sequential(layers.conv(cin, cout, 1, stride, bias=False), layers.batch_norm(cout))
                           if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.downsample(x))


class _TransposeBlock(nn.Module):
    """The decoder's residual block: transposed conv3x3 (stride, output padding 1) - BN - ReLU -
    conv3x3 - BN, plus a 1x1 transposed conv - BN "upsample" shortcut, then ReLU."""

    def __init__(self, layers, cin, cout, stride, final_relu=True):
        super().__init__()
        self.final_relu = final_relu
        self.conv1 = layers.conv_transpose(cin, cout, 3, stride, 1, output_padding=1, bias=False)
        self.bn1 = layers.batch_norm(cout)
        self.conv2 = layers.conv(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = layers.batch_norm(cout)
        self.upsample = (nn.Sequential(
            layers.conv_transpose(cin, cout, 1, stride, output_padding=stride - 1, bias=False),
            layers.batch_norm(cout)) if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.upsample(x)
        return torch.relu(out) if self.final_relu else out


class NSANetwork(nn.Module):
    """The NSA paper's ResNet-18 encoder-decoder (`resnet18-enc-dec`) in 2D or 3D, exactly as
    the toolkit's LibTorch network: input [N, C, H, W] (3D: [N, C, D, H, W]) with every spatial
    size a multiple of 32, output [N, 1, ...] of the same size after the output activation.

    `network` is the "network" section of a model description: dimension, width_multiplier,
    input_channels, output_activation (sigmoid, relu or identity), output_bias, final_relu."""

    def __init__(self, network):
        super().__init__()
        architecture = network.get("architecture", "resnet18-enc-dec")
        if architecture != "resnet18-enc-dec":
            raise ParameterError("network.architecture: %r is not resnet18-enc-dec" % (architecture,))
        layers = _Layers(int(network.get("dimension", 2)))
        width = float(network.get("width_multiplier", 1.0))
        in_channels = int(network.get("input_channels", 1))
        self.output_activation = network.get("output_activation", "sigmoid")
        if self.output_activation not in ("sigmoid", "relu", "identity"):
            raise ParameterError("network.output_activation: %r is not sigmoid, relu or identity"
                                 % (self.output_activation,))
        self.dimension = layers.dimension
        self.mode = layers.mode
        c = lambda n: _channels(n, width)  # noqa: E731
        self.conv1 = layers.conv(in_channels, c(64), 7, 2, 3, bias=False)
        self.bn1 = layers.batch_norm(c(64))
        self.maxpool = layers.max_pool(3, 2, 1)
        cin = c(64)
        for i, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
            setattr(self, "layer%d" % (i + 1), nn.Sequential(_BasicBlock(layers, cin, c(planes), stride),
                                                             _BasicBlock(layers, c(planes), c(planes), 1)))
            cin = c(planes)
        self.nin = nn.Sequential(layers.conv(c(512), c(256), 1, bias=False), nn.ReLU(),
                                 layers.conv(c(256), c(128), 1, bias=False), nn.ReLU())
        cin = c(128)
        for i, planes in enumerate([64, 32, 16]):
            # network.final_relu false: the last block's sum reaches convtranspose1 before its ReLU.
            final_relu = i < 2 or bool(network.get("final_relu", True))
            setattr(self, "uplayer%d" % (i + 1),
                    nn.Sequential(_TransposeBlock(layers, cin, c(planes), 2, final_relu)))
            cin = c(planes)
        self.convtranspose1 = layers.conv_transpose(c(16), 1, 7, 2, 3, output_padding=1,
                                                    bias=bool(network.get("output_bias", False)))
        # The paper's initialisation, for networks trained from Python: Kaiming normal (fan-out,
        # ReLU) for convolutions (not the transposed ones), BN weight 1 and bias 0 (the default).
        for module in self.modules():
            if isinstance(module, layers.conv):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.nin(x)
        x = self.uplayer3(self.uplayer2(self.uplayer1(x)))
        x = functional.interpolate(x, scale_factor=2.0, mode=self.mode, align_corners=True)
        x = self.convtranspose1(x)
        if self.output_activation == "sigmoid":
            return torch.sigmoid(x)
        if self.output_activation == "relu":
            return torch.relu(x)
        return x


def read_model_file(path):
    """(description, state_dict) of a model file written by NSATrain (or nsa::Model::Save):
    the JSON description as a dict and the network's parameters and buffers by name.
    Raises InputError naming the file when it is missing or not a toolkit model."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError("model file '%s': no such file" % path)
    try:
        archive = torch.jit.load(path, map_location="cpu")
    except Exception as error:  # torch raises RuntimeError or ValueError subclasses
        raise InputError("model file '%s': not a LibTorch archive (%s)" % (path, str(error).splitlines()[0])) from None
    if getattr(archive, "format", None) != "nsa-model-1" or not hasattr(archive, "network"):
        raise InputError("model file '%s': not an NSA Toolkit model (no 'format' nsa-model-1 and 'network')" % path)
    try:
        description = json.loads(archive.configuration)
    except (AttributeError, ValueError) as error:
        raise InputError("model file '%s': its configuration is not JSON (%s)" % (path, error)) from None
    state = {name: tensor.detach().clone() for name, tensor in archive.network.named_parameters()}
    state.update({name: tensor.detach().clone() for name, tensor in archive.network.named_buffers()})
    return description, state


def load_network(path):
    """(network, description): the NSANetwork a model file describes, its weights loaded
    (strictly: every name and shape must match), in evaluation mode on the CPU."""
    description, state = read_model_file(path)
    network = NSANetwork(description.get("network", {}))
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise InputError("model file '%s': its weights do not fit the network it describes: %s"
                         % (os.fspath(path), error)) from None
    network.eval()
    return network, description


def deployment_description(description, file_format, file_name, opset=None):
    """What a deployer needs beside an exported network (written as JSON by the exports)."""
    network = description.get("network", {})
    prediction = description.get("prediction", {})
    training = description.get("training", {})
    normalisation = description.get("normalisation", {})
    dimension = int(network.get("dimension", 2))
    spatial = ["height", "width"] if dimension == 2 else ["depth", "height", "width"]
    output_range = normalisation.get("output_range") or [0.0, 1.0]
    result = {
        "format": "nsa-deployment-1",
        "file": file_name,
        "file_format": file_format,
        "input": {
            "name": "image",
            "layout": ["batch", "channels"] + spatial,
            "dtype": "float32",
            "channels": int(network.get("input_channels", 1)),
            "dynamic_axes": ["batch"] + spatial,
            "spatial_multiple": SIZE_DIVISOR,
            "padding": {
                "value": float(output_range[0]),
                "placement": "centred: before = (padded - size) // 2 on each spatial axis",
            },
        },
        "output": {
            "name": "scores",
            "layout": ["batch", 1] + spatial,
            "dtype": "float32",
            "activation": network.get("output_activation", "sigmoid"),
            "range": [0.0, 1.0] if network.get("output_activation", "sigmoid") == "sigmoid" else None,
            "crop": "remove the padding added to the input",
        },
        "normalisation": dict(normalisation, foreground=(
            "voxels above foreground_threshold" if normalisation.get("foreground_threshold") is not None
            else "voxels above the channel's minimum"),
            percentile_method="linear interpolation between order statistics, rank p/100*(n-1) (numpy's default)",
            formula="out = output_range[0] + (v - low) * (output_range[1] - output_range[0]) / (high - low), "
                    "then clipped to output_range when clip"),
        "spacing": {
            "millimetres": training.get("spacing") or None,
            "meaning": ("none: the network sees the study at its own voxel spacing" if not training.get("spacing")
                        else "resample the normalised study to this spacing (x, y[, z]; 2D models: in-plane, the "
                             "slice axis keeps its own) before the network and map the scores back (linear)"),
        },
        "slicing": ({
            "slice_axis_itk": int(prediction.get("slice_axis", 2)),
            "numpy_axis_of_zyx_array": 2 - int(prediction.get("slice_axis", 2)),
            "meaning": "a 2D model scores a volume slice by slice across this axis",
        } if dimension == 2 else {
            "window_size_xyz": prediction.get("window_size") or training.get("crop_size") or None,
            "window_overlap": prediction.get("window_overlap", 0.5),
            "meaning": "a 3D model scores a volume by Gaussian-weighted sliding windows (sigma = window / 8)",
        }),
        "case_score": {
            "selected": prediction.get("case_score", "mean"),
            "score_percentile": prediction.get("score_percentile"),
            "top_k_fraction": prediction.get("top_k_fraction"),
            "score_mask": prediction.get("score_mask", "none"),
        },
        "network": network,
        "preset": description.get("preset"),
        "reference": "Documentation/Deployment.md of the NSA Toolkit",
    }
    if opset is not None:
        result["opset"] = opset
    return result


def _atomic_write(out, write, description_json):
    """Writes `out` (by write(temporary_path)) and `out`.json, both through temporary files in
    the same folder renamed on success, so a failure leaves neither half-written."""
    out = os.fspath(out)
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise OutputError("'%s': the folder '%s' does not exist" % (out, folder))
    paths = []
    try:
        for suffix in ("", ".json"):
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".%s" % os.path.basename(out + suffix),
                                                 suffix=".tmp")
            os.close(handle)
            paths.append(temporary)
        write(paths[0])
        with open(paths[1], "w") as stream:
            json.dump(description_json, stream, indent=2)
            stream.write("\n")
        mask = os.umask(0)
        os.umask(mask)
        for path in paths:  # mkstemp creates files readable by their owner only
            os.chmod(path, 0o666 & ~mask)
        os.replace(paths[0], out)
        os.replace(paths[1], out + ".json")
    except OSError as error:
        raise OutputError("'%s': cannot be written (%s)" % (out, error)) from None
    finally:
        for path in paths:
            if os.path.exists(path):
                os.remove(path)


def _example_input(network, description, size):
    dimension = network.dimension
    channels = int(description.get("network", {}).get("input_channels", 1))
    return torch.zeros([1, channels] + [size] * dimension, dtype=torch.float32)


def export_onnx(model_file, out, opset=ONNX_OPSET):
    """Writes the network of `model_file` as ONNX (input "image", output "scores", batch and
    spatial axes dynamic) and `out`.json with what a deployer needs. Returns the description
    written to the JSON."""
    network, description = load_network(model_file)
    return export_network_onnx(network, description, out, opset)


def export_network_onnx(network, description, out, opset=ONNX_OPSET):
    """export_onnx for a network already built (an NSANetwork in eval mode) and its model
    description (a dict with at least the "network" section)."""
    example = _example_input(network, description, 64)
    spatial = ["height", "width"] if network.dimension == 2 else ["depth", "height", "width"]
    axes = {0: "batch"}
    axes.update({2 + i: name for i, name in enumerate(spatial)})

    def write(path):
        # torch 1.13's exporter warns about shape inference of constants it then resolves.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            torch.onnx.export(network, example, path, opset_version=int(opset), input_names=["image"],
                              output_names=["scores"], dynamic_axes={"image": axes, "scores": dict(axes)},
                              do_constant_folding=True)

    deployment = deployment_description(description, "onnx", os.path.basename(os.fspath(out)), int(opset))
    _atomic_write(out, write, deployment)
    return deployment


def export_torchscript(model_file, out):
    """Writes the network of `model_file` as TorchScript (torch.jit.script; load it with
    torch.jit.load in Python or C++) and `out`.json. Returns the JSON's description."""
    network, description = load_network(model_file)
    scripted = torch.jit.script(network)

    def write(path):
        scripted.save(path)

    deployment = deployment_description(description, "torchscript", os.path.basename(os.fspath(out)))
    _atomic_write(out, write, deployment)
    return deployment


# ---------------------------------------------------------------------------------------
# Around the network: what NSAPredict does for a 2D model, in NumPy.

def normalise(array, normalisation):
    """The model's intensity normalisation of one channel (a float array), as the toolkit's
    nsa::Normalise does it: modes none, window, minmax and percentile (foreground: voxels above
    foreground_threshold if set, else above the minimum; linear percentiles)."""
    values = np.asarray(array, dtype=np.float32)
    mode = normalisation.get("mode", "percentile")
    if mode == "none":
        return values.copy()
    low_out, high_out = [float(v) for v in (normalisation.get("output_range") or [0.0, 1.0])]
    if mode == "window":
        low, high = [float(v) for v in normalisation["window"]]
    elif mode == "minmax":
        low, high = float(values.min()), float(values.max())
    elif mode == "percentile":
        threshold = normalisation.get("foreground_threshold")
        minimum = values.min()
        inside = values[values > (np.float32(threshold) if threshold is not None else minimum)]
        if inside.size == 0:
            raise InputError("normalisation: the foreground is empty")
        p_low, p_high = [float(v) for v in normalisation.get("percentiles", [1.0, 99.0])]
        low, high = np.percentile(inside.astype(np.float64), [p_low, p_high])
    else:
        raise ParameterError("normalisation.mode: %r is not none, window, minmax or percentile" % (mode,))
    if not high > low:
        raise InputError("normalisation (%s): the foreground is constant and cannot be normalised" % mode)
    result = low_out + (values.astype(np.float64) - low) * (high_out - low_out) / (high - low)
    if normalisation.get("clip", True):
        result = np.clip(result, low_out, high_out)
    return result.astype(np.float32)


def predict_array(run, array, description, batch_size=None):
    """The score map of a volume (NumPy (z, y, x), one channel) by a 2D model, as NSAPredict
    computes it: normalisation, slices across the model's slice axis, centred padding to
    multiples of 32 with the lowest normalised value, `run` on batches of slices
    (a callable: float32 [N, 1, H, W] -> [N, 1, H, W], e.g. an ONNX session), crop, restack.
    Models that record training.spacing or score_mask "otsu", and 3D models, need the
    toolkit's resampling and sliding windows: use nsatoolkit.load_model or NSAPredict."""
    network = description.get("network", {})
    if int(network.get("dimension", 2)) != 2 or int(network.get("input_channels", 1)) != 1:
        raise ParameterError("predict_array: only one-channel 2D models; use nsatoolkit.load_model for others")
    if description.get("training", {}).get("spacing"):
        raise ParameterError("predict_array: the model resamples to training.spacing; use nsatoolkit.load_model")
    prediction = description.get("prediction", {})
    if prediction.get("score_mask", "none") != "none":
        raise ParameterError("predict_array: score_mask %r needs the toolkit's object mask; use nsatoolkit.load_model"
                             % prediction.get("score_mask"))
    volume = np.asarray(array, dtype=np.float32)
    if volume.ndim == 2:
        volume = volume[np.newaxis]
    if volume.ndim != 3:
        raise InputError("predict_array: expected a 2D or 3D array, got %d dimensions" % volume.ndim)
    normalised = normalise(volume, description.get("normalisation", {}))
    axis = 2 - int(prediction.get("slice_axis", 2))  # ITK axis a is NumPy axis 2 - a
    if volume.shape[axis] != 1 and 1 in volume.shape:
        axis = volume.shape.index(1)  # a 2D image is one slice whatever the axis, as in the toolkit
    slices = np.moveaxis(normalised, axis, 0)  # [S, H, W]
    height, width = slices.shape[1:]
    padded_h = -(-height // SIZE_DIVISOR) * SIZE_DIVISOR
    padded_w = -(-width // SIZE_DIVISOR) * SIZE_DIVISOR
    top, left = (padded_h - height) // 2, (padded_w - width) // 2
    pad_value = float((description.get("normalisation", {}).get("output_range") or [0.0])[0])
    batch = int(batch_size or prediction.get("batch_size", 8))
    scores = np.empty(slices.shape, dtype=np.float32)
    for start in range(0, slices.shape[0], batch):
        chunk = slices[start:start + batch]
        canvas = np.full((chunk.shape[0], 1, padded_h, padded_w), pad_value, dtype=np.float32)
        canvas[:, 0, top:top + height, left:left + width] = chunk
        output = np.asarray(run(canvas), dtype=np.float32)
        scores[start:start + batch] = output[:, 0, top:top + height, left:left + width]
    return np.moveaxis(scores, 0, axis).reshape(np.asarray(array).shape)


def _main(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m nsatoolkit.torch",
                                     description="Export an NSA Toolkit model file (written by NSATrain) as ONNX "
                                                 "or TorchScript, with a JSON deployment description beside it.")
    parser.add_argument("format", choices=["onnx", "torchscript"])
    parser.add_argument("model", help="model file (.pt) written by NSATrain")
    parser.add_argument("out", help="output file; OUT.json is written beside it")
    parser.add_argument("--opset", type=int, default=ONNX_OPSET, help="ONNX opset (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        if args.format == "onnx":
            export_onnx(args.model, args.out, args.opset)
        else:
            export_torchscript(args.model, args.out)
    except (InputError, OutputError, ParameterError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    print("wrote %s and %s.json" % (args.out, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
