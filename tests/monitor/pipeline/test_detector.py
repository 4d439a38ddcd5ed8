"""Detector behaviour on synthetic recordings with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading
from monitor.pipeline import ArtefactKind, BlockPipeline, PipelineConfig, VerdictState

from .helpers import flat, injection, ramp, readings

INJ = 600.0


_INJECTION = injection(INJ)


def run(rs, blocked=Limb.LEFT, markers=(_INJECTION,), **kw) -> BlockPipeline:
    p = BlockPipeline(blocked, **kw)
    p.push_many(rs)
    for m in markers:
        p.add_marker(m)
    p.finish()
    return p


def kinds(p: BlockPipeline, limb: Limb | None = None) -> list[ArtefactKind]:
    return [a.kind for a in p.artefacts if limb is None or a.limb is limb]


def test_clear_block_confirmed_once_held_for_60_s():
    # Blocked foot warms 1 °C/min from 700 s: ΔTb reaches 2 °C at 820 s; + ~7 s smoothing lag + 60 s hold.
    p = run(readings(ramp(28.0, 700, 1.0, cap_c=5), flat(28.5), 1800))
    v = p.verdict
    assert v.state is VerdictState.CONFIRMED
    assert 880 <= v.confirmed_at_s <= 880 + 15
    assert v.criteria_met == ("ΔTb ≥ 2.0 °C", "Di − Dc ≥ 1.5 °C")
    assert [s for _, s in ((t, v.state) for t, v in p.verdict_changes)][-1] is VerdictState.CONFIRMED
    b = p.baselines
    assert b[Limb.LEFT].celsius == pytest.approx(28.0, abs=0.02) and b[Limb.RIGHT].celsius == pytest.approx(28.5, abs=0.02)
    k = p.kinetics()
    assert k.peak_rise_c == pytest.approx(5.0, abs=0.05)
    assert k.time_to_plus_1c_s == pytest.approx(160, abs=10)  # 700 + 60 s - 600, plus lag
    assert k.max_slope_c_per_min == pytest.approx(1.0, abs=0.05)
    assert k.time_to_50pct_peak_s == pytest.approx(100 + 150 + 6.5, abs=8)
    assert k.time_to_95pct_peak_s == pytest.approx(100 + 285 + 6.5, abs=8)


def test_a_rise_held_for_less_than_60_s_does_not_confirm():
    # ΔTb climbs 1.2 °C/min to 2.2 °C (≥ 2.0 from 800 s), plateaus, then falls 1 °C/min.
    def pulse(plateau_end):
        return lambda t: (28.0 + np.clip((t - 700) / 60 * 1.2, 0, 2.2)
                          - np.clip((t - plateau_end) / 60 * 1.0, 0, 2.2))
    # Above 2.0 °C from 800 s to 837 s: 37 s.
    assert run(readings(pulse(825), flat(28.0), 1500), criteria="rise-2").verdict.state is not VerdictState.CONFIRMED
    # Above 2.0 °C from 800 s to 882 s: confirmed at about 800 + 60 + smoothing lag.
    v = run(readings(pulse(870), flat(28.0), 1500), criteria="rise-2").verdict
    assert v.state is VerdictState.CONFIRMED and 860 <= v.confirmed_at_s <= 860 + 10


def _drop(rs: list[Reading], start: float, length: float, limb: Limb = Limb.LEFT) -> list[Reading]:
    return [r for r in rs if not (r.limb is limb and start <= r.session_s < start + length)]


def test_gaps_up_to_5_s_are_tolerated_longer_ones_break_the_hold():
    rs = readings(ramp(28.0, 700, 1.0, cap_c=5), flat(28.0), 1500)
    confirm = run(rs).verdict.confirmed_at_s
    assert run(_drop(rs, confirm - 30, 4)).verdict.confirmed_at_s == confirm
    broken = run(_drop(rs, confirm - 30, 8))
    assert broken.verdict.confirmed_at_s >= confirm - 30 + 8 + 60
    assert ArtefactKind.NO_DATA in kinds(broken, Limb.LEFT)
    no_data = [a for a in broken.artefacts if a.kind is ArtefactKind.NO_DATA][0]
    assert no_data.end_s - no_data.start_s == pytest.approx(9, abs=0.01)


def test_a_sensor_fault_breaks_the_hold_and_is_never_a_temperature():
    rs = readings(ramp(28.0, 700, 1.0, cap_c=5), flat(28.0), 1500)
    confirm = run(rs).verdict.confirmed_at_s
    faulty = [Reading(r.limb, None, ProbeStatus.OPEN_CIRCUIT, r.session_s, r.wall_time)
              if r.limb is Limb.RIGHT and confirm - 20 <= r.session_s < confirm - 17 else r for r in rs]
    p = run(faulty)
    assert p.verdict.confirmed_at_s >= confirm - 17 + 60
    seg = [a for a in p.artefacts if a.kind is ArtefactKind.SENSOR_FAULT]
    assert len(seg) == 1 and seg[0].limb is Limb.RIGHT and seg[0].start_s == pytest.approx(confirm - 20)
    s = p.series(Limb.RIGHT)
    assert not s.valid[(s.t_s >= confirm - 20) & (s.t_s < confirm - 17)].any()


@pytest.mark.parametrize("value", [45.0, 10.0, 14.99])
def test_out_of_range_values_are_invalid(value):
    rs = readings(flat(28.0), flat(28.0), 400)
    rs = [Reading(r.limb, value, r.status, r.session_s, 0.0) if r.limb is Limb.LEFT and 300 <= r.session_s < 305
          else r for r in rs]
    p = run(rs, markers=())
    assert kinds(p, Limb.LEFT).count(ArtefactKind.OUT_OF_RANGE) == 1
    s = p.series(Limb.LEFT)
    assert np.isnan(s.smooth_c[~s.valid]).all() and np.nanmax(s.smooth_c) < 28.1


def test_a_single_spike_neither_moves_the_smoothed_signal_nor_counts_as_touch():
    rs = readings(flat(28.0), flat(28.0), 600, noise_c=0.0)
    rs = [Reading(r.limb, 38.0, r.status, r.session_s, 0.0) if r.limb is Limb.LEFT and r.session_s == 400 else r
          for r in rs]
    p = run(rs, markers=())
    s = p.series(Limb.LEFT)
    assert np.nanmax(np.abs(s.smooth_c - 28.0)) < 1e-9
    assert ArtefactKind.TOUCH not in kinds(p)


def test_smoothing_lag_on_a_ramp_is_documented_and_under_15_s():
    cfg = PipelineConfig()
    rs = readings(ramp(28.0, 300, 1.0), flat(28.0), 900, noise_c=0.0)
    s = BlockPipeline(Limb.LEFT).series(Limb.LEFT)  # empty before readings
    assert s.t_s.size == 0
    p = run(rs, markers=())
    s = p.series(Limb.LEFT)
    late = s.t_s > 500
    true = 28.0 + (s.t_s[late] - 300) / 60.0
    lag = np.median((true - s.smooth_c[late]) * 60.0)  # °C behind at 1 °C/min → seconds
    assert lag == pytest.approx(cfg.smoothing_lag_s, abs=1.0)
    assert lag < 15


def test_touch_is_flagged_and_cannot_confirm_a_failed_block():
    def hand(t):  # a warm hand for 90 s: a step of several °C within seconds, then decay after release
        on = (t >= 1200) & (t < 1290)
        after = t >= 1290
        v = np.full(t.shape, 27.0)
        v[on] += 7.5 * (1 - np.exp(-(t[on] - 1200) / 4))
        v[after] += 7.5 * np.exp(-(t[after] - 1290) / 25)
        return v
    p = run(readings(hand, flat(27.0), 2400))
    touch = [a for a in p.artefacts if a.kind is ArtefactKind.TOUCH]
    assert len(touch) == 1 and touch[0].limb is Limb.LEFT
    assert 1185 <= touch[0].start_s <= 1201 and touch[0].end_s >= 1330
    assert p.verdict.state is not VerdictState.CONFIRMED
    assert p.criteria_met_at["rise-2"] is None and p.criteria_met_at["di-dc-1.5"] is None
    s = p.series(Limb.LEFT)
    assert (s.flags[(s.t_s >= 1205) & (s.t_s < 1300)] != 0).all()


def test_probe_lift_on_the_other_foot_cannot_inflate_di_minus_dc():
    def lifted(t):
        v = np.full(t.shape, 27.5)
        on = (t >= 1200) & (t < 1400)
        v[on] += (23.0 - 27.5) * (1 - np.exp(-(t[on] - 1200) / 40))
        back = t >= 1400
        v[back] += (23.0 - 27.5) * (1 - np.exp(-200 / 40)) * np.exp(-(t[back] - 1400) / 60)
        return v
    p = run(readings(flat(27.0), lifted, 2400), criteria="di-dc-1.5")
    lift = [a for a in p.artefacts if a.kind is ArtefactKind.PROBE_LIFTED]
    assert len(lift) == 1 and lift[0].limb is Limb.RIGHT and lift[0].start_s <= 1205
    assert p.verdict.state is not VerdictState.CONFIRMED


def test_settling_is_flagged_and_kept_out_of_the_baseline():
    settle = lambda t: 30.0 + (23.0 - 30.0) * np.exp(-t / 60.0)  # noqa: E731
    p = run(readings(settle, settle, 900), markers=[injection(200)])
    seg = [a for a in p.artefacts if a.kind is ArtefactKind.SETTLING]
    assert {a.limb for a in seg} == set(Limb) and all(a.start_s == 0 and a.end_s > 150 for a in seg)
    assert ArtefactKind.TOUCH not in kinds(p)
    warnings = " ".join(w for b in p.baselines.values() for w in b.warnings)
    assert "attached less than 5 minutes" in warnings


def test_frozen_device_by_sequence_and_by_identical_fine_values_but_not_a_stable_coarse_probe():
    rs = []
    for i in range(400):
        seq = 100 if 200 <= i < 230 else i  # the device repeats one frame for 30 s
        rs.append(Reading(Limb.LEFT, 28.0 + 0.01 * (i % 3), ProbeStatus.OK, float(i), 0.0, sequence=seq))
        # Right: identical 28.37 for 120 s on a probe that otherwise varies in hundredths.
        value = 28.37 if 150 <= i < 270 else 28.3 + 0.01 * (i % 5)
        rs.append(Reading(Limb.RIGHT, value, ProbeStatus.OK, float(i), 0.0))
    p = run(rs, markers=())
    left = [a for a in p.artefacts if a.limb is Limb.LEFT and a.kind is ArtefactKind.FROZEN]
    right = [a for a in p.artefacts if a.limb is Limb.RIGHT and a.kind is ArtefactKind.FROZEN]
    assert [(a.start_s, a.end_s) for a in left] == [(201.0, 230.0)]
    assert [(a.start_s, a.end_s) for a in right] == [(150.0, 270.0)]
    # A stable foot on a 0.1 °C probe repeats its value for minutes: not frozen.
    coarse = [Reading(limb, 28.0 if (i // 200) % 2 == 0 else 28.1, ProbeStatus.OK, float(i), 0.0)
              for i in range(800) for limb in Limb]
    assert ArtefactKind.FROZEN not in kinds(run(coarse, markers=()))


def test_baseline_warnings_for_drift_and_a_mostly_invalid_window():
    drifting = run(readings(ramp(26.0, 0, 0.3), flat(28.0), 900))
    assert any("still drifting" in w for w in drifting.baselines[Limb.LEFT].warnings)
    assert not drifting.baselines[Limb.RIGHT].warnings
    rs = readings(flat(28.0), flat(28.0), 900)
    rs = [Reading(r.limb, None, ProbeStatus.OPEN_CIRCUIT, r.session_s, 0.0)
          if r.limb is Limb.RIGHT and 490 <= r.session_s < 590 else r for r in rs]
    p = run(rs)
    assert any("mostly invalid" in w for w in p.baselines[Limb.RIGHT].warnings)
    assert p.baselines[Limb.RIGHT].celsius == pytest.approx(28.0, abs=0.03)
    assert any("mostly invalid" in w for w in p.snapshot().warnings)


def test_several_injections_keep_the_first_baseline_unless_a_new_one_is_captured():
    curve = ramp(26.0, 300, 0.05)  # a slow drift, so the baseline depends on when it is taken
    rs = readings(curve, flat(28.0), 1800)
    first = run(rs, markers=[injection(600)]).baselines[Limb.LEFT].celsius
    assert first == pytest.approx(float(curve(np.array([540.0]))[0]), abs=0.03)  # the 2 min before it
    two = run(rs, markers=[injection(600), injection(1200)])
    assert two.baselines[Limb.LEFT].celsius == first and len(two.baseline_history) == 1
    # "Baseline start" at 1100 s: the new window starts there, clipped at the next injection.
    recaptured = run(rs, markers=[injection(600), Marker(MarkerKind.BASELINE, 1100), injection(1200)])
    info = recaptured.baselines[Limb.LEFT]
    assert (info.window_start_s, info.window_end_s) == (1100, 1200)
    assert info.celsius == pytest.approx(float(curve(np.array([1150.0]))[0]), abs=0.03)
    assert [b[Limb.LEFT].celsius for b in recaptured.baseline_history] == [first, info.celsius]


def _warms(at_s: float, by_c: float = 4.0):
    return ramp(28.0, at_s, 1.0, cap_c=by_c)


def test_baseline_start_before_the_injection_takes_the_window_from_the_marker_on():
    curve = ramp(26.0, 0, 0.05)
    rs = readings(curve, flat(28.0), 1500)
    p = BlockPipeline(Limb.LEFT)
    p.push_many([r for r in rs if r.session_s < 500])
    p.add_marker(Marker(MarkerKind.BASELINE, 400))  # pressed at 6:40, when the probes had settled
    snap = p.snapshot()
    assert snap.verdict.state is VerdictState.WAITING_FOR_BASELINE and snap.baseline_c[Limb.LEFT] is None
    assert snap.verdict.message.startswith("Taking the baseline from 6:40 to 8:40")
    assert snap.baseline_window_s == (400, 520)  # being taken: the display can draw it already
    p.push_many([r for r in rs if 500 <= r.session_s < 700])
    snap = p.snapshot()
    assert snap.verdict.state is VerdictState.BASELINE_CAPTURED
    expected = float(curve(np.array([460.0]))[0])  # the mean over 400–520 s
    assert snap.baseline_c[Limb.LEFT] == pytest.approx(expected, abs=0.02)
    assert snap.verdict.message.startswith(f"Baseline captured from 6:40 to 8:40: left {expected:.1f} °C, right 28.0 °C")
    assert snap.baseline_note == f"baseline captured from 6:40 to 8:40: left {expected:.1f} °C, right 28.0 °C"
    p.add_marker(injection(900))
    p.push_many([r for r in rs if r.session_s >= 700])
    p.finish()
    info = p.baselines[Limb.LEFT]
    assert (info.window_start_s, info.window_end_s) == (400, 520) and info.celsius == pytest.approx(expected, abs=0.02)
    assert p.verdict.state is VerdictState.MONITORING and "from 6:40 to 8:40" in p.verdict.message
    states = [v.state for _, v in p.verdict_changes]
    assert states[-3:] == [VerdictState.WAITING_FOR_BASELINE, VerdictState.BASELINE_CAPTURED, VerdictState.MONITORING]


def test_baseline_start_shortly_before_the_injection_is_clipped_there_with_a_warning():
    curve = ramp(26.0, 0, 0.05)
    rs = readings(curve, flat(28.0), 1200)
    p = run(rs, markers=[Marker(MarkerKind.BASELINE, 560), injection(600)])
    info = p.baselines[Limb.LEFT]
    assert (info.window_start_s, info.window_end_s) == (560, 600)
    assert info.celsius == pytest.approx(float(curve(np.array([580.0]))[0]), abs=0.02)
    short = [w for w in p.snapshot().warnings if "baseline window only 40 s long" in w]
    assert len(short) == 1  # shared by both feet, said once
    assert p.verdict.state is VerdictState.MONITORING
    # A full window fits: no warning; and the window length is configurable (1–5 min).
    assert not [w for w in run(rs, markers=[Marker(MarkerKind.BASELINE, 480), injection(600)]).snapshot().warnings
                if "window only" in w]
    one_min = run(rs, markers=[Marker(MarkerKind.BASELINE, 400), injection(600)],
                  config=PipelineConfig(baseline_window_s=60))
    assert (one_min.baselines[Limb.LEFT].window_start_s, one_min.baselines[Limb.LEFT].window_end_s) == (400, 460)
    # The last "Baseline start" before the injection counts.
    again = run(rs, markers=[Marker(MarkerKind.BASELINE, 200), Marker(MarkerKind.BASELINE, 450), injection(600)])
    assert again.baselines[Limb.LEFT].window_start_s == 450 and len(again.baseline_history) == 1


def test_a_probe_attached_less_than_5_minutes_before_the_window_is_warned_about():
    rs = readings(flat(28.0), flat(28.0), 1200)  # both probes attached at 0 s
    early = run(rs, markers=[Marker(MarkerKind.BASELINE, 200), injection(600)])
    assert any("attached less than 5 minutes before the baseline window" in w for w in early.snapshot().warnings)
    late = run(rs, markers=[Marker(MarkerKind.BASELINE, 320), injection(600)])
    assert not any("attached" in w for w in late.snapshot().warnings)


def test_a_new_baseline_after_an_injection_is_judged_from_the_next_injection():
    # The first injection (600 s) warms the blocked foot 1.8 °C only: not a block. The needle is
    # moved, a new baseline captured at 1100 s, a second injection at 1400 s; the foot then warms
    # 2.5 °C more. Against the first baseline the criteria would be met at ~1512 s.
    def course(t):
        return 28.0 + np.clip((t - 700) / 60, 0, 1.8) + np.clip((t - 1500) / 60, 0, 2.5)
    rs = readings(course, flat(28.0), 2400)
    markers = [injection(600), Marker(MarkerKind.BASELINE, 1100), injection(1400)]
    p = run(rs, markers=markers)
    info = p.baselines[Limb.LEFT]
    assert (info.window_start_s, info.window_end_s) == (1100, 1220)
    assert info.celsius == pytest.approx(29.8, abs=0.02) and p.snapshot().baseline_window_s == (1100, 1220)
    v = p.verdict
    # ΔTb ≥ 2.0 °C from the new baseline at 1620 s, + ~7 s smoothing lag + 60 s hold.
    assert v.state is VerdictState.CONFIRMED and 1680 <= v.confirmed_at_s <= 1680 + 15
    assert "after the repeat injection (attempt 2)" in v.message and v.attempt == 2  # timed from its own injection
    changes = [(t, v.state) for t, v in p.verdict_changes]
    assert (1100.0, VerdictState.WAITING_FOR_BASELINE) in changes
    assert (1220.0, VerdictState.BASELINE_CAPTURED) in changes and (1401.0, VerdictState.MONITORING) in changes
    captured = dict(changes and [(t, v.message) for t, v in p.verdict_changes])[1220.0]
    assert captured.startswith("New baseline captured from 18:20 to 20:20: left 29.8 °C, right 28.0 °C")
    # Rises are measured from the new baseline from the end of its window on.
    assert p.snapshot().rise_c[Limb.LEFT] == pytest.approx(2.5, abs=0.05)
    assert p.kinetics().peak_rise_c == pytest.approx(2.5, abs=0.05)
    # Without the new baseline, the first one stays and the block is confirmed earlier.
    old = run(rs, markers=[injection(600), injection(1400)])
    assert old.verdict.confirmed_at_s < 1600 and old.kinetics().peak_rise_c == pytest.approx(4.3, abs=0.05)


def test_the_hold_after_a_new_baseline_starts_after_the_next_injection_and_never_without_one():
    # No effect from the first injection; new baseline at 1100 s; the foot warms from 1250 s.
    rs = readings(_warms(1250), flat(28.0), 2000)
    with_inj = run(rs, markers=[injection(600), Marker(MarkerKind.BASELINE, 1100), injection(1400)])
    # ΔTb ≥ 2 since ~1377 s, but the hold starts after the injection at 1400 s.
    assert with_inj.verdict.confirmed_at_s == 1401 + 60
    alone = run(rs, markers=[injection(600), Marker(MarkerKind.BASELINE, 1100)])
    # No injection follows: the new attempt needs its own injection mark, so it is not judged.
    assert alone.verdict.state is VerdictState.BASELINE_CAPTURED and alone.verdict.attempt == 2
    assert "Mark the repeat injection" in alone.verdict.message
    # The capture window itself is never judged: a foot warming through it (+4 °C by 1240 s)
    # gives a new baseline of ~30.6 °C, from which the rise stays under 2 °C.
    rs = readings(_warms(1000), flat(28.0), 2000)
    assert run(rs, markers=[injection(600)]).verdict.state is VerdictState.CONFIRMED
    during = run(rs, markers=[injection(600), Marker(MarkerKind.BASELINE, 1100)])
    assert during.baselines[Limb.LEFT].celsius == pytest.approx(28.0 + 160 / 60, abs=0.05)
    assert any("still drifting" in w for w in during.snapshot().warnings)
    assert during.verdict.state is not VerdictState.CONFIRMED


def test_a_confirmation_before_a_new_baseline_stands():
    rs = readings(_warms(700), flat(28.0), 2000)
    p = run(rs, markers=[injection(600), Marker(MarkerKind.BASELINE, 1300), injection(1500)])
    first, second = p.attempts()
    assert first.verdict.state is VerdictState.CONFIRMED and first.confirmed_at_s < 1000  # it stands
    assert p.baselines[Limb.LEFT].window_start_s == 1300  # later rises are from the new baseline
    snap = p.snapshot()
    assert snap.rise_c[Limb.LEFT] == pytest.approx(0.0, abs=0.05)
    # ... and so the verdict on screen is the second attempt's, never CONFIRMED beside a rise of 0.
    assert snap.attempt == 2 and snap.verdict.state is not VerdictState.CONFIRMED
    assert [a.outcome for a in snap.earlier_attempts] == ["confirmed"]


def test_no_valid_reading_in_a_baseline_start_window_says_so():
    rs = [r for r in readings(flat(28.0), flat(28.0), 1200) if not (r.limb is Limb.RIGHT and 390 <= r.session_s < 700)]
    p = run(rs, markers=[Marker(MarkerKind.BASELINE, 400), injection(600)])
    assert p.baselines[Limb.RIGHT].celsius is None
    assert p.verdict.state is VerdictState.WAITING_FOR_BASELINE
    assert p.verdict.message.startswith("No valid baseline: no usable reading on both feet from 6:40 to 8:40")


def test_early_warming_is_shown_but_is_never_a_confirmation():
    p = run(readings(ramp(27.0, 620, 0.6, cap_c=1.0), flat(27.0), 1500))
    states = [v.state for _, v in p.verdict_changes]
    assert VerdictState.EARLY_WARMING in states and VerdictState.CONFIRMED not in states
    assert INJ < p.early_warming_at_s <= INJ + 300
    assert p.verdict.confirmed_at_s is None


def test_warm_start_gives_a_limited_headroom_notice():
    p = run(readings(ramp(32.5, 700, 1.0, cap_c=2.5), flat(31.0), 1500))
    assert p.warm_start and p.verdict.state is VerdictState.CONFIRMED
    assert any("limited headroom" in w for w in p.snapshot().warnings)
    assert not run(readings(flat(28.0), flat(28.0), 900)).warm_start


def test_not_confirmed_yet_after_n_minutes_is_information_and_a_later_confirmation_counts():
    cfg = PipelineConfig(not_confirmed_after_min=10)
    p = run(readings(ramp(27.0, 1500, 1.0, cap_c=4), flat(27.0), 2100), config=cfg)
    changes = [(t, v.state) for t, v in p.verdict_changes]
    assert (INJ + 600, VerdictState.NOT_CONFIRMED_YET) in changes
    assert "failed" not in dict((v.state, v.message) for _, v in p.verdict_changes)[VerdictState.NOT_CONFIRMED_YET]
    assert p.verdict.state is VerdictState.CONFIRMED and p.verdict.confirmed_at_s > INJ + 600


def test_systemic_warming_fools_rise_alone_but_not_the_default():
    both = ramp(27.0, 700, 0.5, cap_c=3.0)
    assert run(readings(both, both, 2000)).verdict.state is not VerdictState.CONFIRMED
    assert run(readings(both, both, 2000), criteria="rise-2").verdict.state is VerdictState.CONFIRMED


def test_core_criterion_uses_the_core_temperature():
    rs = readings(ramp(30.0, 700, 1.0, cap_c=4.0), flat(29.0), 1500)
    p = run(rs, criteria="core-3", core_c=36.8)
    assert p.verdict.state is VerdictState.CONFIRMED
    # 30 + rise ≥ 33.8 at 700 + 228 s, plus lag and hold.
    assert 928 + 60 <= p.verdict.confirmed_at_s <= 928 + 60 + 15
    assert run(rs, criteria="core-3", core_c=38.0).verdict.state is not VerdictState.CONFIRMED


def test_snapshot_before_and_during_a_session():
    p = BlockPipeline(Limb.RIGHT)
    snap = p.snapshot()
    assert snap.verdict.state is VerdictState.WAITING_FOR_BASELINE and snap.raw_c[Limb.LEFT] is None
    p.push_many(readings(flat(28.0), flat(29.0), 500))
    p.push(Reading(Limb.LEFT, 28.0, ProbeStatus.OK, 520.0, 0.0))  # the right probe went quiet 21 s ago
    snap = p.snapshot()
    assert snap.verdict.state is VerdictState.BASELINE_CAPTURED
    assert snap.reading_age_s[Limb.RIGHT] == pytest.approx(21.0) and "no data" in snap.limb_status[Limb.RIGHT]
    assert snap.smooth_c[Limb.RIGHT] == pytest.approx(29.0, abs=0.03)
    assert any(a.kind is ArtefactKind.NO_DATA and a.end_s is None for a in p.artefacts)
    p.add_marker(injection(480.0))
    p.push_many(readings(flat(28.0), flat(29.0), 700, start_s=521))
    snap = p.snapshot()
    assert snap.verdict.state is VerdictState.MONITORING and snap.injection_s == 480.0
    assert snap.rise_c[Limb.RIGHT] == pytest.approx(0.0, abs=0.05) and snap.di_minus_dc_c == pytest.approx(0, abs=0.1)
    assert snap.slope_c_per_min == pytest.approx(0.0, abs=0.05)


def test_a_spike_in_the_baseline_window_does_not_shift_the_baseline():
    rs = readings(flat(28.0), flat(28.0), 900, noise_c=0.0)
    rs = [Reading(r.limb, 40.0, r.status, r.session_s, 0.0) if r.limb is Limb.LEFT and r.session_s == 550 else r
          for r in rs]
    assert run(rs).baselines[Limb.LEFT].celsius == pytest.approx(28.0, abs=1e-9)


def test_snapshot_ages_readings_against_the_session_clock():
    p = BlockPipeline(Limb.LEFT)
    p.push_many(readings(flat(28.0), flat(28.0), 100))
    assert p.snapshot().reading_age_s[Limb.LEFT] == pytest.approx(0.0)
    snap = p.snapshot(now_s=130.0)  # both probes quiet for 31 s
    assert snap.reading_age_s == {Limb.LEFT: pytest.approx(31.0), Limb.RIGHT: pytest.approx(31.0)}
    assert all("no data" in snap.limb_status[limb] for limb in Limb) and snap.now_s == 130.0


def test_a_heat_source_left_on_the_probe_stays_flagged():
    def pack(t):  # a warm pack put on the blocked foot's probe at 1200 s and left there
        v = np.full(t.shape, 27.0)
        on = t >= 1200
        v[on] += 7.0 * (1 - np.exp(-(t[on] - 1200) / 4))
        return v
    p = run(readings(pack, flat(27.0), 3000))
    touch = [a for a in p.artefacts if a.kind is ArtefactKind.TOUCH]
    assert len(touch) == 1 and touch[0].end_s is None
    assert all(v is None for v in p.criteria_met_at.values())


def test_a_probe_put_back_after_a_break_settles_again_rather_than_counting_as_touch():
    def retaped(t):  # off the skin (no data) 1000–1060 s, then re-taped: climbs back from 23 °C
        v = np.full(t.shape, 29.0)
        after = t >= 1060
        v[after] = 29.0 + (23.0 - 29.0) * np.exp(-(t[after] - 1060) / 60)
        return v
    rs = [r for r in readings(retaped, flat(29.0), 2400) if not (r.limb is Limb.LEFT and 1000 <= r.session_s < 1060)]
    p = run(rs)
    left = [a for a in p.artefacts if a.limb is Limb.LEFT]
    assert [a.kind for a in left] == [ArtefactKind.SETTLING, ArtefactKind.NO_DATA, ArtefactKind.SETTLING]
    assert left[-1].start_s == 1060 and left[-1].end_s is not None and left[-1].end_s < 1500
    # A probe left on the skin through a short dropout does not settle again.
    p = run(_drop(readings(flat(29.0), flat(29.0), 1500), 1000, 20))
    assert [a.kind for a in p.artefacts if a.limb is Limb.LEFT] == [ArtefactKind.SETTLING, ArtefactKind.NO_DATA]


def _hand(v: np.ndarray, t: np.ndarray, start: float, end: float, hand_c: float, share: float) -> np.ndarray:
    """A hand on the probe from start to end: the reading moves ``share`` of the way from the
    skin to the hand within seconds, and back (over ~25 s) after it is lifted."""
    out = v.copy()
    on = (t >= start) & (t < end)
    after = t >= end
    out[on] += (hand_c - v[on]) * share * (1 - np.exp(-(t[on] - start) / 4))
    out[after] += (hand_c - v[after]) * share * np.exp(-(t[after] - end) / 25)
    return out


def test_a_hand_on_the_probe_while_the_block_warms_the_foot_does_not_hide_the_block():
    """A nurse feels the blocked foot as it warms: when the hand is lifted the reading never falls
    back (the skin has caught up with it), but it goes on climbing beyond what a hand could do."""
    warming = ramp(28.0, 700.0, 1.2, cap_c=6.0)
    p = run(readings(lambda t: _hand(warming(t), t, 720.0, 840.0, 34.0, 0.6), flat(28.5), 2400))
    touch = [a for a in p.artefacts if a.kind is ArtefactKind.TOUCH]
    assert len(touch) == 1 and touch[0].limb is Limb.LEFT and touch[0].end_s is not None
    assert 900 < touch[0].end_s < 1150
    assert p.verdict.state is VerdictState.CONFIRMED and p.verdict.confirmed_at_s < touch[0].end_s + 120


def test_a_hand_pressed_harder_after_its_first_step_stays_flagged():
    """A second step (a firmer grip, a heat pack) is a new plateau, not skin warming beyond the hand."""
    def pressed(t):
        v = _hand(np.full(t.shape, 27.0), t, 1200.0, 2400.0, 35.0, 0.3)
        return _hand(v, t, 1400.0, 2400.0, 35.0, 0.8)
    p = run(readings(pressed, flat(27.0), 2400))
    touch = [a for a in p.artefacts if a.kind is ArtefactKind.TOUCH]
    assert len(touch) == 1 and touch[0].end_s is None
    assert all(v is None for v in p.criteria_met_at.values())


def test_a_hand_lifted_from_a_foot_nearing_the_hand_s_warmth_is_seen_by_its_fast_fall():
    """The reading falls back only ~0.7 °C (the skin has nearly caught up), but faster than skin
    can cool: the hand has gone, and the block is confirmed."""
    warming = ramp(28.0, 700.0, 1.2, cap_c=5.0)
    rs = readings(lambda t: _hand(warming(t), t, 760.0, 880.0, 35.0, 0.6), flat(28.5), 2400)
    p = run(rs)
    touch = [a for a in p.artefacts if a.kind is ArtefactKind.TOUCH]
    assert len(touch) == 1 and touch[0].end_s is not None and touch[0].end_s < 1000
    assert p.verdict.state is VerdictState.CONFIRMED
    # Without that rule the flag would stay for good (the fall is under the 1 °C release drop).
    p = run(rs, config=PipelineConfig(touch_release_fall_c=1e9))
    assert p.verdict.state is not VerdictState.CONFIRMED


def test_a_heat_pack_that_keeps_warming_beyond_skin_temperature_stays_flagged():
    """A step, then a climb beyond it to 39 °C (an exothermic pack): warmer than foot skin gets,
    so the climb does not end the touch as a warming foot's would."""
    def pack(t):
        v = np.full(t.shape, 27.0)
        on = t >= 1200
        v[on] += 8.0 * (1 - np.exp(-(t[on] - 1200) / 4)) + 4.0 * (1 - np.exp(-(t[on] - 1200) / 120))
        return v
    p = run(readings(pack, flat(27.0), 3000))
    touch = [a for a in p.artefacts if a.kind is ArtefactKind.TOUCH]
    assert len(touch) == 1 and touch[0].end_s is None
    assert all(v is None for v in p.criteria_met_at.values())


@pytest.mark.parametrize("criteria", ["default", "rise-1.5", "rise-2"])
def test_an_injection_marked_while_the_probes_still_settle_never_confirms_a_failed_block(criteria):
    # The settling climb goes on after the injection on both feet: a baseline taken from it
    # would overstate every rise, and a rise-only criterion would "confirm" this failed block.
    from bench.evaluation import simulate
    from monitor.pipeline.batch import analyze_arrays

    sim = simulate("failed", seed=1, blocked=Limb.LEFT)
    early = analyze_arrays(sim.limbs, Limb.LEFT, injection_s=90.0, criteria=criteria)
    assert early.outcome != "confirmed" and early.verdict.state is not VerdictState.CONFIRMED
    assert "No valid baseline" in early.verdict.message and "Baseline start" in early.verdict.message
    assert any("still settling" in w for info in early.baselines.values() for w in info.warnings)
    # A Baseline start marked once both probes have settled gives a baseline (and still no confirmation).
    later = analyze_arrays(sim.limbs, Limb.LEFT, injection_s=90.0, criteria=criteria,
                           markers=[Marker(MarkerKind.BASELINE, 420.0, "")])
    assert all(info.celsius is not None for info in later.baselines.values())
    assert later.outcome != "confirmed"
