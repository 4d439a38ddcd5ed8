"""The verdict a clinician sees: a small state machine, information only, never "failed".

The pipeline turns its ticks into dated events ("capturing", "captured", "monitoring",
"early", "not_confirmed", "confirmed"); :class:`VerdictMachine` applies them in time order
and keeps every change of verdict, with its time and its words.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.pipeline.baseline import Epoch, FeetBaseline, describe_baseline, no_baseline_words, usable
from monitor.pipeline.config import Criteria, PipelineConfig
from monitor.pipeline.timefmt import format_relative, format_session_time


class VerdictState(enum.StrEnum):
    WAITING_FOR_BASELINE = "waiting_for_baseline"
    BASELINE_CAPTURED = "baseline_captured"
    MONITORING = "monitoring"
    EARLY_WARMING = "early_warming"
    CONFIRMED = "confirmed"
    NOT_CONFIRMED_YET = "not_confirmed_yet"


@dataclass(frozen=True)
class BlockVerdict:
    state: VerdictState
    message: str
    confirmed_at_s: float | None = None
    criteria_met: tuple[str, ...] = ()
    criteria_id: str = "default"
    attempt: int = 1  # which attempt (a new baseline for a repeat injection starts the next)

    @property
    def is_confirmed(self) -> bool:
        return self.state is VerdictState.CONFIRMED


# Events at the same time are applied in this order.
_EVENT_ORDER = {"superseded": -1, "capturing": 0, "captured": 1, "monitoring": 2, "early": 3, "not_confirmed": 4, "confirmed": 5}

# (time, order at equal times, what, epoch index); sorted, they are in the order to apply.
Event = tuple[float, int, str, int]


def event(at: float, what: str, epoch: int) -> Event:
    return (at, _EVENT_ORDER[what], what, epoch)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class VerdictMachine:
    """The verdict under ``criteria`` and every change of it (time, verdict), oldest first."""

    def __init__(self, criteria: Criteria, cfg: PipelineConfig, attempt: int = 1,
                 epoch: Epoch | None = None) -> None:
        self.criteria = criteria
        self.cfg = cfg
        self.attempt = attempt
        self.state = VerdictState.WAITING_FOR_BASELINE
        first = "Waiting for settled readings on both feet to take a baseline."
        if epoch is not None and epoch.after_injection:
            first = _taking_words(epoch)
        self.verdict = BlockVerdict(VerdictState.WAITING_FOR_BASELINE, first, criteria_id=criteria.id,
                                    attempt=attempt)
        self.changes: list[tuple[float, BlockVerdict]] = []

    def set(self, at: float, verdict: BlockVerdict) -> None:
        if verdict == self.verdict and self.changes:
            return  # nothing new to say
        self.state = verdict.state
        self.verdict = verdict
        self.changes.append((at, verdict))

    def _say(self, at: float, state: VerdictState, message: str) -> None:
        self.set(at, BlockVerdict(state, message, criteria_id=self.criteria.id, attempt=self.attempt))

    def settled(self, at: float) -> None:
        """Both probes settled before any marker: a baseline can be taken."""
        self._say(at, VerdictState.BASELINE_CAPTURED,
                  "Baseline captured: both probes settled. Mark the injection when it is given.")

    def apply(self, at: float, what: str, ep: Epoch, base: FeetBaseline | None, injections: Sequence[float]) -> None:
        """One event of the state machine (never after a confirmation)."""
        if what == "superseded":
            self._say(at, VerdictState.NOT_CONFIRMED_YET,
                      f"Not confirmed in attempt {self.attempt}: a new baseline for a repeat injection was started "
                      f"at {format_session_time(at)}.")
        elif what == "capturing":
            self._say(at, VerdictState.WAITING_FOR_BASELINE, _taking_words(ep))
        elif what in ("captured", "monitoring") and not usable(base):
            self._say(at, VerdictState.WAITING_FOR_BASELINE, no_baseline_words(ep))
        elif what == "captured" and usable(base):
            nxt = "repeat injection" if ep.after_injection else "injection"
            self._say(at, VerdictState.BASELINE_CAPTURED,
                      f"{_capitalised(describe_baseline(ep, base))}. Mark the {nxt} when it is given.")
        elif what == "monitoring" and usable(base):
            self._say(at, VerdictState.MONITORING,
                      f"Monitoring against the {describe_baseline(ep, base)}; watching for the blocked foot to warm.")
        elif what == "early" and self.state is VerdictState.MONITORING:
            self._say(at, VerdictState.EARLY_WARMING,
                      f"Early warming: the blocked foot is rising ≥ {self.cfg.early_slope_c_per_min:g} °C/min "
                      "(an early sign, not a confirmation).")
        elif what == "not_confirmed" and self.state in (VerdictState.MONITORING, VerdictState.EARLY_WARMING,
                                                         VerdictState.NOT_CONFIRMED_YET):
            latest = "the latest injection" if len([i for i in injections if i < at]) > 1 else "the injection"
            self._say(at, VerdictState.NOT_CONFIRMED_YET,
                      f"Not confirmed yet at {format_relative(60.0 * self.cfg.not_confirmed_after_min)} after "
                      f"{latest} (information only: a block can still develop).")
        elif what == "confirmed":
            self._confirm(at, injections)

    def _confirm(self, at: float, injections: Sequence[float]) -> None:
        crit = self.criteria
        given = [i for i in injections if i < at]
        # The one time format, +m:ss from the injection ("+6:58"), as the report and the plot write it.
        which = "the repeat injection" if self.attempt > 1 else "the injection"
        when = f"{format_relative(at - given[0])} after {which}"
        if self.attempt > 1:
            when += f" (attempt {self.attempt})"
        if len(given) > 1:
            when = (f"{format_relative(at - given[0])} after the first injection "
                    f"({format_relative(at - given[-1])} after the latest)")
        self.set(at, BlockVerdict(
            VerdictState.CONFIRMED,
            f"Block confirmed at {when}: {crit.describe()} ({crit.id}).",
            confirmed_at_s=at, criteria_met=crit.conditions(), criteria_id=crit.id, attempt=self.attempt))


def _taking_words(ep: Epoch) -> str:
    new = "new " if ep.after_injection else ""
    return (f"Taking the {new}baseline from {format_session_time(ep.window_start_s)} to "
            f"{format_session_time(ep.window_end_s)}: keep both probes on and the feet still.")
