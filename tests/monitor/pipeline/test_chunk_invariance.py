"""Property: however the readings are chunked between result requests, the results are the same."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading
from monitor.pipeline import BlockPipeline


@st.composite
def recordings(draw, slow: bool = False):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if slow:
        # A BLE thermometer reporting every 10 or 30 s, with jitter and the odd outage.
        n = draw(st.integers(60, 240))
        every = draw(st.sampled_from([10.0, 30.0]))
        t = np.cumsum(rng.choice([0.9, 1.0, 1.0, 1.0, 1.1, 3.0], n) * every)
    else:
        n = draw(st.integers(200, 900))
        t = np.cumsum(rng.choice([0.5, 1.0, 1.0, 1.0, 2.0, 7.0], n))
    out = []
    for limb in Limb:
        level = 24 + 8 * rng.random()
        walk = level + np.cumsum(rng.normal(0, 0.02, n)) + np.where(t > t[n // 2], (t - t[n // 2]) / 60, 0)
        # Episodes: a hand on the probe, a lift, or the probe off and re-taped after a break.
        skip = np.zeros(n, dtype=bool)
        for _ in range(rng.integers(0, 3)):
            at, kind = int(rng.integers(0, n - 1)), rng.integers(0, 3)
            dt = t - t[at]
            after = dt >= 0
            if kind == 0:
                walk = walk + np.where(after & (dt < 90), 6.0 * (1 - np.exp(-np.maximum(dt, 0) / 4)), 0)
            elif kind == 1:
                walk = walk + np.where(after & (dt < 150), (23.0 - walk) * (1 - np.exp(-np.maximum(dt, 0) / 40)), 0)
            else:
                skip |= after & (dt < 40)
                walk = np.where(after & (dt >= 40), walk + (23.0 - walk) * np.exp(-(np.maximum(dt, 0) - 40) / 60), walk)
        events = rng.random(n)
        seq = 0
        for i in range(n):
            value: float | None = round(float(walk[i]), 2)
            status = ProbeStatus.OK
            if events[i] < 0.01:
                value = None
                status = ProbeStatus.OPEN_CIRCUIT
            elif events[i] < 0.02:
                value = 99.0  # out of range
            elif events[i] < 0.04:
                value = value + 6.0  # a spike
            elif events[i] < 0.05 or skip[i]:
                continue  # a missing reading
            if events[i] > 0.98:
                seq -= 1  # the device repeats a frame
            seq += 1
            out.append(Reading(limb, value, status, float(t[i]), 0.0, sequence=seq))
    out.sort(key=lambda r: (r.session_s, r.limb is Limb.RIGHT))
    chunks = draw(st.lists(st.integers(1, 40), min_size=1, max_size=30))
    inj = float(t[n // 3])
    # "Baseline start" marks: none, one before the injection, and/or a new baseline after it
    # (with or without a second injection).
    markers = [Marker(MarkerKind.INJECTION, inj)]
    if draw(st.booleans()):
        markers.append(Marker(MarkerKind.BASELINE, inj - draw(st.floats(5.0, 300.0))))
    if draw(st.booleans()):
        recapture = float(t[n // 2]) + draw(st.floats(-30.0, 30.0))
        markers.append(Marker(MarkerKind.BASELINE, recapture))
        if draw(st.booleans()):
            markers.append(Marker(MarkerKind.INJECTION, recapture + draw(st.floats(10.0, 200.0))))
    return out, chunks, markers


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recordings())
def test_chunking_never_changes_the_results(data):
    _assert_chunking_changes_nothing(*data)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recordings(slow=True))
def test_chunking_never_changes_the_results_of_a_slow_probe(data):
    _assert_chunking_changes_nothing(*data)


def _assert_chunking_changes_nothing(readings, chunks, markers):
    batch = BlockPipeline(Limb.LEFT, "rise-1.5")
    batch.push_many(readings)
    for m in markers:
        batch.add_marker(m)
    batch.finish()
    live = BlockPipeline(Limb.LEFT, "rise-1.5")
    for m in markers:
        live.add_marker(m)
    i = 0
    k = 0
    while i < len(readings):
        size = chunks[k % len(chunks)]
        k += 1
        for r in readings[i : i + size]:
            live.push(r)
        i += size
        live.verdict  # noqa: B018 - process this chunk
        if k % 2:
            live.difference_series()  # cached between calls, extended
    live.finish()
    assert live.artefacts == batch.artefacts
    assert live.verdict_changes == batch.verdict_changes
    assert live.criteria_met_at == batch.criteria_met_at
    assert live.kinetics() == batch.kinetics()
    assert live.baseline_history == batch.baseline_history
    for limb in Limb:
        a, b = live.series(limb), batch.series(limb)
        np.testing.assert_array_equal(a.smooth_c, b.smooth_c)
        np.testing.assert_array_equal(a.flags, b.flags)
        np.testing.assert_array_equal(a.valid, b.valid)
    da, db = live.difference_series(), batch.difference_series()
    assert da.relative_to_baseline == db.relative_to_baseline
    np.testing.assert_array_equal(da.t_s, db.t_s)
    np.testing.assert_array_equal(da.di_minus_dc_c, db.di_minus_dc_c)
