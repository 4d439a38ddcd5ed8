"""Benchmark of the block-detection pipeline, as ratios to a pure-Python baseline.

1. Offline analysis of an 8-hour, two-limb, 10 Hz recording (goal: under 0.5 s) with
   ``monitor.pipeline.analyze_arrays``, against a straightforward pure-Python detector
   doing the core of the same work (validity, median-of-5, trailing means, touch/lift rate
   checks, criterion with a 60 s hold on a 1 s grid) on the same readings.
2. The live per-reading update cost in microseconds, in a session already 10 minutes in
   (probes settled): ``BlockPipeline.push`` followed by a result request after every reading
   (the worst case), and after every 10 readings (a GUI polling at 1 Hz with 10 Hz probes),
   against the pure-Python detector's per-reading cost.

3. The Di − Dc difference curve at a 10 Hz redraw at the end of an 8-hour session:
   ``BlockPipeline.difference_series()`` (cached, extended; only the recent tail recomputed)
   after every new reading pair, against recomputing the whole series each call.

Run: ``.venv/bin/python bench/bench_pipeline.py`` (prints JSON). Timings are the best of
several repetitions; both sides are measured in the same process.
"""

from __future__ import annotations

import bisect
import json
import time
from collections import deque

import numpy as np

from monitor.model import PROBE_STATUS_CODES, Limb, Marker, MarkerKind, Reading
from monitor.pipeline import BlockPipeline, analyze_arrays
from monitor.pipeline.difference import DifferenceTracker
from monitor.simulation.physiology import PatientModel

HOURS = 8.0
RATE_HZ = 10.0
LIVE_READINGS = 20_000


def make_recording(hours: float = HOURS, rate_hz: float = RATE_HZ, seed: int = 1):
    model = PatientModel.from_scenario("dropout", seed=seed, blocked=Limb.LEFT)
    t = np.arange(0.0, hours * 3600.0, 1.0 / rate_hz)
    limbs = {}
    for limb in Limb:
        c, s, present = model.measure_series(limb, t)
        limbs[limb] = (t[present], c[present], s[present])
    return model, limbs


