"""A procedure over the simulated patient on a manual clock (fast, deterministic), to publish."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.clock import SimulatedClock
from monitor.model import Limb, SessionInfo
from monitor.procedure import Procedure
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore


def simulated_procedure(path: Path, scenario: str = "probe-lift", seed: int = 2,
                        patient_id: str = "") -> tuple[Procedure, SimulatedSource]:
    source = SimulatedSource(scenario, seed=seed, blocked=Limb.LEFT, clock=SimulatedClock(manual=True))
    info = SessionInfo(blocked=Limb.LEFT, simulated=True, patient_id=patient_id)
    procedure = Procedure(source, info, SessionStore.create(info, path), commit_interval_s=0.0)
    procedure.schedule_injection(source.suggested_injection_s, automatic=False)
    return procedure, source


def run(procedure: Procedure, source: SimulatedSource, until_s: float, step_s: float = 5.0,
        after_pump: Callable[[], object] | None = None) -> None:
    """Step the simulated patient to ``until_s``, pumping the core as a live run would."""
    if not procedure.started:
        procedure.start()
    t = procedure.now()
    while t < until_s:
        t = min(until_s, t + step_s)
        source.step_to(t)
        procedure.pump()
        if after_pump is not None:
            after_pump()


def stored(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(readings, alarms, markers) of a session file, as plain tuples to compare."""
    with SessionStore.open_read_only(path) as ro:
        readings = [(str(r.limb), r.session_s, r.celsius, str(r.status)) for r in ro.iter_readings()]
        alarms = [(e.subkind, e.start_s, e.end_s, e.message) for e in ro.events("alarm")]
        markers = [(str(m.kind), m.session_s, m.text) for m in ro.markers()]
    return readings, alarms, markers
