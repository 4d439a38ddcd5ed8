"""Attempts: a baseline, the injection given against it, and what came of it.

About a quarter of lumbar sympathetic blocks need the needle moved and a second injection
(domain.md). A "Baseline start" after an injection starts a new *attempt* (one baseline epoch
of :func:`monitor.pipeline.baseline.plan_epochs`), which needs its own injection mark. Each
attempt keeps its own baseline, verdict, criteria times, kinetics and findings, so a
confirmation in one attempt is never lost or rewritten by the next.

Also here: the finding that an injection was marked after the blocked foot had already begun
to warm (the mark was placed late), so the baseline before it holds part of the warming.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from monitor.model import Limb
from monitor.pipeline.baseline import Epoch, FeetBaseline
from monitor.pipeline.kinetics import Kinetics
from monitor.pipeline.ticks import Ticks
from monitor.pipeline.timefmt import format_relative, format_session_time
from monitor.pipeline.verdict import BlockVerdict, VerdictState

# The late-injection finding: over the LOOKBACK_S before the mark, the blocked foot rose, against
# the other foot (so a warm room or a blanket that warms both does not count), by at least
# LATE_RISE_C at a mean of at least LATE_RATE_C_PER_MIN since it last lay within FLAT_WITHIN_C of
# its lowest value there. A block warms skin by 0.4–1.1 °C/min (Park/Nahm 2010; Tran 2000); a
# settled foot drifts by under 0.1 °C/min.
LOOKBACK_S = 600.0
LATE_RISE_C = 0.5
LATE_RATE_C_PER_MIN = 0.2
FLAT_WITHIN_C = 0.1


@dataclass(frozen=True)
class LateInjection:
    """The blocked foot was already warming before the injection mark: was it given earlier?"""

    injection_s: float
    warming_since_s: float

    @property
    def words(self) -> str:
        return (f"The blocked foot was already warming at {format_session_time(self.warming_since_s)}; was the "
                f"injection earlier? (It is marked at {format_session_time(self.injection_s)}; the baseline is "
                "taken from before the mark.)")


@dataclass(frozen=True)
class Attempt:
    """One attempt: its baseline, injection(s), verdict and course. Times are session seconds."""

    number: int
    baseline: FeetBaseline | None  # None: not taken yet
    baseline_window_s: tuple[float, float]
    injections_s: tuple[float, ...]  # the injections given in this attempt (the first one counts)
    ended_s: float | None  # when the next attempt's baseline began; None: the current attempt
    verdict: BlockVerdict
    kinetics: Kinetics = field(default_factory=Kinetics)  # times after this attempt's injection
    criteria_met_at_s: dict[str, float | None] = field(default_factory=dict)
    # The other foot's rise when each preset was met, and that in words (as the snapshot's).
    criteria_other_rise_c: dict[str, float | None] = field(default_factory=dict)
    criteria_notes: dict[str, str] = field(default_factory=dict)
    early_warming_at_s: float | None = None
    judged_enough: bool = False
    late_injection: LateInjection | None = None
    recording_ended: bool = False  # the recording is over: nothing more can be judged

    @property
    def injection_s(self) -> float | None:
        return self.injections_s[0] if self.injections_s else None

    @property
    def confirmed_at_s(self) -> float | None:
        return self.verdict.confirmed_at_s if self.verdict.state is VerdictState.CONFIRMED else None

    @property
    def outcome(self) -> str:
        """confirmed | not_confirmed (ended, or judged and not met so far) | no_injection | not_judged."""
        if self.confirmed_at_s is not None:
            return "confirmed"
        if self.injection_s is None:
            return "no_injection"
        if not self.judged_enough or self.baseline is None or any(i.celsius is None for i in self.baseline.values()):
            return "not_judged"
        return "not_confirmed"

    @property
    def outcome_words(self) -> str:
        """The outcome in a few plain words (for the banner's earlier attempts and the report)."""
        if self.confirmed_at_s is not None and self.injection_s is not None:
            return f"confirmed at {format_relative(self.confirmed_at_s - self.injection_s)} after its injection"
        return {"no_injection": "no injection marked", "not_judged": "not judged (too little valid data)",
                "not_confirmed": "not confirmed" if self.ended_s is not None or self.recording_ended
                else "not confirmed so far"}[self.outcome]


def attempt_injections(epochs: Sequence[Epoch], k: int, injections: Sequence[float]) -> tuple[float, ...]:
    """The injections that belong to attempt k (epoch k): from its baseline start (any time for
    the first attempt) until the next attempt's baseline start."""
    ep = epochs[k]
    start = -math.inf if k == 0 or ep.marker_s is None else ep.marker_s
    return tuple(i for i in injections if start <= i < ep.judge_until_s and (k == 0 or i > start))


def late_injection(ticks: Ticks, blocked: Limb, injection_s: float) -> LateInjection | None:
    """The blocked foot's warming before ``injection_s`` (see the module constants), or None."""
    n = len(ticks.t)
    T = ticks.t.view[:n]
    lo = int(np.searchsorted(T, injection_s - LOOKBACK_S, side="left"))
    hi = int(np.searchsorted(T, injection_s, side="right"))
    c = blocked.other
    ok = ticks.ok[blocked].view[lo:hi] & ticks.ok[c].view[lo:hi]
    if ok.sum() < 2:
        return None
    t = T[lo:hi][ok]
    d = ticks.val[blocked].view[lo:hi][ok] - ticks.val[c].view[lo:hi][ok]
    low = float(d.min())
    flat = np.flatnonzero(d <= low + FLAT_WITHIN_C)
    since = float(t[flat[-1]])
    rise = float(d[-1]) - low
    minutes = (float(t[-1]) - since) / 60.0
    if rise < LATE_RISE_C or minutes <= 0 or rise / minutes < LATE_RATE_C_PER_MIN:
        return None
    return LateInjection(injection_s, since)
