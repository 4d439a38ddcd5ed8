"""Di − Dc over time for two feet whose probes report at their own times and rates.

Two one-foot thermometers (e.g. two BLE probes) rarely report together, so a difference
taken only where timestamps coincide would be empty. Here each limb's smoothed series is
interpolated linearly onto a common time base: the union of both limbs' reading times (plus
one point inside every gap, so a plot line never bridges it). A point is NaN where either
side has no usable reading: invalid, artefact-flagged, within one smoothing window after an
artefact (the smoothed value still carries it), or inside a gap longer than that probe allows (``gap_s``, or more for a slowly
reporting probe: see ``PipelineConfig.rhythm_factor``).

Live use is cheap: points older than ``finalise_lag_s`` (flags may still be dated back over
newer ones) are computed once and kept; each call recomputes only the recent tail. A change
of the baseline in force (rare) recomputes everything. The result depends on the readings and
baselines alone, so live and offline agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.model import Limb
from monitor.pipeline.buffers import GrowableArray
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.limb import LimbTrack


@dataclass(frozen=True)
class DifferenceSeries:
    """Blocked minus contralateral foot on a common time base (read-only views, valid until the
    next call to ``BlockPipeline.difference_series``).

    ``relative_to_baseline``: True once a baseline is captured; then ``di_minus_dc_c`` is
    ΔTb − ΔTc (each foot's rise from the baseline in force at that time, NaN where that
    baseline has no value); before that it is the plain smoothed difference Tb − Tc.
    """

    t_s: np.ndarray  # session seconds, strictly increasing
    di_minus_dc_c: np.ndarray  # NaN: no usable reading on one side (invalid, artefact, gap > 5 s)
    relative_to_baseline: bool


# (in force from session second, blocked baseline − contralateral baseline or None if it has no
# value yet); None rather than NaN, so that equal offsets compare equal and keep the cache.
BaselineOffsets = tuple[tuple[float, float | None], ...]


class DifferenceTracker:
    """The cached Di − Dc series of one pipeline."""

    def __init__(self, blocked: Limb, cfg: PipelineConfig) -> None:
        self.blocked = blocked
        self.cfg = cfg
        self._t = GrowableArray(np.float64)
        self._d = GrowableArray(np.float64, fill=np.nan)
        self._reset(None)

    def _reset(self, offsets: BaselineOffsets | None) -> None:
        self._offsets = offsets
        self._final_n = 0  # leading points that can no longer change
        self._final_until = -math.inf  # ... they are the points at or before this time
        self._t.truncate(0)
        self._d.truncate(0)
        self._seen: tuple[int, int, bool] | None = None  # readings per foot at the last call

    def series(self, tracks: dict[Limb, LimbTrack], offsets: BaselineOffsets | None,
               finished: bool) -> DifferenceSeries:
        if offsets != self._offsets:
            self._reset(offsets)
        b, c = tracks[self.blocked], tracks[self.blocked.other]
        seen = (len(b.t), len(c.t), finished)
        if seen != self._seen and len(b.t) and len(c.t):
            tb, tc = b.t.view, c.t.view
            lo, hi = max(tb[0], tc[0]), min(tb[-1], tc[-1])
            if hi >= lo:
                self._extend(b, c, float(lo), float(hi), finished)
        # Nothing new (a redraw faster than the probes report): the same series as last time.
        self._seen = seen
        t, d = self._t.view, self._d.view
        t.flags.writeable = False
        d.flags.writeable = False
        return DifferenceSeries(t, d, offsets is not None)

    def _extend(self, b: LimbTrack, c: LimbTrack, lo: float, hi: float, finished: bool) -> None:
        # A point is final once both feet have data finalise_lag_s (+1 s margin) beyond it: its
        # flags can no longer be dated back over, and the readings around it are known.
        final_to = hi if finished else hi - self.cfg.finalise_lag_s - 1.0
        after = self._final_until
        T = np.unique(np.concatenate((self._times(b, after, lo, hi), self._times(c, after, lo, hi))))
        self._t.truncate(self._final_n)
        self._d.truncate(self._final_n)
        if T.size == 0:
            return
        d = self._value(b, T) - self._value(c, T)
        if self._offsets is not None:
            starts = np.array([s for s, _ in self._offsets])
            values = np.array([np.nan if v is None else v for _, v in self._offsets])
            k = np.searchsorted(starts, T, side="right") - 1
            d = d - np.where(k >= 0, values[np.maximum(k, 0)], np.nan)
        self._t.extend(T)
        self._d.extend(d)
        if final_to > after:
            self._final_n += int(np.searchsorted(T, final_to, side="right"))
            self._final_until = final_to

    def _times(self, track: LimbTrack, after: float, lo: float, hi: float) -> np.ndarray:
        """This limb's reading times in (after, hi] and ≥ lo, plus the middle of each gap there."""
        t = track.t.view
        i0 = int(np.searchsorted(t, max(after, lo), side="right" if after >= lo else "left"))
        i1 = int(np.searchsorted(t, hi, side="right"))
        own = t[i0:i1]
        # Gaps that began before (after, hi] or end after it count too: a gap whose end has
        # arrived has its middle point even if that end lies beyond the other foot's data.
        pairs = t[max(i0 - 1, 0):i1 + 1]
        gap = np.flatnonzero(np.diff(pairs) > track.gap_after.view[max(i0 - 1, 0):i1 + 1][:-1])
        mids = (pairs[gap] + pairs[gap + 1]) / 2.0
        mids = mids[(mids > after) & (mids >= lo) & (mids <= hi)]
        return np.concatenate((own, mids))

    def _value(self, track: LimbTrack, T: np.ndarray) -> np.ndarray:
        """The limb's smoothed temperature interpolated at times T (within its readings)."""
        t, smooth = track.t.view, track.smooth.view
        n = t.shape[0]
        i = np.maximum(np.searchsorted(t, T, side="right") - 1, 0)
        j = np.minimum(i + 1, n - 1)
        k0, k1 = int(i[0]), int(j[-1]) + 1
        usable = self._usable(track, k0, k1)
        ui, uj = usable[i - k0], usable[j - k0]
        si, sj = smooth[i], smooth[j]
        exact = t[i] == T
        span = t[j] - t[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = (T - t[i]) / span
            between = si + w * (sj - si)
        inside = ui & uj & (j > i) & (span <= track.gap_after.view[i])
        return np.where(exact, np.where(ui, si, np.nan), np.where(inside, between, np.nan))

    def _usable(self, track: LimbTrack, k0: int, k1: int) -> np.ndarray:
        """Readings k0..k1-1: valid, unflagged, and no flagged reading within the smoothing
        window before (its value would still be in the mean)."""
        width = self.cfg.smoothing_window_s
        t = track.t.view
        a = int(np.searchsorted(t, t[k0] - width, side="left"))
        valid = track.valid.view[a:k1]
        flags = track.flags.view[a:k1]
        ta = t[a:k1]
        smoothed_flagged = valid & (flags != 0)
        last_flag = np.maximum.accumulate(np.where(smoothed_flagged, ta, -np.inf))
        ok = valid & (flags == 0) & (ta - last_flag > width)
        return ok[k0 - a:]
