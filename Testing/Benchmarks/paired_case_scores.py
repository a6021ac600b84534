#!/usr/bin/python3
"""Paired view of a cross-subject benchmark run: does a lesion move its slice's case score?

brain_cross_subject.py scores every test slice twice, as it is (the normal control) and with
one lesion. Its per-kind sample AUROC compares a kind's lesion cases with *all* normal
controls, so it also measures how the slices that kind happened to land on score without
any lesion. This probe pairs each lesion case with its own control (the same slice) and
prints per kind, over all folds of the given runs: the number of pairs, how many lesion cases
scored above and below their control, and the median and the largest paired difference.
A kind the model does not see gives differences near zero, whatever its AUROC.

Reads OUTPUT/<subject>/evaluation/cases.csv (NSAEvaluate's case table) of each run given;
nothing is trained or predicted.

    /usr/bin/python3 Testing/Benchmarks/paired_case_scores.py OUTPUT [OUTPUT ...]
"""
import collections
import csv
import os
import statistics
import sys

NORMAL_SUFFIX = "-normal"


def pairs_of_fold(cases_csv):
    """(kind, lesion score - control score) for every lesion case of one fold."""
    with open(cases_csv, newline="") as handle:
        rows = {row["case_id"]: row for row in csv.DictReader(handle)}
    controls = {case_id[:-len(NORMAL_SUFFIX)]: float(row["score"])
                for case_id, row in rows.items() if case_id.endswith(NORMAL_SUFFIX) and row["label"] == "0"}
    for case_id, row in rows.items():
        if row["label"] != "1":
            continue
        for slice_id, control in controls.items():
            if case_id.startswith(slice_id + "-"):
                yield case_id[len(slice_id) + 1:], float(row["score"]) - control
                break
        else:
            raise SystemExit(f"{cases_csv}: no normal control for lesion case {case_id}")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for run in sys.argv[1:]:
        differences = collections.defaultdict(list)
        folds = sorted(name for name in os.listdir(run)
                       if os.path.isfile(os.path.join(run, name, "evaluation", "cases.csv")))
        if not folds:
            raise SystemExit(f"{run}: no <subject>/evaluation/cases.csv")
        for fold in folds:
            for kind, difference in pairs_of_fold(os.path.join(run, fold, "evaluation", "cases.csv")):
                differences[kind].append(difference)
        print(f"\n{run} ({', '.join(folds)})\n")
        print("| kind | pairs | lesion above control | lesion below control | median difference | largest |")
        print("|---|---:|---:|---:|---:|---:|")
        for kind in sorted(differences):
            values = differences[kind]
            above = sum(1 for value in values if value > 0)
            below = sum(1 for value in values if value < 0)
            largest = max(values, key=abs)
            print(f"| {kind} | {len(values)} | {above} | {below} | {statistics.median(values):+.4f} | "
                  f"{largest:+.4f} |")


if __name__ == "__main__":
    main()
