"""Resuming an unfinished session from the GUI: a GUI recording dies mid-session (a real
process ended without closing anything), the app's start-up offer is answered "Resume
recording", and the same file goes on with the old readings, the interruption recorded and
session time continuing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtWidgets import QMessageBox

from monitor.clock import SimulatedClock
from monitor.commands.sources import build_source
from monitor.model import Limb, MarkerKind
from monitor.procedure.source_spec import SOURCE_META_KEY, BleSpec, SimulatedSpec, stored_spec
from monitor.store import SessionStore, find_unfinished_sessions
from ui import app_flow

ROOT = Path(__file__).resolve().parents[2]

# The GUI records the simulated patient on a manual clock, marks the injection, then the
# process dies (os._exit: no clean close, as after a crash or kill -9).
_RECORD_AND_DIE = """
import os
from monitor.clock import SimulatedClock
from monitor.commands.sources import build_source
from monitor.model import Limb, MarkerKind, SessionInfo
from ui.application import get_application
from ui.app_flow import AppController, simulated_candidate
from ui.setup_dialog import SetupResult

app = get_application()
controller = AppController(build_source, simulated_clock_factory=lambda: SimulatedClock(manual=True))
info = SessionInfo(patient_id="R-7", blocked=Limb.LEFT, operator="Dr A", simulated=True)
window = controller.start_session(SetupResult(simulated_candidate(build_source), info, None, "success-fast", 10.0))
inj = window.session.source.suggested_injection_s
window.advance_to(inj)
window.session.add_marker(MarkerKind.INJECTION)
window.advance_to(inj + 120)
window.session.recorder.commit()
print(window.session.store.path, inj, flush=True)
os._exit(0)
"""


def _crashed_gui_session() -> tuple[Path, float]:
    out = subprocess.run([sys.executable, "-c", _RECORD_AND_DIE], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=60)
    path, inj = out.stdout.split()
    return Path(path), float(inj)


def _click(text: str):
    def exec_(box: QMessageBox) -> int:
        next(b for b in box.buttons() if b.text() == text).click()
        return 0
    return exec_


def test_resume_recording_continues_the_same_file_after_a_crash(qtbot, monkeypatch):
    path, inj = _crashed_gui_session()
    assert path in find_unfinished_sessions()
    with SessionStore.open_read_only(path) as before:
        old = list(before.iter_readings())
        stopped_s = before.resume_point().last_session_s
        # The source as the GUI chose it, kept in the file: the set-up's scenario and speed, the session's side.
        assert stored_spec(before) == SimulatedSpec(scenario="success-fast", seed=1, speed=10.0, blocked=Limb.LEFT)
        assert "record_source_flags" not in before.meta()

    offered = []

    def choose_resume(box: QMessageBox) -> int:
        offered.append([b.text() for b in box.buttons()])
        return _click("Resume recording")(box)

    monkeypatch.setattr(QMessageBox, "exec", choose_resume)
    controller = app_flow.AppController(build_source, simulated_clock_factory=lambda: SimulatedClock(manual=True))
    assert controller.start()  # the resumed recording is the session: no set-up dialog
    assert offered and offered[0][0] == "Resume recording"  # the first choice
    window = controller.windows[-1]
    qtbot.addWidget(window)
    session = window.session
    assert session.resumed and session.store.path == path
    offset = session.time_offset_s
    assert offset >= stopped_s + 1.0
    assert session.now() >= offset  # the display's clock is session time, not the new source's
    assert session.injection_s() == pytest.approx(inj, abs=1e-6)  # the old injection mark is kept

    window.process()  # the file's readings reach the plot; the source has sent nothing yet
    assert window.plot.buffers[Limb.LEFT].readings == len([r for r in old if r.limb is Limb.LEFT])
    assert session.state[Limb.LEFT].celsius is None  # an old value is not shown as the current one
    assert window.alarms.priority is None  # the interruption is a recorded gap, not a no-data alarm
    assert "resumed after an interruption" in window.status_label.text()
    window.advance_to(offset + 300)
    assert not find_unfinished_sessions()  # being recorded again
    buf = window.plot.buffers[Limb.LEFT]
    x = buf.x[np.isfinite(buf.y)]  # the points drawn (a gap is a NaN point)
    # The plot has the old part and the new part, times continuing from before.
    assert x.min() < stopped_s and x.max() >= offset + 250
    assert not np.any((x > stopped_s + 1e-9) & (x < offset - 1e-9))  # nothing drawn in the interruption
    assert window.session.reading_ages()[Limb.LEFT] < 10.0  # ages from session time: fresh, not offset-old
    window.close()  # ends the session cleanly

    with SessionStore.open_read_only(path) as after:
        assert after.status == "closed"
        readings = list(after.iter_readings())
        old_keys = {(r.limb, r.session_s) for r in old}
        assert old_keys <= {(r.limb, r.session_s) for r in readings}  # nothing lost
        assert len(readings) > len(old)
        for limb in Limb:
            t = np.array([r.session_s for r in readings if r.limb is limb])
            assert np.all(np.diff(t) > 0), f"{limb} time goes backwards or repeats"
        gaps = [g for g in after.events("connection_gap") if g.subkind == "interrupted"]
        assert len(gaps) == 1 and gaps[0].start_s == pytest.approx(stopped_s)
        assert gaps[0].end_s == pytest.approx(offset, abs=1.0)
        assert "interrupted" in gaps[0].message
        assert [m.kind for m in after.markers()].count(MarkerKind.INJECTION) == 1
        assert after.info().patient_id == "R-7"
    # The simulated patient went on where the file stopped, probes settled: no new settling
    # from room temperature after the interruption.
    for limb in Limb:
        last_old = [r.celsius for r in old if r.limb is limb and r.celsius is not None][-1]
        new_part = [r.celsius for r in readings if r.limb is limb and r.session_s >= offset - 1e-9
                    and r.session_s < offset + 60 and r.celsius is not None]
        assert new_part, f"no {limb} readings after resuming"
        assert abs(new_part[0] - last_old) < 1.5, f"{limb}: {last_old:.2f} °C before, {new_part[0]:.2f} °C after"
        assert min(new_part) > last_old - 1.5, f"{limb} dipped to {min(new_part):.2f} °C after resuming"


def test_a_session_whose_source_cannot_be_found_is_not_offered_for_resuming(qtbot, monkeypatch, tmp_path):
    from monitor.model import SessionInfo

    store = SessionStore.create(SessionInfo(patient_id="S-1", blocked=Limb.RIGHT), tmp_path / "s.sympatherm")
    store.set_meta("record_source_flags", "--port /dev/ttyGONE99")
    store.commit()
    choice = app_flow.resume_choice(store.path)
    assert isinstance(choice, str) and "/dev/ttyGONE99 is not connected" in choice
    store.set_meta("record_source_flags", "--ble AA:BB:CC:DD:EE:01,AA:BB:CC:DD:EE:02")
    store.commit()
    choice = app_flow.resume_choice(store.path)
    assert isinstance(choice, app_flow.ResumeChoice) and "AA:BB:CC:DD:EE:01" in choice.description
    assert choice.spec == BleSpec(addresses=("AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"))
    # A spec that cannot be read is said, not guessed around (the old flags are not used instead).
    store.set_meta(SOURCE_META_KEY, '{"version": 2, "kind": "ble"}')
    store.commit()
    choice = app_flow.resume_choice(store.path)
    assert isinstance(choice, str) and "version 2" in choice
    store.close()
    # A GUI session without saved flags is offered for review only.
    bare = SessionStore.create(SessionInfo(patient_id="S-2", blocked=Limb.LEFT), tmp_path / "b.sympatherm")
    bare.commit()
    assert "does not say which probes" in app_flow.resume_choice(bare.path)
    bare.close()


def test_a_demo_session_keeps_its_source_so_it_can_be_resumed(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window

    window = build_demo_window("success-slow", 3, 1.0, Limb.RIGHT, manual=True, session_path=tmp_path / "d.sympatherm")
    qtbot.addWidget(window)
    window.session.recorder.commit()  # as the first pump does, at most half a second in
    choice = app_flow.resume_choice(window.session.store.path)
    assert isinstance(choice, app_flow.ResumeChoice) and "success-slow" in choice.description
    assert choice.spec == SimulatedSpec(scenario="success-slow", seed=3, speed=1.0, blocked=Limb.RIGHT)
    window.finish()
