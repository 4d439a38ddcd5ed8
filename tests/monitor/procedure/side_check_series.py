"""Reading series for the side check: the simulated patient's probes, just taped on, through the
real wire path (SimulatedSource on a manual clock), with a nurse's hand on a probe when asked.

The hand follows shared/domain.md ("a warm hand on the probe gives a step of several °C within
seconds", held near the hand's 33–35 °C): the probe goes 90 % of the way to 35 °C with a 4 s time
constant while held and falls back with a 25 s one after. ``HandOnProbe`` does the same to a
running source, for the set-up dialog (which drains a source as it runs)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from monitor.clock import SimulatedClock
from monitor.model import Limb, Reading
from monitor.simulation.source import SimulatedSource

HAND_C = 35.0


@dataclass(frozen=True)
class Hand:
    """A hand on ``limb``'s probe from ``on_s`` to ``off_s`` (session seconds)."""

    limb: Limb
    on_s: float
    off_s: float = math.inf

    def warm(self, reading: Reading) -> Reading:
        if reading.limb is not self.limb or reading.celsius is None or reading.session_s < self.on_s:
            return reading
        held = min(reading.session_s, self.off_s) - self.on_s
        pull = 0.9 * (1.0 - math.exp(-held / 4.0))
        if reading.session_s > self.off_s:
            pull *= math.exp(-(reading.session_s - self.off_s) / 25.0)
        return replace(reading, celsius=round(reading.celsius + (HAND_C - reading.celsius) * pull, 2))


def taped_on_series(until_s: float, *hands: Hand, seed: int = 1, scenario: str = "success-fast",
                    blocked: Limb = Limb.LEFT, rate_hz: float = 1.0) -> list[Reading]:
    """Both probes from the moment they are taped on (room temperature, settling) to ``until_s``."""
    source = SimulatedSource(scenario, seed=seed, blocked=blocked, clock=SimulatedClock(manual=True),
                             rate_hz=rate_hz)
    source.start()
    source.step_to(until_s)
    readings = source.drain()
    source.stop()
    for hand in hands:
        readings = [hand.warm(r) for r in readings]
    return readings


class HandOnProbe:
    """A probe source with a hand on one of its probes: readings pass through :class:`Hand`."""

    def __init__(self, source, hand: Hand | None = None) -> None:
        self.source = source
        self.hand = hand  # None: nobody touches the probes

    def start(self) -> None:
        self.source.start()

    def stop(self) -> None:
        self.source.stop()

    def drain(self, max_items: int | None = None) -> list[Reading]:
        readings = self.source.drain(max_items)
        return readings if self.hand is None else [self.hand.warm(r) for r in readings]

    def __getattr__(self, name: str):
        return getattr(self.source, name)
