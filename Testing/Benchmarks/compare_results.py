#!/usr/bin/python3
"""Compares two results of the cross-subject benchmark (an ablation row against its baseline).

    compare_results.py NEW/results.json OLD/results.json

Exit 0 when the new recipe's mean sample AUROC and mean pixel average precision (MOOD's
voxel-level metric) are both above the old recipe's; prints both rows either way.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    new, old = (json.load(open(path)) for path in sys.argv[1:])
    keys = ["sample_auroc", "sample_ap", "pixel_auroc", "pixel_ap", "au_pro"]
    print("recipe  " + "  ".join(f"{k:>12}" for k in keys))
    for name, result in (("old", old), ("new", new)):
        print(f"{name:6}  " + "  ".join(f"{result['mean'][k] if result['mean'][k] is not None else float('nan'):12.4f}" for k in keys))
    wins = all(new["mean"][k] is not None and old["mean"][k] is not None and new["mean"][k] > old["mean"][k]
               for k in ("sample_auroc", "pixel_ap"))
    print("the new recipe " + ("beats" if wins else "does NOT beat") + " the old one (sample AUROC and pixel AP)")
    sys.exit(0 if wins else 1)


if __name__ == "__main__":
    main()
