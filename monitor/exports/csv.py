"""CSV export: the interchange format of :mod:`monitor.csvio` (so ``sympatherm analyze``
reads it back and reaches the live verdict) plus a ``wall_clock`` column, the session's
fields and markers as ``#`` metadata lines, a sidecar ``.events.csv`` with artefacts,
alarms, connection gaps, verdict changes and marker moves, and a sidecar ``.minutes.csv``: the
1-minute summary, every whole minute with both feet's value, rise and Di − Dc by the one minute
rule (:mod:`monitor.procedure.minutes`), the same numbers the screen's table and the PDF print.

Text a person typed can reach a spreadsheet, opened with whatever separator its locale
prefers (comma, semicolon, tab, …): :func:`neutralise_cell` puts one ``'`` before every place in
typed text where a cell could begin and a formula could start, and before a whole cell that a
spreadsheet would turn into a number or date; :func:`restore_cell` takes exactly those marks
away again. Quotes and separators in typed text are kept, by CSV quoting.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from datetime import datetime
from pathlib import Path

from monitor.csvio import write_interchange_csv
from monitor.exports._files import open_private
from monitor.exports.figures import REPORT_MINUTES, ReportFigures, session_outcome
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb, Marker
from monitor.pipeline.timefmt import format_session_time
from monitor.sources.base import LINE_HEALTH_META, stored_line_health

# A spreadsheet may begin a cell right after any of these, depending on the separator it was
# told to use: comma, semicolon, tab, space, pipe (and their full-width forms), a line break, and
# a double quote (a quoted piece that another separator cut out of the middle of a field).
_CELL_BREAKS = frozenset(',;\t |\n\r"\uff0c\uff1b\uff5c\u3000')
# What makes a spreadsheet read a cell as a formula (LibreOffice: "="; Excel also "+", "-", "@"
# and a leading tab or CR), their full-width forms, and the mark itself, so a typed "'" at a cell
# start is marked too and every mark can be taken away again without guessing.
_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20'")
MARK = "'"
# Typed text a spreadsheet would show as something else: a number ("00123" as 123, "1e5" as
# 100000), a date or time ("1/2", "12:30"), a percentage, a truth value.
_VALUE_LIKE = re.compile(r"\s*[(]?[$\u20ac\u00a3]?[.,]?\d[\d\s.,:/%eE()-]*|\s*(true|false)\s*", re.IGNORECASE)


def neutralise_cell(text: str) -> str:
    """Typed text as a CSV cell that no spreadsheet evaluates, whatever separator it splits on.

    A ``'`` goes before every character that could start a formula at a place where a cell could
    begin (the start of the text, or right after a separator, space, quote or line break), and
    at the start of text a spreadsheet would read as a number, date or truth value (so a patient
    ID ``00123`` stays ``'00123``, not 123). :func:`restore_cell` gives the typed text back."""
    out: list[str] = []
    at_cell_start = True
    for i, ch in enumerate(text):
        if at_cell_start and (ch in _FORMULA_STARTS or (i == 0 and _VALUE_LIKE.fullmatch(text))):
            out.append(MARK)
        out.append(ch)
        at_cell_start = ch in _CELL_BREAKS
    return "".join(out)


def restore_cell(cell: str) -> str:
    """The text that was typed, from a cell written by :func:`neutralise_cell`."""
    out: list[str] = []
    at_cell_start = True
    for ch in cell:
        if at_cell_start and ch == MARK:
            at_cell_start = False  # the mark's own place; the typed character follows
            continue
        out.append(ch)
        at_cell_start = ch in _CELL_BREAKS
    return "".join(out)


def _iso(wall: float | None) -> str:
    if wall is None or not math.isfinite(wall) or wall <= 0:
        return ""
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="milliseconds")


def events_path(csv_path: Path) -> Path:
    name = csv_path.name[:-4] if csv_path.name.lower().endswith(".csv") else csv_path.name
    return csv_path.with_name(name + ".events.csv")


def minutes_path(csv_path: Path) -> Path:
    name = csv_path.name[:-4] if csv_path.name.lower().endswith(".csv") else csv_path.name
    return csv_path.with_name(name + ".minutes.csv")


MINUTE_COLUMNS = ("minute", "session_s", "wall_clock", "left_c", "right_c", "left_rise_c", "right_rise_c",
                  "di_minus_dc_c", "in_report")


def _one_decimal(value: float | None) -> str:
    """0.1 °C as printed; never "-0.0" (a value that rounds to zero is 0.0)."""
    return "" if value is None else f"{round(value, 1) + 0.0:.1f}"


