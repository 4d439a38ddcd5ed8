"""CSV export: the interchange format of :mod:`monitor.csvio` (so ``sympatherm analyze``
reads it back and reaches the live verdict) plus a ``wall_clock`` column, the session's
fields and markers as ``#`` metadata lines, a sidecar ``.events.csv`` with artefacts,
alarms, connection gaps, verdict changes and marker moves, and a sidecar ``.minutes.csv``: the
1-minute summary, every whole minute with both feet's value, rise and Di − Dc by the one minute
rule (:mod:`monitor.procedure.minutes`), the same numbers the screen's table and the PDF print.

Text a person typed can reach a spreadsheet: every text cell that starts with ``=``, ``+``,
``-``, ``@`` (or a tab or carriage return) is prefixed with ``'`` so it is never run as a formula.
"""

from __future__ import annotations

import csv
import io
import math
import os
from datetime import datetime
from pathlib import Path

from monitor.csvio import write_interchange_csv
from monitor.exports._files import open_private
from monitor.exports.figures import REPORT_MINUTES, ReportFigures, session_outcome
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb, Marker

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """A text cell a spreadsheet will show, never evaluate."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def neutralise_fragments(text: str) -> str:
    """For text written raw into a ``#`` line, where a spreadsheet splits cells at commas:
    no piece may start a formula (even after spaces), and double quotes, which a CSV reader
    would strip to expose one, become single quotes."""
    pieces = []
    for part in text.replace("\n", " ").replace("\r", " ").replace('"', "'").split(","):
        stripped = part.lstrip()
        if stripped.startswith(_FORMULA_START):
            part = part[: len(part) - len(stripped)] + "'" + stripped
        pieces.append(part)
    return ",".join(pieces)


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
    return "" if value is None else f"{value:.1f}"


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
        "patient_id": neutralise_fragments(info.patient_id) if info.patient_id else None,
        "operator": neutralise_fragments(info.operator) or None, "nurse": neutralise_fragments(info.nurse) or None,
        "procedure": neutralise_fragments(info.procedure) or None, "levels": neutralise_fragments(info.levels) or None,
        "drug": neutralise_fragments(info.drug) or None,
        "probe_sites": "; ".join(f"{k} {v}" for k, v in info.probe_sites.items()),
        "simulated": "yes" if data.simulated else "no",
        "session_started": _iso(data.started_wall),
        "session_status": data.status,
        "software_version": data.software_version,
        "events_file": sidecar.name,
        "minutes_file": minutes_file.name,
    })
    markers = [Marker(m.kind, m.session_s, neutralise_fragments(m.text), m.wall_time, m.placed_s, m.id)
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

    rows: list[list[str | float]] = []
    for e in data.events:
        rows.append([e.kind, e.subkind, str(e.limb or ""), e.start_s, "" if e.end_s is None else e.end_s,
                     wall(e.start_s), wall(e.end_s), e.priority, e.message])
    for v in data.verdicts:
        rows.append(["verdict", v.state, "", v.session_s, "", wall(v.session_s), "", "", v.message])
    for mv in data.marker_moves:
        rows.append(["marker_moved", f"marker {mv.marker_id}", "", mv.to_s, "", wall(mv.to_s), "", "",
                     f"moved from {mv.from_s:g} s to {mv.to_s:g} s" + (f": {mv.reason}" if mv.reason else "")])
    rows.sort(key=lambda r: float(r[3]))
    with open_private(path, "w", encoding="utf-8", newline="") as fh:
        if data.simulated:
            fh.write("# SIMULATED session from the SympaTherm simulator, not patient data\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["kind", "subkind", "limb", "start_s", "end_s", "start_wall_clock", "end_wall_clock",
                         "priority", "message"])
        for row in rows:
            writer.writerow([neutralise_cell(c) if isinstance(c, str) else repr(float(c)) for c in row])


def _write_minutes(data: SessionData, figures: ReportFigures, path: Path) -> None:
    """The 1-minute summary: one row per whole minute from the origin (the injection, or the
    session start), numbers as printed (0.1 °C), empty where no reading stands for the minute."""
    start = data.started_wall
    origin = "injection" if figures.injection_s is not None else "session start"
    with open_private(path, "w", encoding="utf-8", newline="") as fh:
        if data.simulated:
            fh.write("# SIMULATED session from the SympaTherm simulator, not patient data\n")
        fh.write(f"# minutes from the {origin} (session {figures.origin_s:g} s); blocked: "
                 f"{data.info.blocked or 'not set'}\n")
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
