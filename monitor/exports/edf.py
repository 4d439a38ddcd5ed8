"""EDF+ export (pyedflib): both limbs at a fixed rate, markers and events as annotations.

Readings arrive at irregular moments; EDF needs a fixed rate, so each limb is resampled
by linear interpolation between neighbouring valid readings no further apart than
1.6 reading intervals (:func:`bridge_for`). Wherever there is no valid reading close enough (a dropped link, a
sensor fault, a probe off) the sample is set to :data:`GAP_VALUE_C`, far outside skin
temperature, and the gap is annotated: never silently interpolated.

The header follows the EDF+ specification (edfplus.info, "Additional specifications" 3 and 4):
the local patient identification is ``code sex birthdate name`` and the local recording
identification ``Startdate dd-MMM-yyyy admincode technician equipment`` (then additional
subfields), spaces inside a subfield replaced by ``_`` and ``X`` for what is unknown. edflib
shortens these fields to its own limits (about 14 characters of the operator's name survived),
so they are composed here and written into the 80-character fields after edflib closed the file:
nothing is cut that fits. Signal labels follow the EDF+ standard texts for temperature
("Temp" followed by the site, physical dimension "degC").
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib

from monitor.exports._files import precreate_private
from monitor.exports.session_data import Progress, SessionData
from monitor.model import Limb

GAP_VALUE_C = -20.0  # out-of-range marker for "no valid reading here" (physical minimum)
PHYSICAL_RANGE_C = (-20.0, 60.0)
ANNOTATION_CHARS = 40  # edflib writes at most 40 characters per annotation
IDENTIFICATION_CHARS = 80  # the local patient and local recording identification fields
PATIENT_FIELD_OFFSET, RECORDING_FIELD_OFFSET = 8, 88  # byte offsets in the EDF header record
EQUIPMENT_CHARS = 24
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
SIGNAL_LABELS = {Limb.LEFT: "Temp left foot", Limb.RIGHT: "Temp right foot"}  # EDF+ standard texts: "Temp <site>"


def resample_limb(t_s: np.ndarray, celsius: np.ndarray, valid: np.ndarray, grid_s: np.ndarray,
                  max_bridge_s: float) -> np.ndarray:
    """Values on ``grid_s``; GAP_VALUE_C wherever valid readings are more than ``max_bridge_s`` apart."""
    tv, cv = t_s[valid & np.isfinite(celsius)], celsius[valid & np.isfinite(celsius)]
    out = np.full(grid_s.shape, GAP_VALUE_C)
    if tv.size == 0:
        return out
    idx = np.searchsorted(tv, grid_s, side="right")  # tv[idx-1] <= g < tv[idx]
    left = np.clip(idx - 1, 0, tv.size - 1)
    right = np.clip(idx, 0, tv.size - 1)
    t_l, t_r = tv[left], tv[right]
    exact = np.abs(grid_s - t_l) <= 1e-9
    inside = (idx > 0) & (idx < tv.size) & ((t_r - t_l) <= max_bridge_s)
    span = np.where(t_r > t_l, t_r - t_l, 1.0)
    frac = np.clip((grid_s - t_l) / span, 0.0, 1.0)
    interp = cv[left] + (cv[right] - cv[left]) * frac
    # The last reading itself (no right neighbour) is kept if the grid point is on it.
    ok = inside | ((idx > 0) & exact)
    out[ok] = np.where(exact[ok], cv[left][ok], interp[ok])
    return out


def bridge_for(t_s: np.ndarray, valid: np.ndarray) -> float:
    """The longest interval still treated as continuous data: 1.6 × the limb's usual interval
    between valid readings (so one missed reading is already a gap), at least 0.5 s."""
    tv = t_s[valid]
    if tv.size < 3:
        return 2.5
    return max(0.5, 1.6 * float(np.median(np.diff(tv))))


def gap_runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start index, length) of each run of GAP_VALUE_C."""
    is_gap = np.concatenate(([False], values == GAP_VALUE_C, [False]))
    edges = np.flatnonzero(np.diff(is_gap.astype(np.int8)))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _edf_text(text: str, limit: int = 80) -> str:
    """Printable ASCII only (the EDF header rule)."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:limit]


def _edf_field(text: str, limit: int = IDENTIFICATION_CHARS) -> str:
    # EDF+ header subfields are separated by spaces, so a subfield itself has none.
    return _edf_text(text.strip(), limit).replace(" ", "_") or "X"


def _shortened(subfield: str, room: int) -> str:
    """``subfield`` if it fits in ``room`` characters, else cut visibly (ending in ``~``)."""
    return subfield if len(subfield) <= room else subfield[:max(room - 1, 0)] + "~"


def patient_field(data: SessionData) -> str:
    """EDF+ local patient identification: ``code sex birthdate name``. SympaTherm records an ID
    only, so sex, birthdate and name are ``X`` (unknown)."""
    rest = " X X X"
    return _shortened(_edf_field(data.info.patient_id), IDENTIFICATION_CHARS - len(rest)) + rest


def recording_field(data: SessionData) -> str:
    """EDF+ local recording identification: ``Startdate dd-MMM-yyyy admincode technician
    equipment`` then additional subfields (``SIMULATED``, ``blocked_left``/``blocked_right``).

    The operator (technician) is kept whole whenever the standard subfields and SIMULATED fit
    in the 80 characters; only a name longer than that is cut, visibly. The blocked side is added
    when it fits (it is also an annotation at the start)."""
    start = datetime.fromtimestamp(int(data.started_wall))
    head = f"Startdate {start.day:02d}-{MONTHS[start.month - 1]}-{start.year:04d} X"  # X: no admincode
    equipment = _shortened(_edf_field(f"SympaTherm-{data.software_version or 'unknown'}"), EQUIPMENT_CHARS)
    reserved = " SIMULATED" if data.simulated else ""  # never dropped: a simulated file must say so
    room = IDENTIFICATION_CHARS - len(head) - len(equipment) - len(reserved) - 2  # the two spaces around
    field = f"{head} {_shortened(_edf_field(data.info.operator), room)} {equipment}{reserved}"
    blocked = data.info.blocked
    optional = f" blocked_{blocked}" if blocked else " blocked_not_set"
    return field + optional if len(field) + len(optional) <= IDENTIFICATION_CHARS else field


def _write_identification(path: Path, patient: str, recording: str) -> None:
    """Write the two 80-character identification fields into the closed file's header."""
    with path.open("r+b") as f:
        for offset, text in ((PATIENT_FIELD_OFFSET, patient), (RECORDING_FIELD_OFFSET, recording)):
            f.seek(offset)
            f.write(text.ljust(IDENTIFICATION_CHARS).encode("ascii"))