class PurePythonDetector:
    """The straightforward way: Python lists, deques and floats, one reading at a time."""

    def __init__(self, blocked: Limb, injection_s: float) -> None:
        self.blocked = blocked
        self.injection_s = injection_s
        self.raw: dict[Limb, list[float]] = {limb: [] for limb in Limb}
        self.times: dict[Limb, list[float]] = {limb: [] for limb in Limb}
        self.smooth: dict[Limb, list[float]] = {limb: [] for limb in Limb}
        self.window: dict[Limb, deque] = {limb: deque() for limb in Limb}
        self.fast: dict[Limb, deque] = {limb: deque() for limb in Limb}
        self.fast_hist: dict[Limb, deque] = {limb: deque() for limb in Limb}
        self.sums = {limb: [0.0, 0.0] for limb in Limb}
        self.flagged_from = {limb: -1.0 for limb in Limb}
        self.flagged_until = {limb: -1.0 for limb in Limb}
        self.baseline: dict[Limb, float] = {}
        self.next_tick = 0.0
        self.hold_since: float | None = None
        self.confirmed_at: float | None = None

    def push(self, limb: Limb, t: float, celsius: float, status: int) -> None:
        if status != 0 or celsius != celsius or not 15.0 <= celsius <= 42.0:
            return
        raw = self.raw[limb]
        raw.append(celsius)
        self.times[limb].append(t)
        med = sorted(raw[-5:])[len(raw[-5:]) // 2]
        sums = self.sums[limb]
        for win, width, slot in ((self.window[limb], 10.0, 0), (self.fast[limb], 3.0, 1)):
            win.append((t, med))
            sums[slot] += med
            while win[0][0] <= t - width:
                sums[slot] -= win.popleft()[1]
        self.smooth[limb].append(sums[0] / len(self.window[limb]))
        fast = sums[1] / len(self.fast[limb])
        hist = self.fast_hist[limb]
        hist.append((t, fast))
        while hist[0][0] < t - 10.0:
            hist.popleft()
        change = fast - hist[0][1]
        if change >= 1.0 or change <= -0.4:
            # Flag from 15 s back to 30 s ahead (a crude stand-in for the artefact segments).
            if t - 15.0 > self.flagged_until[limb]:
                self.flagged_from[limb] = t - 15.0
            self.flagged_until[limb] = t + 30.0
        while self.next_tick <= t - 15.0:
            self._tick(self.next_tick)
            self.next_tick += 1.0

    def _value(self, limb: Limb, tick: float) -> float | None:
        times = self.times[limb]
        i = bisect.bisect_right(times, tick) - 1
        if i < 0 or tick - times[i] > 5.0:
            return None
        if self.flagged_from[limb] <= tick <= self.flagged_until[limb] + 10.0:
            return None
        return self.smooth[limb][i]

    def _tick(self, tick: float) -> None:
        if tick <= self.injection_s or self.confirmed_at is not None:
            return
        if not self.baseline:
            for limb in Limb:
                times, raw = self.times[limb], self.raw[limb]
                lo = bisect.bisect_left(times, self.injection_s - 120.0)
                hi = bisect.bisect_right(times, self.injection_s)
                window = raw[lo:hi]
                self.baseline[limb] = sum(window) / len(window) if window else float("nan")
        vb, vc = self._value(self.blocked, tick), self._value(self.blocked.other, tick)
        if vb is None or vc is None:
            self.hold_since = None
            return
        rise_b = vb - self.baseline[self.blocked]
        rise_c = vc - self.baseline[self.blocked.other]
        if rise_b >= 2.0 and rise_b - rise_c >= 1.5:
            if self.hold_since is None:
                self.hold_since = tick
            if tick - self.hold_since >= 60.0:
                self.confirmed_at = tick
        else:
            self.hold_since = None


def _interleave(limbs) -> list[tuple[Limb, float, float, int]]:
    rows = []
    for limb, (t, c, s) in limbs.items():
        rows += zip([limb] * t.size, t.tolist(), c.tolist(), s.tolist(), strict=True)
    rows.sort(key=lambda r: (r[1], r[0] is Limb.RIGHT))
    return rows


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def difference_redraw(model, limbs, redraws: int = 600, full_redraws: int = 10) -> dict:
    """Per-call cost of the difference series at a 10 Hz redraw (one new reading per foot per
    call), at the end of the recording, cached vs recomputed from scratch."""
    inj = model.injection_s
    end = min(float(arrays[0][-1]) for arrays in limbs.values())
    tail_from = end - (redraws + 1) / RATE_HZ
    pipe = BlockPipeline(Limb.LEFT)
    pipe.add_marker(Marker(MarkerKind.INJECTION, inj))
    for limb, (t, c, s) in limbs.items():
        keep = t < tail_from
        pipe.push_arrays(limb, t[keep], c[keep], s[keep])
    pipe.verdict  # noqa: B018 - process the history before timing
    t0 = time.perf_counter()
    first = pipe.difference_series()
    first_s = time.perf_counter() - t0
    rows = [r for r in _interleave({limb: tuple(a[a_t >= tail_from] for a in arrays)
                                    for limb, arrays in limbs.items() for a_t in [arrays[0]]})]
    readings = [Reading(limb, None if c != c else c, PROBE_STATUS_CODES[s], t, 0.0) for limb, t, c, s in rows]
    pairs = [readings[i : i + 2] for i in range(0, len(readings) - 1, 2)][:redraws]
    cached = full = 0.0
    for k, pair in enumerate(pairs):
        pipe.push_many(pair)
        pipe.verdict  # noqa: B018 - the pipeline's own update is not what is measured
        t0 = time.perf_counter()
        pipe.difference_series()
        cached += time.perf_counter() - t0
        if k < full_redraws:
            fresh = DifferenceTracker(pipe.blocked, pipe.config)
            t0 = time.perf_counter()
            fresh.series(pipe._tracks, pipe._baseline_offsets(), False)
            full += time.perf_counter() - t0
    cached_us = cached / len(pairs) * 1e6
    full_us = full / min(full_redraws, len(pairs)) * 1e6
    return {
        "difference_points": int(first.t_s.size),
        "difference_first_build_s": round(first_s, 4),
        "difference_redraw_us_cached": round(cached_us, 1),
        "difference_redraw_us_recomputed": round(full_us, 1),
        "difference_ratio_cached_to_recomputed": round(cached_us / full_us, 5),
    }


def run(hours: float = HOURS, rate_hz: float = RATE_HZ, live_readings: int = LIVE_READINGS,
        repeat: int = 3) -> dict:
    model, limbs = make_recording(hours, rate_hz)
    inj = model.injection_s
    rows = _interleave(limbs)
    n_readings = len(rows)

    result_holder = {}

    def offline_numpy() -> None:
        result_holder["r"] = analyze_arrays(limbs, Limb.LEFT, inj)

    def offline_python() -> None:
        det = PurePythonDetector(Limb.LEFT, inj)
        for limb, t, c, s in rows:
            det.push(limb, t, c, s)
        result_holder["py"] = det.confirmed_at

    numpy_s = _best(offline_numpy, repeat)
    python_s = _best(offline_python, max(1, repeat - 1))

    # Live: a session already 10 minutes in (probes settled), then live_readings more, timed.
    warm_until = 600.0
    history = {limb: tuple(a[t < warm_until] for a in arrays) for limb, arrays in limbs.items()
               for t in [arrays[0]]}
    live_rows = [r for r in rows if r[1] >= warm_until][:live_readings]
    readings = [Reading(limb, None if c != c else c, PROBE_STATUS_CODES[s], t, 0.0) for limb, t, c, s in live_rows]

    def live_numpy(every: int) -> float:
        best = float("inf")
        for _ in range(repeat):
            pipe = BlockPipeline(Limb.LEFT)
            pipe.add_marker(Marker(MarkerKind.INJECTION, inj))
            for limb, arrays in history.items():
                pipe.push_arrays(limb, *arrays)
            pipe.verdict  # noqa: B018 - process the history before timing
            t0 = time.perf_counter()
            for i, r in enumerate(readings):
                pipe.push(r)
                if i % every == 0:
                    pipe.verdict  # noqa: B018 - asking for the result is what is measured
            best = min(best, time.perf_counter() - t0)
        return best

    def live_python() -> float:
        best = float("inf")
        for _ in range(repeat):
            det = PurePythonDetector(Limb.LEFT, inj)
            for limb, (t, c, s) in history.items():
                for ti, ci, si in zip(t.tolist(), c.tolist(), s.tolist(), strict=True):
                    det.push(limb, ti, ci, si)
            t0 = time.perf_counter()
            for limb, t, c, s in live_rows:
                det.push(limb, t, c, s)
            best = min(best, time.perf_counter() - t0)
        return best

    live_each_us = live_numpy(1) / len(readings) * 1e6
    live_batched_us = live_numpy(10) / len(readings) * 1e6
    live_python_us = live_python() / len(readings) * 1e6
    r = result_holder["r"]
    diff = difference_redraw(model, limbs)
    return {
        "recording": {"hours": hours, "rate_hz": rate_hz, "limbs": 2, "readings": n_readings},
        "offline_numpy_s": round(numpy_s, 4),
        "offline_pure_python_s": round(python_s, 4),
        "offline_ratio_numpy_to_python": round(numpy_s / python_s, 4),
        "offline_goal_under_0_5_s": numpy_s < 0.5,
        "offline_verdict": r.outcome,
        "offline_confirmed_at_s": r.confirmed_at_s,
        "pure_python_confirmed_at_s": result_holder["py"],
        "live_readings_measured": len(readings),
        "live_update_us_result_every_reading": round(live_each_us, 2),
        "live_update_us_result_every_10_readings": round(live_batched_us, 2),
        "live_pure_python_us": round(live_python_us, 2),
        "live_ratio_every_reading_to_python": round(live_each_us / live_python_us, 3),
        "live_ratio_every_10_to_python": round(live_batched_us / live_python_us, 3),
        **diff,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
