"""Probes that report every 10–30 s (a BLE Health Thermometer's Measurement Interval, 0x2A21).

The "no data" limit follows each limb's own rhythm (max of gap_s and rhythm_factor × the lower
median of its recent intervals), so a slow probe can confirm a block, while a real outage is
still a gap and a 1–10 Hz probe keeps the 5 s limit.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.evaluation import simulate
from monitor.model import Limb, ProbeStatus, Reading
from monitor.pipeline import ArtefactKind, BlockPipeline, VerdictState

from .helpers import Curve, flat, injection, ramp, readings

INJ = 600.0
BLOCK = ramp(28.0, 700, 1.0, cap_c=5)  # ΔTb ≥ 2 °C from 820 s: the truth confirms at 880 s
OTHER = flat(28.5)


def sampled(left: Curve, right: Curve, end_s: float, every_s: dict[Limb, float], seed: int = 0,
            jitter_s: float = 0.3, drop: dict[Limb, list[float]] | None = None) -> list[Reading]:
    """Each limb read every ``every_s[limb]`` seconds (± jitter, as BLE notifications arrive),
    leaving out readings at the times listed in ``drop``."""
    rng = np.random.default_rng(seed)
    out = []
    for limb, curve in ((Limb.LEFT, left), (Limb.RIGHT, right)):
        step = every_s[limb]
        nominal = np.arange(0.0, end_s, step)
        t = nominal + (rng.uniform(-jitter_s, jitter_s, nominal.shape) if step > 1 else 0.0)
        t[0] = nominal[0]
        c = curve(t) + rng.normal(0, 0.02, t.shape)
        skip = set(drop.get(limb, [])) if drop else set()
        for tn, ti, ci in zip(nominal.tolist(), t.tolist(), c.tolist(), strict=True):
            if tn not in skip:
                out.append(Reading(limb, round(ci, 2), ProbeStatus.OK, ti, 1.7e9 + ti))
    out.sort(key=lambda r: (r.session_s, r.limb is Limb.RIGHT))
    return out


def run(rs: list[Reading], blocked: Limb = Limb.LEFT, live: bool = False) -> BlockPipeline:
    p = BlockPipeline(blocked)
    if live:
        p.add_marker(injection(INJ))
        for r in rs:
            p.push(r)
            p.verdict  # noqa: B018 - judge as it comes
    else:
        p.push_many(rs)
        p.add_marker(injection(INJ))
    p.finish()
    return p


def _no_data(p: BlockPipeline, after_s: float = 0.0) -> list:
    return [a for a in p.artefacts if a.kind is ArtefactKind.NO_DATA and a.start_s >= after_s]


@pytest.mark.parametrize("interval_s", [10.0, 30.0])
@pytest.mark.parametrize("slow", ["blocked", "both"])
def test_a_block_read_every_10_or_30_s_is_confirmed(interval_s, slow):
    every = {Limb.LEFT: interval_s, Limb.RIGHT: interval_s if slow == "both" else 1.0}
    p = run(sampled(BLOCK, OTHER, 1800, every))
    v = p.verdict
    assert v.state is VerdictState.CONFIRMED, v.message
    # Never before the truth; later by the median-of-5 lag (2 readings) plus the sampling.
    assert 880 <= v.confirmed_at_s <= 880 + 3 * interval_s + 15
    # Only the first two intervals (before the rhythm is known) count as "no data".
    assert _no_data(p, after_s=2 * interval_s + 1) == []
    base = p.baselines[Limb.LEFT]
    assert base.celsius == pytest.approx(28.0, abs=0.05)
    assert not any("mostly invalid" in w for w in base.warnings)
    few = [w for w in base.warnings if "readings back the baseline" in w]
    assert bool(few) is (interval_s == 30.0)  # ~4 readings in 2 min: said; ~12: enough
    assert p.allowed_gap_s(Limb.LEFT) == pytest.approx(2.5 * interval_s, abs=1.0)
    assert p.kinetics().peak_rise_c == pytest.approx(5.0, abs=0.1)


def test_the_slope_and_early_warming_work_on_a_30_s_probe():
    p = run(sampled(BLOCK, OTHER, 1800, {Limb.LEFT: 30.0, Limb.RIGHT: 30.0}))
    assert p.kinetics().max_slope_c_per_min == pytest.approx(1.0, abs=0.1)
    assert p.early_warming_at_s is not None and INJ < p.early_warming_at_s < 700 + 300
    d = p.difference_series()
    late = (d.t_s > 1200) & (d.t_s < 1700)
    assert np.isfinite(d.di_minus_dc_c[late]).all(), "no holes between readings 30 s apart"
    assert d.di_minus_dc_c[late] == pytest.approx(5.0, abs=0.15)


@pytest.mark.parametrize("interval_s", [10.0, 30.0])
def test_an_outage_of_three_intervals_is_still_a_gap_and_does_not_teach_the_next(interval_s):
    every = {Limb.LEFT: interval_s, Limb.RIGHT: interval_s}
    clean = run(sampled(BLOCK, OTHER, 1800, every))
    confirm = clean.verdict.confirmed_at_s
    # Two readings lost in a row just before the confirmation (3 × the interval without data),
    # and again right after the next reading: the first outage must not stretch the limit for
    # the second.
    first = float(np.floor((confirm - 40) / interval_s) * interval_s)
    second = first + 3 * interval_s
    lost = [first, first + interval_s, second, second + interval_s]
    p = run(sampled(BLOCK, OTHER, 1800, every, drop={Limb.LEFT: lost}))
    gaps = _no_data(p, after_s=100)
    assert [round(g.start_s / interval_s) for g in gaps] == [round(first / interval_s) - 1,
                                                               round(second / interval_s) - 1]
    assert all(g.limb is Limb.LEFT and g.end_s - g.start_s > 2.5 * interval_s for g in gaps)
    # The hold restarted after the first outage (a reading counts for 2.5 intervals after it,
    # as a 1 Hz reading counts for 5 s, so the first 75 s of the second are not yet known).
    assert p.verdict.confirmed_at_s >= first + 2 * interval_s + 60 - 1 > confirm


def test_a_probe_falling_silent_is_no_data_once_its_own_limit_has_passed():
    rs = [r for r in sampled(BLOCK, OTHER, 900, {Limb.LEFT: 30.0, Limb.RIGHT: 1.0}) if r.session_s <= 800]
    p = BlockPipeline(Limb.LEFT)
    p.push_many(rs)
    last = max(r.session_s for r in rs if r.limb is Limb.LEFT)
    assert p.snapshot(now_s=last + 40).limb_status[Limb.LEFT] == "OK"  # between two readings
    assert p.snapshot(now_s=last + 80).limb_status[Limb.LEFT].startswith("no data for")
    assert p.snapshot().limb_status[Limb.LEFT] == "OK"
    later = [Reading(Limb.RIGHT, 28.5, ProbeStatus.OK, t, 0.0) for t in np.arange(801.0, 900.0)]
    p.push_many(later)
    open_gaps = [a for a in p.artefacts if a.kind is ArtefactKind.NO_DATA and a.end_s is None]
    assert [a.limb for a in open_gaps] == [Limb.LEFT] and open_gaps[0].start_s == last


def test_fast_probes_keep_the_5_s_limit():
    for rate_hz in (1.0, 10.0):
        p = BlockPipeline(Limb.LEFT)
        p.push_many(readings(flat(28.0), flat(28.0), 60, rate_hz=rate_hz))
        assert p.allowed_gap_s(Limb.LEFT) == 5.0 and p.allowed_gap_s(Limb.RIGHT) == 5.0
        assert p.typical_interval_s(Limb.LEFT) == pytest.approx(1.0 / rate_hz)


def test_a_30_s_probe_repeating_its_value_on_a_stable_foot_is_not_frozen():
    # 0.01 °C resolution, the same value three readings running (90 s), then a step of 0.01.
    t = np.arange(0.0, 1800.0, 30.0)
    values = 28.0 + 0.01 * (np.arange(t.size) // 3 % 2)
    rs = [Reading(Limb.LEFT, round(float(c), 2), ProbeStatus.OK, float(ti), 0.0) for ti, c in zip(t, values, strict=True)]
    rs += [Reading(Limb.RIGHT, 28.5, ProbeStatus.OK, float(ti) + 0.5, 0.0) for ti in t]
    rs.sort(key=lambda r: r.session_s)
    p = BlockPipeline(Limb.LEFT)
    p.push_many(rs)
    p.finish()
    assert ArtefactKind.FROZEN not in [a.kind for a in p.artefacts if a.limb is Limb.LEFT]


@pytest.mark.parametrize("interval_s", [10.0, 30.0])
def test_a_hand_on_a_slow_probe_is_a_touch_not_a_block(interval_s):
    for seed in (1, 2):
        rec = simulate("touch", seed, Limb.LEFT, 1.0 / interval_s, observe_after_s=2400.0)
        p = BlockPipeline(Limb.LEFT)
        for limb, arrays in rec.limbs.items():
            p.push_arrays(limb, *arrays)
        p.add_marker(injection(rec.model.injection_s))
        p.finish()
        assert p.verdict.state is not VerdictState.CONFIRMED
        assert any(a.kind is ArtefactKind.TOUCH and a.limb is Limb.LEFT for a in p.artefacts)


@pytest.mark.parametrize("interval_s", [10.0, 30.0])
def test_a_slow_probe_is_judged_the_same_live_and_offline(interval_s):
    every = {Limb.LEFT: interval_s, Limb.RIGHT: 1.0}
    lost = [900.0, 900.0 + interval_s, 1300.0 - 1300.0 % interval_s]
    rs = sampled(BLOCK, OTHER, 1800, every, seed=4, drop={Limb.LEFT: lost})
    live, batch = run(rs, live=True), run(rs)
    assert live.verdict_changes == batch.verdict_changes
    assert live.artefacts == batch.artefacts
    assert live.kinetics() == batch.kinetics()
    for limb in Limb:
        np.testing.assert_array_equal(live.series(limb).flags, batch.series(limb).flags)
        np.testing.assert_array_equal(live.series(limb).smooth_c, batch.series(limb).smooth_c)
    a, b = live.difference_series(), batch.difference_series()
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.di_minus_dc_c, b.di_minus_dc_c)
