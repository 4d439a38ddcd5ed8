"""A recorded procedure with a repeat injection, through the real core on a manual clock.

The simulated physician really injects at 20:00. The nurse marked an injection at 7:10 (and
corrected it to 7:00: an audit-trail entry); nothing happened, so the needle was moved, a new
baseline started at 17:00 (attempt 2, after the user's yes) and the injection marked at 20:00
(or, with ``late_second_s``, that many seconds late)."""

from __future__ import annotations

from pathlib import Path

from monitor.clock import SimulatedClock
from monitor.model import Limb, MarkerKind, SessionInfo
from monitor.procedure import Procedure
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore

REAL_INJECTION_S = 1200.0
FIRST_MARK_S, FIRST_CORRECTED_S, SECOND_BASELINE_S = 430.0, 420.0, 1020.0


def record_two_attempts(path: Path, *, seed: int = 2, until_s: float = 2700.0,
                        late_second_s: float = 0.0) -> tuple[Path, Procedure]:
    source = SimulatedSource("success-fast", seed=seed, blocked=Limb.RIGHT, clock=SimulatedClock(manual=True),
                             injection_s=REAL_INJECTION_S)
    info = SessionInfo(patient_id="PT-2ATT", blocked=Limb.RIGHT, operator="Dr Operator", nurse="N. Nurse",
                       levels="L2-L3", drug="7 mL ropivacaine 0.5 %", simulated=True, room_c=23.0)
    procedure = Procedure(source, info, SessionStore.create(info, path), commit_interval_s=0.0)
    plan = [(FIRST_MARK_S, "first"), (SECOND_BASELINE_S, "baseline"), (REAL_INJECTION_S + late_second_s, "second")]
    source.start()
    t = 0.0
    while t < until_s:
        t += 5.0
        source.step_to(t)
        procedure.pump()
        while plan and plan[0][0] <= t:
            at, what = plan.pop(0)
            if what == "first":
                marker = procedure.add_marker(MarkerKind.INJECTION, at)
                assert marker.id is not None
                procedure.move_marker(marker.id, FIRST_CORRECTED_S, reason="marked 10 s late")
            elif what == "baseline":
                procedure.add_marker(MarkerKind.BASELINE, at, rebaseline=True)
            else:
                procedure.add_marker(MarkerKind.INJECTION, at)
    procedure.finish()
    return procedure.store.path, procedure
