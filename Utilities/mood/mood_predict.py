#!/usr/bin/env python3
"""Scores a folder of MOOD challenge cases with an NSA Toolkit model (NSAPredict) and writes
exactly what the challenge's evaluation reads (Documentation/Deployment.md):

  pixel task:  OUTPUT_DIR/<file>      for every input <file> (.nii.gz): a float NIfTI of the
               input's shape and geometry, scores in [0, 1]
  sample task: OUTPUT_DIR/<file>.txt  one float in [0, 1] (e.g. 00000.nii.gz.txt)

  mood_predict.py --task pixel|sample --region brain|abdom INPUT_DIR OUTPUT_DIR

The input folder is only read. Every case is scored into a scratch folder first and checked
(shape, finite values in [0, 1]); only when all cases pass are the results moved into
OUTPUT_DIR, so a failure leaves no partial output there and exits non-zero.

Models: NSA_MOOD_MODEL_BRAIN / NSA_MOOD_MODEL_ABDOM, default models/<region>.pt beside this
script (the Docker image bakes Data/Models/brain-mri-2d.pt in as models/brain.pt). There is
no abdominal model in the toolkit: without one the abdom scripts refuse (exit 2) instead of
writing scores. NSAPredict: NSA_PREDICT (default: NSAPredict on PATH). NSA_MOOD_CASE_SCORE
overrides the model's case score (mean, percentile, top-k-mean); NSA_THREADS the threads.
"""
import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile

NIFTI_SUFFIXES = (".nii.gz", ".nii")
REGION_NAMES = {"brain": "brain MRI", "abdom": "abdominal CT"}


