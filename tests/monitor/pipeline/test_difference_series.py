"""Di − Dc on a common time base, for two one-foot probes with their own times and rates."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading
from monitor.pipeline import BlockPipeline, DifferenceSeries

from .helpers import flat, injection, ramp


def _probe(limb: Limb, curve, start_s: float, period_s: float, end_s: float, seed: int,
           noise_c: float = 0.02) -> list[Reading]:
    """One one-foot thermometer: its own start, its own rate, no common clock with the other."""
    rng = np.random.default_rng(seed)
    t = np.arange(start_s, end_s, period_s)
    c = curve(t) + rng.normal(0, noise_c, t.shape)
    return [Reading(limb, round(float(ci), 2), ProbeStatus.OK, float(ti), 0.0) for ti, ci in zip(t, c, strict=True)]


def _merge(*streams: list[Reading]) -> list[Reading]:
    return sorted((r for s in streams for r in s), key=lambda r: (r.session_s, r.limb is Limb.RIGHT))


def _run(readings: list[Reading], markers=(), blocked: Limb = Limb.LEFT) -> BlockPipeline:
    pipe = BlockPipeline(blocked)
    for m in markers:
        pipe.add_marker(m)
    pipe.push_many(readings)
    return pipe


def _unsynchronised_block(end_s: float = 1500.0) -> list[Reading]:
    # Left (blocked) warms 1.5 °C/min from 600 s, capped at +4 °C; right flat 2 °C warmer.
    left = _probe(Limb.LEFT, ramp(28.0, 600.0, 1.5, cap_c=4.0), 0.3, 1.0, end_s, seed=1)
    right = _probe(Limb.RIGHT, flat(30.0), 0.55, 1.0 / 0.7, end_s, seed=2)
    return _merge(left, right)


def test_two_unsynchronised_probes_give_a_difference_curve():
    rs = _unsynchronised_block()
    assert not {r.session_s for r in rs if r.limb is Limb.LEFT} & {r.session_s for r in rs if r.limb is Limb.RIGHT}
    pipe = _run(rs)
    d = pipe.difference_series()
    assert isinstance(d, DifferenceSeries) and not d.relative_to_baseline  # no injection, no baseline
    assert np.all(np.diff(d.t_s) > 0) and d.t_s.shape == d.di_minus_dc_c.shape
    ok = np.isfinite(d.di_minus_dc_c)
    settled = d.t_s > 400
    assert ok[settled].mean() > 0.99
    # Plain difference before the block: left − right ≈ −2 °C (smoothing lags a ramp by ~7 s).
    before = settled & (d.t_s < 600) & ok
    assert np.allclose(d.di_minus_dc_c[before], -2.0, atol=0.1)
    after = (d.t_s > 800) & ok
    assert np.allclose(d.di_minus_dc_c[after], 2.0, atol=0.1)


def test_with_a_baseline_it_is_the_rise_difference():
    rs = _unsynchronised_block()
    pipe = _run(rs, [injection(600.0)])
    pipe.finish()
    d = pipe.difference_series()
    assert d.relative_to_baseline
    base = pipe.baselines
    ok = np.isfinite(d.di_minus_dc_c)
    before = (d.t_s > 450) & (d.t_s < 600) & ok
    assert np.allclose(d.di_minus_dc_c[before], 0.0, atol=0.1)
    late = (d.t_s > 800) & ok
    assert np.allclose(d.di_minus_dc_c[late], 4.0, atol=0.1)
    # It agrees with the pipeline's own Di − Dc at the end and its maximum after the injection.
    assert d.di_minus_dc_c[-1] == pytest.approx(pipe.snapshot().di_minus_dc_c, abs=0.05)
    assert base[Limb.LEFT].celsius == pytest.approx(28.0, abs=0.05)
    assert np.nanmax(d.di_minus_dc_c) == pytest.approx(pipe.kinetics().max_di_minus_dc_c, abs=0.1)


def test_a_gap_longer_than_5_s_stays_a_gap():
    rs = [r for r in _unsynchronised_block(1000.0) if not (r.limb is Limb.RIGHT and 700 < r.session_s < 730)]
    d = _run(rs).difference_series()
    x, y = d.t_s, d.di_minus_dc_c
    inside = (x > 700) & (x < 730)
    assert inside.any() and np.isnan(y[inside]).all()
    # No two finite neighbours straddle the gap (a plot with connect="finite" leaves it open).
    both = np.isfinite(y[:-1]) & np.isfinite(y[1:])
    assert not np.any(both & (x[:-1] < 715) & (x[1:] > 715))
    assert np.isfinite(y[(x > 760) & (x < 800)]).all()


def test_a_simultaneous_gap_on_both_feet_is_not_bridged():
    rs = [r for r in _unsynchronised_block(1000.0) if not 700 < r.session_s < 730]
    d = _run(rs).difference_series()
    x, y = d.t_s, d.di_minus_dc_c
    gap = np.flatnonzero((x > 700) & (x < 730))
    assert gap.size and np.isnan(y[gap]).all()
    both = np.isfinite(y[:-1]) & np.isfinite(y[1:])
    assert not np.any(both & (x[1:] - x[:-1] > 5.0))


def test_artefacts_and_invalid_readings_are_nan():
    rs = _unsynchronised_block(1000.0)
    out = []
    for r in rs:
        if r.limb is Limb.RIGHT and 500 <= r.session_s < 520:
            r = Reading(r.limb, 99.0, ProbeStatus.OK, r.session_s, 0.0)  # out of range
        if r.limb is Limb.LEFT and 800 <= r.session_s < 830:
            r = Reading(r.limb, r.celsius + 5.0, ProbeStatus.OK, r.session_s, 0.0)  # a warm hand
        out.append(r)
    pipe = _run(out)
    d = pipe.difference_series()
    x, y = d.t_s, d.di_minus_dc_c
    kinds = {(a.limb, a.kind) for a in pipe.artefacts}
    assert (Limb.LEFT, "touch") in kinds and (Limb.RIGHT, "out_of_range") in kinds
    assert np.isnan(y[(x >= 500) & (x < 520)]).all()
    assert np.isnan(y[(x >= 800) & (x < 840)]).all()
    assert np.isfinite(y[(x > 550) & (x < 600)]).all()


def test_a_slower_probe_ends_the_curve_and_arrays_are_read_only():
    rs = _unsynchronised_block(900.0)
    d = _run(rs).difference_series()
    right_last = max(r.session_s for r in rs if r.limb is Limb.RIGHT)
    assert d.t_s[-1] == pytest.approx(right_last)
    with pytest.raises(ValueError):
        d.di_minus_dc_c[0] = 1.0


def test_no_readings_on_one_side_gives_an_empty_series():
    rs = _probe(Limb.LEFT, flat(30.0), 0.0, 1.0, 100.0, seed=1)
    d = _run(rs).difference_series()
    assert d.t_s.size == 0 and d.di_minus_dc_c.size == 0 and not d.relative_to_baseline


def test_asked_while_readings_arrive_it_equals_a_fresh_computation():
    """The cached, extended series at any moment equals one computed from scratch."""
    rs = _unsynchronised_block(1400.0)
    markers = [Marker(MarkerKind.BASELINE, 450.0), injection(600.0)]
    live = BlockPipeline(Limb.LEFT)
    pending = list(markers)
    checks = {300, 700, 1000, 1500, 2000}
    for i, r in enumerate(rs):
        while pending and r.session_s >= pending[0].session_s + 2.0:
            live.add_marker(pending.pop(0))
        live.push(r)
        if i % 7 == 0:
            live.difference_series()
        if i in checks:
            fresh = BlockPipeline(Limb.LEFT)
            for m in live.markers:
                fresh.add_marker(m)
            fresh.push_many(rs[: i + 1])
            a, b = live.difference_series(), fresh.difference_series()
            assert a.relative_to_baseline == b.relative_to_baseline
            np.testing.assert_array_equal(a.t_s, b.t_s)
            np.testing.assert_array_equal(a.di_minus_dc_c, b.di_minus_dc_c)


def test_a_gap_whose_end_arrives_before_the_other_foot_catches_up_is_kept_live():
    """Regression (found by the chunking property test): the left probe is silent from 313 s to
    350 s, and its 350 s reading arrives while the right one is still at 349 s."""
    left = [r for r in _probe(Limb.LEFT, flat(28.0), 0.5, 1.0, 600.0, seed=3) if not 313.6 < r.session_s < 350.0]
    right = _probe(Limb.RIGHT, flat(29.0), 0.3, 1.0, 600.0, seed=4)
    rs = _merge(left, right)
    live = BlockPipeline(Limb.LEFT)
    for r in rs:
        live.push(r)
        if r.limb is Limb.LEFT and r.session_s == 350.5:
            live.difference_series()  # asked just as the gap's end arrives
        elif r.session_s > 360 and int(r.session_s) % 20 == 0:
            live.difference_series()
    live.finish()
    batch = _run(rs)
    batch.finish()
    a, b = live.difference_series(), batch.difference_series()
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.di_minus_dc_c, b.di_minus_dc_c)
    mid = (313.5 + 350.5) / 2
    assert mid in a.t_s.tolist() and np.isnan(a.di_minus_dc_c[a.t_s == mid]).all()
