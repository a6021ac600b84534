#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Testing/Data/Fuzz/<target>/ (run once;
the seeds are committed). Crashers found by fuzzing are added to the same folders by hand
(crash-<name>) and replayed by CTest (Fuzz.Replay.<target>). Needs python3-torch."""

import io
import json
import os
import shutil
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
DATA = os.path.join(ROOT, "Testing", "Data", "Fuzz")
sys.path.insert(0, os.path.join(ROOT, "Testing", "HostileInput"))
import hostile_models_and_json as hostile  # noqa: E402


def write(target, name, data):
    os.makedirs(os.path.join(DATA, target), exist_ok=True)
    with open(os.path.join(DATA, target, name), "wb") as out:
        out.write(data if isinstance(data, bytes) else data.encode())


# JSON parameters and presets.
shutil.copy(os.path.join(ROOT, "Data", "Presets", "brain-mri.json"), os.path.join(DATA, "json_parameters", "preset.json"))
write("json_parameters", "synthesis.json", json.dumps({"synthesis": {"num_patches": 3, "width_bounds": [0.05, 0.3],
                                                                      "blend_mode": "mixed", "min_object": 0.25}}))
write("json_parameters", "flat.json", '{"label_mode": "logistic-intensity", "logistic_k": 5, "logistic_x0": 0.1}')
write("json_parameters", "nested.json", '{"a": [[[{"b": [1, 2.5e3, "x\\u00e9", null, true]}]]]}')

# Manifests.
write("manifest", "plain.csv", "case_id,image,mask,label\na,a.nii.gz,a_mask.nii.gz,1\nb,b.nii.gz,,0\n")
write("manifest", "quoted.csv", '\ufeffcase_id,image,label,extra\r\n"x, y","img ""1"".nrrd",1,z\r\n# comment\r\n\r\nc,c.mha,0,\r\n')

# Model files and state dicts: a tiny state dict as a whole file (first byte 0), and the
# data.pkl of the brain-mri-2d network's state dict (first byte 1).
import torch  # noqa: E402

buffer = io.BytesIO()
torch.save({"conv1.weight": torch.zeros(2, 1, 1, 1), "bn1.num_batches_tracked": torch.tensor(3)}, buffer)
write("model", "tiny_state_dict", b"\0" + buffer.getvalue())
path = os.path.join(DATA, "sd.pt")
hostile.state_dict(path)
pickle = [data for info, data in hostile.read_zip(path) if info.filename.endswith("/data.pkl")][0]
os.remove(path)
write("model", "brain_state_dict_pickle", b"\1" + pickle)
write("model", "small_pickle", b"\1" + bytes.fromhex("80027d71005801000000617101284b01477f8000000000000055016271"
                                                       "02747103732e"))

# Partial evaluation results.
for k in range(2):
    hostile.partial(os.path.join(DATA, "shard", "shard-%d-of-2.nsaeval" % k), hostile.shard_header(k, 2, 4),
                    hostile.shard_entries(k, 2, 4))
