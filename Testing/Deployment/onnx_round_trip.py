#!/usr/bin/env python3
"""ONNX and TorchScript round trip of a toolkit model on a real study (test Deployment.ONNXRoundTrip).

  onnx_round_trip.py MODEL.pt STUDY.nii.gz NSAPREDICT WORK_DIR

1. exports MODEL.pt with `python3 -m nsatoolkit.torch onnx` and `... torchscript` (as a user would);
2. checks the ONNX file with the onnx package's checker (Debian's python3-onnx) and the JSON
   beside it (opset, dynamic axes, normalisation, spacing);
3. scores STUDY with NSAPredict (the reference);
4. scores it again outside the toolkit: the study read with nibabel, normalised, sliced and
   padded in NumPy as the JSON says (nsatoolkit.torch.predict_array), the network run by
   onnxruntime-node (Testing/Deployment/onnx_run.js, found through NODE_PATH) and by
   torch.jit.load of the TorchScript file;
5. requires both maps to equal NSAPredict's to 1e-4 (float32 convolutions summed in another
   order by another runtime differ by about 1e-6 here; 1e-4 is the issue's bound);
6. exports a seeded random 3D network the same way and compares onnxruntime-node with PyTorch.
"""
import json
import os
import subprocess
import sys

import nibabel
import numpy as np
import onnx
import torch

import nsatoolkit.torch as nt

TOLERANCE = 1e-4


def run(command, **kwargs):
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def onnxruntime_node_file(onnx_path, batch, work):
    """The network's output on a float32 batch, computed by onnxruntime-node (onnx_run.js)."""
    batch_path = os.path.join(work, "batch.f32")
    scores_path = os.path.join(work, "scores.f32")
    np.asarray(batch, dtype="<f4").tofile(batch_path)
    run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx_run.js"), onnx_path, batch_path,
         ",".join(str(n) for n in batch.shape), scores_path])
    return np.fromfile(scores_path, dtype="<f4").reshape(batch.shape)


def main(model, study, nsapredict, work):
    os.makedirs(work, exist_ok=True)
    onnx_path = os.path.join(work, "model.onnx")
    script_path = os.path.join(work, "model.torchscript.pt")
    for path in (onnx_path, onnx_path + ".json", script_path, script_path + ".json"):
        if os.path.exists(path):
            os.remove(path)
    run([sys.executable, "-m", "nsatoolkit.torch", "onnx", model, onnx_path])
    run([sys.executable, "-m", "nsatoolkit.torch", "torchscript", model, script_path])

    # The ONNX file: valid by the checker, the opset the JSON names, dynamic batch and spatial axes.
    graph = onnx.load(onnx_path)
    onnx.checker.check_model(graph, full_check=True)
    deployment = json.load(open(onnx_path + ".json"))
    opset = [entry.version for entry in graph.opset_import if entry.domain in ("", "ai.onnx")][0]
    assert deployment["opset"] == opset == nt.ONNX_OPSET, (deployment["opset"], opset)
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert graph.graph.input[0].name == "image" and graph.graph.output[0].name == "scores"
    assert dims == ["batch", 1, "height", "width"], dims
    assert deployment["normalisation"]["mode"] == "percentile" and deployment["spacing"]["millimetres"] is None
    print("onnx checker: valid, opset %d, input %s" % (opset, dims))

    # The reference: NSAPredict on the study.
    reference_path = os.path.join(work, "nsapredict.nii.gz")
    run([nsapredict, model, study, reference_path, "--device", "cpu"], stdout=subprocess.DEVNULL)
    reference = np.asarray(nibabel.load(reference_path).dataobj, dtype=np.float32).T  # (z, y, x)

    # Outside the toolkit: nibabel, NumPy and an ONNX runtime.
    image = nibabel.load(study)
    volume = np.asarray(image.dataobj, dtype=np.float32).T
    description, _ = nt.read_model_file(model)

    onnx_map = nt.predict_array(lambda batch: onnxruntime_node_file(onnx_path, batch, work), volume, description,
                                batch_size=volume.shape[0])
    scripted = torch.jit.load(script_path)
    with torch.no_grad():
        script_map = nt.predict_array(lambda batch: scripted(torch.from_numpy(batch)).numpy(), volume, description)

    failures = 0
    for name, scores in (("onnxruntime-node", onnx_map), ("TorchScript", script_map)):
        difference = float(np.abs(scores - reference).max())
        print("%s vs NSAPredict on %s %s: max abs difference %.3g (map range %.3f..%.3f)"
              % (name, os.path.basename(study), "x".join(str(n) for n in volume.shape[::-1]), difference,
                 reference.min(), reference.max()))
        if not difference <= TOLERANCE:
            failures += 1
    # A map that is constant would pass trivially: the study must give a varied map.
    assert reference.max() - reference.min() > 0.1, "the reference map is nearly constant"

    # 3D networks export the same way (no 3D model file is bundled: a seeded, randomly
    # initialised one, its batch-norm statistics set by a few training-mode passes).
    torch.manual_seed(3)
    network3d = nt.NSANetwork({"dimension": 3, "width_multiplier": 0.125})
    with torch.no_grad():
        for _ in range(3):
            network3d(torch.rand(2, 1, 32, 32, 32))
    network3d.eval()
    path3d = os.path.join(work, "model3d.onnx")
    nt.export_network_onnx(network3d, {"network": {"dimension": 3, "width_multiplier": 0.125}}, path3d)
    onnx.checker.check_model(onnx.load(path3d), full_check=True)
    volume3d = torch.rand(1, 1, 64, 32, 96)
    with torch.no_grad():
        expected3d = network3d(volume3d).numpy()
    difference = float(np.abs(onnxruntime_node_file(path3d, volume3d.numpy(), work) - expected3d).max())
    print("3D network [1, 1, 64, 32, 96]: onnxruntime-node vs PyTorch max abs difference %.3g" % difference)
    if not difference <= TOLERANCE:
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
