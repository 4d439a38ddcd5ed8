"""Replaying an interchange CSV and a recorded session through the ProbeSource interface."""

from __future__ import annotations

import math

import pytest

from monitor.clock import SimulatedClock
from monitor.csvio import write_interchange_csv
from monitor.model import ConnectionState, Limb, Marker, MarkerKind, SessionInfo
from monitor.simulation.source import SimulatedSource
from monitor.sources.replay import ReplayError, ReplaySource
from monitor.store import SessionStore


def recorded(seconds: float = 120.0, scenario: str = "sensor-fault"):
    sim = SimulatedSource(scenario, seed=2, clock=SimulatedClock(manual=True), injection_s=30.0)
    sim.start()
    sim.step_to(seconds)
    return sim.drain()


def key(r):
    return (r.limb, r.session_s, r.celsius, r.status)


def test_csv_replays_everything_in_order_at_full_speed(tmp_path, start_source):
    readings = recorded()
    path = tmp_path / "rec.csv"
    write_interchange_csv(path, readings, {"blocked": "left", "injection_s": 30.0},
                          markers=[Marker(MarkerKind.INJECTION, 30.0, "7 mL ropivacaine")])
    src = ReplaySource(path, speed=math.inf)
    assert src.kind == "csv" and src.suggested_injection_s == 30.0 and src.identity.kind == "replay"
    c = start_source(src)
    c.wait(lambda: len(c.readings) == len(readings), what="every reading")
    assert [key(r) for r in c.readings] == [key(r) for r in readings]
    c.wait(lambda: src.state is ConnectionState.STOPPED, what="the end")
    assert "finished" in src.reason and src.finished


def test_session_file_replays_at_speed_and_steps(tmp_path, start_source):
    readings = recorded(600.0, "success-fast")
    path = tmp_path / "session.sympatherm"
    store = SessionStore.create(SessionInfo(blocked=Limb.LEFT, simulated=True), path)
    store.add_readings(readings)
    store.add_marker(Marker(MarkerKind.INJECTION, 30.0))
    store.commit()
    store.close()

    stepped = ReplaySource(path, clock=SimulatedClock(manual=True))
    assert stepped.kind == "session" and stepped.identity.simulated and stepped.info.blocked is Limb.LEFT
    assert [m.kind for m in stepped.markers] == [MarkerKind.INJECTION]
    stepped.start()
    n = stepped.step_to(100.0)
    assert n == sum(1 for r in readings if r.session_s <= 100.0)
    assert all(r.session_s <= 100.0 for r in stepped.drain())
    stepped.stop()

    fast = ReplaySource(path, speed=3000.0)  # 600 s of recording in about 0.2 s
    c = start_source(fast)
    c.wait(lambda: fast.finished and len(c.readings) == len(readings), what="the whole session")
    assert [key(r) for r in c.readings] == [key(r) for r in readings]


def test_unreadable_files_are_plain_errors(tmp_path):
    with pytest.raises(ReplayError, match="no such file"):
        ReplaySource(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("this is not a recording\n")
    with pytest.raises(ReplayError, match="cannot replay"):
        ReplaySource(bad)
    fake = tmp_path / "fake.sympatherm"
    fake.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(ReplayError, match="cannot replay"):
        ReplaySource(fake)
    with pytest.raises(ValueError, match="greater than zero"):
        ReplaySource(bad, speed=0)
