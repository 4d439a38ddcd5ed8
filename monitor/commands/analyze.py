"""`sympatherm analyze FILE.csv`: the block detector run offline on an interchange CSV."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from monitor.commands._common import add_blocked_flag


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    from monitor.pipeline.config import CRITERIA_PRESETS

    presets = "\n".join(f"  {c.id:<10} {c.describe()}" for c in CRITERIA_PRESETS.values())
    p = sub.add_parser("analyze", help="analyse a recorded CSV file offline and give the block verdict",
                       description="Analyse a CSV recording (interchange format) with the block detector.\n"
                                   "Exit status 0 when the file was analysed, whatever the verdict; 2 when it\n"
                                   "cannot be read.",
                       epilog=f"criteria presets (sources in the README):\n{presets}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE.csv", help="the recording (time_s or timestamp, left_c, right_c)")
    add_blocked_flag(p)
    p.add_argument("--injection-at", type=_finite, metavar="SECONDS", dest="injection_at",
                   help="injection time on the file's time axis (overrides the file's metadata)")
    p.add_argument("--criteria", default="default", choices=list(CRITERIA_PRESETS),
                   help="confirmation criteria preset (default: default)")
    p.add_argument("--core-c", type=_finite, metavar="C", dest="core_c",
                   help="core temperature in °C (needed by core-3)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"sympatherm analyze: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from monitor.csvio import CsvFormatError, read_interchange_csv
    from monitor.model import Limb
    from monitor.pipeline import analyze

    try:
        recording = read_interchange_csv(args.file)
        blocked = Limb.parse(args.blocked) if args.blocked else recording.blocked
        injection = args.injection_at if args.injection_at is not None else recording.injection_s
        core_c = args.core_c if args.core_c is not None else recording.core_c
    except CsvFormatError as exc:
        return _fail(str(exc))
    if blocked is None:
        return _fail("the blocked side is not in the file's metadata: give --blocked left or --blocked right")
    if injection is None:
        return _fail("the injection time is not in the file's metadata: give --injection-at SECONDS")
    if args.criteria == "core-3" and core_c is None:
        return _fail("criteria core-3 needs a core temperature: give --core-c C")
    result = analyze(recording, blocked, injection_s=args.injection_at, criteria=args.criteria, core_c=core_c)
    try:
        if args.json:
            json.dump(result.to_json_dict(), sys.stdout, ensure_ascii=False, allow_nan=False)
            sys.stdout.write("\n")
        else:
            print(result.summary())
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): the file was analysed; no traceback on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
