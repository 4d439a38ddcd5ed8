"""Artefact kinds, per-reading flag bits and the segments reported to the user."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model import Limb


class ArtefactKind(enum.StrEnum):
    OUT_OF_RANGE = "out_of_range"
    SENSOR_FAULT = "sensor_fault"
    PROBE_LIFTED = "probe_lifted"
    TOUCH = "touch"
    SETTLING = "settling"
    FROZEN = "frozen"
    NO_DATA = "no_data"

    @property
    def plain(self) -> str:
        return _PLAIN[self]


_PLAIN = {
    ArtefactKind.OUT_OF_RANGE: "reading outside 15–42 °C: not skin",
    ArtefactKind.SENSOR_FAULT: "sensor fault (open or short circuit, or no temperature)",
    ArtefactKind.PROBE_LIFTED: "probe lifted or tape loose: falling faster than skin can cool",
    ArtefactKind.TOUCH: "probe touched or handled: rising faster than skin can warm",
    ArtefactKind.SETTLING: "probe settling after being taped on",
    ArtefactKind.FROZEN: "device frozen: the same reading repeated instead of fresh data",
    ArtefactKind.NO_DATA: "no data for more than 5 s",
}

# Per-reading flag bits (LimbSeries.flags). Any bit set: excluded from baseline, slopes, criteria.
FLAG_OUT_OF_RANGE = 1
FLAG_SENSOR_FAULT = 2
FLAG_FROZEN = 4
FLAG_SETTLING = 8
FLAG_LIFT = 16
FLAG_TOUCH = 32

FLAG_OF_KIND = {
    ArtefactKind.OUT_OF_RANGE: FLAG_OUT_OF_RANGE,
    ArtefactKind.SENSOR_FAULT: FLAG_SENSOR_FAULT,
    ArtefactKind.FROZEN: FLAG_FROZEN,
    ArtefactKind.SETTLING: FLAG_SETTLING,
    ArtefactKind.PROBE_LIFTED: FLAG_LIFT,
    ArtefactKind.TOUCH: FLAG_TOUCH,
}
KIND_OF_FLAG = {v: k for k, v in FLAG_OF_KIND.items()}


@dataclass(frozen=True)
class ArtefactSegment:
    """One flagged stretch of one limb. ``end_s`` is None while it is still going on."""

    limb: Limb
    kind: ArtefactKind
    start_s: float
    end_s: float | None
    reason: str = ""
    # True when a nurse's "probe checked" marker ended it (at end_s), not the readings.
    ended_by_check: bool = False

    def to_json_dict(self) -> dict[str, str | float | None]:
        # The `analyze --json` contract fixes these keys; a check shows in the report instead.
        return {"limb": str(self.limb), "kind": str(self.kind), "start_s": self.start_s, "end_s": self.end_s}


class OpenSegment:
    """Mutable while detected; turned into an ArtefactSegment for callers.

    ``excluded_from_s`` is where criteria stop trusting the data. It equals ``start_s``
    except for a frozen value, which can only be recognised after it has lasted a while and
    is therefore excluded from the moment it was recognised (so live and offline agree).
    """

    __slots__ = ("kind", "start_s", "end_s", "excluded_from_s", "reason", "ended_by_check")

    def __init__(self, kind: ArtefactKind, start_s: float, reason: str = "",
                 excluded_from_s: float | None = None) -> None:
        self.kind = kind
        self.start_s = start_s
        self.end_s: float | None = None
        self.excluded_from_s = start_s if excluded_from_s is None else excluded_from_s
        self.reason = reason or kind.plain
        self.ended_by_check = False

    def freeze(self, limb: Limb) -> ArtefactSegment:
        return ArtefactSegment(limb, self.kind, self.start_s, self.end_s, self.reason, self.ended_by_check)


def within_spans(t: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """True where ``t`` lies in one of the [start, end) ``spans`` (end may be inf: still going on)."""
    inside = np.zeros(t.shape, dtype=bool)
    for start, end in spans:
        inside |= (t >= start) & (t < end)
    return inside
