"""The set-up's side check: "warm the LEFT probe in your hand; the LEFT tile must light up".

:class:`SideCheck` is fed each foot's readings and says, as a :class:`SideCheckState`, what the
check has found. It cannot be fooled by probes that are still settling (both climb from room
temperature toward skin temperature for minutes after taping, the one with more to climb
faster), nor by skin that warms by itself:

1. **Settled first.** Nothing is judged until both probes have settled. A probe has settled
   when the least-squares slope of its readings over the last ``SETTLE_WINDOW_S`` (60 s, with
   readings spanning at least ``SETTLE_MIN_SPAN_S``) is at most ``SETTLE_RATE_C_PER_MIN``
   (0.3 °C/min, the detector's own settling rate). The moment both have, each probe's value is
   its reference ("steady at").
2. **A hand, not skin.** A probe counts as warmed when it is at least ``WARMED_C`` (1.0 °C)
   above its reference *and* rose at least that much within the last ``HAND_WINDOW_S`` (20 s,
   so at least 3 °C/min). A hand warms a probe by tens of °C per minute; settling, a block and
   a warm room warm skin by at most about 2.5 °C/min (shared/domain.md).
3. **One probe against the other.** The verdict needs the warmed probe to have risen at least
   ``MARGIN_C`` (1.0 °C) more than the other, for ``HOLD_S`` (5 s). Both warmed, or one risen
   but not clearly more than the other: "not clear". The LEFT probe warmed: LEFT confirmed.
   The RIGHT probe warmed although the LEFT one was to be warmed: the sides look swapped.

A verdict (confirmed or swapped) is final until the check is started again, so letting go of
the probe, or warming the other one afterwards to see, does not change it. Before a verdict, a
probe that reports a fault, or falls ``WARMED_C`` below its reference (it had settled in a hand,
or came loose), restarts the judging: both must settle again. One that falls silent holds it.
Values are the median of a foot's last ``SMOOTH_READINGS`` readings, so one odd reading
decides nothing.
"""

from __future__ import annotations

import enum
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.model import Limb, ProbeStatus, Reading
from monitor.pipeline.config import PipelineConfig

SETTLE_WINDOW_S = 60.0
SETTLE_MIN_SPAN_S = 45.0
SETTLE_RATE_C_PER_MIN = PipelineConfig().settle_rate_c_per_min  # "settled" means what it means to the detector
WARMED_C = 1.0
MARGIN_C = 1.0
HAND_WINDOW_S = 20.0
HOLD_S = 5.0
SMOOTH_READINGS = 5
SILENT_AFTER_S = 10.0  # behind the other probe's newest reading (or 3 of its own intervals, if longer)


class SideCheckPhase(enum.StrEnum):
    SETTLING = "settling"  # waiting for both probes to settle (or for a probe in trouble)
    WARM = "warm"  # settled: now warm the probe in your hand
    NOT_CLEAR = "not_clear"  # both rose, or one rose but not clearly more than the other
    CONFIRMED = "confirmed"  # the probe to warm rose clearly more: sides are right
    SWAPPED = "swapped"  # the other probe rose clearly more: offer to swap


@dataclass(frozen=True)
class ProbeCheck:
    """One foot's probe as the check sees it."""

    limb: Limb
    celsius: float | None  # the newest (smoothed) value; None before any, or while flagged
    settled: bool
    rate_c_per_min: float | None  # slope over the settling window; None while too few readings
    change_c: float | None  # since both probes settled; None before
    problem: str = ""  # plain words ("open circuit", "no reading for 12 s"); "" when none


@dataclass(frozen=True)
class SideCheckState:
    phase: SideCheckPhase
    title: str  # one short line, e.g. "Now warm the LEFT probe in your hand"
    detail: str  # what the check sees, in a sentence or two
    probes: Mapping[Limb, ProbeCheck]
    responded: Limb | None = None  # CONFIRMED: the foot to warm; SWAPPED: the other one
    offer_swap: bool = False

    @property
    def final(self) -> bool:
        return self.phase in (SideCheckPhase.CONFIRMED, SideCheckPhase.SWAPPED)


