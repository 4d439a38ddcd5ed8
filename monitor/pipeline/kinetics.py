"""The course after the injection (Frank 2000): time to +1 °C, to 50 % and 95 % of the peak,
the peak rise and when it came, the maximum slope, and the other foot's peak rise and Di − Dc.

Kept up to date incrementally (running maxima over the ticks judged so far), so asking for it
costs the same at minute 5 and at hour 8; it restarts when the injection or a baseline changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model import Limb
from monitor.pipeline.artefacts import within_spans
from monitor.pipeline.baseline import Baselines, usable
from monitor.pipeline.buffers import GrowableArray
from monitor.pipeline.ticks import Ticks

# The probes' accuracy (±0.1 °C for the monitor, domain.md): a peak rise below it is no course
# to speak of, and the times to 50 % and 95 % of it would date noise. The words name the smoothed
# rise (the ticks'): a report's peak from single readings can show +0.2 °C of noise beside them.
MIN_PEAK_RISE_C = 0.1
PEAK_BELOW_ACCURACY_WORDS = f"the blocked foot's smoothed rise stayed below the probes' accuracy, {MIN_PEAK_RISE_C:g} °C"


@dataclass(frozen=True)
class Kinetics:
    """Course after the injection (times in seconds after the attempt's first injection mark).

    The times to 50 % and 95 % of the peak are None when the peak rise is below
    :data:`MIN_PEAK_RISE_C` (:attr:`peak_fractions_withheld` says why)."""

    time_to_plus_1c_s: float | None = None
    time_to_50pct_peak_s: float | None = None
    time_to_95pct_peak_s: float | None = None
    peak_rise_c: float | None = None
    time_to_peak_s: float | None = None
    max_slope_c_per_min: float | None = None
    peak_rise_contralateral_c: float | None = None
    max_di_minus_dc_c: float | None = None

    @property
    def peak_fractions_withheld(self) -> str | None:
        """Why the times to 50 % and 95 % of the peak are not given, in plain words; None when they
        are, or when there is no peak at all (no valid reading after the injection)."""
        if self.peak_rise_c is None or self.peak_rise_c >= MIN_PEAK_RISE_C:
            return None
        return PEAK_BELOW_ACCURACY_WORDS


class _KineticsState:
    """Running values of the course after the injection, for one injection and baseline plan."""

    def __init__(self, key: tuple[object, ...], a: int) -> None:
        self.key = key
        self.a = a  # the first tick after the injection
        self.done = a  # ticks folded in so far
        self.runmax_b = GrowableArray(np.float64)  # running maximum of the blocked rise (-inf: none yet)
        self.peak = -math.inf
        self.any_okb = self.any_okc = False
        self.max_rise_c = -math.inf
        self.max_didc = -math.inf
        self.max_slope: float | None = None
        self.result = Kinetics()


class KineticsTracker:
    """The kinetics of the blocked (and the other) foot; each tick's rise is taken from the
    baseline in force at that tick (a new baseline counts from the end of its window)."""

    def __init__(self, blocked: Limb) -> None:
        self.blocked = blocked
        self._state: _KineticsState | None = None

    def update(self, ticks: Ticks, injection_s: float, baselines: Baselines, until_s: float = math.inf,
               other_left_out: Sequence[tuple[float, float]] = ()) -> Kinetics:
        """Fold in the ticks judged since the last call; the course after ``injection_s`` (and
        before ``until_s``: the next attempt's baseline start). ``other_left_out``: [from, until)
        stretches in which the criteria did not count the other foot (turned back): its rise and
        Di − Dc there count for nothing here either."""
        n = len(ticks.t)
        if math.isfinite(until_s):
            n = int(np.searchsorted(ticks.t.view[:n], until_s, side="left"))
        key = (injection_s, until_s, tuple(baselines.epochs),
               tuple(None if base is None else tuple(base[limb] for limb in Limb) for base in baselines.taken))
        st = self._state
        if st is None or st.key != key:
            a = int(np.searchsorted(ticks.t.view[:n], injection_s, side="right"))
            st = self._state = _KineticsState(key, a)
        if st.done < n:
            self._extend(st, ticks, max(st.done, st.a), n, baselines, other_left_out)
            st.done = n
            st.result = _result(st, ticks, injection_s)
        return st.result

    def _baseline_per_tick(self, T: np.ndarray, baselines: Baselines) -> tuple[np.ndarray, np.ndarray]:
        """The blocked and contralateral baseline in force at each tick (NaN: none)."""
        epochs = baselines.epochs
        base_b, base_c = np.full(T.shape, np.nan), np.full(T.shape, np.nan)
        for k, (ep, base) in enumerate(zip(epochs, baselines.taken, strict=True)):
            if not usable(base):
                continue
            until = epochs[k + 1].in_force_from_s if k + 1 < len(epochs) else math.inf
            lo, hi = np.searchsorted(T, ep.in_force_from_s, side="left"), np.searchsorted(T, until, side="left")
            base_b[lo:hi] = base[self.blocked].celsius
            base_c[lo:hi] = base[self.blocked.other].celsius
        return base_b, base_c

    def _extend(self, st: _KineticsState, ticks: Ticks, a: int, n: int, baselines: Baselines,
                other_left_out: Sequence[tuple[float, float]] = ()) -> None:
        T = ticks.t.view[a:n]
        if T.size == 0:
            return
        b, c = self.blocked, self.blocked.other
        base_b, base_c = self._baseline_per_tick(T, baselines)
        okb = ticks.ok[b].view[a:n] & np.isfinite(base_b)
        okc = ticks.ok[c].view[a:n] & np.isfinite(base_c) & ~within_spans(T, other_left_out)
        rise_b = ticks.val[b].view[a:n] - base_b
        rise_c = ticks.val[c].view[a:n] - base_c
        rb = np.where(okb, rise_b, -np.inf)
        st.runmax_b.extend(np.maximum.accumulate(np.concatenate(([st.peak], rb)))[1:])
        st.peak = float(st.runmax_b.last())
        st.any_okb |= bool(okb.any())
        if okc.any():
            st.any_okc = True
            st.max_rise_c = max(st.max_rise_c, float(rise_c[okc].max()))
        both = okb & okc
        if both.any():
            st.max_didc = max(st.max_didc, float((rise_b - rise_c)[both].max()))
        if okb.any():
            slope = ticks.slopes(b, a, n)
            if np.isfinite(slope).any():
                top = float(np.nanmax(slope))
                st.max_slope = top if st.max_slope is None else max(st.max_slope, top)


def _result(st: _KineticsState, ticks: Ticks, inj0: float) -> Kinetics:
    if not (st.any_okb or st.any_okc):
        return Kinetics()
    T = ticks.t.view[st.a:st.done]
    runmax = st.runmax_b.view
    result = Kinetics()
    if st.any_okb:
        peak = st.peak

        def first_at(level: float) -> float | None:
            i = int(np.searchsorted(runmax, level, side="left"))  # the running maximum only grows
            return float(T[i] - inj0) if i < runmax.shape[0] else None

        result = Kinetics(
            time_to_plus_1c_s=first_at(1.0),
            time_to_50pct_peak_s=first_at(0.5 * peak) if peak >= MIN_PEAK_RISE_C else None,
            time_to_95pct_peak_s=first_at(0.95 * peak) if peak >= MIN_PEAK_RISE_C else None,
            peak_rise_c=peak,
            time_to_peak_s=first_at(peak),
            max_slope_c_per_min=st.max_slope,
        )
    return Kinetics(**{**result.__dict__,
                       "peak_rise_contralateral_c": st.max_rise_c if st.any_okc else None,
                       "max_di_minus_dc_c": st.max_didc if st.max_didc > -math.inf else None})
