#!/usr/bin/env python3
"""Hostile model files, state dicts, JSON files and partial evaluation results (issue 14).

    hostile_models_and_json.py --input KIND --work DIR --exit N --message TEXT
                               [--max-rss-mb MB] -- PROGRAM ARG...

Makes the hostile input KIND in DIR (from the shipped model Data/Models/brain-mri-2d.pt where
it is a model), runs PROGRAM with @INPUT@ replaced by its path, @IMAGE@ by a small valid
image, @OUT@ by an empty output folder, and checks what a user must be able to rely on:
the exit code, a message naming the problem (TEXT must appear in stderr), no stack dump and
no huge value echoed, nothing written under @OUT@, the inputs unchanged, and the peak
resident memory at most MB. The table of cases is Testing/HostileInput/HostileModelsAndJson.cmake.
"""

import argparse
import hashlib
import io
import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "Data", "Models", "brain-mri-2d.pt")


# --- zip helpers ---------------------------------------------------------------------------
def read_zip(path):
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info.filename)) for info in archive.infolist()]


def write_zip(path, records, deflate=()):
    """Records (name, bytes) stored as PyTorch does, except names in `deflate`."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in records:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            archive.writestr(info, data)


def replace_records(source, target, replace, deflate=()):
    records = []
    for info, data in read_zip(source):
        short = info.filename.split("/", 1)[1]
        records.append((info.filename, replace.get(short, data)))
    write_zip(target, records, {name for name, _ in records if name.split("/", 1)[1] in deflate})


def prefix_of(path):
    return read_zip(path)[0][0].filename.split("/", 1)[0]


# --- inputs --------------------------------------------------------------------------------
def torch_model():
    import torch  # python3-torch (Utilities/setup.sh)

    return torch, torch.jit.load(MODEL)


def model_edit(path, edit):
    torch, model = torch_model()
    with torch.no_grad():
        edit(torch, model)
    model.save(path)


def model_configuration(path, change):
    torch, model = torch_model()
    model.configuration = change(model.configuration)
    model.save(path)


def state_dict(path, edit=None):
    torch, model = torch_model()
    weights = {name: value.clone() for name, value in model.network.state_dict().items()}
    if edit:
        edit(torch, weights)
    torch.save(weights, path)


def big_pickle_model(path, pickle, deflate=True):
    replace_records(MODEL, path, {"data.pkl": pickle}, deflate={"data.pkl"} if deflate else ())


def flip_storage_byte(source, target):
    records = read_zip(source)
    out = []
    for info, data in records:
        if info.filename.endswith("/data/0"):
            data = bytes([data[0] ^ 1]) + data[1:]
        out.append((info.filename, data))
    # zipfile computes the CRC of what it writes: patch the stored CRC back to the original's.
    write_zip(target, out)
    original = {info.filename: info.CRC for info, _ in records}
    blob = bytearray(open(target, "rb").read())
    with zipfile.ZipFile(target) as archive:
        for info in archive.infolist():
            if info.filename.endswith("/data/0"):
                crc = struct.pack("<I", original[info.filename])
                new = struct.pack("<I", info.CRC)
                blob = blob.replace(new, crc)
    open(target, "wb").write(bytes(blob))


def nested_tuples(tail):
    return b"\x80\x02N" + b"\x85" * 1000000 + tail


def partial(path, header, entries, length=None, count=None):
    text = json.dumps(header).encode()
    with open(path, "wb") as out:
        out.write(b"NSA-EVALUATION-PARTIAL 1\n")
        out.write(struct.pack("<Q", len(text) if length is None else length))
        out.write(text)
        out.write(struct.pack("<Q", len(entries) if count is None else count))
        for score, positives, negatives in entries:
            out.write(struct.pack("<fQQQQ", score, positives, negatives, 0, 0))


def shard_header(k, n, cases):
    header = {"format": "nsa-evaluation-partial", "software_version": "test", "shard": k, "shards": n,
              "manifest_cases": cases,
              "settings": {"threshold": 0.5, "fully_connected": True, "score_bits": 12, "fpr_limit": 0.3,
                           "region": ""},
              "cases": []}
    for i in range(k, cases, n):
        header["cases"].append({"index": i, "case_id": "c%d" % i, "image": "i", "mask": "m", "map": "p",
                                "score": 0.5, "score_source": "file", "label": True, "voxel_level": True,
                                "evaluated_voxels": 4, "lesion_voxels": 1, "components": 1,
                                "true_positives": 1, "false_positives": 0, "false_negatives": 0,
                                "true_negatives": 3, "max_score": 0.9, "peak_slice": 0, "lesion_slice": 0})
    return header


def shard_entries(k, n, cases):
    count = len(range(k, cases, n))
    return [(0.9, count, 0), (0.1, 0, 3 * count)]


def shards(folder, files):
    os.makedirs(folder, exist_ok=True)
    for name, (header, entries, length, count) in files.items():
        partial(os.path.join(folder, name + ".nsaeval"), header, entries, length, count)


def make_input(kind, work):
    """Writes the hostile input `kind` under `work`; returns its path."""
    path = os.path.join(work, kind)
    if kind.startswith("model_"):
        path += ".pt"
    elif kind.startswith("sd_"):
        path += ".pt"
    elif kind.startswith("json_"):
        path += ".json"
    # Models (NSA model files, read through LibTorch after the archive checks).
    if kind == "model_conv6x7":
        model_edit(path, lambda torch, m: setattr(m.network.conv1, "weight",
                                                  torch.nn.Parameter(torch.zeros(16, 1, 6, 7))))
    elif kind == "model_double":
        model_edit(path, lambda torch, m: setattr(m.network.conv1, "weight",
                                                  torch.nn.Parameter(m.network.conv1.weight.double())))
    elif kind == "model_width4":
        def width4(text):
            description = json.loads(text)
            description["network"]["width_multiplier"] = 4.0
            # Files of before also carry it in "training"; both copies claim width 4, so the
            # refusal comes from the weights' shapes, not from the copies disagreeing.
            if "width_multiplier" in description.get("training", {}):
                description["training"]["width_multiplier"] = 4.0
            return json.dumps(description)
        model_configuration(path, width4)
    elif kind == "model_nested_network":
        model_configuration(path, lambda text: text.replace('"network":', '"network": ' + "[" * 100000 + "]" * 100000
                                                            + ', "x":', 1))
    elif kind == "model_nested_history":
        model_configuration(path, lambda text: text.replace('"history":', '"history": [' + "[" * 100000
                                                            + "]" * 100000 + '], "y":', 1))
    elif kind == "model_duplicate_key":
        model_configuration(path, lambda text: text.replace('"seed":', '"seed": 1, "seed":', 1))
    elif kind == "model_storage_offset":
        # conv1.weight's storage offset (BININT1 0 after BINPERSID and its BINPUT) becomes 10^6.
        pickle = [data for info, data in read_zip(MODEL) if info.filename.endswith("/data.pkl")][0]
        at = pickle.index(b"_rebuild_tensor_v2")
        end = pickle.index(b"K\x00(", at)
        patched = pickle[:end] + b"J" + struct.pack("<i", 1000000) + pickle[end + 2:]
        replace_records(MODEL, path, {"data.pkl": patched})
    elif kind == "model_crc":
        flip_storage_byte(MODEL, path)
    elif kind == "model_truncated":
        data = open(MODEL, "rb").read()
        open(path, "wb").write(data[: len(data) // 2])
    elif kind == "model_pickle_256mib":
        # data.pkl deflated from 256 MiB (1 MB in the file).
        import tempfile
        with zipfile.ZipFile(path, "w") as archive:
            for info, data in read_zip(MODEL):
                if info.filename.endswith("/data.pkl"):
                    entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    with archive.open(entry, "w", force_zip64=True) as out:
                        out.write(b"\x80\x02")
                        chunk = b"N0" * (1 << 19)
                        for _ in range(256):
                            out.write(chunk)
                        out.write(b"N.")
                else:
                    archive.writestr(info, data)
    elif kind == "model_empty_lists":
        big_pickle_model(path, b"\x80\x02" + b"]" * 5000000 + b".")
    elif kind == "model_nested_tuple_pop":
        big_pickle_model(path, nested_tuples(b"0N."))
    elif kind == "model_nested_tuple_memo":
        big_pickle_model(path, nested_tuples(b"q\x00."))
    elif kind == "model_state_dict":
        state_dict(path)
    # State dicts (the toolkit's own pickle reader).
    elif kind == "sd_good":
        state_dict(path)
    elif kind == "sd_conv6x7":
        state_dict(path, lambda torch, w: w.__setitem__("conv1.weight", torch.zeros(16, 1, 6, 7)))
    elif kind == "sd_missing":
        state_dict(path, lambda torch, w: w.pop("nin.0.weight"))
    elif kind == "sd_extra":
        state_dict(path, lambda torch, w: w.__setitem__("extra.weight", torch.zeros(3)))
    elif kind == "sd_offset":
        state_dict(path)
        records = read_zip(path)
        pickle = [data for info, data in records if info.filename.endswith("/data.pkl")][0]
        # The first tensor's storage offset (BININT1 0 after BINPERSID) becomes 10^6.
        assert b"QK\x00" in pickle
        patched = pickle.replace(b"QK\x00", b"QJ" + struct.pack("<i", 1000000), 1)
        replace_records(path, path, {"data.pkl": patched})
    elif kind == "sd_short_storage":
        state_dict(path)
        replace_records(path, path, {"data/0": b"\0\0\0\0"})
    elif kind == "sd_crc":
        state_dict(path)
        flip_storage_byte(path, path)
    elif kind == "sd_nested_tuple_pop":
        state_dict(path)
        replace_records(path, path, {"data.pkl": nested_tuples(b"0N.")}, deflate={"data.pkl"})
    elif kind == "sd_nested_tuple_memo":
        state_dict(path)
        replace_records(path, path, {"data.pkl": nested_tuples(b"q\x00.")}, deflate={"data.pkl"})
    elif kind == "sd_empty_lists":
        state_dict(path)
        replace_records(path, path, {"data.pkl": b"\x80\x02" + b"]" * 5000000 + b"."}, deflate={"data.pkl"})
    # JSON parameters and presets.
    elif kind == "json_deep":
        open(path, "w").write('{"synthesis": ' + "[" * 100000 + "]" * 100000 + "}")
    elif kind == "json_duplicate":
        open(path, "w").write('{"num_patches": 2, "num_patches": 3}')
    elif kind == "json_huge_string":
        open(path, "w").write('{"blend_mode": "' + "x" * (50 << 20) + '"}')
    elif kind == "json_out_of_range":
        open(path, "w").write('{"min_object": 1e400}')
    elif kind == "json_preset_deep":
        open(path, "w").write('{"training": {"epochs": ' + "[" * 100000 + "]" * 100000 + "}}")
    elif kind == "json_preset_duplicate":
        open(path, "w").write('{"training": {"epochs": 2}, "training": {"epochs": 3}}')
    # Partial evaluation results (a folder given to NSAEvaluate --merge).
    elif kind.startswith("shards_"):
        good0 = (shard_header(0, 2, 4), shard_entries(0, 2, 4), None, None)
        good1 = (shard_header(1, 2, 4), shard_entries(1, 2, 4), None, None)
        one = (shard_header(0, 1, 1), shard_entries(0, 1, 1), None, None)
        files = {}
        if kind == "shards_good":
            files = {"a": good0, "b": good1}
        elif kind == "shards_header_3gib":
            files = {"a": (one[0], one[1], 3 << 30, None)}
        elif kind == "shards_count_2147483647":
            files = {"a": (shard_header(0, 2147483647, 1), one[1], None, None)}
        elif kind == "shards_negative":
            header = shard_header(0, 1, 1)
            header["shards"] = -5
            files = {"a": (header, one[1], None, None)}
        elif kind == "shards_half_as_whole":
            header = shard_header(0, 2, 4)
            header["shards"] = 1
            files = {"a": (header, good0[1], None, None)}
        elif kind == "shards_negative_index":
            header = shard_header(0, 1, 1)
            header["cases"][0]["index"] = -1
            files = {"a": (header, one[1], None, None)}
        elif kind == "shards_overflow":
            files = {"a": (one[0], [(0.9, 1 << 63, 0), (0.5, 1 << 63, 0), (0.1, 1, 3)], None, None)}
        elif kind == "shards_entries_2_31":
            files = {"a": (one[0], one[1], None, 1 << 31)}
        elif kind == "shards_other_run":
            files = {"a": good0, "b": (shard_header(1, 2, 6), shard_entries(1, 2, 6), None, None)}
        elif kind == "shards_missing":
            files = {"a": good0}
        else:
            raise SystemExit("unknown input kind " + kind)
        shards(path, files)
    else:
        raise SystemExit("unknown input kind " + kind)
    return path


def small_image(work):
    """A 64 x 64 float MetaImage of a smooth pattern."""
    path = os.path.join(work, "image.mha")
    header = ("ObjectType = Image\nNDims = 2\nDimSize = 64 64\nElementSpacing = 1 1\nElementType = MET_FLOAT\n"
              "ElementByteOrderMSB = False\nElementDataFile = LOCAL\n")
    values = [float((x * 7 + y * 3) % 50) for y in range(64) for x in range(64)]
    with open(path, "wb") as out:
        out.write(header.encode())
        out.write(struct.pack("<%df" % len(values), *values))
    return path


def digest(path):
    hashes = {}
    if os.path.isdir(path):
        for root, _, files in os.walk(path):
            for name in files:
                hashes.update(digest(os.path.join(root, name)))
        return hashes
    with open(path, "rb") as data:
        return {path: hashlib.sha256(data.read()).hexdigest()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--exit", type=int, required=True)
    parser.add_argument("--message", required=True)
    parser.add_argument("--max-rss-mb", type=float, default=1024)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ["--"] else options.command

    work = os.path.abspath(options.work)
    if os.path.isdir(work):
        import shutil
        shutil.rmtree(work)
    os.makedirs(work)
    out = os.path.join(work, "out")
    os.makedirs(out)
    hostile = make_input(options.input, work)
    image = small_image(work)
    before = digest(hostile)
    before.update(digest(image))
    command = [a.replace("@INPUT@", hostile).replace("@IMAGE@", image).replace("@OUT@", out) for a in command]

    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
    stdout, stderr = process.communicate()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_mb = usage.ru_maxrss / 1024.0
    message = stderr.decode("utf-8", "replace")
    failures = []
    if process.returncode != options.exit:
        failures.append("exit code %d, expected %d" % (process.returncode, options.exit))
    if options.message not in message:
        failures.append("message fragment %r not in stderr" % options.message)
    if "Exception raised from" in message or "frame #" in message:
        failures.append("a LibTorch stack dump reached the user")
    if len(message) > 2000:
        failures.append("stderr holds %d characters (a huge value echoed?)" % len(message))
    left = [os.path.join(root, name) for root, dirs, files in os.walk(out) for name in files + dirs]
    if options.exit != 0 and left:
        failures.append("files written: %s" % left[:5])
    after = digest(hostile)
    after.update(digest(image))
    if after != before:
        failures.append("an input was changed")
    if rss_mb > options.max_rss_mb:
        failures.append("peak resident memory %.0f MB above the bound %.0f MB" % (rss_mb, options.max_rss_mb))
    print("command:", " ".join(command)[:300])
    print("exit code:", process.returncode, " peak RSS: %.0f MB" % rss_mb)
    print("stderr:", message[:2000])
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
