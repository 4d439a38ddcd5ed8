"""A real recording for fault tests: source → the procedure core → pipeline and a real session file.

Every reading the recorder takes from the source is kept aside (``delivered``), so a test can
prove, after the fault, that the session file holds exactly what was received: nothing lost,
nothing changed, nothing invented, nothing twice.
"""

from __future__ import annotations

import time
from pathlib import Path

from monitor.model import Limb, Reading, SessionInfo
from monitor.procedure import Procedure
from monitor.sources.base import ProbeSource
from monitor.sources.registry import DeviceRegistry
from monitor.store import SessionStore


class Recording:
    def __init__(self, source: ProbeSource, path: Path, *, blocked: Limb = Limb.LEFT,
                 registry: DeviceRegistry | None = None, commit_interval_s: float = 0.0) -> None:
        self.source = source
        self.delivered: list[Reading] = []
        inner = source.drain

        def drain(max_items: int | None = None) -> list[Reading]:
            out = inner(max_items)
            self.delivered.extend(out)
            return out

        source.drain = drain  # seen on their way to the recorder, as the GUI observes them
        self.events = []
        inner_events = source.drain_events

        def drain_events():
            out = inner_events()
            self.events.extend(out)
            return out

        source.drain_events = drain_events
        info = SessionInfo(patient_id="REL-1", blocked=blocked)
        self.store = SessionStore.create(info, path)
        self.procedure = Procedure(source, info, self.store, registry=registry, commit_interval_s=commit_interval_s)
        self.recorder = self.procedure.recorder
        self.path = self.store.path

    def start(self) -> Recording:
        self.source.start()
        return self

    def pump(self) -> None:
        self.procedure.pump()

    def pump_until(self, predicate, *, timeout: float = 60.0, what: str = "condition") -> None:
        """Pump the recorder (as the GUI timer or `record` does) until ``predicate()`` holds. The
        timeout only bounds a failing test; a generous one keeps a loaded CI machine from failing it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.procedure.pump()
            if predicate():
                return
            self.source.wait_for_readings(0.02)
        raise AssertionError(f"timed out waiting for {what}; state {self.source.state}: {self.source.reason}")

    def count(self, limb: Limb | None = None) -> int:
        return sum(1 for r in self.delivered if limb is None or r.limb is limb)

    def finish(self, reason: str = "closed normally") -> None:
        self.procedure.finish(reason)

    def stored(self) -> list[Reading]:
        with SessionStore.open_read_only(self.path) as reader:
            return reader.readings()


def assert_nothing_lost(stored: list[Reading], received: list[Reading]) -> None:
    """The file holds every reading received, unchanged and once, in the order received."""
    assert len(stored) == len(received), f"{len(received)} readings received, {len(stored)} in the file"
    assert stored == received, "a reading in the file differs from what was received"
    assert_monotonic(stored)


def assert_monotonic(readings: list[Reading]) -> None:
    for limb in Limb:
        times = [r.session_s for r in readings if r.limb is limb]
        assert times == sorted(times), f"{limb} readings are out of session-time order"
