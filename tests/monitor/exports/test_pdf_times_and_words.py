"""The report in one time format and in plain words: every time after the injection as m:ss with
the clock time beside it where the chart needs it, never decimal minutes; ΔTb, ΔTc and Di − Dc
explained in a legend on the page where they appear; the criterion in force in plain words;
never "-0.0"."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader
from reportlab.graphics.shapes import String
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics

from monitor.exports import export_session
from monitor.exports.csv import _one_decimal
from monitor.exports.figures import compute_figures
from monitor.exports.pdf import (
    FONT,
    FOOT_LEGEND,
    MARGIN,
    _c,
    _calibration_words,
    _signed,
    build_plot,
    foot_legend_size,
    time_zone_words,
)
from monitor.exports.session_data import load_session
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.pipeline.glossary import TERMS
from monitor.store import SessionStore

CLOCK = r"\d\d:\d\d:\d\d"


@pytest.fixture(scope="module")
def report(success_session, tmp_path_factory):
    out = export_session(success_session, "pdf", tmp_path_factory.mktemp("words") / "report.pdf")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(out).pages]
    return load_session(success_session), pages


def test_no_time_is_printed_in_decimal_minutes(report):
    _, pages = report
    text = " ".join(pages)
    assert not re.search(r"\d+\.\d+ min\b", text), re.findall(r".{30}\d+\.\d+ min\b", text)
    assert not re.search(r"\d+ min \d\d s", text.split("Block confirmed at")[0]), "the headline says m:ss"


def test_times_after_the_injection_are_m_ss_with_the_clock_beside_them(report):
    data, pages = report
    figures = compute_figures(data)
    text = " ".join(pages)
    after = figures.confirmed_at_s - figures.injection_s
    mmss = f"{int(round(after)) // 60}:{int(round(after)) % 60:02d}"
    assert f"Block CONFIRMED at +{mmss} after the injection" in pages[0]
    assert re.search(rf"Confirmed at {CLOCK} clock time, {mmss} \(m:ss\) after the injection at {CLOCK}", pages[0])
    assert re.search(rf"{CLOCK} \(\+{mmss}\)", text), "the criteria's Met column: clock time and +m:ss"
    assert "Time after injection (m:ss)" in pages[0] and "0:00 5:00 10:00 20:00 30:00" in pages[0]
    assert re.search(r"Time from the injection to \+1 °C \d+:\d\d, to 50 % of peak \d+:\d\d", text)
    assert re.search(rf"Injection {CLOCK} \(session time \d+:\d\d\)", pages[0])
    assert re.search(r"Recording \d+:\d\d \(m:ss\), complete", pages[0])
    assert re.search(rf"{CLOCK} \(-\d+:\d\d\)", text), "events before the injection: -m:ss"


def test_the_plot_axis_reads_m_ss_from_the_injection_with_clock_times_under_it(report):
    data, _ = report
    drawing = build_plot(data, compute_figures(data))
    texts = [item.text for item in drawing.contents if isinstance(item, String)]
    ticks = [t for t in texts if re.fullmatch(r"[+-]?\d+:\d\d", t)]
    clocks = [t for t in texts if re.fullmatch(CLOCK, t)]
    assert "0:00" in ticks and "+5:00" in ticks and "-5:00" in ticks
    assert len(clocks) == len(ticks), "every tick has its clock time"
    assert "time after the injection (m:ss), clock time under it" in texts
    assert not any(re.fullmatch(r"\d+(\.\d)?", t) and t not in {str(c) for c in range(15, 45)} for t in texts
                   if t not in ticks), "no bare decimal minutes on the axis"


def test_the_legend_explains_the_abbreviations_on_the_page_where_they_appear(report):
    data, pages = report
    for page in pages:  # every page says what the abbreviations mean, at its foot
        assert " ".join(FOOT_LEGEND.split()) in page
        assert "how much more the blocked foot warmed" in page
    width = pdfmetrics.stringWidth(FOOT_LEGEND, FONT, foot_legend_size())
    assert width <= A4[0] - 2 * MARGIN and foot_legend_size() >= 5.8, "the foot legend fits, readable"
    first = pages[0]
    for term, meaning in TERMS:
        assert f"{term}: {' '.join(meaning.split())}" in first
    assert f"clock times hh:mm:ss, {time_zone_words(data)}" in first
    assert "+m:ss minutes:seconds after the injection" in first


def test_the_criterion_in_force_is_in_plain_words_with_its_source(report):
    _, pages = report
    text = " ".join(pages)
    assert ("Confirmed when the blocked foot has warmed by at least 2.0 °C since the baseline (ΔTb) and by at "
            "least 1.5 °C more than the other foot (Di − Dc), both held for 60 s") in text
    assert "Park/Nahm et al., Anaesthesia 2010" in text and "Stevens et al., Reg Anesth Pain Med 1998" in text


def test_no_negative_zero_is_ever_printed():
    assert _signed(-0.04) == "0.0 °C" and _signed(0.04) == "0.0 °C" and _signed(-0.06) == "-0.1 °C"
    assert _signed(0.26) == "+0.3 °C"
    assert _c(-0.004, 2, " °C/min") == "0.00 °C/min"
    assert "offset 0.00 °C" in _calibration_words({"channel 0": {"limb": "left", "offset_c": -0.001, "gain": 1.0}})
    assert _one_decimal(-0.04) == "0.0" and _one_decimal(-0.26) == "-0.3"


def test_a_session_that_barely_moved_prints_no_negative_zero(tmp_path):
    store = SessionStore.create(SessionInfo(patient_id="ZERO-1", blocked=Limb.LEFT), tmp_path / "zero.sympatherm")
    store.add_readings(Reading(limb, (28.0 if i < 600 else 27.97) + 0.01 * ((i % 3) - 1), ProbeStatus.OK, float(i),
                               1.7e9 + i) for i in range(1800) for limb in Limb)
    store.add_marker(Marker(MarkerKind.INJECTION, 600.0))
    store.close()
    text = " ".join(page.extract_text() for page in PdfReader(export_session(store.path, "pdf",
                                                                           tmp_path / "zero.pdf")).pages)
    assert not re.search(r"[-−]0\.0+\b", text), re.findall(r".{20}[-−]0\.0+\b", text)
    export_session(store.path, "csv", tmp_path / "zero.csv")
    for name in ("zero.minutes.csv", "zero.csv"):
        assert not re.search(r"(^|,)-0\.0+(,|$)", (tmp_path / name).read_text(), re.M), name
