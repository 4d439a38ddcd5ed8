"""`sympatherm sessions`: list recorded sessions (date, patient, side, duration, verdict)."""

from __future__ import annotations

import argparse
import shlex
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.commands._common import SubParsers

if TYPE_CHECKING:
    from monitor.store import SessionSummary


def register(sub: SubParsers) -> None:
    p = sub.add_parser("sessions", help="list recorded sessions",
                       description="List the recorded sessions in the data folder (or --dir), newest last, "
                                   "and any session left unfinished by a crash.")
    p.add_argument("--dir", metavar="FOLDER", help="look in this folder instead of the user's data folder")
    p.add_argument("--close", "--recover", dest="recover", metavar="FILE",
                   help="close an unfinished (interrupted) session so it becomes one complete file "
                        "(to continue recording into it instead: sympatherm record --resume FILE ...)")
    p.set_defaults(func=run)


# Shown when the file does not say how it was recorded, or no `record` flags can reach its source.
ANY_SOURCE = "--port PATH|--ble ADDRESS|--demo"


def resume_command(path: Path, source_flags: str | None) -> str:
    """The exact command that continues recording into an unfinished session."""
    return f"sympatherm record --resume {shlex.quote(str(path))} {source_flags or ANY_SOURCE}"


def close_command(path: Path) -> str:
    return f"sympatherm sessions --close {shlex.quote(str(path))}"


def _source_flags_of(path: Path) -> str | None:
    """The `record` flags that reach the session's saved source again (None: it does not say)."""
    from monitor.commands.sources import resume_flags
    from monitor.procedure.source_spec import stored_spec
    from monitor.store import SessionStore, StoreError

    try:
        store = SessionStore.open_read_only(path, check_integrity=False)
    except StoreError:
        return None
    try:
        spec = stored_spec(store)
    except (sqlite3.Error, ValueError):
        return None
    finally:
        store.close()
    return None if spec is None else resume_flags(spec)


def run(args: argparse.Namespace) -> int:
    from monitor.store import StoreError, close_unfinished, scan_unfinished_sessions, session_summaries

    if args.recover:
        try:
            close_unfinished(args.recover)
        except StoreError as exc:
            print(f"sympatherm sessions: {exc}", file=sys.stderr)
            return 1
        print(f"Closed {args.recover}: everything recorded before the interruption is kept.")
        return 0
    from monitor import paths

    folder = args.dir or paths.sessions_dir()
    rows = session_summaries(folder)
    scan = scan_unfinished_sessions(None if args.dir is None else folder)
    print(f"Sessions in {folder}")
    if not rows:
        print("No recorded sessions.")
    else:
        _print_table(rows, {entry.path.resolve() for entry in scan.damaged})
    unfinished = scan.resumable
    if unfinished:
        print("\nUnfinished (interrupted) sessions. For each, either continue recording into it (session time "
              "goes on after the interruption, which is recorded), or close it as it is:")
        for path in unfinished:
            print(f"  {path}")
            print(f"    resume:  {resume_command(path, _source_flags_of(path))}")
            print(f"    close:   {close_command(path)}")
    if scan.damaged:
        print("\nSession files that cannot be opened (they cannot be resumed or closed; each is left exactly as "
              "it was, so keep a copy for a technician):")
        for entry in scan.damaged:
            print(f"  {entry.path}")
            print(f"    why:     {entry.reason}")
    return 0


# A closed session's last verdict state, as the outcome a chart filer looks for.
_OUTCOME_WORDS = {"confirmed": "confirmed", "monitoring": "not confirmed", "early_warming": "not confirmed",
                  "not_confirmed_yet": "not confirmed", "baseline_captured": "no injection marked",
                  "waiting_for_baseline": "no baseline"}


def verdict_words(state: str, *, finished: bool) -> str:
    """The verdict column: the outcome for a finished session, the current state for one still open."""
    if not state:
        return "—"
    if finished:
        return _OUTCOME_WORDS.get(state, state.replace("_", " "))
    return state.replace("_", " ")


PATIENT_WIDTH_MAX = 24  # a longer patient ID is elided with a visible "…", never cut silently


def _printable(text: str) -> str:
    """Typed text from a file, safe to print on a terminal (no control characters or escapes)."""
    return "".join(c if c.isprintable() else "?" for c in text)


def elide(text: str, width: int) -> str:
    """``text`` whole if it fits in ``width`` characters, else cut with a visible "…"."""
    return text if len(text) <= width else text[:width - 1] + "…"


def _date(wall: float | None) -> str:
    if not wall:
        return "?"
    try:
        return datetime.fromtimestamp(wall).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):  # a start time no clock can show
        return "?"


def _unreadable_label(reason: str) -> str:
    return "DAMAGED" if "that is damaged" in reason else "UNREADABLE"


def _print_table(rows: list[tuple[Path, SessionSummary | str]], damaged: set[Path]) -> None:
    from monitor.pipeline.timefmt import format_session_time

    ids = [_printable(s.patient_id or "—") for _, s in rows if not isinstance(s, str)]
    width = min(PATIENT_WIDTH_MAX, max([len("patient"), *map(len, ids)]))
    print(f"{'date':16}  {'patient':{width}}  {'side':5}  {'duration':>8}  {'verdict':28}  file")
    for path, summary in rows:
        if isinstance(summary, str):
            label = _unreadable_label(summary)
            print(f"{'?':16}  {'':{width}}  {'':5}  {'':>8}  {label:28}  {path.name}: {summary}")
            continue
        date = _date(summary.started_wall)
        verdict = verdict_words(summary.verdict, finished=summary.status == "closed")
        if summary.simulated:
            verdict += " (SIMULATED)"
        if path.resolve() in damaged:
            verdict += " [DAMAGED]"
        elif summary.status != "closed":
            verdict += " [unfinished]"
        patient = elide(_printable(summary.patient_id or "—"), width)
        side = str(summary.blocked or "—")
        duration = format_session_time(summary.duration_s)  # the one time format: m:ss, h:mm:ss past an hour
        print(f"{date:16}  {patient:{width}}  {side:5}  {duration:>8}  {verdict:28}  {path.name}")
