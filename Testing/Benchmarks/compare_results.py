#!/usr/bin/python3
"""Compares two results of the cross-subject benchmark (an ablation row against its baseline).

    compare_results.py NEW/results.json OLD/results.json [--metrics sample_auroc,pixel_ap]

Exit 0 when the new recipe's fold means of the given metrics (default: sample AUROC and pixel
average precision, MOOD's voxel-level metric) are all above the old recipe's; prints both rows
either way. A scoring-only ablation (the same models, another case score) leaves the pixel
metrics unchanged, so compare it with --metrics sample_auroc,sample_ap.
"""
import argparse
import json
import sys

KEYS = ["sample_auroc", "sample_ap", "pixel_auroc", "pixel_ap", "au_pro"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("new")
    parser.add_argument("old")
    parser.add_argument("--metrics", default="sample_auroc,pixel_ap")
    args = parser.parse_args()
    metrics = args.metrics.split(",")
    unknown = [m for m in metrics if m not in KEYS]
    if unknown:
        parser.error("unknown metric(s) %s; choose from %s" % (", ".join(unknown), ", ".join(KEYS)))
    new, old = (json.load(open(path)) for path in (args.new, args.old))
    print("recipe  " + "  ".join(f"{k:>12}" for k in KEYS))
    for name, result in (("old", old), ("new", new)):
        print(f"{name:6}  " + "  ".join(
            f"{result['mean'][k] if result['mean'][k] is not None else float('nan'):12.4f}" for k in KEYS))
    wins = all(new["mean"][k] is not None and old["mean"][k] is not None and new["mean"][k] > old["mean"][k]
               for k in metrics)
    print("the new recipe " + ("beats" if wins else "does NOT beat") + " the old one (%s)" % ", ".join(metrics))
    sys.exit(0 if wins else 1)


if __name__ == "__main__":
    main()
