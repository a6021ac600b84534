#!/usr/bin/env python3
"""The MOOD kit's four entry scripts, run as the challenge's harness runs them (`sh SCRIPT
INPUT_DIR OUTPUT_DIR`), on a small MOOD-like folder made from real brain MR volumes
(test Deployment.MOOD).

  mood_kit_test.py KIT_DIR MODEL.pt NSAPREDICT SUBJECTS_DIR WORK_DIR

The cases are the real subjects Utilities/setup.sh writes to .nsa-data/subjects (Colin27,
VolPack's head, nibabel's EPI), resampled (linear) to 64 x 64 x 64 and scaled to [0, 1] as
MOOD's brain volumes are (those are 256^3 in [0, 1]), stored as float32 NIfTI 00000.nii.gz,
00001.nii.gz, ... Checks: the names the evaluation reads, shapes, geometry, ranges, the
sample score equals the model's case score of the pixel map (its prediction settings, read
from the model file: the mean, or the mean of the top fraction of voxels), the input folder is
byte for byte untouched, the abdom scripts refuse without a model and write nothing (and
score with one, also without a usable TMPDIR), and a broken input folder gives a non-zero
exit and no output.
"""
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import zipfile

import nibabel
import numpy as np
from scipy import ndimage

SIZE = 64
failures = []


def check(condition, message):
    print(("ok: " if condition else "FAILED: ") + message, flush=True)
    if not condition:
        failures.append(message)


def prediction_settings(model):
    """The model's prediction settings: the description JSON is stored as a string in the
    TorchScript archive's data.pkl."""
    with zipfile.ZipFile(model) as archive:
        for name in archive.namelist():
            if name.endswith("/data.pkl"):
                data = archive.read(name).decode("latin-1")
                start = data.find('"prediction":')
                if start >= 0:
                    return json.JSONDecoder().raw_decode(data, start + len('"prediction":'))[0]
    raise SystemExit("no prediction settings in " + model)


def case_score(data, settings):
    """NSAPredict's case score of a whole map (no score mask) for the rules this test knows."""
    values = np.sort(data.ravel().astype(np.float32))
    rule = settings.get("case_score", "mean")
    if rule == "mean":
        return float(values.astype(np.float64).mean())
    if rule == "top-k-mean":
        k = min(values.size, max(1, math.ceil(settings["top_k_fraction"] * values.size)))
        return float(values[values.size - k:].astype(np.float64).mean())
    raise SystemExit("case score rule %s is not handled by this test" % rule)


def make_cases(subjects_dir, folder):
    os.makedirs(folder)
    names = ["colin27.nii.gz", "brainsmall.nii.gz", "epi.nii.gz"]
    for index, name in enumerate(names):
        image = nibabel.load(os.path.join(subjects_dir, name))
        data = np.asarray(image.dataobj, dtype=np.float64)
        if data.ndim == 4:
            data = data[..., 0]
        factors = [SIZE / n for n in data.shape]
        small = ndimage.zoom(data, factors, order=1)
        small = (small - small.min()) / (small.max() - small.min())
        affine = image.affine.copy()
        affine[:3, :3] = affine[:3, :3] @ np.diag([1.0 / f for f in factors])
        nibabel.save(nibabel.Nifti1Image(small.astype(np.float32), affine), os.path.join(folder, "%05d.nii.gz" % index))
    return sorted(os.listdir(folder))


def snapshot(folder):
    return {name: (hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest(),
                   os.stat(os.path.join(folder, name)).st_mtime_ns) for name in sorted(os.listdir(folder))}


def run_script(kit, script, input_dir, output_dir, env):
    os.makedirs(output_dir, exist_ok=True)
    result = subprocess.run(["sh", os.path.join(kit, script), input_dir, output_dir], env=env,
                            capture_output=True, text=True)
    print("+ sh %s %s %s -> exit %d\n%s%s" % (script, input_dir, output_dir, result.returncode, result.stdout,
                                                result.stderr), flush=True)
    return result


