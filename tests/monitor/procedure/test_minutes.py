"""The one rule for the value that stands for a minute (monitor.procedure.minutes)."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.model import Limb, Marker, MarkerKind
from monitor.pipeline import BlockPipeline, LimbSeries
from monitor.pipeline.artefacts import FLAG_TOUCH
from monitor.procedure.minutes import (
    MinuteRow,
    counted,
    minute_table,
    peak_after,
    round_c,
    values_at,
)


def _wobble(t: np.ndarray, level: float) -> np.ndarray:
    """A settled foot: a level with a small, smooth wobble (never a frozen repeat)."""
    return level + 0.02 * np.sin(t / 7.0)


def _pipeline(limbs: dict[Limb, tuple[np.ndarray, np.ndarray]], markers=(), blocked=Limb.LEFT) -> BlockPipeline:
    pipe = BlockPipeline(blocked)
    for limb, (t, c) in limbs.items():
        pipe.push_arrays(limb, t, c)
    pipe.set_markers(list(markers))
    pipe.finish()
    return pipe


# ---- the rule on hand-made arrays --------------------------------------------------------
def test_the_value_is_the_lower_median_of_the_readings_in_the_30_s_up_to_the_minute():
    t = np.array([565.0, 570.0, 580.0, 590.0, 600.0, 600.5])
    c = np.array([99.0, 4.0, 1.0, 3.0, 2.0, 77.0])
    # 570..600 inclusive: 4, 1, 3, 2 -> sorted 1 2 3 4 -> the lower median is 2, a reading taken.
    assert values_at(t, c, np.array([600.0])).tolist() == [2.0]
    # Exactly 30 s back counts; 30.5 s back does not; 0.5 s after the minute never does.
    assert values_at(np.array([570.0]), np.array([5.0]), np.array([600.0])).tolist() == [5.0]
    assert np.isnan(values_at(np.array([569.5]), np.array([5.0]), np.array([600.0]))).all()
    assert np.isnan(values_at(np.array([600.5]), np.array([5.0]), np.array([600.0]))).all()


def test_one_wild_reading_does_not_move_the_value():
    t = np.arange(571.0, 601.0)
    c = np.full(t.shape, 30.0)
    c[-1] = 41.0  # one spike at the minute itself
    assert values_at(t, c, np.array([600.0])).tolist() == [30.0]


def test_stale_readings_are_not_used_for_a_fast_probe():
    t = np.arange(0.0, 500.0)  # 1 Hz, then silent from 500 s
    c = _wobble(t, 30.0)
    out = values_at(t, c, np.array([480.0, 529.0, 540.0, 600.0]), reach_s=30.0)
    assert np.isfinite(out[:2]).all()  # readings up to 499 s: within 30 s of 480 and of 529
    assert np.isnan(out[2:]).all()  # 41 s and 101 s old: no value


def test_a_slow_probe_s_last_reading_stands_for_its_minute_within_its_allowed_gap():
    t = np.arange(0.0, 1200.0, 45.0)  # every 45 s: often no reading in the 30 s before a minute
    c = 30.0 + 0.1 * np.arange(t.size)
    times = np.array([600.0])  # readings at 585 and 630: 585 is 15 s old -> in the window
    assert values_at(t, c, times, reach_s=112.5).tolist() == [c[13]]
    times = np.array([580.0])  # the last one, at 540, is 40 s old: beyond 30 s, within 112.5 s
    assert values_at(t, c, times, reach_s=112.5).tolist() == [c[12]]
    assert np.isnan(values_at(t, c, times, reach_s=30.0)).all()  # a fast probe's rule: none
    far = np.array([1400.0])  # 185 s after the last reading: no data, whatever the rhythm
    assert np.isnan(values_at(t, c, far, reach_s=112.5)).all()


def test_no_readings_give_no_values():
    assert np.isnan(values_at(np.empty(0), np.empty(0), np.array([0.0, 60.0]))).all()
    assert values_at(np.array([1.0]), np.array([30.0]), np.empty(0)).size == 0


def test_counted_readings_leave_out_invalid_and_flagged_ones():
    t = np.arange(5.0)
    series = LimbSeries(Limb.LEFT, t, np.array([30.0, 31.0, np.nan, 33.0, 34.0]), np.full(5, np.nan),
                        np.array([True, True, False, False, True]),
                        np.array([0, FLAG_TOUCH, 0, 0, 0], dtype=np.uint16))
    assert counted(series).tolist() == [True, False, False, False, True]


def test_rounding_is_to_a_tenth_halves_away_from_zero_and_never_minus_zero():
    assert round_c(31.25) == 31.3
    assert round_c(31.249) == 31.2
    assert round_c(-0.05) == -0.1
    assert round_c(0.15) == 0.2  # stored just below 0.15 in binary, still a half
    assert str(round_c(-0.04)) == "0.0"
    assert round_c(None) is None and round_c(float("nan")) is None


# ---- the rule on a pipeline ----------------------------------------------------------------
def test_readings_flagged_as_a_touch_never_stand_for_a_minute():
    t = np.arange(0.0, 900.0)
    left = _wobble(t, 30.0)
    touched = (t >= 582.0) & (t < 640.0)
    left[touched] += 4.0  # a warm hand on the left probe from 582 s (dated back to the step's start)
    right = _wobble(t, 29.0)
    pipe = _pipeline({Limb.LEFT: (t, left), Limb.RIGHT: (t, right)})
    [touch] = [a for a in pipe.artefacts if a.kind == "touch" and a.limb is Limb.LEFT]
    assert 570.0 < touch.start_s <= 582.0
    [row] = minute_table(pipe, 0.0, 900.0, minutes=[10])
    # Most of the 31 readings in 570..600 are touched: without the rule the value would be ~34 °C.
    assert np.median(left[(t >= 570.0) & (t <= 600.0)]) > 33.0
    assert row.celsius[Limb.LEFT] == pytest.approx(30.0, abs=0.05)
    assert row.celsius[Limb.RIGHT] == pytest.approx(29.0, abs=0.05)
    peak = peak_after(pipe, Limb.LEFT, 0.0)
    assert peak is not None and peak[1] < 31.0, "the peak is a counted reading, never the hand"
    # A minute wholly inside the touch has no value at all.
    [inside] = minute_table(pipe, 0.0, 900.0, minutes=[11])
    assert inside.celsius[Limb.LEFT] is None and inside.rise_c[Limb.LEFT] is None


def test_the_screen_table_has_every_minute_from_the_session_start_and_rises_add_up():
    t = np.arange(0.0, 1500.0)
    ramp = np.clip((t - 600.0) / 600.0, 0.0, 1.0) * 3.0  # the blocked foot warms 3 °C after the injection
    pipe = _pipeline({Limb.LEFT: (t, _wobble(t, 28.0) + ramp), Limb.RIGHT: (t, _wobble(t, 28.5))},
                     markers=[Marker(MarkerKind.INJECTION, 600.0)])
    rows = minute_table(pipe, 600.0, 1499.0)
    assert [r.minute for r in rows] == list(range(-10, 15))
    assert rows[0].session_s == 0.0 and rows[-1].session_s == 1440.0
    assert all(isinstance(r, MinuteRow) for r in rows)
    before = [r for r in rows if r.minute < 0]
    assert all(r.rise_c[Limb.LEFT] is None for r in before), "no rise before a baseline was in force"
    base = {limb: round_c(pipe.baselines[limb].celsius) for limb in Limb}
    for r in rows[10:]:
        for limb in Limb:
            assert r.rise_c[limb] == round_c(r.celsius[limb] - base[limb])  # the printed numbers add up
        assert r.di_minus_dc_c == round_c(r.rise_c[Limb.LEFT] - r.rise_c[Limb.RIGHT])
    assert rows[-1].rise_c[Limb.LEFT] == pytest.approx(3.0, abs=0.1)
    # The report's minutes are the same rows.
    report = minute_table(pipe, 600.0, 1499.0, minutes=(0, 5, 10, 20, 30))
    by_minute = {r.minute: r for r in rows}
    assert report[:3] == [by_minute[0], by_minute[5], by_minute[10]]
    assert report[3].celsius == {Limb.LEFT: None, Limb.RIGHT: None}, "after the end: no value yet"


def test_a_row_is_final_once_its_minute_has_passed():
    t = np.arange(0.0, 1500.0)
    limbs = {Limb.LEFT: (t, _wobble(t, 28.0) + np.clip((t - 600.0) / 300.0, 0.0, 1.0) * 3.0),
             Limb.RIGHT: (t, _wobble(t, 28.5))}
    markers = [Marker(MarkerKind.INJECTION, 600.0)]
    whole = minute_table(_pipeline(limbs, markers), 600.0, 1499.0)
    live = BlockPipeline(Limb.LEFT)
    live.set_markers(markers)
    for limb, (tt, c) in limbs.items():
        live.push_arrays(limb, tt[:1000], c[:1000])
    so_far = minute_table(live, 600.0, 1000.0 - live.config.finalise_lag_s)
    assert so_far == whole[: len(so_far)]


def test_a_new_baseline_changes_the_rises_only_from_the_end_of_its_window():
    t = np.arange(0.0, 2400.0)
    left = _wobble(t, 28.0) + np.clip((t - 600.0) / 600.0, 0.0, 1.0) * 4.0
    pipe = _pipeline({Limb.LEFT: (t, left), Limb.RIGHT: (t, _wobble(t, 28.5))},
                     markers=[Marker(MarkerKind.INJECTION, 600.0), Marker(MarkerKind.BASELINE, 1500.0)])
    first, second = pipe.baseline_history
    assert second.get(Limb.LEFT).window_end_s == pytest.approx(1620.0)
    rows = {r.minute: r for r in minute_table(pipe, 600.0, 2399.0)}
    old = round_c(first[Limb.LEFT].celsius)
    new = round_c(second[Limb.LEFT].celsius)
    assert rows[16].rise_c[Limb.LEFT] == round_c(rows[16].celsius[Limb.LEFT] - old)  # 1560 s: still the first
    assert rows[17].rise_c[Limb.LEFT] == round_c(rows[17].celsius[Limb.LEFT] - new)  # 1620 s: the new one
    assert rows[17].rise_c[Limb.LEFT] < 0.5


def test_an_empty_pipeline_gives_no_rows_or_empty_ones():
    pipe = BlockPipeline(Limb.RIGHT)
    assert minute_table(pipe, 0.0, 0.0) == []
    rows = minute_table(pipe, 0.0, 125.0)
    assert [r.minute for r in rows] == [0, 1, 2]
    assert all(v is None for r in rows for v in (*r.celsius.values(), *r.rise_c.values(), r.di_minus_dc_c))
    assert peak_after(pipe, Limb.LEFT, 0.0) is None