def write_csv(data: SessionData, figures: ReportFigures, out: str | os.PathLike[str],
              progress: Progress | None = None) -> Path:
    out = Path(out)
    sidecar = events_path(out)
    minutes_file = minutes_path(out)
    info = data.info
    metadata: dict[str, object] = {}
    if data.simulated:
        metadata["warning"] = "SIMULATED session from the SympaTherm simulator, not patient data"
    metadata.update({
        "blocked": str(info.blocked) if info.blocked else None,
        "injection_s": repr(data.injection_s) if data.injection_s is not None else None,
        "core_c": info.core_c, "room_c": info.room_c,
        "criteria": figures.analysis.get("criteria_id") or data.criteria.get("id"),
        "verdict": figures.verdict_state or None,
        # The outcome in the report's words (confirmed | not_confirmed | not_judged | in_progress),
        # as `analyze` would put it for a finished session.
        "outcome": session_outcome(data, figures).code,
        "confirmed_at_s": figures.confirmed_at_s,
        "patient_id": neutralise_cell(info.patient_id) if info.patient_id else None,
        "operator": neutralise_cell(info.operator) or None, "nurse": neutralise_cell(info.nurse) or None,
        "procedure": neutralise_cell(info.procedure) or None, "levels": neutralise_cell(info.levels) or None,
        "drug": neutralise_cell(info.drug) or None,
        "probe_sites": neutralise_cell("; ".join(f"{k} {v}" for k, v in info.probe_sites.items())),
        "simulated": "yes" if data.simulated else "no",
        "session_started": _iso(data.started_wall),
        "session_status": data.status,
        "software_version": data.software_version,
        "events_file": sidecar.name,
        "minutes_file": minutes_file.name,
        # Per probe, what the link suffered (the recorder's counts): "probe: line: 3 CRC errors, 12 lost".
        "line_health": "; ".join(f"{h.probe}: {h.words() or 'clean'}"
                                 for h in stored_line_health(data.meta.get(LINE_HEALTH_META))) or None,
    })
    markers = [Marker(m.kind, m.session_s, neutralise_cell(m.text), m.wall_time, m.placed_s, m.id)
               for m in data.markers]
    buffer = io.StringIO()
    readings = sorted(data.readings, key=lambda r: (r.session_s, str(r.limb)))
    write_interchange_csv(buffer, readings, metadata, markers=markers)
    total = len(readings)
    with open_private(out, "w", encoding="utf-8", newline="") as fh:
        wall_index = None
        done = 0
        for line in buffer.getvalue().splitlines():
            if line.startswith("#") or not line:
                fh.write(line + "\n")
                continue
            cells = next(csv.reader([line]))
            if wall_index is None:
                wall_index = cells.index("wall_time")
                fh.write(line + ",wall_clock\n")
                continue
            wall = cells[wall_index]
            fh.write(line + "," + _iso(float(wall) if wall else None) + "\n")
            done += 1
            if progress and done % 5000 == 0:
                progress(done, total)
    _write_events(data, sidecar)
    _write_minutes(data, figures, minutes_file)
    if progress:
        progress(total, total)
    return out


def _write_events(data: SessionData, path: Path) -> None:
    start = data.started_wall

    def wall(session_s: float | None) -> str:
        return "" if session_s is None else _iso(start + session_s)

    # (kind, subkind, limb, start_s, end_s, priority, message); the text cells are neutralised,
    # the wall clock is ours and stays a time a spreadsheet can read.
    rows: list[tuple[str, str, str, float, float | None, str, str]] = []
    for e in data.events:
        rows.append((e.kind, e.subkind, str(e.limb or ""), e.start_s, e.end_s, e.priority, e.message))
    for v in data.verdicts:
        rows.append(("verdict", v.state, "", v.session_s, None, "", v.message))
    for mv in data.marker_moves:
        rows.append(("marker_moved", f"marker {mv.marker_id}", "", mv.to_s, None, "",
                     f"moved from {format_session_time(mv.from_s)} to {format_session_time(mv.to_s)}"
                     + (f": {mv.reason}" if mv.reason else "")))
    rows.sort(key=lambda r: float(r[3]))
    with open_private(path, "w", encoding="utf-8", newline="") as fh:
        if data.simulated:
            fh.write("# SIMULATED session from the SympaTherm simulator, not patient data\r\n")
        # CRLF lines (RFC 4180): the csv module then quotes a cell holding a lone CR too, so a
        # typed line break stays inside its cell.
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["kind", "subkind", "limb", "start_s", "end_s", "start_wall_clock", "end_wall_clock",
                         "priority", "message"])
        for kind, subkind, limb, start_s, end_s, priority, message in rows:
            writer.writerow([neutralise_cell(kind), neutralise_cell(subkind), neutralise_cell(limb),
                             repr(float(start_s)), "" if end_s is None else repr(float(end_s)),
                             wall(start_s), wall(end_s), neutralise_cell(priority), neutralise_cell(message)])


def _write_minutes(data: SessionData, figures: ReportFigures, path: Path) -> None:
    """The 1-minute summary: one row per whole minute from the origin (the injection, or the
    session start), numbers as printed (0.1 °C), empty where no reading stands for the minute."""
    start = data.started_wall
    origin = "injection" if figures.injection_s is not None else "session start"
    with open_private(path, "w", encoding="utf-8", newline="") as fh:
        if data.simulated:
            fh.write("# SIMULATED session from the SympaTherm simulator, not patient data\n")
        # The origin in the one time format, and in exact seconds (the session_s column's unit); no
        # comma, so a spreadsheet keeps the line in one cell.
        fh.write(f"# minutes from the {origin} at session time {format_session_time(figures.origin_s)} "
                 f"({figures.origin_s:g} s); blocked: {data.info.blocked or 'not set'}\n")
        fh.write("# each value: the lower median of the counted readings (status OK, not flagged as an artefact) "
                 "in the 30 s up to the minute; rises from the baseline in force then (docs/minute-values.md)\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(MINUTE_COLUMNS)
        report = set(REPORT_MINUTES) if figures.injection_s is not None else set()
        for row in figures.minutes:
            writer.writerow([row.minute, f"{row.session_s:.3f}", _iso(start + row.session_s),
                             _one_decimal(row.celsius[Limb.LEFT]), _one_decimal(row.celsius[Limb.RIGHT]),
                             _one_decimal(row.rise_c[Limb.LEFT]), _one_decimal(row.rise_c[Limb.RIGHT]),
                             _one_decimal(row.di_minus_dc_c), "yes" if row.minute in report else ""])
