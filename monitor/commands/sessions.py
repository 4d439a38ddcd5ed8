"""`sympatherm sessions`: list recorded sessions (date, patient, side, duration, verdict)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime


def register(sub) -> None:
    p = sub.add_parser("sessions", help="list recorded sessions",
                       description="List the recorded sessions in the data folder (or --dir), newest last, "
                                   "and any session left unfinished by a crash.")
    p.add_argument("--dir", metavar="FOLDER", help="look in this folder instead of the user's data folder")
    p.add_argument("--recover", metavar="FILE",
                   help="close an unfinished (interrupted) session so it becomes one complete file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from monitor.store import StoreError, close_unfinished, find_unfinished_sessions, session_summaries

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
    print(f"Sessions in {folder}")
    if not rows:
        print("No recorded sessions.")
        return 0
    print(f"{'date':16}  {'patient':16}  {'side':5}  {'duration':>8}  {'verdict':22}  file")
    for path, summary in rows:
        if isinstance(summary, str):
            print(f"{'?':16}  {'':16}  {'':5}  {'':>8}  {'UNREADABLE':22}  {path.name}: {summary}")
            continue
        date = datetime.fromtimestamp(summary.started_wall).strftime("%Y-%m-%d %H:%M") \
            if summary.started_wall else "?"
        verdict = (summary.verdict or "—").replace("_", " ")
        if summary.simulated:
            verdict += " (SIMULATED)"
        if summary.status != "closed":
            verdict += " [unfinished]"
        patient = (summary.patient_id or "—")[:16]
        side = str(summary.blocked or "—")
        print(f"{date:16}  {patient:16}  {side:5}  {summary.duration_s / 60.0:7.1f}m  {verdict:22}  {path.name}")
    unfinished = find_unfinished_sessions(folder)
    if unfinished:
        print("\nUnfinished (interrupted) sessions: resume them in the app, or close them with "
              "`sympatherm sessions --recover FILE`:")
        for path in unfinished:
            print(f"  {path}")
    return 0
