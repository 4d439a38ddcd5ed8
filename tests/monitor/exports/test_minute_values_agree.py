"""One rule for a minute's value: the PDF's table, the CSV minute summary and minute_table agree,
and the report never shows a peak or a rise that no reading had (even after a re-baseline)."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from pypdf import PdfReader

from monitor.exports import export_session
from monitor.exports.figures import REPORT_MINUTES, compute_figures
from monitor.exports.session_data import load_session
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.procedure.minutes import minute_table, round_c
from monitor.procedure.replay import replay_session
from monitor.store import SessionStore
from tests.support.sessions import record_simulated

_NUMBER = re.compile(r"^[+-]?\d+\.\d$")


def _number(cell: str) -> float | None:
    cell = cell.replace("°C/min", "").replace("°C", "").replace("min", "").strip()
    if cell in ("—", ""):
        return None
    if re.fullmatch(r"\d+(:\d\d){1,2}", cell):  # a time as m:ss (h:mm:ss): seconds
        return float(sum(int(part) * 60 ** k for k, part in enumerate(reversed(cell.split(":")))))
    assert _NUMBER.match(cell) or re.match(r"^[+-]?\d+\.\d+$", cell), cell
    return float(cell)


def pdf_temperature_table(path) -> dict[Limb, dict[str, object]]:
    """The report's temperature table read back from the PDF's text: per foot the baseline, the
    value at each report minute, peak, peak rise, time to peak, max slope and rise at end."""
    text = PdfReader(path).pages[0].extract_text()
    lines = [ln.strip() for ln in text[text.index("Temperatures (°C) after injection"):].splitlines()]
    out: dict[Limb, dict[str, object]] = {}
    for limb in Limb:
        label = next(i for i, ln in enumerate(lines) if ln.split(" (")[0] == limb.capitalize())
        cells = lines[label + 1: label + 2 + len(REPORT_MINUTES) + 5]
        values = [_number(c) for c in cells]
        n = len(REPORT_MINUTES)
        out[limb] = {"baseline": values[0], "minutes": dict(zip(REPORT_MINUTES, values[1:1 + n], strict=True)),
                     "peak": values[1 + n], "peak_rise": values[2 + n], "time_to_peak": values[3 + n],
                     "rise_end": values[5 + n]}
    return out


def csv_minute_summary(path) -> dict[int, dict[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    return {int(row["minute"]): row for row in csv.DictReader(lines)}


def _cell(text: str) -> float | None:
    return float(text) if text else None


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("agree")
    return record_simulated(folder / "agree.sympatherm", "success-fast", seed=3, until_s=2400.0)


def test_the_report_minutes_are_the_same_in_the_pdf_the_csv_and_minute_table(recorded, tmp_path):
    pdf = export_session(recorded, "pdf", tmp_path / "agree.pdf")
    out = export_session(recorded, "csv", tmp_path / "agree.csv")
    minutes_csv = tmp_path / "agree.minutes.csv"
    assert minutes_csv.is_file() and f"# minutes_file: {minutes_csv.name}" in out.read_text()
    data = load_session(recorded)
    pipeline = replay_session(data)
    rows = minute_table(pipeline, data.injection_s, data.duration_s, minutes=REPORT_MINUTES)
    table = pdf_temperature_table(pdf)
    summary = csv_minute_summary(minutes_csv)
    seen = 0
    for row in rows:
        in_csv = summary[row.minute]
        assert in_csv["in_report"] == "yes"
        assert float(in_csv["session_s"]) == pytest.approx(row.session_s, abs=1e-3)
        for limb in Limb:
            core = row.celsius[limb]
            assert table[limb]["minutes"][row.minute] == core, (limb, row.minute)
            assert _cell(in_csv[f"{limb}_c"]) == core, (limb, row.minute)
            assert _cell(in_csv[f"{limb}_rise_c"]) == row.rise_c[limb]
            seen += core is not None
        assert _cell(in_csv["di_minus_dc_c"]) == row.di_minus_dc_c
    assert seen == 2 * len(REPORT_MINUTES), "a 40-minute recording has a value at every report minute"
    # The whole CSV summary is minute_table's every-minute table, row for row.
    every = minute_table(pipeline, data.injection_s, data.duration_s)
    assert sorted(summary) == [r.minute for r in every]
    for r in every:
        assert [_cell(summary[r.minute][f"{limb}_c"]) for limb in Limb] == [r.celsius[limb] for limb in Limb]
    # The blocked foot warmed: the table shows it.
    blocked = data.info.blocked
    assert table[blocked]["minutes"][30] - table[blocked]["baseline"] > 2.0


def _rebaselined_session(tmp_path):
    """Both feet at 1 Hz; the right foot blocked, warming from 28 °C to a peak of 30.7 °C, then
    settling at 30.4 °C; a Baseline start placed long after the confirmation."""
    t = np.arange(0.0, 2700.0)
    ramp = np.clip((t - 600.0) / 480.0, 0.0, 1.0)
    right = 28.0 + 2.7 * ramp - 0.3 * np.clip((t - 1300.0) / 300.0, 0.0, 1.0) + 0.01 * np.sin(t / 5.0)
    left = 28.2 + 0.01 * np.sin(t / 6.0)
    store = SessionStore.create(SessionInfo(patient_id="REBASE-1", blocked=Limb.RIGHT), tmp_path / "rb.sympatherm")
    store.add_readings(Reading(limb, round(float(c[i]), 2), ProbeStatus.OK, float(t[i]), 1.7e9 + float(t[i]))
                       for i in range(t.size) for limb, c in ((Limb.LEFT, left), (Limb.RIGHT, right)))
    store.add_marker(Marker(MarkerKind.INJECTION, 600.0))
    store.add_marker(Marker(MarkerKind.BASELINE, 1800.0))  # after the confirmation
    store.close()
    return store.path, max(round(float(c), 2) for c in right)


def test_after_a_re_baseline_the_report_shows_no_peak_and_no_rise_that_no_reading_had(tmp_path):
    path, highest = _rebaselined_session(tmp_path)
    assert highest == pytest.approx(30.7, abs=0.02)
    data = load_session(path)
    figures = compute_figures(data)
    assert figures.confirmed_at_s is not None and figures.confirmed_at_s < 1800.0
    pipe = replay_session(data)
    assert len(pipe.baseline_history) == 2, "the Baseline start after the confirmation captured a new baseline"
    table = pdf_temperature_table(export_session(path, "pdf", tmp_path / "rb.pdf"))
    readings = {limb: np.array([r.celsius for r in data.readings if r.limb is limb and r.session_s >= 600.0])
                for limb in Limb}
    first = pipe.attempts()[0]  # the confirmed attempt: its table comes first, from its own baseline
    for limb in Limb:
        shown = table[limb]
        base = shown["baseline"]
        assert base == round_c(first.baseline[limb].celsius), "the attempt's own baseline is the one printed"
        top = float(readings[limb][np.array([r.session_s for r in data.readings if r.limb is limb
                                             and r.session_s >= 600.0]) <= 1800.0].max())
        # The peak is a reading that exists (to the 0.1 °C printed), never baseline + an old rise.
        assert shown["peak"] == round_c(top) and shown["peak"] <= top + 0.05
        assert shown["peak_rise"] == round_c(shown["peak"] - base)
        # Every rise printed is one some reading had from the printed baseline.
        possible = {round_c(round_c(float(c)) - base) for c in readings[limb]}
        for what in ("peak_rise", "rise_end"):
            assert shown[what] in possible, (limb, what, shown[what])
        assert shown["time_to_peak"] is not None and shown["time_to_peak"] >= 0.0
    blocked = table[Limb.RIGHT]
    assert blocked["peak"] == pytest.approx(30.7, abs=0.05), "the foot never passed 30.7 °C"
    assert blocked["peak_rise"] == pytest.approx(2.7, abs=0.05), "from attempt 1's baseline (28.0 °C)"
    assert pipe.snapshot().rise_c[Limb.RIGHT] < 0.5 and pipe.snapshot().attempt == 2
