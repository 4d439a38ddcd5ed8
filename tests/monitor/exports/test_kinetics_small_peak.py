"""The times to 50 % and 95 % of the peak mean nothing when the peak rise is within the probes'
accuracy (0.1 °C): the core gives None for them, with its words, and every view prints "—" with
those words instead of "0:01 / 1:07"."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from monitor.exports import export_session
from monitor.exports.figures import compute_figures
from monitor.exports.session_data import load_session
from monitor.model import Limb
from monitor.pipeline import BlockPipeline
from monitor.pipeline.batch import analyze
from monitor.pipeline.kinetics import MIN_PEAK_RISE_C, PEAK_BELOW_ACCURACY_WORDS
from tests.monitor.exports.confirmed_then_repeat import record_confirmed_then_repeat
from tests.monitor.pipeline.helpers import flat, injection, ramp, readings


def _kinetics(right_curve):
    p = BlockPipeline(Limb.RIGHT)
    p.push_many(readings(flat(28.0), right_curve, 1800))  # probe noise of 0.02 °C
    p.add_marker(injection(600.0))
    p.finish()
    return p.kinetics()


@pytest.mark.parametrize("rise_c", [0.0, 0.05])
def test_a_peak_rise_within_the_probes_accuracy_has_no_time_to_50_or_95_percent(rise_c):
    k = _kinetics(ramp(30.0, 700, 0.5, cap_c=rise_c))
    assert k.peak_rise_c is not None and k.peak_rise_c < MIN_PEAK_RISE_C
    assert (k.time_to_50pct_peak_s, k.time_to_95pct_peak_s) == (None, None)
    assert k.peak_fractions_withheld == PEAK_BELOW_ACCURACY_WORDS
    assert k.time_to_plus_1c_s is None


def test_a_real_rise_keeps_its_times():
    k = _kinetics(ramp(30.0, 700, 1.0, cap_c=0.5))
    assert k.peak_rise_c == pytest.approx(0.5, abs=0.02)
    assert k.time_to_50pct_peak_s is not None and k.time_to_95pct_peak_s is not None
    assert k.time_to_50pct_peak_s < k.time_to_95pct_peak_s and k.peak_fractions_withheld is None


@pytest.fixture(scope="module")
def repeat(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small-peak")
    path = record_confirmed_then_repeat(folder / "repeat.sympatherm")
    return path, folder


def test_the_report_prints_a_dash_and_says_why(repeat):
    path, folder = repeat
    figures = compute_figures(load_session(path))
    first, second = figures.attempts
    assert second.kinetics["50 % of peak"] is None and second.kinetics["95 % of peak"] is None
    assert second.kinetics_withheld == PEAK_BELOW_ACCURACY_WORDS and first.kinetics_withheld is None
    assert first.kinetics["50 % of peak"] is not None
    pdf = export_session(path, "pdf", folder / "repeat.pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
    section = text[text.index("Temperatures (°C) after injection, attempt 2"):]
    assert "to 50 % of peak —, to 95 % of peak — (m:ss)" in section
    assert f"50 % and 95 % of peak: — ({PEAK_BELOW_ACCURACY_WORDS})" in section
    table = text[text.index("Attempts (a new baseline"):text.index("Temperatures (°C) after injection, attempt 1")]
    assert f"— / — / —; 0.03 °C/min (50 % / 95 %: {PEAK_BELOW_ACCURACY_WORDS})" in table


def test_analyze_json_gives_null_for_them(tmp_path):
    rs = readings(flat(28.0), ramp(30.0, 700, 0.5, cap_c=0.05), 1800)
    result = analyze(rs, Limb.RIGHT, injection_s=600.0)
    kinetics = json.loads(json.dumps(result.to_json_dict()))["kinetics"]
    assert kinetics["time_to_50pct_peak_s"] is None and kinetics["time_to_95pct_peak_s"] is None
