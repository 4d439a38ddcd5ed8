"""A recorded procedure whose first attempt is confirmed and whose repeat attempt is not.

The simulated block works (success-fast) and is confirmed about 7 min after the injection;
25 min after it a new baseline is started for a repeat injection (the user said yes), and the
second injection, 3 min later, finds the blocked foot already at its plateau: nothing more
warms, so attempt 2 is not confirmed and its peak rise is within the probes' accuracy."""

from __future__ import annotations

from pathlib import Path

from monitor.clock import SimulatedClock
from monitor.model import Limb, MarkerKind, SessionInfo
from monitor.procedure import Procedure
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore

NEW_BASELINE_AFTER_S, SECOND_INJECTION_AFTER_S, RECORDED_AFTER_S = 1500.0, 1680.0, 2700.0


def record_confirmed_then_repeat(path: Path, *, seed: int = 2) -> Path:
    source = SimulatedSource("success-fast", seed=seed, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True))
    info = SessionInfo(patient_id="PT-REPEAT", blocked=Limb.RIGHT, operator="Dr Operator", nurse="N. Nurse",
                       simulated=True, room_c=23.0)
    procedure = Procedure(source, info, SessionStore.create(info, path), commit_interval_s=0.0)
    inj = source.suggested_injection_s
    plan = [(inj, MarkerKind.INJECTION), (inj + NEW_BASELINE_AFTER_S, MarkerKind.BASELINE),
            (inj + SECOND_INJECTION_AFTER_S, MarkerKind.INJECTION)]
    source.start()
    t = 0.0
    while t < inj + RECORDED_AFTER_S:
        t += 5.0
        source.step_to(t)
        procedure.pump()
        while plan and plan[0][0] <= t:
            at, kind = plan.pop(0)
            procedure.add_marker(kind, at, rebaseline=kind is MarkerKind.BASELINE)
    procedure.finish()
    return procedure.store.path
