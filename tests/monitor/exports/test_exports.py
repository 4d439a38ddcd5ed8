"""Every export read back by an independent reader (pypdf, pypdfium2, pyedflib); the EDF+ and FHIR
exports in detail: test_edf.py and test_fhir.py."""

from __future__ import annotations

import csv
import json
import re
import stat
from datetime import datetime

import numpy as np
import pyedflib
import pypdfium2
import pytest
from pypdf import PdfReader

from monitor.cli import main
from monitor.exports import ExportError, export_session
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.store import SessionStore
from tests.support.sessions import record_simulated


def _pdf_text(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def test_the_pdf_report_holds_the_chart_fields_and_renders(success_session, tmp_path):
    out = export_session(success_session, "pdf", tmp_path / "report.pdf")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    pages = _pdf_text(out)
    assert 1 <= len(pages) <= 2
    text = "\n".join(pages)
    for needle in ("PT-0042", "Side blocked", "RIGHT", "Block CONFIRMED", "Dr Operator", "L2-L3",
                   "ropivacaine", "Baseline", "Time after injection (m:ss)", "Park/Nahm", "Stevens", "Injection",
                   "Software: SympaTherm", "not a certified medical device"):
        assert needle in text, needle
    assert all("SIMULATED" in page for page in pages)
    # The outcome's time as m:ss, as the live banner gives it (never "9.3 min").
    assert re.search(r"Block CONFIRMED at \+\d+:\d\d after the injection", " ".join(text.split())), text[:400]
    # The note was typed with markup characters: shown literally, never interpreted.
    assert '=HYPERLINK("http://x") <b>not bold</b> & co' in text
    document = pypdfium2.PdfDocument(str(out))
    image = np.asarray(document[0].render(scale=1.0).to_pil().convert("L"))
    assert image.shape[0] > image.shape[1]  # A4 portrait
    assert (image < 80).mean() > 0.01 and (image > 240).mean() > 0.5  # ink on a white page
    document.close()


def test_an_export_works_on_a_session_still_being_recorded(tmp_path):
    store = SessionStore.create(SessionInfo(patient_id="LIVE-1", blocked=Limb.LEFT), tmp_path / "live.sympatherm")
    store.add_readings(Reading(limb, 28.0 + i * 0.001, ProbeStatus.OK, float(i), 1.7e9 + i)
                       for i in range(600) for limb in Limb)
    store.commit()
    out = export_session(store.path, "pdf", tmp_path / "live.pdf")
    first_page = _pdf_text(out)[0]
    assert "LIVE-1" in first_page
    assert "Verdict so far" in first_page and "still being recorded" in first_page, "never passed off as final"
    store.add_readings([Reading(Limb.LEFT, 28.0, ProbeStatus.OK, 601.0, 1.7e9)])
    store.close()  # the export did not disturb the recording
    assert SessionStore.open_read_only(store.path).reading_count() == 1201


def test_export_errors_are_plain(tmp_path, success_session, capsys):
    with pytest.raises(ExportError, match="does not exist"):
        export_session(success_session, "pdf", tmp_path / "missing" / "x.pdf")
    assert main(["export", str(tmp_path / "nope.sympatherm"), "--format", "pdf"]) == 1
    assert "no session file" in capsys.readouterr().err
    assert main(["export", str(success_session), "--format", "edf", "--out", str(tmp_path)]) == 0
    assert "Wrote" in capsys.readouterr().out


def test_out_with_a_trailing_slash_is_a_folder_even_before_it_exists(tmp_path, success_session):
    written = export_session(success_session, "csv", str(tmp_path / "exports") + "/")
    assert written.parent == tmp_path / "exports" and written.suffix == ".csv"
    assert (tmp_path / "exports").is_dir()


def test_sessions_lists_date_patient_side_duration_and_verdict(success_session, capsys):
    assert main(["sessions", "--dir", str(success_session.parent)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if success_session.name in ln)
    assert "PT-0042" in line and "right" in line and " 45:00 " in line and "confirmed" in line
    assert "SIMULATED" in line


def test_the_csv_round_trips_through_analyze_to_the_live_verdict(success_session, tmp_path, capsys):
    out = export_session(success_session, "csv", tmp_path / "s.csv")
    store = SessionStore.open_read_only(success_session)
    live = store.verdict_changes()[-1]
    n_readings = store.reading_count()
    store.close()
    assert live.state == "confirmed"
    assert main(["analyze", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "confirmed"
    assert result["confirmed_at_s"] == pytest.approx(live.detail["confirmed_at_s"])
    assert result["blocked"] == "right"

    text = out.read_text()
    assert "# warning: SIMULATED" in text
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))
    assert rows[0][-1] == "wall_clock" and len(rows) - 1 <= n_readings
    wall_col = rows[0].index("wall_time")
    assert datetime.fromisoformat(rows[1][-1]).timestamp() == pytest.approx(float(rows[1][wall_col]), abs=0.001)
    # A typed note that looks like a formula is neutralised in every cell a spreadsheet would see.
    all_cells = list(csv.reader(text.splitlines()))
    all_cells += list(csv.reader(out.with_name("s.events.csv").read_text().splitlines()))
    assert not any(c.startswith(("=", "+", "@")) for row in all_cells for c in row)
    assert "'=HYPERLINK" in text
    events = list(csv.DictReader(ln for ln in out.with_name("s.events.csv").read_text().splitlines()
                                 if not ln.startswith("#")))
    assert {"verdict", "artefact"} <= {e["kind"] for e in events}


def test_the_export_progress_bar_advances_to_100_percent():
    import io

    from monitor.commands.export import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream, width=10, delay_s=0.0, force=True)
    for done in (0, 5000, 10000):
        bar(done, 10000)
    bar(4, 4)
    bar.close()
    frames = stream.getvalue().split("\r")
    assert frames[1].startswith("reading  [..........]   0%")
    assert "[#####.....]  50%" in frames[2] and frames[-1].startswith("writing  [##########] 100%")
    quiet = io.StringIO()
    ProgressBar(quiet, delay_s=0.0)(1, 2)  # not a terminal: nothing printed
    assert quiet.getvalue() == ""


def test_exports_are_private_and_never_overwrite_a_session(success_session, tmp_path):
    for fmt in ("csv", "edf", "fhir"):
        out = export_session(success_session, fmt, tmp_path)
        assert stat.S_IMODE(out.stat().st_mode) == 0o600, fmt
    assert stat.S_IMODE((tmp_path / "success.events.csv").stat().st_mode) == 0o600
    other = tmp_path / "other.sympatherm"
    other.write_bytes(b"precious")
    with pytest.raises(ExportError, match="never overwrites a session file"):
        export_session(success_session, "pdf", other)
    assert other.read_bytes() == b"precious"


def test_plot_labels_stay_on_the_page_and_never_overlap(tmp_path):
    from reportlab.graphics.shapes import String
    from reportlab.pdfbase import pdfmetrics

    from monitor.exports.figures import compute_figures
    from monitor.exports.pdf import build_plot
    from monitor.exports.session_data import load_session

    long_note = "leg moved, probe re-taped by the nurse after the patient coughed twice " * 2
    path = record_simulated(tmp_path / "d.sympatherm", "dropout", until_s=2400.0,
                            notes=((900.0, long_note), (2390.0, "a note typed in the last seconds")))
    data = load_session(path)
    drawing = build_plot(data, compute_figures(data))
    labels = []
    for item in drawing.contents:
        if isinstance(item, String):
            width = pdfmetrics.stringWidth(item.text, item.fontName, item.fontSize)
            x = item.x - {"end": width, "middle": width / 2}.get(item.textAnchor, 0.0)
            labels.append((item.text, x, x + width, item.y))
            assert x >= 0 and x + width <= drawing.width + 0.01, f"{item.text!r} runs off the plot"
    notes = [label for label in labels if re.match(r"\d+ Note", label[0])]  # numbered as in the marker table
    assert len(notes) == 2 and any(text.endswith("…") for text, *_ in notes), "a long note is shortened visibly"
    gap_labels = [(y, a, b) for text, a, b, y in labels if text == "no data"]
    assert gap_labels, "the dropouts are labelled"
    for row in {y for y, _, _ in gap_labels}:
        spans = sorted((a, b) for y, a, b in gap_labels if y == row)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False)), "gap labels overlap"


