"""Shared test helpers: record a simulated session through the real procedure core."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.clock import SimulatedClock
from monitor.model import Limb, MarkerKind, SessionInfo
from monitor.procedure import Procedure
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore


def record_simulated(path: Path | None, scenario: str = "success-fast", *, seed: int = 2,
                     blocked: Limb = Limb.RIGHT, until_s: float = 2700.0, step_s: float = 5.0,
                     patient_id: str = "PT-0042", notes: tuple[tuple[float, str], ...] = (),
                     checks: tuple[tuple[float, Limb], ...] = (), criteria: str = "default") -> Path:
    """A whole simulated procedure on a manual clock (fast and deterministic); returns the file."""
    source = SimulatedSource(scenario, seed=seed, blocked=blocked, clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id=patient_id, blocked=blocked, operator="Dr Operator", nurse="N. Nurse",
                       levels="L2-L3", drug="7 mL ropivacaine 0.5 %", simulated=True, room_c=23.0)
    store = SessionStore.create(info, path)
    recorder = Procedure(source, info, store, criteria=criteria, commit_interval_s=0.0)
    recorder.schedule_injection(source.suggested_injection_s, automatic=False)
    pending_notes = sorted(notes)
    pending_checks = sorted(checks)
    source.start()
    t = 0.0
    while t < until_s:
        t += step_s
        source.step_to(t)
        recorder.pump()
        while pending_notes and pending_notes[0][0] <= t:
            at, text = pending_notes.pop(0)
            recorder.add_marker(MarkerKind.NOTE, at, text=text)
        while pending_checks and pending_checks[0][0] <= t:  # the nurse checked a probe
            at, limb = pending_checks.pop(0)
            recorder.add_marker(MarkerKind.PROBE_CHECKED, at, text=str(limb))
    recorder.finish()
    return store.path


@pytest.fixture(scope="session")
def success_session(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sessions")
    return record_simulated(folder / "success.sympatherm",
                            notes=((300.0, "=HYPERLINK(\"http://x\") <b>not bold</b> & co"),))
