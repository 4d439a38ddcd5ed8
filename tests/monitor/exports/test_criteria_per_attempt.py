"""The report's "criteria applied" rows say, per attempt, which criteria were met and when, from
the core's verdict: a confirmed first attempt is never reported "not met" because a repeat
attempt that followed it was not (page 1's headline and page 2's rows agree)."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from monitor.exports import export_session
from monitor.exports.fhir import build_bundle
from monitor.exports.figures import compute_figures
from monitor.exports.session_data import load_session
from monitor.procedure.replay import replay_session
from tests.monitor.exports.confirmed_then_repeat import record_confirmed_then_repeat


@pytest.fixture(scope="module")
def repeat(tmp_path_factory):
    folder = tmp_path_factory.mktemp("repeat")
    path = record_confirmed_then_repeat(folder / "repeat.sympatherm")
    pdf = export_session(path, "pdf", folder / "repeat.pdf")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]
    return load_session(path), pages


def _criteria_section(pages: list[str]) -> str:
    text = " ".join(pages)
    start = text.index("Criteria applied")
    return text[start:text.index("Artefacts, alarms", start)]


def test_a_confirmed_first_attempt_is_met_in_the_criteria_rows(repeat):
    data, pages = repeat
    figures = compute_figures(data)
    first, second = figures.attempts
    assert (first.outcome, second.outcome) == ("confirmed", "not_confirmed")
    after = round(first.confirmed_at_s - first.injection_s)
    mmss = f"{after // 60}:{after % 60:02d}"
    assert f"Block CONFIRMED in attempt 1 at +{mmss} after its injection" in pages[0]
    section = _criteria_section(pages)
    row = section[section.index("(in force)"):section.index("In plain words")]
    assert re.search(rf"attempt 1: \d\d:\d\d:\d\d \(\+{mmss}\)", row), row
    assert "attempt 2: not met" in row
    # The recording is over: attempt 2 is not confirmed, not "so far" (page 1 said so).
    assert "so far" not in " ".join(pages) and second.outcome_words == "not confirmed"
    in_force = figures.criteria[0]
    assert [(m.attempt, m.met_at_s) for m in in_force.met] == [(1, first.confirmed_at_s), (2, None)]
    assert in_force.met_at_s == figures.confirmed_at_s == first.confirmed_at_s


def test_every_preset_and_early_warming_are_per_attempt_from_the_core(repeat):
    data, _ = repeat
    figures = compute_figures(data)
    attempts = replay_session(data).attempts()
    by_name = {row.name: row for row in figures.criteria}
    early = by_name["Early warming (a sign, not a confirmation)"]
    assert [m.met_at_s for m in early.met] == [a.early_warming_at_s for a in attempts]
    assert early.met[0].met_at_s is not None, "the first attempt warmed early"
    compared = figures.criteria[1:-1]
    assert compared and all(row.name.endswith("(for comparison)") for row in compared)
    for row in compared:
        assert [m.met_at_s for m in row.met] == [a.criteria_met_at_s[row.criterion_id] for a in attempts]
    assert any(row.met[0].met_at_s is not None and row.met[1].met_at_s is None for row in compared)


def test_the_fhir_verdict_note_says_which_attempt_met_each_criterion(repeat):
    data, _ = repeat
    bundle = build_bundle(data, compute_figures(data))
    [verdict] = [e["resource"] for e in bundle["entry"] if e["resource"].get("code", {}).get("coding", [{}])[0]
                 .get("code") == "block-assessment"]
    note = " ".join(n["text"] for n in verdict["note"])
    in_force = note[note.index("(in force)"):].split(";")[0]
    assert re.search(r": attempt 1 met( \(the other foot [^)]*\))?, attempt 2 not met$", in_force), in_force


def test_an_earlier_attempt_shows_the_other_foot_beside_its_met_criteria(repeat):
    data, pages = repeat
    figures = compute_figures(data)
    first = replay_session(data).attempts()[0]
    in_force = figures.criteria[0]
    assert in_force.met[0].note == first.criteria_notes[in_force.criterion_id]
    assert in_force.met[0].note.startswith("the other foot ") and in_force.met[0].other_rise_c is not None
    row = _criteria_section(pages)
    row = row[row.index("(in force)"):row.index("In plain words")]
    assert "attempt 1: " in row and in_force.met[0].note in row
