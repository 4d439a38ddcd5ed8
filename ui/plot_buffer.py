"""Growable per-limb arrays for the plot, with gaps as NaN so lines are never joined across them.

Fed incrementally with only the readings that are new since the last redraw, so a redraw
never touches hours of history. No signal processing: values are copied as they are.
"""

from __future__ import annotations

import numpy as np

# A pause between readings longer than this is a gap (no data): draw it as a gap.
DEFAULT_GAP_S = 5.0


class PlotBuffer:
    def __init__(self, gap_s: float = DEFAULT_GAP_S, capacity: int = 4096) -> None:
        self.gap_s = gap_s
        self._x = np.empty(capacity, dtype=float)
        self._y = np.empty(capacity, dtype=float)
        self._n = 0
        self.last_t: float | None = None
        self.last_value: float | None = None

    def __len__(self) -> int:
        return self._n

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def clear(self) -> None:
        self._n = 0
        self.last_t = None
        self.last_value = None

    def append(self, t: np.ndarray, value: np.ndarray, valid: np.ndarray | None = None) -> None:
        """Append readings in time order. Invalid readings (or None/NaN values) become gaps."""
        t = np.asarray(t, dtype=float)
        if t.size == 0:
            return
        v = np.asarray(value, dtype=float).copy()
        if valid is not None:
            v[~np.asarray(valid, dtype=bool)] = np.nan
        prev = self.last_t if self.last_t is not None else t[0]
        steps = np.diff(t, prepend=prev)
        gap_at = np.flatnonzero(steps > self.gap_s)
        if gap_at.size:
            # One NaN point in the middle of each gap breaks the line there (connect='finite').
            mid_t = t[gap_at] - steps[gap_at] / 2.0
            t = np.insert(t, gap_at, mid_t)
            v = np.insert(v, gap_at, np.nan)
        self._reserve(self._n + t.size)
        self._x[self._n: self._n + t.size] = t
        self._y[self._n: self._n + t.size] = v
        self._n += t.size
        self.last_t = float(t[-1])
        finite = v[np.isfinite(v)]
        if finite.size:
            self.last_value = float(finite[-1])

    def visible_range(self, x0: float, x1: float) -> tuple[float, float] | None:
        """(min, max) of finite values with x in [x0, x1], found without scanning all history."""
        i0 = int(np.searchsorted(self.x, x0, side="left"))
        i1 = int(np.searchsorted(self.x, x1, side="right"))
        if i1 <= i0:
            return None
        seg = self._y[i0:i1]
        seg = seg[np.isfinite(seg)]
        if seg.size == 0:
            return None
        return float(seg.min()), float(seg.max())

    def _reserve(self, needed: int) -> None:
        if needed <= self._x.size:
            return
        cap = max(needed, self._x.size * 2)
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=float)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)
