"""One time format in the messages that still said seconds: an earlier attempt's outcome
(+m:ss after its injection), `analyze`'s summary, the procedure log's marker move and the CSV
export's marker moves and minutes header (session times m:ss). Real pipelines, a real procedure
core recorded to a real session file and a real CSV export read back."""

from __future__ import annotations

import csv
import re

import pytest

from monitor.exports import export_session
from monitor.exports.csv import restore_cell
from monitor.exports.session_data import load_session
from monitor.model import Limb, Marker, MarkerKind
from monitor.pipeline import BlockPipeline
from monitor.pipeline.batch import analyze
from monitor.pipeline.timefmt import format_relative, format_session_time
from tests.monitor.pipeline.helpers import flat, injection, ramp, readings
from tests.monitor.procedure.two_attempts import FIRST_CORRECTED_S, FIRST_MARK_S, record_two_attempts

SECONDS = re.compile(r"\d+(\.\d+)? s\b")  # "600 s", "430.0 s": a session time written in seconds


def test_an_earlier_attempt_says_plus_m_ss_after_its_injection():
    # Confirmed after the injection at 600 s, then a new baseline at 1300 s (attempt 2).
    p = BlockPipeline(Limb.LEFT)
    p.push_many(readings(ramp(28.0, 700, 1.0, cap_c=4.0), flat(28.0), 2000))
    p.set_markers([injection(600), Marker(MarkerKind.BASELINE, 1300)])
    p.finish()
    first = p.attempts()[0]
    after = format_relative(first.confirmed_at_s - 600)
    assert re.fullmatch(r"\+\d+:\d\d", after), after
    assert first.outcome_words == f"confirmed at {after} after its injection"  # was without the "+"


def test_analyze_summary_gives_the_injection_and_early_warming_as_session_times():
    rs = readings(ramp(28.0, 700, 1.0, cap_c=4.0), flat(28.0), 2000)
    result = analyze(rs, Limb.LEFT, injection_s=600.0)
    assert result.early_warming_at_s is not None, "the ramp is an early sign"
    text = result.summary()
    assert "injection at 10:00;" in text, text  # was "injection at 600 s (10:00)"
    assert f"Early warming seen at {format_session_time(result.early_warming_at_s)}." in text, text
    assert not SECONDS.search(text.split("criteria", 1)[0]), text
    assert not re.search(r"Early warming seen at \d+(\.\d+)? s", text), text


@pytest.fixture(scope="module")
def two_attempts(tmp_path_factory):
    """A recorded procedure whose first injection mark was moved from 7:10 to 7:00, and its CSV export."""
    folder = tmp_path_factory.mktemp("moves")
    path, procedure = record_two_attempts(folder / "moved.sympatherm")
    out = export_session(path, "csv", folder / "moved.csv")
    return procedure, out


def test_the_procedure_log_says_a_marker_moved_in_session_times(two_attempts):
    procedure, _ = two_attempts
    moved = [e.text for e in procedure.log if " moved from " in e.text]
    assert moved == [f"{MarkerKind.INJECTION.label} moved from 7:10 to 7:00 (marked 10 s late)"], moved
    assert (format_session_time(FIRST_MARK_S), format_session_time(FIRST_CORRECTED_S)) == ("7:10", "7:00")


def test_the_csv_marker_move_is_in_session_times_and_its_time_column_stays_numeric(two_attempts):
    _, out = two_attempts
    with out.with_name("moved.events.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(ln for ln in fh if not ln.startswith("#")))
    [move] = [r for r in rows if r["kind"] == "marker_moved"]
    assert restore_cell(move["message"]) == "moved from 7:10 to 7:00: marked 10 s late"  # was "430 s to 420 s"
    assert float(move["start_s"]) == FIRST_CORRECTED_S


def test_the_minutes_header_gives_the_origin_as_session_time_and_seconds(two_attempts):
    _, out = two_attempts
    data = load_session(out.with_name("moved.sympatherm"))
    origin = data.injection_s
    assert origin is not None
    header = out.with_name("moved.minutes.csv").read_text(encoding="utf-8").splitlines()
    line = next(ln for ln in header if ln.startswith("# minutes from the"))
    assert line.startswith(f"# minutes from the injection at session time {format_session_time(origin)} "
                           f"({origin:g} s); blocked: right"), line
    assert "," not in line, "one cell in a spreadsheet"