class _Probe:
    """One foot's readings over the last minute, and its reference once both settled."""

    def __init__(self, limb: Limb) -> None:
        self.limb = limb
        self.raw: deque[tuple[float, float]] = deque()  # (session s, °C)
        self.smoothed: deque[tuple[float, float]] = deque()
        self.last_s: float | None = None
        self.problem = ""
        self.reference: float | None = None

    def add(self, session_s: float, celsius: float | None, status: ProbeStatus) -> None:
        self.last_s = session_s
        if celsius is None or status is not ProbeStatus.OK:
            self.raw.clear()
            self.smoothed.clear()
            self.problem = status.plain if status is not ProbeStatus.OK else "no temperature"
            return
        self.problem = ""
        self.raw.append((session_s, celsius))
        recent = [c for _t, c in list(self.raw)[-SMOOTH_READINGS:]]
        self.smoothed.append((session_s, statistics.median(recent)))
        for window in (self.raw, self.smoothed):
            while window and window[0][0] < session_s - SETTLE_WINDOW_S:
                window.popleft()

    def silent_after_s(self) -> float:
        """A slowly reporting probe (a thermometer sending every 15 s) is not silent between readings."""
        times = [t for t, _c in self.raw]
        if len(times) < 3:
            return SILENT_AFTER_S
        return max(SILENT_AFTER_S, 3.0 * statistics.median(b - a for a, b in zip(times, times[1:], strict=False)))

    @property
    def value(self) -> float | None:
        return self.smoothed[-1][1] if self.smoothed else None

    def rate_c_per_min(self) -> float | None:
        """Least-squares slope of the last minute's readings; None while they span too little."""
        if len(self.raw) < 3 or self.raw[-1][0] - self.raw[0][0] < SETTLE_MIN_SPAN_S:
            return None
        ts = [t for t, _c in self.raw]
        cs = [c for _t, c in self.raw]
        t_mean, c_mean = statistics.fmean(ts), statistics.fmean(cs)
        sxx = sum((t - t_mean) ** 2 for t in ts)
        sxy = sum((t - t_mean) * (c - c_mean) for t, c in zip(ts, cs, strict=True))
        return 60.0 * sxy / sxx

    def settled(self) -> bool:
        rate = self.rate_c_per_min()
        return not self.problem and rate is not None and abs(rate) <= SETTLE_RATE_C_PER_MIN

    def change(self) -> float | None:
        v = self.value
        return None if v is None or self.reference is None else v - self.reference

    def warmed_by_hand(self) -> bool:
        """At least WARMED_C above the reference, and risen that much within HAND_WINDOW_S."""
        v, change = self.value, self.change()
        if v is None or change is None or change < WARMED_C:
            return False
        since = self.smoothed[-1][0] - HAND_WINDOW_S
        lowest = min(c for t, c in self.smoothed if t >= since)
        return v - lowest >= WARMED_C


class _Seen(enum.Enum):
    """What the readings show at one moment, before it has lasted HOLD_S."""

    NOTHING = "nothing"
    CONFIRMED = "confirmed"
    SWAPPED = "swapped"
    BOTH_ROSE = "both rose"
    ONE_ROSE = "one rose"  # but not quickly, or not clearly more than the other


