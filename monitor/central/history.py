"""One room's last 60 minutes as the central received them: both feet, Di − Dc and markers.

Everything here is what the station published (its smoothed readings, its own Di − Dc, its
markers), kept on the station's session-time axis; nothing is recomputed. The window is the
newest 60 minutes of session time: older points are dropped as newer ones arrive, so memory
stays bounded however long a room runs (32 rooms × 2 feet × 3600 s is a few MB).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from monitor.model import Limb

HISTORY_S = 3600.0


@dataclass(frozen=True)
class HistoryMarker:
    """A marker as the station published it: its session time, kind and label."""

    session_s: float
    kind: str
    label: str


@dataclass(frozen=True)
class Series:
    """Session times and values (NaN where the station withheld or flagged the value)."""

    t: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def _as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


class RoomHistory:
    """The newest ``window_s`` of session time of one room: per foot, Di − Dc and markers."""

    def __init__(self, window_s: float = HISTORY_S) -> None:
        self.window_s = window_s
        self._feet: dict[Limb, deque[tuple[float, float]]] = {limb: deque() for limb in Limb}
        self._difference: deque[tuple[float, float]] = deque()
        self._markers: list[HistoryMarker] = []
        self.newest_s: float | None = None

    # ---- what the room is told -----------------------------------------------------------
    def add_reading(self, limb: Limb, session_s: float, celsius: float | None, valid: bool) -> None:
        """One foot's smoothed value; an invalid one is kept as a gap (NaN), not as a number."""
        self._append(self._feet[limb], session_s, _as_float(celsius) if valid else math.nan)

    def add_difference(self, session_s: float, di_minus_dc_c: float | None) -> None:
        """The station's own Di − Dc; None (withheld by the station) is kept as a gap."""
        self._append(self._difference, session_s, _as_float(di_minus_dc_c))

    def set_markers(self, markers: list[HistoryMarker]) -> None:
        """The station's whole marker list (it publishes the whole list after any change)."""
        self._markers = sorted(markers, key=lambda m: m.session_s)

    def clear(self) -> None:
        """A new session in the room: the old one's curves do not run on into it."""
        for points in self._feet.values():
            points.clear()
        self._difference.clear()
        self._markers.clear()
        self.newest_s = None

    # ---- what views read -----------------------------------------------------------------
    def foot(self, limb: Limb) -> Series:
        return _series(self._feet[limb])

    def difference(self) -> Series:
        return _series(self._difference)

    def markers(self) -> list[HistoryMarker]:
        """Markers within the window, oldest first."""
        oldest = self.oldest_kept_s()
        return [m for m in self._markers if oldest is None or m.session_s >= oldest]

    def oldest_kept_s(self) -> float | None:
        return None if self.newest_s is None else self.newest_s - self.window_s

    def __len__(self) -> int:
        return sum(len(points) for points in self._feet.values())

    # ---- keeping the window --------------------------------------------------------------
    def _append(self, points: deque[tuple[float, float]], session_s: float, value: float) -> None:
        if not math.isfinite(session_s):
            return
        if points and session_s < points[-1][0]:
            # A late point (redelivered after a reconnect): put it in order; rare, so a sort is fine.
            if self.newest_s is not None and session_s < self.newest_s - self.window_s:
                return
            points.append((session_s, value))
            ordered = sorted(points)
            points.clear()
            points.extend(ordered)
        else:
            points.append((session_s, value))
        if self.newest_s is None or session_s > self.newest_s:
            self.newest_s = session_s
        self._trim()

    def _trim(self) -> None:
        if self.newest_s is None:
            return
        oldest = self.newest_s - self.window_s
        for points in (*self._feet.values(), self._difference):
            while points and points[0][0] < oldest:
                points.popleft()


def _series(points: deque[tuple[float, float]]) -> Series:
    if not points:
        return Series(np.empty(0), np.empty(0))
    arr = np.array(points, dtype=float)
    return Series(arr[:, 0], arr[:, 1])
