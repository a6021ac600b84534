#!/usr/bin/python3
"""Checks a results.json of brain_cross_subject.py: every requested fold present with its
training time, every metric of every fold and kind a number in [0, 1] (or null where
NSAEvaluate defines none), every lesion kind evaluated, the means consistent with the folds,
and each fold's manifest holding the expected number of cases (half normal controls).

    check_benchmark_results.py results.json --folds brainsmall --cases 14
"""
import argparse
import csv
import json
import math
import os
import sys

KEYS = ["sample_auroc", "sample_ap", "pixel_auroc", "pixel_ap", "au_pro"]
KINDS = ["hyperintense", "hypointense", "cavity", "blur", "noise", "inversion", "mass-effect"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("--folds", required=True)
    parser.add_argument("--cases", type=int, required=True, help="cases per fold (normal + lesion)")
    args = parser.parse_args()
    results = json.load(open(args.results))
    problems = []

    def check_metrics(where, metrics, required):
        for key in KEYS:
            value = metrics.get(key)
            if value is None:
                if required:
                    problems.append(f"{where}: {key} missing")
            elif not (isinstance(value, (int, float)) and math.isfinite(value) and 0.0 <= value <= 1.0):
                problems.append(f"{where}: {key} = {value!r} is not in [0, 1]")

    folds = args.folds.split(",")
    for fold in folds:
        entry = results.get("folds", {}).get(fold)
        if entry is None:
            problems.append(f"fold {fold} missing")
            continue
        check_metrics(fold, entry["all"], required=True)
        for kind in KINDS:
            if kind not in entry["kinds"]:
                problems.append(f"{fold}: lesion kind {kind} not evaluated")
            else:
                check_metrics(f"{fold}/{kind}", entry["kinds"][kind], required=False)
        if not entry.get("train_seconds", 0) > 0:
            problems.append(f"{fold}: no training time")
        manifest = os.path.join(os.path.dirname(args.results), fold, "test", "manifest.csv")
        with open(manifest) as f:
            rows = list(csv.DictReader(f))
        normal = sum(1 for r in rows if r["label"] == "0")
        if len(rows) != args.cases or 2 * normal != len(rows):
            problems.append(f"{fold}: {len(rows)} cases, {normal} normal (expected {args.cases}, half normal)")
    for key in KEYS:
        values = [results["folds"][f]["all"][key] for f in folds if f in results.get("folds", {})]
        values = [v for v in values if v is not None]
        if values and abs(results["mean"][key] - sum(values) / len(values)) > 1e-4:
            problems.append(f"mean {key} is not the mean of the folds")
    for problem in problems:
        print("check_benchmark_results: " + problem)
    print("check_benchmark_results: " + ("ok" if not problems else f"{len(problems)} problem(s)"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
