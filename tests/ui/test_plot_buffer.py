"""The plot buffer fed one reading at a time (live: one a foot per tick, its own quick path) holds
exactly what it holds fed the same readings in batches: gaps, invalid readings, the visible range."""

from __future__ import annotations

import numpy as np

from ui.plot_buffer import PlotBuffer


def _readings() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.round(np.cumsum(rng.choice([0.1, 0.1, 0.1, 6.0, 12.5], size=3000, p=[0.6, 0.3, 0.09, 0.007, 0.003])), 3)
    v = 30.0 + np.cumsum(rng.normal(0.0, 0.02, t.size))
    v[rng.random(t.size) < 0.01] = np.nan  # no temperature
    valid = rng.random(t.size) > 0.02  # the probe said the reading is not to be trusted
    return t, v, valid


def _feed(batches: list[slice], full_resolution_s: float | None) -> tuple[PlotBuffer, list]:
    t, v, valid = _readings()
    buf = PlotBuffer(full_resolution_s=full_resolution_s, bucket_s=2.0)
    ranges = []
    for s in batches:
        buf.append(t[s], v[s], valid[s])
        ranges.append((buf.range_from(60.0 * (float(t[s][-1]) // 120.0)), buf.last_t, buf.last_value))
    return buf, ranges


def test_one_reading_at_a_time_holds_what_batches_hold():
    n = _readings()[0].size
    ones = [slice(i, i + 1) for i in range(n)]
    for full_resolution_s in (None, 120.0):
        single, single_ranges = _feed(ones, full_resolution_s)
        batch, _ = _feed([slice(i, min(n, i + 7)) for i in range(0, n, 7)], full_resolution_s)
        assert np.array_equal(single.x, batch.x)
        assert np.array_equal(single.y, batch.y, equal_nan=True)
        assert (single.last_t, single.last_value, single.readings) == (batch.last_t, batch.last_value, batch.readings)
        assert np.isnan(single.y).any() and len(single) > 0  # gaps and invalid readings were in it


def test_range_from_scans_on_as_a_full_scan_would():
    t, v, valid = _readings()
    buf = PlotBuffer()
    for i in range(t.size):
        buf.append(t[i: i + 1], v[i: i + 1], valid[i: i + 1])
        x0 = 60.0 * (float(t[i]) // 120.0)
        y = buf.y[buf.x >= x0]
        y = y[np.isfinite(y)]
        assert buf.range_from(x0) == ((float(y.min()), float(y.max())) if y.size else None)


def test_a_single_reading_after_a_pause_breaks_the_line_in_the_middle_of_the_gap():
    buf = PlotBuffer(gap_s=5.0)
    buf.append(np.array([0.0]), np.array([30.0]))
    buf.append(np.array([12.0]), np.array([31.0]))
    buf.append(np.array([13.0]), np.array([np.nan]))  # no temperature: the last one stays 31
    assert buf.x.tolist() == [0.0, 6.0, 12.0, 13.0]
    assert np.isnan(buf.y[1]) and buf.y[2] == 31.0 and np.isnan(buf.y[3])
    assert buf.last_value == 31.0 and buf.last_t == 13.0
