"""The wall clock jumping during a session, and a probe lifted, touched, shorted and opened."""

from __future__ import annotations

import csv
import time
from datetime import datetime

import pytest

from monitor.clock import SimulatedClock
from monitor.exports import export_session
from monitor.model import ConnectionState, Limb, MarkerKind, ProbeStatus
from monitor.simulation.source import SimulatedSource
from monitor.sources.serial import SerialSource
from monitor.store import SessionStore

from .harness import assert_monotonic, assert_nothing_lost


def test_wall_clock_jumping_forward_and_back_changes_nothing_recorded(make_probe, make_recording, registry,
                                                                     monkeypatch, tmp_path):
    """NTP or a user sets the clock an hour forward, then two hours back, mid-session."""
    real_time = time.time
    offset = [0.0]
    probe = make_probe(speed=30.0)
    src = SerialSource(probe.path, registry=registry, discovery=lambda: [probe.port_info()])  # monotonic clock
    rec = make_recording(src)
    rec.pump_until(lambda: rec.count(Limb.LEFT) >= 10, what="readings before the jump")
    monkeypatch.setattr(time, "time", lambda: real_time() + offset[0])
    for jump, marker in ((3600.0, MarkerKind.NEEDLE), (-7200.0, MarkerKind.INJECTION)):
        offset[0] += jump
        n = rec.count(Limb.LEFT)
        rec.pump_until(lambda n=n: rec.count(Limb.LEFT) >= n + 10, what="readings after the jump")
        rec.recorder.add_marker(marker)
    assert src.state is ConnectionState.STREAMING
    rec.finish()
    monkeypatch.setattr(time, "time", real_time)

    stored = rec.stored()
    assert_nothing_lost(stored, rec.delivered)
    assert_monotonic(stored)
    # The chart's wall clock is derived from session time: it moved on steadily through both jumps.
    drift = [r.wall_time - r.session_s for r in stored]
    # Against jumps of an hour: a reading's wall and session times are two reads of the clock, a
    # few microseconds apart, or milliseconds on a loaded machine (1.6 ms seen in CI).
    assert max(drift) - min(drift) < 0.05
    assert abs(drift[0] - real_time()) < 60.0, "the chart's clock is the real one, neither jump in it"
    with SessionStore.open_read_only(rec.path) as reader:
        markers = reader.markers()
    assert [m.kind for m in markers] == [MarkerKind.NEEDLE, MarkerKind.INJECTION]
    assert markers[0].session_s < markers[1].session_s
    assert all(abs((m.wall_time - m.session_s) - drift[0]) < 1e-3 for m in markers)
    # The export shows the same steady wall clock, in session-time order.
    out = export_session(rec.path, "csv", tmp_path / "jump.csv")
    rows = list(csv.DictReader(line for line in out.read_text().splitlines() if not line.startswith("#")))
    assert len(rows) >= len(stored) // 2
    times = [float(r["time_s"]) for r in rows]
    walls = [datetime.fromisoformat(r["wall_clock"]).timestamp() for r in rows]
    assert times == sorted(times) and walls == sorted(walls)
    assert max(w - t for w, t in zip(walls, times, strict=True)) - min(
        w - t for w, t in zip(walls, times, strict=True)) < 0.01


@pytest.mark.parametrize(("scenario", "artefact", "confirmed"), [
    ("probe-lift", "probe_lifted", False),
    ("touch", "touch", False),
    ("sensor-fault", "sensor_fault", True),
])
def test_probe_lifted_touched_shorted_and_opened_during_the_block(scenario, artefact, confirmed, make_recording):
    source = SimulatedSource(scenario, seed=3, blocked=Limb.LEFT, clock=SimulatedClock(manual=True))
    rec = make_recording(source, name=f"{scenario}.sympatherm", blocked=Limb.LEFT)
    rec.recorder.schedule_marker(MarkerKind.INJECTION, source.suggested_injection_s)
    for t in range(10, 2701, 10):
        source.step_to(float(t))
        rec.pump()
    rec.finish()

    stored = rec.stored()
    assert_nothing_lost(stored, rec.delivered)
    with SessionStore.open_read_only(rec.path) as reader:
        events = reader.events()
        verdicts = reader.verdict_changes()
    kinds = {(e.kind, e.subkind) for e in events}
    assert ("artefact", artefact) in kinds, kinds
    assert all(e.end_s is not None for e in events)
    assert any(v.state == "confirmed" for v in verdicts) is confirmed
    if scenario == "sensor-fault":
        statuses = {r.status for r in stored}
        assert {ProbeStatus.OPEN_CIRCUIT, ProbeStatus.SHORT_CIRCUIT} <= statuses
        assert ("alarm", "sensor_fault") in kinds
        # Fault readings are kept as such (no temperature invented for them).
        assert all(r.celsius is None for r in stored if r.status in (ProbeStatus.OPEN_CIRCUIT,
                                                                      ProbeStatus.SHORT_CIRCUIT))


def test_the_live_display_keeps_its_time_axis_through_wall_clock_jumps(qtbot, tmp_path, monkeypatch):
    from monitor.commands.demo import build_demo_window

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=tmp_path / "gui.sympatherm")
    qtbot.addWidget(window)
    window.advance_to(300)
    wall0 = window.session.clock.wall() - window.session.clock.now()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 7200.0)  # set two hours back mid-session
    window.advance_to(600)
    window._toggle_wall_clock(True)
    axis = window.plot.axis
    assert axis.wall0 == pytest.approx(wall0, abs=1e-3)
    assert axis.tickStrings([0.0, 600.0], 1.0, 600.0) == [
        time.strftime("%H:%M", time.localtime(wall0)), time.strftime("%H:%M", time.localtime(wall0 + 600.0))]
    n = window.session.total_readings
    window.close()
    with SessionStore.open_read_only(tmp_path / "gui.sympatherm") as store:
        readings = store.readings()
    assert len(readings) == n
    assert_monotonic(readings)
    assert max(r.wall_time - r.session_s for r in readings) - min(r.wall_time - r.session_s for r in readings) < 1e-3
