"""The verdict a clinician sees: a small state machine, information only, never "failed"."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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

    @property
    def is_confirmed(self) -> bool:
        return self.state is VerdictState.CONFIRMED