def main(kit, model, nsapredict, subjects_dir, work):
    shutil.rmtree(work, ignore_errors=True)
    input_dir = os.path.join(work, "input")
    cases = make_cases(subjects_dir, input_dir)
    for name in cases:
        os.chmod(os.path.join(input_dir, name), 0o444)
    os.chmod(input_dir, 0o555)  # read-only, as the harness mounts it (root ignores it: hashes check it)
    before = snapshot(input_dir)
    env = dict(os.environ, NSA_PREDICT=nsapredict, NSA_MOOD_MODEL_BRAIN=model, NSA_THREADS="2")
    env.pop("NSA_MOOD_MODEL_ABDOM", None)

    # Pixel task: <file> per case, the input's shape and geometry, scores in [0, 1].
    pixel_dir = os.path.join(work, "pixel_brain")
    result = run_script(kit, "run_pixel_brain.sh", input_dir, pixel_dir, env)
    check(result.returncode == 0, "run_pixel_brain.sh exits 0")
    check(sorted(os.listdir(pixel_dir)) == cases, "pixel outputs are exactly %s" % cases)
    settings = prediction_settings(model)
    check(settings.get("score_mask", "none") == "none", "the model scores whole maps (score_mask none)")
    means = {}
    for name in cases:
        path = os.path.join(pixel_dir, name)
        if not os.path.exists(path):
            continue
        source, scores = nibabel.load(os.path.join(input_dir, name)), nibabel.load(path)
        data = np.asarray(scores.dataobj, dtype=np.float64)
        check(scores.shape == source.shape, "%s: shape %s equals the input's" % (name, scores.shape))
        check(np.allclose(scores.affine, source.affine, atol=1e-4), "%s: geometry equals the input's" % name)
        check(np.isfinite(data).all() and data.min() >= 0.0 and data.max() <= 1.0 and data.max() - data.min() > 0.05,
              "%s: scores in [0, 1] and not constant (%.3f..%.3f)" % (name, data.min(), data.max()))
        means[name] = case_score(data, settings)

    # Sample task: <file>.txt per case holding one float in [0, 1], the model's case score.
    sample_dir = os.path.join(work, "sample_brain")
    result = run_script(kit, "run_sample_brain.sh", input_dir, sample_dir, env)
    check(result.returncode == 0, "run_sample_brain.sh exits 0")
    expected = [name + ".txt" for name in cases]
    check(sorted(os.listdir(sample_dir)) == expected, "sample outputs are exactly %s" % expected)
    for name in cases:
        path = os.path.join(sample_dir, name + ".txt")
        if not os.path.exists(path):
            continue
        words = open(path).read().split()
        check(len(words) == 1, "%s.txt holds one value" % name)
        value = float(words[0])
        check(0.0 <= value <= 1.0, "%s.txt: %g in [0, 1]" % (name, value))
        if name in means:
            # NSAPredict accumulates in double over the float map; nibabel reads the same floats.
            check(abs(value - means[name]) < 1e-6,
                  "%s.txt equals the model's case score (%s) of the pixel map (%g)"
                  % (name, settings.get("case_score"), means[name]))

    # Abdominal task: no model in the toolkit, so the scripts refuse and write nothing.
    for script in ("run_pixel_abdom.sh", "run_sample_abdom.sh"):
        out = os.path.join(work, script.replace(".sh", ""))
        result = run_script(kit, script, input_dir, out, env)
        check(result.returncode == 2 and "no abdom model" in result.stderr and not os.listdir(out),
              "%s refuses without an abdominal model (exit 2, message, empty output)" % script)

    # Given a model (here the brain model, only to exercise the path), the abdom scripts score;
    # with no writable TMPDIR (a read-only container) the scratch folder is a hidden folder in
    # the output folder, removed at the end.
    out = os.path.join(work, "sample_abdom_with_model")
    result = run_script(kit, "run_sample_abdom.sh", input_dir, out,
                        dict(env, NSA_MOOD_MODEL_ABDOM=model, TMPDIR=os.path.join(work, "no_tmp")))
    check(result.returncode == 0 and "scratch folder inside the output folder" in result.stdout
          and sorted(os.listdir(out)) == expected,
          "run_sample_abdom.sh with NSA_MOOD_MODEL_ABDOM and no usable TMPDIR writes exactly %s" % expected)

    # Bad input: a corrupt case among good ones, and a missing folder: non-zero, nothing written.
    broken_dir = os.path.join(work, "broken_input")
    os.makedirs(broken_dir)
    shutil.copyfile(os.path.join(input_dir, cases[0]), os.path.join(broken_dir, cases[0]))
    with open(os.path.join(broken_dir, "00009.nii.gz"), "wb") as stream:
        stream.write(b"not a NIfTI file")
    for source in (broken_dir, os.path.join(work, "no_such_folder")):
        out = os.path.join(work, "out_" + os.path.basename(source))
        result = run_script(kit, "run_pixel_brain.sh", source, out, env)
        check(result.returncode != 0 and "mood: error:" in result.stderr and not os.listdir(out),
              "%s: non-zero exit, a message and no output" % os.path.basename(source))

    check(snapshot(input_dir) == before, "the input folder is untouched (names, contents, times)")
    os.chmod(input_dir, 0o755)
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
