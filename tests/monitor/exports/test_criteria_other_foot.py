"""Issue 14 item 2: the rise-only presets keep their published meaning, but the report shows the
other foot's course beside them (and beside the criterion in force), so that a reader can see
that both feet warmed: the core's values (PipelineSnapshot.criteria_other_rise_c and
criteria_notes), never recomputed by the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from monitor.exports import export_session
from monitor.exports.fhir import build_bundle
from monitor.exports.figures import compute_figures
from monitor.exports.session_data import load_session
from monitor.procedure.replay import replay_session
from tests.support.sessions import record_simulated

SYSTEMIC_NOTE = "both feet warming: systemic, not a block sign"
RISE_ONLY = ("rise-1.5", "rise-2", "rise-3")


def _record(path: Path, scenario: str, criteria: str) -> Path:
    """A simulated session judged under ``criteria``."""
    return record_simulated(path, scenario, patient_id="PT-SYS", criteria=criteria)


def _pdf_text(path: Path, out: Path) -> str:
    pdf = export_session(path, "pdf", out)
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)


def _criteria_rows(text: str) -> str:
    start = text.index("Criteria applied")
    return text[start:text.index("Artefacts, alarms", start)]


@pytest.fixture(scope="module")
def systemic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("systemic")
    path = record_simulated(folder / "systemic.sympatherm", "systemic-warming")
    return path, _pdf_text(path, folder / "systemic.pdf")


def test_beside_each_met_rise_only_preset_the_report_says_both_feet_warmed(systemic):
    path, text = systemic
    data = load_session(path)
    snap = replay_session(data).snapshot()
    figures = compute_figures(data)
    rows = _criteria_rows(text)
    met = [cid for cid in RISE_ONLY if snap.criteria_met_at_s.get(cid) is not None]
    assert met, "systemic warming meets a rise-only preset by its nature"
    for cid in met:
        [row] = [r for r in figures.criteria if r.criterion_id == cid]
        [m] = row.met
        assert (m.met_at_s, m.other_rise_c, m.note) == (snap.criteria_met_at_s[cid], snap.criteria_other_rise_c[cid],
                                                       snap.criteria_notes[cid]), "the core's values, as they are"
        assert SYSTEMIC_NOTE in m.note and m.other_rise_c >= 1.0
        after = figures.criteria[figures.criteria.index(row) + 1]
        shown = rows[rows.index(row.name):rows.index(after.name)]
        assert f"the other foot {m.other_rise_c:+.1f} °C from its baseline then; {SYSTEMIC_NOTE}" in shown, shown
    assert "Block NOT CONFIRMED" in text, "the default preset (Di − Dc) is not fooled"


def test_the_criterion_in_force_shows_the_other_foot_too(tmp_path):
    path = _record(tmp_path / "rise2.sympatherm", "systemic-warming", "rise-2")
    text = _pdf_text(path, tmp_path / "rise2.pdf")
    figures = compute_figures(load_session(path))
    in_force = figures.criteria[0]
    assert in_force.criterion_id == "rise-2" and in_force.name.endswith("(in force)")
    [m] = in_force.met
    assert m.met_at_s is not None and SYSTEMIC_NOTE in m.note, "a rise-only preset in force, met by systemic warming"
    rows = _criteria_rows(text)
    assert SYSTEMIC_NOTE in rows[rows.index("(in force)"):rows.index("In plain words")]


def test_a_real_block_shows_a_flat_other_foot_beside_the_criterion_in_force(success_session):
    data = load_session(success_session)
    figures = compute_figures(data)
    [m] = figures.criteria[0].met
    assert m.met_at_s == figures.confirmed_at_s and m.other_rise_c is not None and abs(m.other_rise_c) < 1.0
    assert m.note.startswith("the other foot ") and SYSTEMIC_NOTE not in m.note


def test_the_fhir_criteria_note_carries_the_same_words(systemic):
    path, _ = systemic
    data = load_session(path)
    bundle = build_bundle(data, compute_figures(data))
    notes = " ".join(n["text"] for e in bundle["entry"] for n in e["resource"].get("note", []))
    assert "met (the other foot " in notes and SYSTEMIC_NOTE in notes
