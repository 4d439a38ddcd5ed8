"""Exports sanitise what users typed: file names, spreadsheet formulas, PDF markup, FHIR narrative."""

from __future__ import annotations

import csv
import json
import stat

from pypdf import PdfReader

from monitor.exports import export_session
from monitor.model import Limb, SessionInfo
from monitor.store import SessionStore

from .conftest import HOSTILE_DRUG, HOSTILE_ID, HOSTILE_NOTE, HOSTILE_OPERATOR, record_hostile_session

FORMULA_START = ("=", "+", "-", "@")


def test_a_patient_id_cannot_steer_the_session_or_export_file_names(tmp_path):
    path = record_hostile_session(None, until_s=60.0)  # named from the patient ID, in the data folder
    from monitor import paths

    assert path.parent == paths.sessions_dir()
    assert set(path.stem) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    for fmt in ("csv", "pdf", "fhir", "edf"):
        out = export_session(path, fmt)
        assert out.parent == path.parent and out.stem.startswith(path.stem)
        assert stat.S_IMODE(out.stat().st_mode) == 0o600


def _csv_cells(path):
    for line in path.read_text(encoding="utf-8").splitlines():
        body = line[1:].split(":", 1)[1] if line.startswith("#") and ":" in line else line
        yield from next(csv.reader([body.strip()]), [])


def test_csv_text_cells_never_start_a_formula_and_numbers_are_untouched(hostile_session, tmp_path):
    out = export_session(hostile_session, "csv", tmp_path / "h.csv")
    sidecar = tmp_path / "h.events.csv"
    text_cells = []
    for cell in list(_csv_cells(out)) + list(_csv_cells(sidecar)):
        try:
            float(cell)
            continue  # a number (negative ones too) is data, not a formula
        except ValueError:
            text_cells.append(cell)
    offenders = [c for c in text_cells if c.startswith(FORMULA_START)]
    assert not offenders, offenders
    content = out.read_text(encoding="utf-8")
    assert "# patient_id: '=HYPERLINK(" in content  # kept, readable, neutralised
    assert "'+cmd|" in content and "'@SUM" in content
    # Numbers stay numbers: a negative rise or a temperature is written as a plain number.
    with SessionStore.open_read_only(hostile_session) as store:
        first = store.readings()[0]
    assert repr(first.celsius) in content


def test_pdf_shows_typed_text_literally_never_as_markup(hostile_session, tmp_path):
    out = export_session(hostile_session, "pdf", tmp_path / "h.pdf")
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    flat = " ".join(text.split())
    for typed in ("<script>alert(1)</script>", "<b>bold</b> &", "@SUM(1+1)", "]]><!--"):
        assert typed in flat, typed


def test_fhir_narrative_is_escaped_and_typed_text_stays_data(hostile_session, tmp_path):
    out = export_session(hostile_session, "fhir", tmp_path / "h.json")
    bundle = json.loads(out.read_text(encoding="utf-8"))
    divs = []

    def walk(node):
        if isinstance(node, dict):
            if "div" in node:
                divs.append(node["div"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(bundle)
    assert divs
    for div in divs:
        assert "<script" not in div and "<img" not in div and "onerror=" not in div.replace("onerror=x", "")
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == HOSTILE_ID  # JSON carries it as a string, exactly


def test_hostile_text_survives_unchanged_in_the_session_file(hostile_session):
    with SessionStore.open_read_only(hostile_session) as store:
        info = store.info()
        notes = [m.text for m in store.markers() if m.text]
    assert (info.patient_id, info.operator, info.drug) == (HOSTILE_ID, HOSTILE_OPERATOR, HOSTILE_DRUG)
    assert HOSTILE_NOTE in notes
    assert SessionInfo(blocked=Limb.LEFT).patient_id == ""


def test_an_export_written_over_an_existing_file_is_private_too(hostile_session, tmp_path):
    for fmt in ("csv", "pdf", "fhir", "edf"):
        out = tmp_path / f"existing.{fmt}"
        out.write_text("old")
        out.chmod(0o644)
        export_session(hostile_session, fmt, out)
        assert stat.S_IMODE(out.stat().st_mode) == 0o600, fmt
