"""The 1 s evaluation grid: each foot's value on every tick, and when a tick is final.

Criteria are judged on a grid of "ticks" ``tick_s`` apart. A tick is judged once data has
arrived ``finalise_lag_s`` beyond it (or the recording has ended), so that a touch or lift
recognised a few seconds late has already been dated back over it. Each tick holds, per foot,
the smoothed value of the reading current at it and whether that reading is usable there.
Nothing here depends on the markers, so the grid is kept when they change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from monitor.model import Limb
from monitor.pipeline.artefacts import ArtefactKind, OpenSegment
from monitor.pipeline.buffers import GrowableArray
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.limb import LimbTrack

# Artefacts whose readings are smoothed: the smoothing window after them is tainted too.
SMOOTHED_KINDS = (ArtefactKind.PROBE_LIFTED, ArtefactKind.TOUCH, ArtefactKind.SETTLING, ArtefactKind.FROZEN)


class Ticks:
    """Per-tick limb values on the 1 s grid (independent of markers)."""

    def __init__(self, cfg: PipelineConfig) -> None:
        self.cfg = cfg
        self.t = GrowableArray(np.float64)
        self.val = {limb: GrowableArray(np.float64, fill=np.nan) for limb in Limb}
        self.ok = {limb: GrowableArray(np.bool_) for limb in Limb}
        self.bad_cum = {limb: GrowableArray(np.int64) for limb in Limb}  # not-ok ticks up to and incl.
        # The time of the reading each tick holds, and whether its probe reports slowly (its
        # no-data limit is beyond gap_s): a slow probe's slope is taken between reading times.
        self.read_t = {limb: GrowableArray(np.float64, fill=np.nan) for limb in Limb}
        self.slow = {limb: GrowableArray(np.bool_) for limb in Limb}
        self.next_index: int | None = None  # grid index (time / tick_s) of the next tick to judge
        self.pending: dict[Limb, list[OpenSegment]] = {limb: [] for limb in Limb}
        self.seen: dict[Limb, int] = {limb: 0 for limb in Limb}

    def __len__(self) -> int:
        return len(self.t)

    def advance(self, tracks: Mapping[Limb, LimbTrack], now_s: float, finished: bool) -> None:
        """Add the ticks that are final with data up to ``now_s`` (all of them once finished)."""
        lag = 0.0 if finished else self.cfg.finalise_lag_s
        self.extend(tracks, math.floor((now_s - lag) / self.cfg.tick_s + 1e-9))

    def extend(self, tracks: Mapping[Limb, LimbTrack], last_index: int) -> None:
        """Add the ticks up to grid index ``last_index`` (some track must hold a reading)."""
        if self.next_index is None:
            firsts = [float(tr.t.view[0]) for tr in tracks.values() if len(tr.t)]
            self.next_index = math.ceil(min(firsts) / self.cfg.tick_s - 1e-9)
        i0 = self.next_index
        if last_index < i0:
            return
        self.next_index = last_index + 1
        T = judged_grid(tracks, self.cfg, i0, last_index)
        if T.size == 0:
            return
        self.t.extend(T)
        for limb, track in tracks.items():
            self._extend_limb(limb, track, T)

    def _extend_limb(self, limb: Limb, track: LimbTrack, T: np.ndarray) -> None:
        t = track.t.view
        if t.shape[0] == 0:  # this probe has not reported yet
            idx = np.zeros(T.shape, dtype=np.int64)
            ok = np.zeros(T.shape, dtype=bool)
            self.read_t[limb].extend(np.full(T.shape, np.nan))
            self.slow[limb].extend(ok)
        else:
            idx = np.searchsorted(t, T, side="right") - 1
            has = idx >= 0
            idx = np.maximum(idx, 0)
            # A reading stays current for the silence its probe's rhythm allows (gap_s, or
            # longer for a slow BLE thermometer), a limit fixed when the reading arrived.
            ok = has & track.valid.view[idx] & (T - t[idx] <= track.gap_after.view[idx])
            self.read_t[limb].extend(t[idx])
            self.slow[limb].extend(track.gap_after.view[idx] > self.cfg.gap_s)
        self._exclude_artefacts(limb, track, T, ok)
        val = np.where(ok, track.smooth.view[idx], np.nan) if t.shape[0] else np.full(T.shape, np.nan)
        self.val[limb].extend(val)
        self.ok[limb].extend(ok)
        prev = self.bad_cum[limb].last() if len(self.bad_cum[limb]) else 0
        self.bad_cum[limb].extend(prev + np.cumsum(~ok))

    def _exclude_artefacts(self, limb: Limb, track: LimbTrack, T: np.ndarray, ok: np.ndarray) -> None:
        """Clear ``ok`` (in place) on ticks inside artefact segments: they break the hold.
        Segments that may still reach later ticks are kept for the next call."""
        pending = self.pending[limb]
        pending.extend(track.segments[self.seen[limb]:])
        self.seen[limb] = len(track.segments)
        keep = []
        for seg in pending:
            if seg.kind is ArtefactKind.NO_DATA:
                # Judged by reading age (older than its limit: not ok). The segment is only
                # known when data resumes, too late for ticks already judged live.
                continue
            extra = self.cfg.smoothing_window_s if seg.kind in SMOOTHED_KINDS else 0.0
            end = np.inf if seg.end_s is None else seg.end_s + extra
            lo = np.searchsorted(T, seg.excluded_from_s, side="left")
            hi = np.searchsorted(T, end, side="right")
            if hi > lo:
                ok[lo:hi] = False
            if seg.end_s is None or end >= T[-1]:
                keep.append(seg)
        self.pending[limb] = keep

    def slopes(self, limb: Limb, a: int, n: int) -> np.ndarray:
        """``slope_window_s`` slope of ``limb`` (°C/min) at ticks a..n, NaN where not clean."""
        times = self.t.view[:n]
        idx = np.arange(a, n)
        window = self.cfg.slope_window_s
        back = np.searchsorted(times, times[a:n] - window - 1e-6, side="left")
        out = np.full(n - a, np.nan)
        # The tick exactly one window back must exist (none is missing from a judged stretch).
        good = (back < idx) & (np.abs(times[np.minimum(back, n - 1)] - (times[a:n] - window)) < 1e-6)
        if not good.any():
            return out
        val = self.val[limb].view
        bad = self.bad_cum[limb].view
        ok = self.ok[limb].view
        i, j = idx[good], back[good]
        clean = ok[i] & ok[j] & (bad[i] - bad[j] == 0)
        minutes = np.full(i.shape, window / 60.0)
        # A slowly reporting probe holds each reading for up to a minute or so: over a 2-minute
        # window that staircase would misstate the slope by up to a whole step, so its slope
        # is taken between the times of the two readings themselves.
        slow = self.slow[limb].view
        read_t = self.read_t[limb].view
        by_reading = slow[i] | slow[j]
        if by_reading.any():
            span = read_t[i] - read_t[j]
            minutes = np.where(by_reading, span / 60.0, minutes)
            clean &= ~by_reading | (span >= 0.5 * window)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[good] = np.where(clean, (val[i] - val[j]) / minutes, np.nan)
        return out


def judged_grid(tracks: Mapping[Limb, LimbTrack], cfg: PipelineConfig, i0: int, i1: int) -> np.ndarray:
    """Tick times for grid indices i0..i1, except during long silences.

    A tick is judged only if some reading (either foot) is at most ``judge_silence_s`` old:
    a recording with hours of silence, or a file with a mistyped time, would otherwise ask
    for millions of empty ticks. The rule depends on the data only, so live and offline
    agree.
    """
    if i1 - i0 < 100_000:
        T = np.arange(i0, i1 + 1, dtype=np.float64) * cfg.tick_s
        last = np.full(T.shape, -np.inf)
        for tr in tracks.values():
            t = tr.t.view
            if t.size:
                j = np.searchsorted(t, T, side="right") - 1
                last = np.maximum(last, np.where(j >= 0, t[np.maximum(j, 0)], -np.inf))
        return T[T - last <= cfg.judge_silence_s]
    return _sparse_grid(tracks, cfg, i0, i1)


def _sparse_grid(tracks: Mapping[Limb, LimbTrack], cfg: PipelineConfig, i0: int, i1: int) -> np.ndarray:
    """:func:`judged_grid` for a huge range: built from the readings' own [t, t + keep] intervals."""
    keep = cfg.judge_silence_s
    times = [tr.t.view[np.searchsorted(tr.t.view, i0 * cfg.tick_s - keep):
                        np.searchsorted(tr.t.view, i1 * cfg.tick_s, side="right")] for tr in tracks.values()]
    t = np.unique(np.concatenate(times))
    lo = np.maximum(np.ceil(t / cfg.tick_s - 1e-9).astype(np.int64), i0)
    hi = np.minimum(np.floor((t + keep) / cfg.tick_s + 1e-9).astype(np.int64), i1)
    keep_mask = hi >= lo
    lo, hi = lo[keep_mask], np.maximum.accumulate(hi[keep_mask]) if keep_mask.any() else hi[keep_mask]
    if lo.size == 0:
        return np.empty(0)
    # Merge the overlapping [lo, hi] intervals (lo is sorted), then list their indices.
    starts = np.concatenate(([True], lo[1:] > hi[:-1] + 1))
    ends = np.concatenate((np.flatnonzero(starts)[1:] - 1, [lo.size - 1]))
    idx = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo[starts].tolist(), hi[ends].tolist(), strict=True)])
    return idx.astype(np.float64) * cfg.tick_s
