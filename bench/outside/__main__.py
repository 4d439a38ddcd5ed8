"""``python -m bench.outside``: the outside check's per-class table and its false / missed cases.

An independent check of the detector on patients written from the physiology, not from the
project's simulator (see bench/outside/__init__.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.outside.evaluate import evaluate, format_case, format_table, summarise, tagged
from bench.outside.patients import CLASSES


def main(argv: list[str] | None = None) -> int:
    """Print the table and the cases; exit 0 (a measurement, not a gate)."""
    ap = argparse.ArgumentParser(prog="python -m bench.outside", description=__doc__)
    ap.add_argument("--seeds", type=int, default=100, help="seeds 1..N per class (default 100)")
    ap.add_argument("--rate", type=float, nargs="+", default=[1.0], help="sample rate(s) in Hz (default 1.0)")
    ap.add_argument("--classes", nargs="+", choices=CLASSES, help="only these classes (default all)")
    ap.add_argument("--all", action="store_true", help="also list SLOW and EARLY confirmations")
    ap.add_argument("--json", action="store_true", help="the table's rows and every case as JSON")
    args = ap.parse_args(argv)
    rows = evaluate(args.seeds, tuple(args.rate), args.classes)
    summary = summarise(rows)
    if args.json:
        json.dump({"classes": summary, "cases": rows}, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(format_table(summary))
    print()
    for tag, r in tagged(rows, args.all):
        print(format_case(tag, r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
