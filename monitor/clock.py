"""Session time: one clock for the whole core.

Seconds since the session started, read where the bytes arrive. Hardware sources use
:class:`MonotonicClock` (immune to wall-clock jumps); the simulator uses
:class:`SimulatedClock`, which runs ``speed`` times faster. The wall clock is kept
beside session time for the chart, never used to order readings.
"""

from __future__ import annotations

import time
from typing import Protocol


class SessionClock(Protocol):
    def now(self) -> float:
        """Session time in seconds."""
        ...

    def wall(self) -> float:
        """POSIX wall-clock seconds matching now()."""
        ...


class MonotonicClock:
    """Real time since construction, from time.monotonic()."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self._wall0 = time.time()

    def now(self) -> float:
        return time.monotonic() - self._t0

    def wall(self) -> float:
        # Derived from the monotonic clock so that a wall-clock jump during the session
        # does not reorder the chart's timestamps.
        return self._wall0 + self.now()


class SimulatedClock:
    """Session time running ``speed`` times faster than real time (or stepped by hand)."""

    def __init__(self, speed: float = 1.0, *, manual: bool = False) -> None:
        if speed <= 0:
            raise ValueError("speed must be greater than zero")
        self.speed = speed
        self.manual = manual
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._manual_now = 0.0

    def now(self) -> float:
        if self.manual:
            return self._manual_now
        return (time.monotonic() - self._t0) * self.speed

    def advance(self, seconds: float) -> None:
        """Step a manual clock forward (tests and offscreen snapshots)."""
        if not self.manual:
            raise RuntimeError("only a manual SimulatedClock can be advanced")
        self._manual_now += seconds

    def restart(self) -> None:
        """Make now() zero again (a source calls this when it starts, before any reading)."""
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._manual_now = 0.0

    def wall(self) -> float:
        return self._wall0 + self.now()