class MoodError(Exception):
    """A problem the user must fix; printed as one line, exit status 1 (2: no model)."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def stem(name):
    for suffix in NIFTI_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def list_cases(input_dir):
    if not os.path.isdir(input_dir):
        raise MoodError("input folder '%s' does not exist or is not a folder" % input_dir)
    names = sorted(os.listdir(input_dir))
    cases = [n for n in names if not n.startswith(".") and n.lower().endswith(NIFTI_SUFFIXES)]
    others = [n for n in names if not n.startswith(".") and n not in cases]
    if others:
        raise MoodError("input folder '%s' holds files that are not NIfTI (.nii.gz, .nii): %s"
                        % (input_dir, ", ".join(others[:5])))
    if not cases:
        raise MoodError("input folder '%s' holds no NIfTI case (.nii.gz, .nii)" % input_dir)
    stems = [stem(n) for n in cases]
    if len(set(stems)) != len(stems):
        raise MoodError("input folder '%s' holds two cases with the same name (e.g. a.nii and a.nii.gz)" % input_dir)
    return cases


def find_model(region):
    variable = "NSA_MOOD_MODEL_" + region.upper()
    model = os.environ.get(variable) or os.path.join(os.path.dirname(os.path.abspath(__file__)), "models",
                                                     region + ".pt")
    if not os.path.isfile(model):
        raise MoodError(
            "no %s model: '%s' does not exist. The NSA Toolkit ships no model for the %s task; train one on "
            "normal %s with NSATrain and give it with %s (or bake it into the image as models/%s.pt, "
            "Documentation/Deployment.md). No scores were written." % (
                region, model, region, REGION_NAMES[region], variable, region), status=2)
    return model


def nsapredict():
    program = os.environ.get("NSA_PREDICT") or shutil.which("NSAPredict")
    if not program or not os.access(program, os.X_OK):
        raise MoodError("NSAPredict not found (set NSA_PREDICT or put it on PATH)")
    return program


def check_map(path, reference_path):
    import nibabel
    import numpy as np

    reference = nibabel.load(reference_path)
    scores = nibabel.load(path)
    data = np.asarray(scores.dataobj, dtype=np.float32)
    if data.shape != reference.shape:
        raise MoodError("%s: score map shape %s differs from the input's %s" % (path, data.shape, reference.shape))
    if not np.all(np.isfinite(data)) or data.min() < 0.0 or data.max() > 1.0:
        raise MoodError("%s: scores outside [0, 1] (%g..%g); the model's output activation must be sigmoid"
                        % (path, np.nanmin(data), np.nanmax(data)))


def read_score(path):
    try:
        with open(path) as stream:
            value = float(stream.read().split()[0])
    except (OSError, ValueError, IndexError) as error:
        raise MoodError("%s: no case score (%s)" % (path, error))
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise MoodError("%s: case score %r is not in [0, 1]" % (path, value))
    return value


def scratch_folder(output_dir):
    """A scratch folder in TMPDIR (default /tmp); if that is not writable (a read-only
    container), a hidden one inside the output folder, removed at the end."""
    try:
        return tempfile.mkdtemp(prefix="nsa-mood-", dir=os.environ.get("TMPDIR") or None)
    except OSError:
        print("mood: no writable TMPDIR; scratch folder inside the output folder", flush=True)
        return tempfile.mkdtemp(prefix=".nsa-mood-", dir=output_dir)


def run(task, region, input_dir, output_dir):
    cases = list_cases(input_dir)
    model = find_model(region)
    program = nsapredict()
    if not os.path.isdir(output_dir):
        try:
            os.makedirs(output_dir)
        except OSError as error:
            raise MoodError("output folder '%s' cannot be created (%s)" % (output_dir, error))
    if not os.access(output_dir, os.W_OK):
        raise MoodError("output folder '%s' is not writable" % output_dir)
    if os.path.realpath(output_dir) == os.path.realpath(input_dir):
        raise MoodError("the output folder is the input folder; the input must stay untouched")

    scratch = scratch_folder(output_dir)
    try:
        maps = os.path.join(scratch, "maps")
        command = [program, model, os.path.abspath(input_dir), maps]
        if os.environ.get("NSA_MOOD_CASE_SCORE"):
            command += ["--case_score", os.environ["NSA_MOOD_CASE_SCORE"]]
        if os.environ.get("NSA_THREADS"):
            command += ["--threads", os.environ["NSA_THREADS"]]
        print("mood: %s %s, %d case(s), model %s" % (region, task, len(cases), model), flush=True)
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise MoodError("NSAPredict failed (exit %d): %s" % (result.returncode, result.stderr.strip()))

        # Check every case, then stage the results beside their final names in the output
        # folder (same file system) and rename them all.
        staged = []
        for case in cases:
            case_map = os.path.join(maps, stem(case) + ".nii.gz")
            case_score = os.path.join(maps, stem(case) + ".nii.gz.txt")
            if task == "pixel":
                if not os.path.isfile(case_map):
                    raise MoodError("NSAPredict wrote no map for %s" % case)
                check_map(case_map, os.path.join(input_dir, case))
                staged.append((case_map, case))
            else:
                value = read_score(case_score)
                text_path = os.path.join(scratch, case + ".txt")
                with open(text_path, "w") as stream:
                    stream.write("%.9g\n" % value)
                staged.append((text_path, case + ".txt"))
        temporary = []
        try:
            for source, name in staged:
                target = os.path.join(output_dir, "." + name + ".nsa-tmp")
                if task == "pixel" and not name.lower().endswith(".nii.gz"):
                    import nibabel  # a .nii input gets an uncompressed .nii map of the same name

                    nibabel.save(nibabel.load(source), target + ".nii")
                    os.replace(target + ".nii", target)
                else:
                    shutil.copyfile(source, target)
                temporary.append((target, os.path.join(output_dir, name)))
            for target, final in temporary:
                os.replace(target, final)
        finally:
            for target, _ in temporary:
                if os.path.exists(target):
                    os.remove(target)
        print("mood: wrote %d %s file(s) to %s" % (len(staged), "score map" if task == "pixel" else "score",
                                                   output_dir), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", required=True, choices=["pixel", "sample"])
    parser.add_argument("--region", required=True, choices=["brain", "abdom"])
    parser.add_argument("input_dir")
    parser.add_argument("output_dir")
    args = parser.parse_args(argv)
    try:
        run(args.task, args.region, args.input_dir, args.output_dir)
    except MoodError as error:
        print("mood: error: %s" % error, file=sys.stderr)
        return error.status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