def test_a_failed_block_is_not_confirmed_in_the_listing_the_report_and_analyze(tmp_path, capsys):
    path = record_simulated(tmp_path / "failed.sympatherm", "failed", until_s=2700.0)
    with SessionStore.open_read_only(path) as store:
        assert store.verdict_changes()[-1].state != "confirmed"
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if path.name in ln)
    assert "not confirmed" in line and "monitoring" not in line, "a finished session shows its outcome"
    out = export_session(path, "csv", tmp_path / "failed.csv")
    assert "# outcome: not_confirmed" in out.read_text()
    assert main(["analyze", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "not_confirmed", "the same outcome as the report"
    text = "\n".join(_pdf_text(export_session(path, "pdf", tmp_path / "failed.pdf")))
    assert "Block NOT CONFIRMED by the end of the recording" in text and "Block CONFIRMED" not in text
    headline = text.split("foot skin temperature", 1)[1].split("Patient ID", 1)[0]
    assert "onitoring" not in headline, "a finished report never sounds as if it were still going on"
    # The FHIR verdict of this session: tests/monitor/exports/test_fhir.py (coded not-confirmed).


def test_the_report_stays_within_two_pages_however_many_events(tmp_path):
    from monitor.model import Marker, MarkerKind

    store = SessionStore.create(SessionInfo(patient_id="MANY-1", blocked=Limb.LEFT), tmp_path / "many.sympatherm")
    store.add_readings(Reading(limb, 28.0, ProbeStatus.OK, float(i), 1.7e9 + i) for i in range(3600) for limb in Limb)
    store.add_marker(Marker(MarkerKind.INJECTION, 600.0))
    for k in range(60):  # a loose connector: the left probe drops out once a minute
        start = 30.0 + 60.0 * k
        store.add_event("alarm", start, end_s=start + 12.0, subkind="no_data", limb=Limb.LEFT, priority="medium",
                        message="left foot: no data for more than 10 s")
        store.add_event("artefact", start + 0.5, end_s=start + 12.0, subkind="no_data", limb=Limb.LEFT,
                        message="left foot: no data (excluded from baseline and criteria)")
    store.add_event("connection_gap", 1800.0, end_s=1830.0, subkind="lost", message="cable unplugged")
    store.close()
    out = export_session(store.path, "pdf", tmp_path / "many.pdf")
    pages = _pdf_text(out)
    text = "\n".join(pages)
    assert len(pages) <= 2, "the chart report is one or two pages"
    assert "Alarm (medium) and artefact: no data (60 times)" in text.replace("\n", " ")
    assert "cable unplugged" in text, "a single event is never summed up"
    events_csv = export_session(store.path, "csv", tmp_path / "many.csv").with_name("many.events.csv")
    assert events_csv.read_text().count("no_data") == 120, "the CSV keeps every single event"


def test_a_session_stopped_just_after_the_injection_is_not_judged_as_analyze_says(tmp_path, capsys):
    path = record_simulated(tmp_path / "short.sympatherm", "failed", until_s=500.0)  # injection at ~464 s
    text = "\n".join(_pdf_text(export_session(path, "pdf", tmp_path / "short.pdf")))
    assert "Not judged: too little data after the injection" in text and "NOT CONFIRMED" not in text
    out = export_session(path, "csv", tmp_path / "short.csv")
    assert "# outcome: not_judged" in out.read_text()
    assert main(["analyze", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "insufficient_data"


def test_report_curves_break_at_gaps_the_pipeline_sees_for_fast_and_slow_probes():
    from monitor.exports.pdf import _line_break_s, _segments

    fast = np.arange(0.0, 600.0, 1.0)
    fast = np.concatenate([fast, np.arange(620.0, 700.0, 1.0)])  # a 20 s outage
    slow = np.arange(0.0, 1800.0, 30.0)  # a thermometer reporting every 30 s
    slow = np.concatenate([slow, np.arange(2100.0, 2400.0, 30.0)])  # silent for 10 intervals
    for t, pieces in ((fast, 2), (slow, 2)):
        segments = _segments(t, np.full(t.shape, 30.0), np.ones(t.shape, bool), max_gap_s=_line_break_s(t))
        assert len(segments) == pieces
    assert _line_break_s(fast) == 5.0 and 30.0 < _line_break_s(slow) <= 150.0


def test_a_probe_check_is_shown_in_every_export_with_its_time(tmp_path):
    from monitor.clock import SimulatedClock
    from monitor.csvio import read_interchange_csv
    from monitor.model import MarkerKind
    from monitor.simulation.source import SimulatedSource

    model = SimulatedSource("probe-lift", seed=2, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True)).model
    lift = next(ev for ev in model.artefacts if ev.kind == "lift")
    at = float(round(lift.start_s + 40.0))
    path = record_simulated(tmp_path / "checked.sympatherm", "probe-lift", until_s=at + 600.0,
                            checks=((at, lift.limb),))
    label = f"Probe checked: {lift.limb}"
    pages = "\n".join(_pdf_text(export_session(path, "pdf", tmp_path / "report.pdf")))
    assert label in pages
    assert "ended by the nurse's probe" in pages.replace("\n", " ")
    rec = read_interchange_csv(export_session(path, "csv", tmp_path / "out.csv"))
    [check] = [m for m in rec.markers if m.kind is MarkerKind.PROBE_CHECKED]
    assert check.session_s == pytest.approx(at) and check.checked_limb is lift.limb
    reader = pyedflib.EdfReader(str(export_session(path, "edf", tmp_path / "x.edf")))
    try:
        onsets, _, texts = reader.readAnnotations()
        assert any(t == label and o == pytest.approx(at, abs=1.0) for o, t in zip(onsets, texts, strict=True))
    finally:
        reader.close()
