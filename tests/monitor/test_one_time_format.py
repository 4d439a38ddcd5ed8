"""Issue 12 item 8, one time format: session times m:ss (h:mm:ss past an hour), times from the
injection +m:ss, from monitor/pipeline/timefmt.py in every message and export. Real pipelines,
a real procedure core and real session files; the HL7 message read back by python-hl7."""

from __future__ import annotations

import re

import hl7
import numpy as np
import pytest

from monitor.cli import main
from monitor.clock import SimulatedClock
from monitor.exports.figures import REPORT_MINUTES, compute_figures
from monitor.exports.hl7 import build_message
from monitor.exports.session_data import load_session
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.pipeline import BlockPipeline, VerdictState
from monitor.pipeline.timefmt import format_relative, format_session_time
from monitor.procedure import Procedure
from monitor.procedure.minutes import minute_label
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore
from tests.monitor.pipeline.helpers import flat, injection, ramp, readings
from tests.support.sessions import record_simulated

OLD_FORMS = re.compile(r"\d+ min \d+ s|\d+\.\d s\b|\d+\.\dm\b")  # "6 min 58 s", "600.0 s", "7.1m"


def test_session_times_and_times_from_the_injection():
    assert format_session_time(602) == "10:02" and format_session_time(4500) == "1:15:00"
    assert format_session_time(-150) == "-2:30"
    assert format_session_time(-0.4) == "0:00", "what rounds to zero has no sign (was '-0:00')"
    assert format_relative(418) == "+6:58" and format_relative(4500) == "+1:15:00"
    assert format_relative(-150) == "-2:30" and format_relative(0.3) == "0:00" and format_relative(-0.3) == "0:00"


def _pipeline(left, right, end_s: float, markers: list[Marker]) -> BlockPipeline:
    p = BlockPipeline(Limb.LEFT)
    p.push_many(readings(left, right, end_s))
    for m in markers:
        p.add_marker(m)
    p.finish()
    return p


def test_the_confirmation_says_plus_m_ss_after_the_injection():
    p = _pipeline(ramp(28.0, 700, 1.0, cap_c=5), flat(28.5), 1800, [injection(600)])
    v = p.verdict
    assert v.state is VerdictState.CONFIRMED
    when = format_relative(v.confirmed_at_s - 600)
    assert v.message.startswith(f"Block confirmed at {when} after the injection: "), v.message
    assert re.fullmatch(r"\+\d+:\d\d", when) and not OLD_FORMS.search(v.message), v.message


def test_after_two_injections_both_times_are_plus_m_ss():
    # A second injection (no new baseline) before the foot warms: the message names both.
    p = _pipeline(ramp(28.0, 900, 1.0, cap_c=5), flat(28.5), 2000, [injection(600), injection(800)])
    v = p.verdict
    assert v.state is VerdictState.CONFIRMED
    first, latest = format_relative(v.confirmed_at_s - 600), format_relative(v.confirmed_at_s - 800)
    assert f"Block confirmed at {first} after the first injection ({latest} after the latest)" in v.message


def test_not_confirmed_yet_is_dated_from_the_injection_in_the_one_format():
    p = _pipeline(flat(28.0), flat(28.5), 600 + 45 * 60, [injection(600)])
    v = p.verdict
    assert v.state is VerdictState.NOT_CONFIRMED_YET
    assert v.message.startswith("Not confirmed yet at +40:00 after the injection (information only"), v.message


def test_the_procedure_log_says_where_a_marker_was_placed_as_session_time(tmp_path):
    source = SimulatedSource("success-fast", seed=1, clock=SimulatedClock(manual=True))
    info = SessionInfo(blocked=Limb.LEFT, simulated=True)
    procedure = Procedure(source, info, SessionStore.create(info, tmp_path / "log.sympatherm"),
                          commit_interval_s=0.0)
    procedure.start()
    source.step_to(700.0)
    procedure.pump()
    procedure.add_marker(MarkerKind.NOTE, 600.0, text="foot warm")
    procedure.add_marker(MarkerKind.NEEDLE, 663.6)  # rounds to 11:04
    texts = [e.text for e in procedure.log]
    procedure.finish("test")
    assert f"{MarkerKind.NOTE.label} marked at session time 10:00" in texts, texts  # was "marked at 600.0 s"
    assert f"{MarkerKind.NEEDLE.label} marked at session time 11:04" in texts, texts
    assert not any(OLD_FORMS.search(t) for t in texts), texts


def test_minute_labels_are_the_one_format():
    assert [minute_label(m) for m in REPORT_MINUTES] == ["0:00", "+5:00", "+10:00", "+20:00", "+30:00"]
    assert minute_label(-3) == "-3:00" and minute_label(65) == "+1:05:00"
    assert minute_label(5, from_injection=False) == "5:00", "without an injection: session time"


@pytest.fixture(scope="module")
def noted_session(tmp_path_factory):
    """A simulated session with a note typed 7 min 44 s after the injection."""
    injection_s = SimulatedSource("success-fast", seed=3, blocked=Limb.RIGHT).suggested_injection_s
    folder = tmp_path_factory.mktemp("times")
    return record_simulated(folder / "noted.sympatherm", seed=3, until_s=injection_s + 35 * 60,
                            notes=((injection_s + 464.0, "foot warm to touch"),))


def test_hl7_notes_and_report_minutes_are_plus_m_ss(noted_session):
    data = load_session(noted_session)
    message = hl7.parse(build_message(data, compute_figures(data)))
    notes = [message.unescape(str(n[3])) for n in message.segments("NTE")]
    assert "Note at +7:44 from the injection: foot warm to touch" in notes, notes  # was "+7 min 44 s"
    methods = {str(obx[17]).split("^")[1] for obx in message.segments("OBX") if str(obx[17]).startswith("report-")}
    assert methods == {f"At {minute_label(m)} from the injection" for m in REPORT_MINUTES}, methods
    assert not any(OLD_FORMS.search(n) for n in notes)


def test_sessions_lists_a_duration_past_an_hour_as_h_mm_ss(tmp_path, capsys):
    info = SessionInfo(patient_id="LONG-1", blocked=Limb.LEFT)
    store = SessionStore.create(info, tmp_path / "long.sympatherm")
    t = np.array([0.0, 4500.0])
    store.add_readings(Reading(limb, 30.0, ProbeStatus.OK, float(s), 1.7e9 + float(s)) for s in t for limb in Limb)
    store.close()
    short = SessionStore.create(SessionInfo(patient_id="SHORT-1", blocked=Limb.LEFT), tmp_path / "short.sympatherm")
    short.add_readings(Reading(limb, 30.0, ProbeStatus.OK, s, 1.7e9 + s) for s in (0.0, 426.0) for limb in Limb)
    short.close()
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    [long_row] = [ln for ln in out.splitlines() if "long.sympatherm" in ln]
    [short_row] = [ln for ln in out.splitlines() if "short.sympatherm" in ln]
    assert " 1:15:00 " in long_row and "75.0m" not in long_row, long_row
    assert "    7:06 " in short_row and "7.1m" not in short_row, short_row
