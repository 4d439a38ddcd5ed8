"""The time from the injection to the confirmation has one owner, ReportFigures.confirmation:
the report's headline and FHIR's time-to-confirmation give the same time, counted from the
injection of the attempt it confirmed (FHIR counted a repeat attempt's from the first injection)."""

from __future__ import annotations

import re

import pytest

from monitor.exports.fhir import build_bundle
from monitor.exports.figures import compute_figures, primary_attempt, session_outcome
from monitor.exports.session_data import load_session
from tests.monitor.procedure.two_attempts import record_two_attempts


@pytest.fixture(scope="module")
def second_attempt_confirmed(tmp_path_factory):
    path, _ = record_two_attempts(tmp_path_factory.mktemp("ttc") / "two.sympatherm")
    return load_session(path)


def _fhir_minutes(data, figures) -> float:
    bundle = build_bundle(data, figures)
    [verdict] = [e["resource"] for e in bundle["entry"]
                 if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "block-assessment"]
    [part] = [c for c in verdict["component"] if c["code"]["coding"][0]["code"] == "time-to-confirmation"]
    return part["valueQuantity"]["value"]


def _headline_s(headline: str) -> int:
    minutes, seconds = re.search(r"at \+(\d+):(\d\d) after", headline).groups()
    return int(minutes) * 60 + int(seconds)


def test_a_repeat_attempt_s_confirmation_counts_from_its_own_injection_everywhere(second_attempt_confirmed):
    data = second_attempt_confirmed
    figures = compute_figures(data)
    primary = primary_attempt(figures)
    assert primary is not None and primary.number == 2 and figures.injection_s < primary.injection_s
    confirmation = figures.confirmation
    assert confirmation is not None and confirmation.attempt == 2
    assert confirmation.injection_s == primary.injection_s and confirmation.at_s == figures.confirmed_at_s
    assert confirmation.after_injection_s == primary.confirmed_after_injection_s
    headline = session_outcome(data, figures).headline
    assert headline.startswith("Block CONFIRMED in attempt 2 at")
    fhir_s = _fhir_minutes(data, figures) * 60.0
    assert fhir_s == pytest.approx(confirmation.after_injection_s, abs=0.6)
    assert abs(fhir_s - _headline_s(headline)) <= 1.0, "FHIR and the headline give the same time"


def test_one_attempt_the_same_time_in_the_headline_and_fhir(success_session):
    data = load_session(success_session)
    figures = compute_figures(data)
    confirmation = figures.confirmation
    assert confirmation is not None and confirmation.attempt is None
    assert confirmation.after_injection_s == figures.confirmed_at_s - figures.injection_s
    fhir_s = _fhir_minutes(data, figures) * 60.0
    assert abs(fhir_s - _headline_s(session_outcome(data, figures).headline)) <= 1.0
