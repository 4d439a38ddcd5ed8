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


SEPARATORS = (",", ";", "\t")


def _csv_cells(path, separator=","):
    """Every cell a spreadsheet splitting at ``separator`` could make of the file (``#`` lines
    after their key too)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        body = line[1:].split(":", 1)[1] if line.startswith("#") and ":" in line else line
        yield from next(csv.reader([body.strip()], delimiter=separator), [])
        yield from body.split(separator)  # a spreadsheet that does not honour the quotes


def _is_a_value_we_wrote(cell: str) -> bool:
    """A number (negative ones too: data, not a formula), an ISO time or an empty cell; a row of
    them cut as one cell by another separator is still ours."""
    from datetime import datetime

    for parse in (float, datetime.fromisoformat):
        try:
            parse(cell)
            return True
        except ValueError:
            pass
    return cell in ("", "yes")


def test_csv_text_cells_never_start_a_formula_whatever_the_separator(hostile_session, tmp_path):
    out = export_session(hostile_session, "csv", tmp_path / "h.csv")
    for separator in SEPARATORS:
        text_cells = []
        for path in (out, tmp_path / "h.events.csv", tmp_path / "h.minutes.csv"):
            for cell in _csv_cells(path, separator):
                if not all(map(_is_a_value_we_wrote, cell.split(","))):
                    text_cells.append(cell)
        offenders = [c for c in text_cells if c.lstrip(' "').startswith(FORMULA_START)]
        assert not offenders, (separator, offenders)
    content = out.read_text(encoding="utf-8")
    assert "# patient_id: '=HYPERLINK(" in content  # kept, readable, neutralised
    assert "'+cmd|" in content and "'@SUM" in content
    # Numbers stay numbers: a negative rise or a temperature is written as a plain number.
    with SessionStore.open_read_only(hostile_session) as store:
        first = store.readings()[0]
    assert repr(first.celsius) in content


SEMICOLON_ID = "a;=7+7"
SEMICOLON_NOTE = "ok;=1+1"
QUOTED_NOTE = 'she said "stop, =1+1"; then \'=2\''
MOVE_REASON = 'typo;=2+2 "really"'


def _typed_session(tmp_path):
    from monitor.clock import SimulatedClock
    from monitor.model import MarkerKind
    from monitor.pipeline import BlockPipeline
    from monitor.procedure.recorder import SessionRecorder
    from monitor.simulation.source import SimulatedSource

    source = SimulatedSource("success-fast", seed=3, blocked=Limb.LEFT, clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id=SEMICOLON_ID, blocked=Limb.LEFT, operator=HOSTILE_OPERATOR, nurse="00123",
                       drug=HOSTILE_DRUG, levels="1e5", simulated=True)
    store = SessionStore.create(info, tmp_path / "typed.sympatherm")
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    source.start()
    for t in range(10, 130, 10):
        source.step_to(float(t))
        recorder.pump()
        if t == 60:
            for i, note in enumerate((HOSTILE_NOTE, SEMICOLON_NOTE, QUOTED_NOTE)):
                marker_id = recorder.add_marker(MarkerKind.NOTE, 50.0 + i, text=note)
            recorder.move_marker(marker_id, 40.0, reason=MOVE_REASON)
    recorder.finish()
    return store.path


def test_typed_text_reads_back_exactly_quotes_included(tmp_path):
    from monitor.csvio import read_interchange_csv
    from monitor.exports.csv import restore_cell

    out = export_session(_typed_session(tmp_path), "csv", tmp_path / "typed.csv")
    recording = read_interchange_csv(out)
    fields = {k: restore_cell(recording.metadata[k]) for k in ("patient_id", "operator", "nurse", "drug", "levels")}
    assert fields == {"patient_id": SEMICOLON_ID, "operator": HOSTILE_OPERATOR, "nurse": "00123",
                      "drug": HOSTILE_DRUG, "levels": "1e5"}
    assert recording.metadata["patient_id"] == "a;'=7+7" and recording.metadata["nurse"] == "'00123"
    notes = sorted(restore_cell(m.text) for m in recording.markers if m.text)
    assert notes == sorted((HOSTILE_NOTE, SEMICOLON_NOTE, QUOTED_NOTE))  # double quotes kept, not replaced
    with out.with_name("typed.events.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(ln for ln in fh if not ln.startswith("#"))]
    moved = [restore_cell(r["message"]) for r in rows if r["kind"] == "marker_moved"]
    assert moved == [f"moved from 0:52 to 0:40: {MOVE_REASON}"]


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