class SideCheck:
    """The side check's judgement, fed each reading (see the module's description)."""

    def __init__(self, warm: Limb = Limb.LEFT) -> None:
        """``warm``: the foot whose probe the user is told to warm."""
        self.warm = warm
        self._probes = {limb: _Probe(limb) for limb in Limb}
        self._newest_s: float | None = None
        self._armed = False
        self._seen: tuple[_Seen, float] = (_Seen.NOTHING, 0.0)  # and since when
        self._final: SideCheckPhase | None = None

    def add(self, session_s: float, limb: Limb, celsius: float | None,
            status: ProbeStatus = ProbeStatus.OK) -> SideCheckState:
        """One reading of one foot's probe; returns the check's state after it."""
        probe = self._probes[limb]
        probe.add(session_s, celsius, status)
        self._newest_s = session_s if self._newest_s is None else max(self._newest_s, session_s)
        if self._armed and self._final is None and (probe.problem or (probe.change() or 0.0) <= -WARMED_C):
            # Its readings broke off, or it fell clearly below where it was steady (a hand was on
            # it then, or it came loose): both must settle again before anything is judged.
            self._disarm()
        if not self._armed and all(p.settled() for p in self._probes.values()):
            self._armed = True
            for p in self._probes.values():
                p.reference = p.value
        if self._armed and self._final is None:
            self._judge(session_s)
        return self.state()

    def add_reading(self, reading: Reading) -> SideCheckState:
        return self.add(reading.session_s, reading.limb, reading.celsius, reading.status)

    def _disarm(self) -> None:
        self._armed = False
        self._seen = (_Seen.NOTHING, 0.0)
        for p in self._probes.values():
            p.reference = None

    def _judge(self, now_s: float) -> None:
        seen = self._seen_now()
        if seen is not self._seen[0]:
            self._seen = (seen, now_s)
        elif now_s - self._seen[1] >= HOLD_S and seen in (_Seen.CONFIRMED, _Seen.SWAPPED):
            self._final = SideCheckPhase.CONFIRMED if seen is _Seen.CONFIRMED else SideCheckPhase.SWAPPED

    def _seen_now(self) -> _Seen:
        target, other = self._probes[self.warm], self._probes[self.warm.other]
        ct, co = target.change(), other.change()
        if ct is None or co is None or self._silent():
            return _Seen.NOTHING
        if target.warmed_by_hand() and ct - co >= MARGIN_C and co < WARMED_C:
            return _Seen.CONFIRMED
        if other.warmed_by_hand() and co - ct >= MARGIN_C and ct < WARMED_C:
            return _Seen.SWAPPED
        if ct >= WARMED_C and co >= WARMED_C:
            return _Seen.BOTH_ROSE
        return _Seen.ONE_ROSE if max(ct, co) >= WARMED_C else _Seen.NOTHING

    def _held(self) -> bool:
        return self._newest_s is not None and self._newest_s - self._seen[1] >= HOLD_S

    def _silent(self) -> list[Limb]:
        newest = self._newest_s
        return [p.limb for p in self._probes.values()
                if newest is not None and (p.last_s is None or newest - p.last_s > p.silent_after_s())]

    def _changes(self) -> str:
        warm, other = self.warm, self.warm.other
        return (f"{warm.name} {_signed(self._probes[warm].change())}, "
                f"{other.name} {_signed(self._probes[other].change())}")

    # ---- what the check says ---------------------------------------------------------------
    def state(self) -> SideCheckState:
        probes = {limb: self._probe_check(limb) for limb in Limb}
        name, other_name = self.warm.name, self.warm.other.name
        if self._final is SideCheckPhase.CONFIRMED:
            return SideCheckState(self._final, f"{name} confirmed: the sides are right",
                                  f"The {name} probe warmed in your hand; the {other_name} one did not. "
                                  "You can let go.",
                                  probes, responded=self.warm)
        if self._final is SideCheckPhase.SWAPPED:
            return SideCheckState(self._final, "Sides look swapped",
                                  f"You warmed the {name} probe, but the {other_name} tile responded. "
                                  "Swap left and right, then check again.",
                                  probes, responded=self.warm.other, offer_swap=True)
        if not self._armed or self._silent():
            return SideCheckState(SideCheckPhase.SETTLING, "Waiting for the probes to settle",
                                  self._settling_words(probes), probes)
        seen = self._seen[0]
        unclear = f"Not clear: warm the {name} probe in your hand"
        if seen is _Seen.BOTH_ROSE:
            return SideCheckState(SideCheckPhase.NOT_CLEAR, unclear,
                                  f"Both probes rose ({self._changes()}). Let go of both, then hold "
                                  f"only the {name} probe.", probes)
        if seen is _Seen.ONE_ROSE and self._held():
            return SideCheckState(SideCheckPhase.NOT_CLEAR, unclear,
                                  f"A probe rose slowly, or not clearly more than the other "
                                  f"({self._changes()}). Hold only the {name} probe, firmly.", probes)
        warm_now = f"Now warm the {name} probe in your hand"
        if seen is not _Seen.NOTHING:
            return SideCheckState(SideCheckPhase.WARM, warm_now,
                                  f"A probe is warming ({self._changes()}): keep holding it.", probes)
        return SideCheckState(SideCheckPhase.WARM, warm_now,
                              f"Both probes are steady. Hold the {name} probe in your hand for about "
                              f"20\u00a0s: the {name} tile must light up.", probes)

    def _probe_check(self, limb: Limb) -> ProbeCheck:
        p = self._probes[limb]
        problem = p.problem
        if not problem and limb in self._silent() and p.last_s is not None and self._newest_s is not None:
            problem = f"no reading for {self._newest_s - p.last_s:.0f}\u00a0s"
        elif not problem and p.last_s is None:
            problem = "no reading yet"
        return ProbeCheck(limb, p.value, p.settled(), p.rate_c_per_min(), p.change(), problem)

    def _settling_words(self, probes: Mapping[Limb, ProbeCheck]) -> str:
        parts = []
        for limb, pc in probes.items():
            if pc.problem:
                parts.append(f"{limb.name}: {pc.problem}")
            elif pc.settled:
                parts.append(f"{limb.name}: steady")
            elif pc.rate_c_per_min is None:
                parts.append(f"{limb.name}: measuring")
            else:
                parts.append(f"{limb.name}: changing {abs(pc.rate_c_per_min):.1f}\u00a0°C/min")
        return f"Keep your hands off both probes for now ({'; '.join(parts)})."


def _signed(change_c: float | None) -> str:
    """+1.2 °C; never "−0.0"."""
    if change_c is None:
        return "—"
    shown = round(change_c, 1) + 0.0
    return "±0.0\u00a0°C" if shown == 0.0 else f"{shown:+.1f}\u00a0°C"  # no line break before °C
