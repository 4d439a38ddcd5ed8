"""`sympatherm analyze FILE`: the block detector run offline on an interchange CSV or a session file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from monitor.commands._common import SubParsers, add_blocked_flag, core_c, file_time_s

if TYPE_CHECKING:
    from monitor.pipeline.batch import AnalysisResult


def register(sub: SubParsers) -> None:
    from monitor.pipeline.config import CRITERIA_PRESETS

    presets = "\n".join(f"  {c.id:<10} {c.describe()}" for c in CRITERIA_PRESETS.values())
    p = sub.add_parser("analyze", help="analyse a recording (CSV or session file) offline and give the block verdict",
                       description="Analyse a CSV recording (interchange format) or a SympaTherm session file\n"
                                   "(.sympatherm) with the block detector. The file's own side, markers, core\n"
                                   "temperature and criteria are used; the flags override them.\n"
                                   "Exit status 0 when the file was analysed, whatever the verdict; 2 when it\n"
                                   "cannot be read.",
                       epilog=f"criteria presets (sources in docs/detector.md):\n{presets}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="the recording: an interchange CSV (time_s or timestamp, left_c, "
                   "right_c) or a .sympatherm session file")
    add_blocked_flag(p)
    p.add_argument("--injection-at", type=file_time_s, metavar="SECONDS", dest="injection_at",
                   help="injection time on the file's time axis (overrides the file's metadata)")
    p.add_argument("--criteria", choices=list(CRITERIA_PRESETS),
                   help="confirmation criteria preset (default: the file's own, else default)")
    p.add_argument("--core-c", type=core_c, metavar="C", dest="core_c",
                   help="core temperature in °C, 30 to 42 (needed by core-3)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"sympatherm analyze: {message}", file=sys.stderr)
    return 2


def _is_session_file(path: str) -> bool:
    """An SQLite file, a file marked as a SympaTherm session, or one named like one: the session
    reader says what is wrong with it (a damaged session is not "not valid UTF-8")."""
    from monitor.store import SUFFIX, looks_like_session_file

    return path.endswith(SUFFIX) or looks_like_session_file(path)


def _analyze_session(path: str, args: argparse.Namespace) -> AnalysisResult | str:
    """A session file judged by the one replay (:func:`monitor.procedure.replay.replay_session`):
    its own side, criteria (read back by ``criteria_from_record``), core temperature, readings and
    markers, the flags overriding them. Read-only: the file is never changed. Returns the
    AnalysisResult, or the plain words of what is missing."""
    from monitor.model import Limb, MarkerKind
    from monitor.pipeline.batch import _finish
    from monitor.pipeline.config import CRITERIA_PRESETS
    from monitor.procedure.criteria_record import criteria_from_record
    from monitor.procedure.replay import replay_session
    from monitor.store import SessionStore

    with SessionStore.open_read_only(path) as store:
        info = store.info()
        blocked = Limb.parse(args.blocked) if args.blocked else info.blocked
        core_c = args.core_c if args.core_c is not None else info.core_c
        criteria = CRITERIA_PRESETS[args.criteria] if args.criteria else criteria_from_record(store.criteria())
        markers = store.markers()
        injection = args.injection_at if args.injection_at is not None else next(
            (m.session_s for m in markers if m.kind is MarkerKind.INJECTION), None)
        if blocked is None:
            return "the blocked side is not in the file's metadata: give --blocked left or --blocked right"
        if injection is None:
            return "the file has no injection time: give --injection-at SECONDS"
        if criteria.needs_core and core_c is None:
            return f"criteria {criteria.id} needs a core temperature: give --core-c C"
        # The whole recording is judged (finished), as for a CSV: nothing more will arrive.
        pipeline = replay_session(store, blocked=blocked, criteria=criteria, core_c=core_c, finish=False)
    return _finish(pipeline, pipeline.markers, args.injection_at)


def run(args: argparse.Namespace) -> int:
    from monitor.csvio import CsvFormatError, read_interchange_csv
    from monitor.model import Limb
    from monitor.pipeline import analyze
    from monitor.pipeline.config import CRITERIA_PRESETS
    from monitor.store import StoreError

    if _is_session_file(args.file):
        try:
            result = _analyze_session(args.file, args)
        except StoreError as exc:
            return _fail(str(exc))
        if isinstance(result, str):
            return _fail(result)
    else:
        try:
            data = read_interchange_csv(args.file)
            # The metadata is read (and checked) when asked for: a bad line is a plain error too.
            blocked = Limb.parse(args.blocked) if args.blocked else data.blocked
            injection = args.injection_at if args.injection_at is not None else data.injection_s
            core_c = args.core_c if args.core_c is not None else data.core_c
        except CsvFormatError as exc:
            return _fail(str(exc))
        file_criteria = data.metadata.get("criteria", "").strip() or None
        criteria = args.criteria or (file_criteria if file_criteria in CRITERIA_PRESETS else "default")
        if blocked is None:
            return _fail("the blocked side is not in the file's metadata: give --blocked left or --blocked right")
        if injection is None:
            return _fail("the file has no injection time: give --injection-at SECONDS")
        if criteria == "core-3" and core_c is None:
            return _fail("criteria core-3 needs a core temperature: give --core-c C")
        result = analyze(data, blocked, injection_s=args.injection_at, criteria=criteria, core_c=core_c)
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
