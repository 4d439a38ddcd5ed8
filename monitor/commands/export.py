"""`sympatherm export FILE --format csv|pdf|edf|fhir [--out PATH]`."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from monitor.commands._common import SubParsers, add_out_flag


def register(sub: SubParsers) -> None:
    p = sub.add_parser("export", help="export a session for the chart (pdf, csv, edf, fhir)",
                       description="Export a recorded session (also one still being recorded) as a PDF chart "
                                   "report, interchange CSV, EDF+ or a FHIR R5 JSON Bundle.")
    p.add_argument("file", help="the session file (.sympatherm)")
    p.add_argument("--format", required=True, choices=["csv", "pdf", "edf", "fhir", "hl7"], help="what to write")
    add_out_flag(p, "where to write: a file (x.pdf), a folder, or a new folder ending in / "
                    "(default: next to the session file)")
    p.set_defaults(func=run)


class ProgressBar:
    """A progress bar on stderr, shown only on a terminal and when the work takes more than a moment."""

    def __init__(self, stream: TextIO | None = None, width: int = 30, delay_s: float = 0.5, *, force: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.delay_s = delay_s
        self.started = time.monotonic()
        self.shown = False
        self.stage = "reading"
        self._last_total = 0

    def __call__(self, done: int, total: int) -> None:
        if total < self._last_total:  # a new stage (reading the file, then writing the export)
            self.stage = "writing"
        self._last_total = total
        if not self.enabled:
            return
        if not self.shown and time.monotonic() - self.started < self.delay_s:
            return
        self.shown = True
        frac = 0.0 if total <= 0 else min(1.0, done / total)
        filled = int(round(frac * self.width))
        self.stream.write(f"\r{self.stage:8} [{'#' * filled}{'.' * (self.width - filled)}] {frac * 100:3.0f}%")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from monitor.exports import ExportError, export_session
    from monitor.store import StoreError

    bar = ProgressBar()
    try:
        written = export_session(args.file, args.format, out=args.out, progress=bar)
    except (ExportError, StoreError) as exc:
        bar.close()
        print(f"sympatherm export: {exc}", file=sys.stderr)
        return 1
    bar.close()
    print(f"Wrote {written}")
    if args.format == "csv":
        from monitor.exports.csv import events_path

        print(f"Wrote {events_path(written)} (artefacts, alarms, gaps, verdict changes, marker moves)")
    return 0
