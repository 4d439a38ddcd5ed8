"""A report a physician can sign: every attempt with its own baseline, injection, verdict,
confirmation, kinetics and temperature table; the marker audit trail; the signature block;
"page N of M"; the time zone. Every temperature printed is one a reading had."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from monitor.exports import export_session
from monitor.exports.figures import REPORT_MINUTES, compute_figures
from monitor.exports.pdf import time_zone_words
from monitor.exports.session_data import load_session
from monitor.model import Limb
from monitor.procedure.minutes import minute_table, round_c
from monitor.procedure.replay import replay_session
from tests.monitor.procedure.two_attempts import record_two_attempts


@pytest.fixture(scope="module")
def two_attempts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attempts")
    path, _ = record_two_attempts(folder / "two.sympatherm")
    return path, export_session(path, "pdf", folder / "two.pdf")


def _text(pdf) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def _attempt_rows(text: str, number: int) -> dict[Limb, list[str]]:
    """The cells under each foot's label in attempt ``number``'s temperature table."""
    start = text.index(f"Temperatures (°C) after injection, attempt {number}")
    lines = [ln.strip() for ln in text[start:].splitlines()]
    out = {}
    for limb in Limb:
        label = next(i for i, ln in enumerate(lines) if ln.split(" (")[0] == limb.capitalize())
        out[limb] = lines[label + 1: label + 2 + len(REPORT_MINUTES) + 5]
    return out


def _value(cell: str) -> float | None:
    cell = cell.replace("°C/min", "").replace("°C", "").strip()
    if re.fullmatch(r"\d+(:\d\d){1,2}", cell):  # a time as m:ss (h:mm:ss): seconds
        return float(sum(int(part) * 60 ** k for k, part in enumerate(reversed(cell.split(":")))))
    return None if cell == "—" else float(cell)


def test_the_report_shows_every_attempt_with_its_own_numbers(two_attempts):
    path, pdf = two_attempts
    data = load_session(path)
    figures = compute_figures(data)
    pipeline = replay_session(data)
    text = _text(pdf)
    assert [a.outcome for a in figures.attempts] == ["not_confirmed", "confirmed"]
    assert "Block CONFIRMED in attempt 2 at" in text and "attempt 1: not confirmed" in text
    readings = {limb: {round_c(r.celsius) for r in data.readings if r.limb is limb and r.celsius is not None}
                for limb in Limb}
    for a in figures.attempts:
        rows = _attempt_rows(text, a.number)
        expected = minute_table(pipeline, a.injection_s, a.ended_s or data.duration_s, minutes=REPORT_MINUTES)
        for limb in Limb:
            cells = [_value(c) for c in rows[limb]]
            baseline = round_c(a.limbs[limb].baseline_c)
            assert cells[0] == baseline == round_c(pipeline.attempts()[a.number - 1].baseline[limb].celsius)
            minutes = cells[1:1 + len(REPORT_MINUTES)]
            assert minutes == [row.celsius[limb] for row in expected], (a.number, limb)
            peak, peak_rise = cells[1 + len(REPORT_MINUTES)], cells[2 + len(REPORT_MINUTES)]
            for shown in [*minutes, peak]:
                assert shown is None or shown in readings[limb], "every temperature printed is one a reading had"
            assert peak_rise == round_c(peak - baseline), "the peak rise is from the attempt's own baseline"
        if a.ended_s is not None:  # minutes after the attempt ended are the next attempt's
            late = [m for m in REPORT_MINUTES if a.injection_s + 60 * m > a.ended_s]
            assert late and all(rows[Limb.RIGHT][1 + REPORT_MINUTES.index(m)] == "—" for m in late)
    first, second = figures.attempts
    assert second.limbs[Limb.RIGHT].peak_rise_c > 2.0 > first.limbs[Limb.RIGHT].peak_rise_c


def test_the_report_can_be_signed_and_says_its_time_zone_pages_and_marker_corrections(two_attempts):
    path, pdf = two_attempts
    data = load_session(path)
    pages = PdfReader(pdf).pages
    for n, page in enumerate(pages, start=1):
        assert f"page {n} of {len(pages)}" in page.extract_text()
    text = _text(pdf)
    assert "Reviewed by" in text and "Date" in text and "Signature" in text
    zone = time_zone_words(data)
    assert re.fullmatch(r".+ \(UTC[+-]\d\d:\d\d\)", zone) and f"clock times are {zone}" in text
    audit = text[text.index("Marker corrections (audit trail)"):]
    assert "Originally" in audit and "marked 10 s late" in audit
    [move] = data.marker_moves
    assert re.search(r"Injection\s+\d\d:\d\d:\d\d\s+\d\d:\d\d:\d\d → \d\d:\d\d:\d\d", audit)
    assert move.from_s != move.to_s
