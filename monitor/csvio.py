"""The CSV interchange format: what the exports write, the replay source reads and
``sympatherm analyze`` analyses.

Layout::

    # sympatherm interchange v1
    # blocked: left
    # injection_s: 540
    # marker: injection,540,first injection
    time_s,left_c,right_c,left_status,right_status,wall_time
    0.0,24.51,,ok,,1700000000.0
    0.4,,25.02,,ok,1700000000.4

- ``#`` lines before the header carry metadata as ``key: value`` (``marker:`` lines may
  repeat: ``kind,session_s,text``, CSV-quoted where the text holds a comma or quote;
  a ``probe_checked`` marker's text is the foot, ``left`` or
  ``right``); command-line flags override them.
- The header names ``time_s`` (seconds on any origin) or ``timestamp`` (ISO 8601; the time
  axis is then seconds since the first row), ``left_c`` and ``right_c``. Optional:
  ``left_status``/``right_status`` (ProbeStatus values), ``left_seq``/``right_seq``,
  ``wall_time`` (POSIX seconds). Unknown columns are ignored.
- Comma-separated; a file saved by a spreadsheet with ``;`` and decimal commas, or with tabs,
  is read as well.
- Rows need not be synchronised: an empty cell (or ``nan``, ``NA``, ``N/A``, ``null``, ``-``)
  means that limb has no reading then.
  Out-of-range numbers are kept and the pipeline treats them as invalid readings.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import IO

import numpy as np

from monitor.model import PROBE_STATUS_CODES, Limb, Marker, MarkerKind, ProbeStatus, Reading

FORMAT_LINE = "sympatherm interchange v1"
# Times in a file (time_s, marker times, injection_s, wall_time) may use any origin, POSIX seconds
# included, but no clock gives more than 10¹⁰ s (the year 2286 as POSIX time): a larger value is
# a wrong column or a damaged file, and the pipeline's 1 s grid could not hold it.
TIME_LIMIT_S = 1e10
# Cells that mean "no value" in files written by other tools (numpy.savetxt, R, spreadsheets).
_MISSING = frozenset({"nan", "na", "n/a", "null", "none", "-"})
_STATUS_INDEX = {s: i for i, s in enumerate(PROBE_STATUS_CODES)}


class CsvFormatError(ValueError):
    """The file is not a readable interchange CSV; the message is one plain sentence."""


@dataclass(frozen=True)
class LimbArrays:
    t_s: np.ndarray
    celsius: np.ndarray  # NaN where the probe gave no temperature
    status: np.ndarray  # indices into monitor.model.PROBE_STATUS_CODES
    sequence: np.ndarray  # -1 where unknown
    wall_time: np.ndarray


@dataclass
class InterchangeRecording:
    metadata: dict[str, str]
    limbs: dict[Limb, LimbArrays]
    markers: list[Marker] = field(default_factory=list)
    time_origin: str = ""  # the first timestamp, when the file used ISO timestamps

    @cached_property
    def readings(self) -> list[Reading]:
        """All readings, in time order (left before right at equal times)."""
        out: list[Reading] = []
        for limb, arr in self.limbs.items():
            for t, c, st, sq, w in zip(arr.t_s.tolist(), arr.celsius.tolist(), arr.status.tolist(),
                                       arr.sequence.tolist(), arr.wall_time.tolist(), strict=True):
                out.append(Reading(limb, None if math.isnan(c) else c, PROBE_STATUS_CODES[st], t,
                                   0.0 if math.isnan(w) else w, None if sq < 0 else sq, source="csv"))
        out.sort(key=lambda r: (r.session_s, r.limb is Limb.RIGHT))
        return out

    @property
    def blocked(self) -> Limb | None:
        text = self.metadata.get("blocked", "").strip()
        if not text:
            return None
        try:
            return Limb.parse(text)
        except ValueError:
            raise CsvFormatError(f"the file's metadata says 'blocked: {text}', which is not left or right") from None

    @property
    def injection_s(self) -> float | None:
        text = self.metadata.get("injection_s", "").strip()
        if text:
            return _metadata_number("injection_s", text)
        inj = [m.session_s for m in self.markers if m.kind is MarkerKind.INJECTION]
        return min(inj) if inj else None

    @property
    def core_c(self) -> float | None:
        text = self.metadata.get("core_c", "").strip()
        return _metadata_number("core_c", text) if text else None


def _metadata_number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CsvFormatError(f"the file's metadata '{key}: {text}' is not a number") from None
    if not math.isfinite(value):
        raise CsvFormatError(f"the file's metadata '{key}: {text}' is not a finite number")
    if key == "injection_s" and not abs(value) <= TIME_LIMIT_S:
        raise CsvFormatError(f"the file's metadata '{key}: {text}' is not a time any clock gives "
                             f"(more than {TIME_LIMIT_S:g} s)")
    return value


def read_interchange_csv(path: str | os.PathLike[str] | IO[str]) -> InterchangeRecording:
    """Read an interchange CSV; raise CsvFormatError with a plain message if it is not one."""
    if not isinstance(path, str | os.PathLike):
        return _parse(path, "the input")  # an open text file
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8-sig", newline="") as fh:
            return _parse(fh, name)
    except FileNotFoundError:
        raise CsvFormatError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise CsvFormatError(f"{name} is a folder, not a CSV file") from None
    except PermissionError:
        raise CsvFormatError(f"{name}: permission denied") from None
    except UnicodeDecodeError:
        raise CsvFormatError(f"{name} is not a text CSV file (it is not valid UTF-8)") from None

    except OSError as exc:
        raise CsvFormatError(f"{name} could not be read: {exc.strerror or exc}") from None


def _parse(fh: IO[str], name: str) -> InterchangeRecording:
    metadata: dict[str, str] = {}
    markers: list[Marker] = []
    line_no = 0
    header_line = None
    for raw_line in fh:
        line_no += 1
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if ":" in body:
                key, _, value = body.partition(":")
                key = key.strip().lower()
                if key == "marker":
                    markers.append(_parse_marker(value.strip(), name, line_no))
                elif key:
                    metadata[key] = value.strip()
            continue
        header_line = raw_line
        break
    if header_line is None:
        if line_no == 0:
            raise CsvFormatError(f"{name} is an empty file: it has no header row (expected time_s or timestamp, "
                                 "left_c and right_c)")
        raise CsvFormatError(f"{name} has no header row (expected time_s or timestamp, left_c and right_c)")
    # Comma-separated as written here; a spreadsheet saving with ';' (and decimal commas) or tabs
    # is read too.
    delimiter = "," if "," in header_line else ";" if ";" in header_line else "\t" if "\t" in header_line else ","
    decimal_comma = delimiter != ","
    try:
        header = [h.strip().lower() for h in next(csv.reader([header_line], delimiter=delimiter))]
    except csv.Error as exc:
        raise CsvFormatError(f"{name}, line {line_no}: the header row is not readable as CSV ({exc})") from None
    time_col = "time_s" if "time_s" in header else "timestamp" if "timestamp" in header else None
    missing = [c for c in ("left_c", "right_c") if c not in header]
    if time_col is None or missing:
        need = ", ".join(([] if time_col else ["time_s (or timestamp)"]) + missing)
        raise CsvFormatError(f"{name}: the header row lacks {need}")
    col = {h: i for i, h in enumerate(header)}
    width = len(header)
    times: list[float] = []
    cells: dict[str, list[str]] = {k: [] for k in ("left_c", "right_c", "left_status", "right_status",
                                                   "left_seq", "right_seq", "wall_time")}
    first_stamp: datetime | None = None
    rows = csv.reader(fh, delimiter=delimiter)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CsvFormatError(f"{name}, line {line_no + 1}: not readable as CSV ({exc})") from None
        line_no += 1
        if decimal_comma:
            row = [c.replace(",", ".") for c in row]
        if not row or all(not c.strip() for c in row):
            continue
        if row[0].lstrip().startswith("#"):
            continue
        if len(row) > width:
            raise CsvFormatError(f"{name}, line {line_no}: {len(row)} fields but the header has {width}")
        row = row + [""] * (width - len(row))
        stamp = row[col[time_col]].strip()
        if not stamp:
            raise CsvFormatError(f"{name}, line {line_no}: the {time_col} cell is empty")
        if time_col == "time_s":
            t = _number(stamp, name, line_no, "time_s")
            wall_default = math.nan
        else:
            try:
                when = datetime.fromisoformat(stamp)
            except ValueError:
                raise CsvFormatError(f"{name}, line {line_no}: {stamp!r} is not an ISO 8601 timestamp") from None
            if first_stamp is None:
                first_stamp = when
            if (when.tzinfo is None) != (first_stamp.tzinfo is None):
                raise CsvFormatError(f"{name}, line {line_no}: timestamps mix local and UTC-offset times")
            t = _bounded_time((when - first_stamp).total_seconds(), stamp, name, line_no, "timestamp")
            try:
                wall_default = when.timestamp()
            except (ValueError, OverflowError, OSError):
                raise CsvFormatError(f"{name}, line {line_no}: {stamp!r} is outside the dates a clock can "
                                     "show") from None
        times.append(t)
        for key in cells:
            cells[key].append(row[col[key]].strip() if key in col else "")
        if not cells["wall_time"][-1] and not math.isnan(wall_default):
            cells["wall_time"][-1] = repr(wall_default)
    limbs = {limb: _limb_arrays(limb, times, cells, name) for limb in Limb}
    return InterchangeRecording(metadata, limbs, markers, first_stamp.isoformat() if first_stamp else "")


def _number(text: str, name: str, line_no: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CsvFormatError(f"{name}, line {line_no}: {what} {text!r} is not a number") from None
    if what == "time_s" and not math.isfinite(value):
        raise CsvFormatError(f"{name}, line {line_no}: time_s {text!r} is not a finite number")
    if what in ("time_s", "marker time") and math.isfinite(value):
        _bounded_time(value, text, name, line_no, what)
    return value


def _bounded_time(value: float, text: str, name: str, line_no: int, what: str) -> float:
    if not abs(value) <= TIME_LIMIT_S:
        raise CsvFormatError(f"{name}, line {line_no}: {what} {text!r} is not a time any clock gives "
                             f"(more than {TIME_LIMIT_S:g} s from zero)")
    return value


def _limb_arrays(limb: Limb, times: list[float], cells: dict[str, list[str]], name: str) -> LimbArrays:
    vals, stats, seqs = cells[f"{limb}_c"], cells[f"{limb}_status"], cells[f"{limb}_seq"]
    t_out, c_out, s_out, q_out, w_out = [], [], [], [], []
    for i, (t, v, st, sq) in enumerate(zip(times, vals, stats, seqs, strict=True)):
        if v.lower() in _MISSING:
            v = ""  # what numpy or R write for "no value": no reading, not a sensor fault
        if not v and not st:
            continue  # no reading of this limb on this row
        line = f"row {i + 1}"
        celsius = math.nan
        if v:
            try:
                celsius = float(v)
            except ValueError:
                raise CsvFormatError(f"{name}, data {line}: {limb}_c {v!r} is not a number") from None
        status = ProbeStatus.OK
        if st:
            try:
                status = ProbeStatus(st.lower())
            except ValueError:
                raise CsvFormatError(f"{name}, data {line}: {limb}_status {st!r} is not a known probe status") \
                    from None
        seq = -1
        if sq:
            try:
                seq = int(sq)
            except ValueError:
                raise CsvFormatError(f"{name}, data {line}: {limb}_seq {sq!r} is not a whole number") from None
            if not -(2**63) <= seq < 2**63:
                raise CsvFormatError(f"{name}, data {line}: {limb}_seq {sq!r} is too large for a sequence number")
        w = cells["wall_time"][i]
        try:
            wall = float(w) if w else math.nan
        except ValueError:
            raise CsvFormatError(f"{name}, data {line}: wall_time {w!r} is not a number") from None
        if not math.isnan(wall) and not abs(wall) <= TIME_LIMIT_S:
            raise CsvFormatError(f"{name}, data {line}: wall_time {w!r} is not a time any clock gives "
                                 f"(more than {TIME_LIMIT_S:g} s from 1970)")
        t_out.append(t)
        c_out.append(celsius)
        s_out.append(_STATUS_INDEX[status])
        q_out.append(seq)
        w_out.append(wall)
    t_arr = np.asarray(t_out, dtype=np.float64)
    order = np.argsort(t_arr, kind="stable")
    return LimbArrays(t_arr[order], np.asarray(c_out, dtype=np.float64)[order],
                      np.asarray(s_out, dtype=np.int8)[order], np.asarray(q_out, dtype=np.int64)[order],
                      np.asarray(w_out, dtype=np.float64)[order])


def _parse_marker(text: str, name: str, line_no: int) -> Marker:
    try:
        parts = next(csv.reader([text])) if text else []
    except csv.Error as exc:
        raise CsvFormatError(f"{name}, line {line_no}: the marker is not readable as CSV ({exc})") from None
    if len(parts) < 2:
        raise CsvFormatError(f"{name}, line {line_no}: a marker needs 'kind,session_s[,text]'")
    try:
        kind = MarkerKind(parts[0].strip().lower())
    except ValueError:
        raise CsvFormatError(f"{name}, line {line_no}: unknown marker kind {parts[0]!r}") from None
    at = _number(parts[1].strip(), name, line_no, "marker time")
    if not math.isfinite(at):
        raise CsvFormatError(f"{name}, line {line_no}: the marker time {parts[1].strip()!r} is not a finite number")
    marker = Marker(kind, at, ",".join(parts[2:]).strip())
    try:
        marker.checked_limb  # noqa: B018 -- "probe_checked,1500,right": the text names the foot
    except ValueError as exc:
        raise CsvFormatError(f"{name}, line {line_no}: {exc}") from None
    return marker


def write_interchange_csv(path_or_file: str | os.PathLike[str] | IO[str], readings: Iterable[Reading],
                          metadata: dict[str, object] | None = None, markers: Iterable[Marker] = ()) -> None:
    """Write readings (and metadata and markers as ``#`` lines) in the interchange format.

    A path is created 0600 (patient data). Readings of both limbs at the same session time
    share a row; others get a row with the other limb's cells empty.
    """
    if not isinstance(path_or_file, str | os.PathLike):
        _write(path_or_file, readings, metadata or {}, markers)  # an open text file
        return
    target = Path(path_or_file)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        _write(fh, readings, metadata or {}, markers)


def _write(fh: IO[str], readings: Iterable[Reading], metadata: dict[str, object], markers: Iterable[Marker]) -> None:
    fh.write(f"# {FORMAT_LINE}\n")
    for key, value in metadata.items():
        if value is None:
            continue
        text = str(value).replace("\n", " ").replace("\r", " ")
        fh.write(f"# {key}: {text}\n")
    for m in markers:
        # CSV-quoted, so a note keeps its commas and quotes exactly; a ``#`` line is one line.
        note = m.text.replace("\n", " ").replace("\r", " ")
        fields = io.StringIO()
        csv.writer(fields, lineterminator="").writerow([str(m.kind), repr(m.session_s), note])
        fh.write(f"# marker: {fields.getvalue()}\n")
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(_COLUMNS)
    row: dict[str, object] | None = None
    for r in readings:
        # Consecutive readings of the two limbs at the same time share a row.
        if row is None or row["time_s"] != r.session_s or f"{r.limb}_status" in row:
            if row is not None:
                writer.writerow(_format_row(row))
            row = {"time_s": r.session_s}
        row[f"{r.limb}_c"] = r.celsius
        row[f"{r.limb}_status"] = str(r.status)
        row[f"{r.limb}_seq"] = r.sequence
        row["wall_time"] = r.wall_time
    if row is not None:
        writer.writerow(_format_row(row))


_COLUMNS = ["time_s", "left_c", "right_c", "left_status", "right_status", "left_seq", "right_seq", "wall_time"]


def _format_row(row: dict[str, object]) -> list[str]:
    out = []
    for key in _COLUMNS:
        value = row.get(key)
        if value is None:
            out.append("")
        elif isinstance(value, float):
            out.append(repr(float(value)))
        else:
            out.append(str(value))
    return out
