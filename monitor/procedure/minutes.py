"""The one rule for the value that stands for a minute (Qt-free, numpy).

Every view that shows a temperature "at minute m" takes it from here: the 1-minute table on
screen (live and in review), the PDF report's 0/5/10/20/30-minute columns, the CSV minute
summary. The rule (also in docs/minute-values.md):

1. **Counted readings.** A reading counts if the pipeline uses it for baseline and criteria:
   probe status OK with a temperature in the valid range from a fresh probe
   (``LimbSeries.valid``) and no artefact flag (``LimbSeries.flags == 0``: not settling, not
   touched, not lifted, not frozen, not out of range or faulty). Readings inside an artefact
   segment the pipeline excluded from criteria therefore never stand for a minute.
2. **How old.** The value at minute *m* (session time ``T = origin + 60 m``) is taken from the
   counted readings in the 30 s up to and including ``T`` (``T − 30 s ≤ t ≤ T``). Nothing after
   ``T`` is used (no look-ahead): a row does not change once the minute has passed and the
   pipeline has judged its readings (touch and lift are dated back at most
   ``PipelineConfig.finalise_lag_s``, 15 s, so a live row is final 15 s after its minute).
3. **Which value.** The *lower median* of those readings (for n readings sorted by value, the
   one at position (n − 1) // 2): one odd reading cannot move it, and it is always a reading
   that was actually taken.
4. **A slow probe.** When no counted reading lies in those 30 s and the probe's rhythm allows a
   longer silence (``BlockPipeline.allowed_gap_s(limb)``, e.g. 75 s for a thermometer that
   reports every 30 s), the latest counted reading within that allowed gap stands for the
   minute. A 1–10 Hz probe allows 5 s, so for it a minute without counted readings in its
   30 s has no value (None, shown as "—").
5. **Rise and Di − Dc.** The rise is measured from that foot's baseline *in force at T*: each
   baseline counts from the end of its window (the first one from the injection mark that ends
   it, a new one captured later from the end of its own window), as the detector judges. Before
   the first baseline, or where that foot's baseline could not be taken, the rise is None. So a
   re-baseline never rewrites the rises of earlier minutes. Di − Dc = rise(blocked) − rise(other
   foot), None unless both exist.
6. **Rounding.** Temperatures and baselines are rounded to 0.1 °C (halves away from zero); the
   rise is the rounded temperature minus the rounded baseline and Di − Dc the difference of the
   rounded rises, so the printed numbers add up. Every view prints these numbers as they are.

Speed (measured once: 8 h at 10 Hz on both feet, 2 × 288 000 readings, 480 rows): about 25 ms
per call once the pipeline is up to date; the work is a few vectorised numpy passes over each
foot's readings, no Python loop over readings (only the 480 result rows are built in Python).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.model import Limb
from monitor.pipeline import BlockPipeline, LimbSeries
from monitor.pipeline.timefmt import format_relative, format_session_time

WINDOW_S = 30.0  # counted readings this far back from the minute stand for it
DIGITS = 1  # rounding of every temperature, baseline and difference (0.1 °C)


@dataclass(frozen=True)
class MinuteRow:
    minute: int  # minutes from the origin (the injection, or session start before it)
    session_s: float
    celsius: dict[Limb, float | None]
    rise_c: dict[Limb, float | None]  # from that foot's baseline, None without one
    di_minus_dc_c: float | None  # rise(blocked) - rise(contralateral)


def minute_label(minute: int, *, from_injection: bool = True) -> str:
    """How every view names minute ``minute``, in the one time format: from the injection
    "+5:00" ("0:00" at it, "-3:00" before it, "+1:05:00" past an hour); without an injection the
    minutes count from the session start and read as session times ("5:00")."""
    seconds = 60.0 * minute
    return format_relative(seconds) if from_injection else format_session_time(seconds)


def round_c(value: float | None) -> float | None:
    """``value`` to 0.1 °C, halves away from zero, never "-0.0"; None stays None."""
    if value is None or not math.isfinite(value):
        return None
    return float(_round(np.asarray([value], dtype=np.float64))[0])


def _round(x: np.ndarray) -> np.ndarray:
    scale = 10.0**DIGITS
    # The tiny nudge makes a half that binary floating point stores just below .5 round up.
    return np.sign(x) * np.floor(np.abs(x) * scale + 0.5 + 1e-7) / scale + 0.0


def counted(series: LimbSeries) -> np.ndarray:
    """Which of the limb's readings count (rule 1): valid, unflagged, with a temperature."""
    return series.valid & (series.flags == 0) & np.isfinite(series.raw_c)