def write_edf(data: SessionData, out: str | os.PathLike[str], *, rate_hz: float = 1.0,
              progress: Progress | None = None) -> Path:
    out = Path(out)
    if rate_hz < 1 or int(rate_hz) != rate_hz:
        raise ValueError("the EDF+ rate must be a whole number of samples per second (1, 2, 4, ...)")
    rate = int(rate_hz)
    n_records = int(np.floor(data.duration_s)) + 1  # one-second data records
    grid = np.arange(n_records * rate) / rate
    signals: list[np.ndarray] = []
    headers: list[dict[str, str | int | float | None]] = []  # pyedflib's signal header type
    runs: dict[Limb, list[tuple[int, int]]] = {}
    for i, limb in enumerate(Limb):
        arr = data.limb(limb)
        values = resample_limb(arr.t_s, arr.celsius, arr.valid, grid, bridge_for(arr.t_s, arr.valid))
        signals.append(values)
        runs[limb] = gap_runs(values)
        headers.append({"label": SIGNAL_LABELS[limb], "dimension": "degC", "sample_frequency": rate_hz,
                        "physical_min": PHYSICAL_RANGE_C[0], "physical_max": PHYSICAL_RANGE_C[1],
                        "digital_min": -32768, "digital_max": 32767,
                        "transducer": _edf_text(_transducer(data, limb)), "prefilter": "resampled, linear"})
        if progress:
            progress(i + 1, 3)

    precreate_private(out)
    writer = pyedflib.EdfWriter(str(out), len(signals), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders(headers)
        writer.setStartdatetime(datetime.fromtimestamp(int(data.started_wall)))
        # edflib's own (shortened) fields are replaced below by the whole EDF+ fields.
        writer.setPatientCode(_edf_field(data.info.patient_id, 40))
        writer.setTechnician(_edf_field(data.info.operator, 20))
        writer.setEquipment("SympaTherm")
        writer.writeSamples(signals)
        for onset, duration, text in edf_annotations(data, runs, rate_hz):
            writer.writeAnnotation(max(onset, 0.0), max(duration, -1), _edf_text(text, ANNOTATION_CHARS))
    finally:
        writer.close()
    _write_identification(out, patient_field(data), recording_field(data))
    if progress:
        progress(3, 3)
    return out


def _transducer(data: SessionData, limb: Limb) -> str:
    site = data.info.probe_sites.get(str(limb), "")
    device = next((d.name for d in data.devices if d.limb in (None, limb)), "")
    return f"{site} {device}".strip()


def edf_annotations(data: SessionData, runs: dict[Limb, list[tuple[int, int]]],
                    rate_hz: float) -> list[tuple[float, float, str]]:
    """(onset s, duration s or -1, text) for markers, events, verdict changes and gaps."""
    out: list[tuple[float, float, str]] = []
    if data.simulated:
        out.append((0.0, -1, "SIMULATED session, not patient data"))
    if data.info.blocked:
        out.append((0.0, -1, f"Blocked side: {data.info.blocked}"))
    for m in data.markers:
        text = m.kind.label + (f": {m.text}" if m.text else "")
        out.append((m.session_s, -1, text))
    for e in data.events:
        limb = f"{e.limb} " if e.limb else ""
        # An artefact or alarm still open when the recording ended lasted until its end.
        dur = (e.end_s if e.end_s is not None else data.duration_s) - e.start_s
        kind = {"connection_gap": "Connection gap", "artefact": "Artefact", "alarm": "Alarm"}.get(e.kind, e.kind)
        out.append((e.start_s, dur, f"{kind} {limb}{e.subkind.replace('_', ' ')}".strip()))
    for v in data.verdicts:
        out.append((v.session_s, -1, f"Verdict: {v.state.replace('_', ' ')}"))
    for limb, limb_runs in runs.items():
        for start, length in limb_runs:
            out.append((start / rate_hz, length / rate_hz, f"No data {limb} (set to {GAP_VALUE_C:g} degC)"))
    return sorted(out, key=lambda a: a[0])
