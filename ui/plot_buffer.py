"""Growable per-limb arrays for the plot, with gaps as NaN so lines are never joined across them.

Fed incrementally with only the readings that are new since the last redraw, so a redraw
never touches hours of history. No signal processing: values are copied as they are, and
older data is only thinned for drawing.

Memory stays small over hours: the most recent ``full_resolution_s`` seconds are kept as
they came; older data is kept as the lowest and the highest reading (at their own times, in
time order) of each ``bucket_s`` bucket, so peaks survive and zooming into old data still
shows them. At 10 Hz per foot that keeps 2 of every 20 readings; a run of invalid readings
becomes one NaN, which still breaks the line (a gap stays a gap).
"""

from __future__ import annotations

import math

import numpy as np

# A pause between readings longer than this is a gap (no data): draw it as a gap.
DEFAULT_GAP_S = 5.0
# Older data is thinned to the min and max of each bucket this long (≤ 1 pixel of a 40-minute
# view on a wide screen, so the thinned part looks the same as the original there).
DEFAULT_BUCKET_S = 2.0


class PlotBuffer:
    def __init__(self, gap_s: float = DEFAULT_GAP_S, capacity: int = 4096,
                 full_resolution_s: float | None = None, bucket_s: float = DEFAULT_BUCKET_S) -> None:
        """``full_resolution_s=None`` keeps everything as it came (a review of a finished file)."""
        self.gap_s = gap_s
        self.full_resolution_s = full_resolution_s
        self.bucket_s = bucket_s
        self._x = np.empty(capacity, dtype=float)
        self._y = np.empty(capacity, dtype=float)
        self._n = 0
        self._n_thinned = 0  # the first points are the thinned (older) part
        self.readings = 0  # readings appended (invalid ones included), however they are kept
        # Bumped whenever the held points change, so a redraw can skip an unchanged curve.
        self.version = 0
        # Bumped only when points already held change or move (a thinning pass, clear): a line
        # handed to the plot earlier is still valid while this stays the same (appends only).
        self.layout_version = 0
        self._tail_range: tuple | None = None  # (x0, thinning passes, scanned up to, lo, hi)
        self._thin_passes = 0
        self.last_t: float | None = None
        self.last_value: float | None = None

    def __len__(self) -> int:
        """Points held (thinned part included); ``readings`` counts what was appended."""
        return self._n

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    @property
    def full_resolution_from_s(self) -> float | None:
        """Session time from which every reading is held as it came (None: nothing held yet)."""
        if self._n == 0:
            return None
        return float(self._x[self._n_thinned]) if self._n_thinned < self._n else self.last_t

    @property
    def nbytes(self) -> int:
        return self._x.nbytes + self._y.nbytes

    def clear(self) -> None:
        self.version += 1
        self.layout_version += 1
        self._tail_range = None
        self._n = 0
        self._n_thinned = 0
        self.readings = 0
        self.last_t = None
        self.last_value = None

    def append(self, t: np.ndarray, value: np.ndarray, valid: np.ndarray | None = None) -> None:
        """Append readings in time order. Invalid readings (or None/NaN values) become gaps."""
        t = np.asarray(t, dtype=float)
        if t.size == 0:
            return
        self.readings += t.size
        self.version += 1
        v = np.array(value, dtype=float)  # a copy: NaN is written into it below
        if valid is not None:
            v[~np.asarray(valid, dtype=bool)] = np.nan
        prev = self.last_t if self.last_t is not None else float(t[0])
        if t.size == 1:  # live: one reading a foot per tick (numpy's per-call cost is the whole cost)
            step = float(t[0]) - prev
            if step > self.gap_s:
                t, v = np.array([t[0] - step / 2.0, t[0]]), np.array([np.nan, v[0]])
        else:
            steps = np.empty_like(t)
            steps[0] = t[0] - prev
            np.subtract(t[1:], t[:-1], out=steps[1:])
            gap_at = np.flatnonzero(steps > self.gap_s)
            if gap_at.size:
                # One NaN point in the middle of each gap breaks the line there (connect='finite').
                mid_t = t[gap_at] - steps[gap_at] / 2.0
                t = np.insert(t, gap_at, mid_t)
                v = np.insert(v, gap_at, np.nan)
        n, m = self._n, t.size
        self._reserve(n + m)
        self._x[n: n + m] = t
        self._y[n: n + m] = v
        self._n = n + m
        self.last_t = float(t[-1])
        last = float(v[-1])
        if math.isfinite(last):
            self.last_value = last
        elif m > 1:
            finite = v[np.isfinite(v)]
            if finite.size:
                self.last_value = float(finite[-1])
        self._thin_old()

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

    def range_from(self, x0: float) -> tuple[float, float] | None:
        """(min, max) of finite values with x ≥ x0. Following live, x0 stays put for minutes:
        the scan then goes on from where it stopped instead of starting again."""
        c = self._tail_range
        if c is not None and c[0] == x0 and c[1] == self._thin_passes and c[2] <= self._n:
            i0, lo, hi = c[2], c[3], c[4]
        else:
            i0, lo, hi = int(np.searchsorted(self.x, x0, side="left")), np.inf, -np.inf
        seg = self._y[i0: self._n]
        if 0 < seg.size <= 8:  # the usual live call: a reading or two since the last frame
            for value in seg.tolist():
                if value < lo:  # NaN compares False both ways: skipped
                    lo = value
                if value > hi:
                    hi = value
        elif seg.size:
            with np.errstate(invalid="ignore"):
                lo, hi = min(lo, float(np.nanmin(seg, initial=np.inf))), max(hi, float(np.nanmax(seg, initial=-np.inf)))
        self._tail_range = (x0, self._thin_passes, self._n, lo, hi)
        return (lo, hi) if lo <= hi else None

    # ---- thinning ---------------------------------------------------------------------------
    def _thin_old(self) -> None:
        """Thin what has left the full-resolution window, a few minutes at a time (each pass
        moves the held recent part once, so passes are kept rare)."""
        if self.full_resolution_s is None or self.last_t is None:
            return
        b = self.bucket_s
        # Whole buckets only, so a bucket is never split between two passes.
        cut = math.floor((self.last_t - self.full_resolution_s) / b) * b
        start = self._x[self._n_thinned] if self._n_thinned < self._n else self.last_t
        if cut - start < max(60.0 * b, 0.1 * self.full_resolution_s):
            return
        k = self._n_thinned + int(np.searchsorted(self._x[self._n_thinned: self._n], cut, side="left"))
        keep = thin_min_max(self._x[self._n_thinned: k], self._y[self._n_thinned: k], b)
        m = keep.size
        tx = self._x[self._n_thinned: k][keep]
        ty = self._y[self._n_thinned: k][keep]
        rest = self._n - k
        a = self._n_thinned
        self._x[a: a + m] = tx
        self._y[a: a + m] = ty
        # Overlapping moves: numpy copies through a temporary where needed.
        self._x[a + m: a + m + rest] = self._x[k: self._n]
        self._y[a + m: a + m + rest] = self._y[k: self._n]
        self._n_thinned = a + m
        self._n = a + m + rest
        self._thin_passes += 1
        self.layout_version += 1

    def _reserve(self, needed: int) -> None:
        if needed <= self._x.size:
            return
        cap = max(needed, self._x.size * 2)
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=float)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)