def values_at(t_s: np.ndarray, celsius: np.ndarray, times_s: np.ndarray, *, window_s: float = WINDOW_S,
              reach_s: float = WINDOW_S) -> np.ndarray:
    """Rules 2–4 on the counted readings of one limb (``t_s`` ascending): the unrounded value
    standing for each of ``times_s`` (NaN where none). ``reach_s``: the probe's allowed gap."""
    t = np.asarray(t_s, dtype=np.float64)
    c = np.asarray(celsius, dtype=np.float64)
    times = np.asarray(times_s, dtype=np.float64)
    out = np.full(times.shape, np.nan)
    if t.size == 0 or times.size == 0:
        return out
    lo = np.searchsorted(t, times - window_s, side="left")
    hi = np.searchsorted(t, times, side="right")
    n = hi - lo
    total = int(n.sum())
    if total:
        # Every window's readings side by side, sorted by value within each window.
        starts = np.cumsum(n) - n
        owner = np.repeat(np.arange(times.size), n)
        pos = np.arange(total) - np.repeat(starts, n) + np.repeat(lo, n)
        vals = c[pos]
        ranked = vals[np.lexsort((vals, owner))]
        have = n > 0
        out[have] = ranked[starts[have] + (n[have] - 1) // 2]
    if reach_s > window_s:
        last = hi - 1
        slow = (n == 0) & (last >= 0)
        j = np.maximum(last, 0)
        slow &= times - t[j] <= reach_s
        out[slow] = c[j[slow]]
    return out


def _in_force(pipeline: BlockPipeline, times: np.ndarray) -> dict[Limb, np.ndarray]:
    """Rule 5: per limb, the baseline (°C, NaN if none) in force at each of ``times``."""
    history = pipeline.baseline_history
    out = {limb: np.full(times.shape, np.nan) for limb in Limb}
    if not history:
        return out
    k = np.full(times.shape, -1)
    for i, base in enumerate(history):  # a handful of baselines at most; the latest one begun wins
        k[times >= base[Limb.LEFT].window_end_s] = i
    for limb in Limb:
        level = np.array([np.nan if base[limb].celsius is None else base[limb].celsius for base in history])
        out[limb] = np.where(k >= 0, level[np.maximum(k, 0)], np.nan)
    return out


def rows_at(pipeline: BlockPipeline, times_s: Sequence[float] | np.ndarray, origin_s: float,
            end_s: float | None = None) -> list[MinuteRow]:
    """A row (the rule above) for each session time in ``times_s``; a time after ``end_s`` has
    no values yet. ``MinuteRow.minute`` is the whole minutes from ``origin_s`` (rounded down)."""
    times = np.asarray(times_s, dtype=np.float64)
    values: dict[Limb, np.ndarray] = {}
    for limb in Limb:
        series = pipeline.series(limb)
        keep = counted(series)
        reach = max(WINDOW_S, pipeline.allowed_gap_s(limb))
        v = values_at(series.t_s[keep], series.raw_c[keep], times, reach_s=reach)
        if end_s is not None:
            v[times > end_s] = np.nan
        values[limb] = _round(v)
    base = {limb: _round(b) for limb, b in _in_force(pipeline, times).items()}
    rise = {limb: _round(values[limb] - base[limb]) for limb in Limb}
    didc = _round(rise[pipeline.blocked] - rise[pipeline.blocked.other])

    def f(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    rows = []
    for k, at in enumerate(times.tolist()):
        rows.append(MinuteRow(minute=int(math.floor((at - origin_s) / 60.0 + 1e-9)), session_s=at,
                              celsius={limb: f(values[limb][k]) for limb in Limb},
                              rise_c={limb: f(rise[limb][k]) for limb in Limb},
                              di_minus_dc_c=f(didc[k])))
    return rows


def minute_table(pipeline: BlockPipeline, origin_s: float, end_s: float, *,
                 minutes: Sequence[int] | None = None) -> list[MinuteRow]:
    """The rows for whole minutes from ``origin_s`` (the injection, or 0 before one).

    ``minutes=None``: every whole minute from the session start (session time ≥ 0) up to
    ``end_s``, as the screen shows them; otherwise the minutes asked for (the report asks for
    0, 5, 10, 20, 30), in that order, a minute after ``end_s`` without values."""
    if minutes is None:
        if end_s <= 0:
            return []
        first = -int(math.floor(origin_s / 60.0))
        last = int(math.floor((end_s - origin_s) / 60.0 + 1e-9))
        wanted = np.arange(first, last + 1, dtype=np.int64)
    else:
        wanted = np.asarray(list(minutes), dtype=np.int64)
    if wanted.size == 0:
        return []
    rows = rows_at(pipeline, origin_s + 60.0 * wanted.astype(np.float64), origin_s, end_s)
    return [MinuteRow(int(m), r.session_s, r.celsius, r.rise_c, r.di_minus_dc_c)
            for m, r in zip(wanted.tolist(), rows, strict=True)]


def peak_after(pipeline: BlockPipeline, limb: Limb, from_s: float) -> tuple[float, float] | None:
    """(session time, °C) of the highest counted reading of ``limb`` at or after ``from_s`` (the
    first one, if the highest value was read more than once); None without one."""
    series = pipeline.series(limb)
    keep = counted(series) & (series.t_s >= from_s)
    if not keep.any():
        return None
    t, c = series.t_s[keep], series.raw_c[keep]
    i = int(np.argmax(c))
    return float(t[i]), float(c[i])


__all__ = ["DIGITS", "WINDOW_S", "MinuteRow", "counted", "minute_label", "minute_table", "peak_after", "round_c",
           "rows_at", "values_at"]
