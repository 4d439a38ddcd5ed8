"""One room's last 60 minutes as the central received them: both feet, Di − Dc and markers.

Everything here is what the station published (its smoothed readings, its own Di − Dc, its
markers, and its retained 60-minute ``history`` for what came before this central heard it), kept
on the station's session-time axis; nothing is recomputed. The window is the
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


DIFFERENCE = "difference"  # the key of Di − Dc beside the feet's


class RoomHistory:
    """The newest ``window_s`` of session time of one room: per foot, Di − Dc and markers.

    Each series is what this central heard itself (1 Hz readings, each state's Di − Dc) and, before
    the first point it heard, the station's newest ``history`` message (:meth:`seed`): each new
    history replaces the older one there, so the stretch between the station's last history and the
    central's first reading fills in with the next history."""

    def __init__(self, window_s: float = HISTORY_S) -> None:
        self.window_s = window_s
        self._heard: dict[Limb | str, deque[tuple[float, float]]] = {key: deque() for key in (*Limb, DIFFERENCE)}
        self._seeded: dict[Limb | str, list[tuple[float, float]]] = {key: [] for key in self._heard}
        self._markers: list[HistoryMarker] = []
        self.newest_s: float | None = None

    # ---- what the room is told -----------------------------------------------------------
    def add_reading(self, limb: Limb, session_s: float, celsius: float | None, valid: bool) -> None:
        """One foot's smoothed value; an invalid one is kept as a gap (NaN), not as a number."""
        self._append(self._heard[limb], session_s, _as_float(celsius) if valid else math.nan)

    def add_difference(self, session_s: float, di_minus_dc_c: float | None) -> None:
        """The station's own Di − Dc; None (withheld by the station) is kept as a gap."""
        self._append(self._heard[DIFFERENCE], session_s, _as_float(di_minus_dc_c))

    def seed(self, times: list[float], feet: dict[Limb, tuple[float | None, ...]],
             difference: tuple[float | None, ...]) -> None:
        """The station's history (``times`` and each series' values, None a gap), drawn before the
        first point this central heard itself; it replaces the history seeded before."""
        for key, values in (*feet.items(), (DIFFERENCE, difference)):
            self._seeded[key] = [(t, _as_float(v)) for t, v in zip(times, values, strict=True) if math.isfinite(t)]
        newest = max((points[-1][0] for points in self._seeded.values() if points), default=None)
        if newest is not None and (self.newest_s is None or newest > self.newest_s):
            self.newest_s = newest
        self._trim()

    def set_markers(self, markers: list[HistoryMarker]) -> None:
        """The station's whole marker list (it publishes the whole list after any change)."""
        self._markers = sorted(markers, key=lambda m: m.session_s)

    def clear(self) -> None:
        """A new session in the room: the old one's curves do not run on into it."""
        for key, points in self._heard.items():
            points.clear()
            self._seeded[key] = []
        self._markers.clear()
        self.newest_s = None

    # ---- what views read -----------------------------------------------------------------
    def foot(self, limb: Limb) -> Series:
        return self._series(limb)

    def difference(self) -> Series:
        return self._series(DIFFERENCE)

    def seeded(self, key: Limb | str) -> int:
        """How many points of a series come from the station's history (before the central's own)."""
        return len(self._before_heard(key))

    def markers(self) -> list[HistoryMarker]:
        """Markers within the window, oldest first."""
        oldest = self.oldest_kept_s()
        return [m for m in self._markers if oldest is None or m.session_s >= oldest]

    def oldest_kept_s(self) -> float | None:
        return None if self.newest_s is None else self.newest_s - self.window_s

    def __len__(self) -> int:
        return sum(len(self._series(limb)) for limb in Limb)

    # ---- keeping the window --------------------------------------------------------------
    def _before_heard(self, key: Limb | str) -> list[tuple[float, float]]:
        heard = self._heard[key]
        first = heard[0][0] if heard else math.inf
        return [p for p in self._seeded[key] if p[0] < first]

    def _series(self, key: Limb | str) -> Series:
        return _series([*self._before_heard(key), *self._heard[key]])

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
        for key, points in self._heard.items():
            while points and points[0][0] < oldest:
                points.popleft()
            if self._seeded[key] and self._seeded[key][0][0] < oldest:
                self._seeded[key] = [p for p in self._seeded[key] if p[0] >= oldest]


def _series(points: list[tuple[float, float]] | deque[tuple[float, float]]) -> Series:
    if not points:
        return Series(np.empty(0), np.empty(0))
    arr = np.array(points, dtype=float)
    return Series(arr[:, 0], arr[:, 1])