def thin_min_max(x: np.ndarray, y: np.ndarray, bucket_s: float) -> np.ndarray:
    """Indices (ascending) to keep so the line looks the same at ≥ ``bucket_s`` per pixel:
    per bucket and unbroken run of finite values, its lowest and highest point; per run of
    NaN (gap or invalid readings), its first point, so the line still breaks there."""
    n = x.size
    if n == 0:
        return np.empty(0, dtype=np.intp)
    finite = np.isfinite(y)
    bucket = np.floor(x / bucket_s)
    new_group = np.ones(n, dtype=bool)
    # A group: consecutive finite points in one bucket, or consecutive NaNs (whatever buckets).
    new_group[1:] = (finite[1:] != finite[:-1]) | (finite[1:] & (bucket[1:] != bucket[:-1]))
    starts = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    fin_starts = starts[finite[starts]]
    nan_starts = starts[~finite[starts]]
    if fin_starts.size == 0:
        return nan_starts
    # Per finite group: first index of its minimum and of its maximum. reduceat over the finite
    # groups only (NaN groups are skipped by taking the finite points alone).
    fidx = np.flatnonzero(finite)
    fy = y[fidx]
    fgroup = group[fidx]
    fstarts = np.flatnonzero(np.r_[True, fgroup[1:] != fgroup[:-1]])
    gmin = np.minimum.reduceat(fy, fstarts)
    gmax = np.maximum.reduceat(fy, fstarts)
    counts = np.diff(np.r_[fstarts, fy.size])
    is_min = fy == np.repeat(gmin, counts)
    is_max = fy == np.repeat(gmax, counts)
    first_min = _first_true_per_group(is_min, fstarts)
    first_max = _first_true_per_group(is_max, fstarts)
    keep = np.concatenate((fidx[first_min], fidx[first_max], nan_starts))
    return np.unique(keep)


def _first_true_per_group(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Position of the first True in each contiguous group (each group has one)."""
    pos = np.where(mask, np.arange(mask.size), mask.size)
    return np.minimum.reduceat(pos, starts)
