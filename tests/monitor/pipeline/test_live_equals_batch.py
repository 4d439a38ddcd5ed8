"""The live path (one reading at a time, results asked for after each) equals the batch path."""

from __future__ import annotations

import numpy as np
import pytest

from bench.evaluation import simulate
from monitor.model import PROBE_STATUS_CODES, Limb, Marker, MarkerKind, Reading
from monitor.pipeline import BlockPipeline
from monitor.pipeline.batch import analyze_arrays
from monitor.simulation.physiology import SCENARIOS


def _interleaved(rec) -> list[Reading]:
    out = []
    for limb, (t, c, s) in rec.limbs.items():
        for ti, ci, si in zip(t.tolist(), c.tolist(), s.tolist(), strict=True):
            out.append(Reading(limb, None if np.isnan(ci) else ci, PROBE_STATUS_CODES[si], ti, 0.0))
    out.sort(key=lambda r: (r.session_s, r.limb is Limb.RIGHT))
    return out


def _batch(rec, blocked: Limb, markers: list[Marker], *, finish: bool = True) -> BlockPipeline:
    """The whole recording at once (the vectorised path), with its markers."""
    pipe = BlockPipeline(blocked)
    for limb, arrays in rec.limbs.items():
        pipe.push_arrays(limb, *arrays)
    pipe.set_markers(markers)
    if finish:
        pipe.finish()
    return pipe


def _assert_same_difference(live: BlockPipeline, batch: BlockPipeline) -> None:
    a, b = live.difference_series(), batch.difference_series()
    assert a.relative_to_baseline == b.relative_to_baseline
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.di_minus_dc_c, b.di_minus_dc_c)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_live_processing_gives_the_batch_results(scenario):
    rec = simulate(scenario, seed=3, blocked=Limb.RIGHT, observe_after_s=2600.0)
    inj = rec.model.injection_s
    batch_pipe = _batch(rec, Limb.RIGHT, [Marker(MarkerKind.INJECTION, inj)])

    live = BlockPipeline(Limb.RIGHT)
    marked = False
    seen_states = []
    # Ask for results after chunks of 1 to 24 readings, as a GUI polling at an uneven pace does.
    ask = np.cumsum(np.random.default_rng(7).integers(1, 25, size=20000))
    next_ask = 0
    for i, r in enumerate(_interleaved(rec)):
        if not marked and r.session_s >= inj:
            live.add_marker(Marker(MarkerKind.INJECTION, inj))  # marked as it happens
            marked = True
        live.push(r)
        if i == ask[next_ask]:
            next_ask += 1
            seen_states.append(live.snapshot().verdict.state if next_ask % 10 == 0 else live.verdict.state)
            if next_ask % 3 == 0:
                live.difference_series()
    live.finish()

    assert live.verdict_changes == batch_pipe.verdict_changes
    assert live.artefacts == batch_pipe.artefacts
    assert live.criteria_met_at == batch_pipe.criteria_met_at
    assert live.early_warming_at_s == batch_pipe.early_warming_at_s
    assert live.baselines == batch_pipe.baselines
    assert live.kinetics() == batch_pipe.kinetics()
    for limb in Limb:
        a, b = live.series(limb), batch_pipe.series(limb)
        for field in ("t_s", "raw_c", "smooth_c", "valid", "flags"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    _assert_same_difference(live, batch_pipe)
    # The analyse() path agrees too, and the live verdict passed through the same states.
    result = analyze_arrays(rec.limbs, Limb.RIGHT, inj)
    assert result.verdict == batch_pipe.verdict
    assert [v.state for _, v in live.verdict_changes][-1] == live.verdict.state
    assert set(seen_states) <= {v.state for _, v in live.verdict_changes} | {seen_states[0]}


_SLOW = pytest.mark.slow


@pytest.mark.parametrize("scenario,seed", [("touch", 5), ("probe-lift", 5), ("dropout", 5), ("sensor-fault", 5),
                                           ("systemic-slow-lift", 5), ("systemic-slow-lift", 34),
                                           pytest.param("systemic-quick-lift", 2, marks=_SLOW),
                                           pytest.param("sustained-hand", 5, marks=_SLOW),
                                           pytest.param("block-other-lift", 4, marks=_SLOW),
                                           pytest.param("slow-loosening", 3, marks=_SLOW)])
def test_results_after_every_single_reading_equal_the_batch(scenario, seed):
    """Exercises the scalar one-reading path against the vectorised one (the other foot's rules,
    its recent high and the slower hand included)."""
    rec = simulate(scenario, seed=seed, blocked=Limb.LEFT, observe_after_s=1800.0)
    inj = rec.model.injection_s
    batch = _batch(rec, Limb.LEFT, [Marker(MarkerKind.INJECTION, inj)])
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(Marker(MarkerKind.INJECTION, inj))
    for r in _interleaved(rec):
        live.push(r)
        live.verdict  # noqa: B018 - processing after every reading is the point
        if len(live.series(Limb.LEFT).t_s) % 17 == 0:
            live.difference_series()  # a GUI redraw: cached and extended
    live.finish()
    assert live.artefacts == batch.artefacts and live.verdict_changes == batch.verdict_changes
    _assert_same_difference(live, batch)
    for limb in Limb:
        a, b = live.series(limb), batch.series(limb)
        np.testing.assert_array_equal(a.smooth_c, b.smooth_c)
        np.testing.assert_array_equal(a.flags, b.flags)


@pytest.mark.parametrize("scenario,handling", [("success-fast", "hand-while-warming"), ("failed", "hand-pressed"),
                                               ("success-slow", "loose-blocked")])
def test_handling_outside_the_suite_is_judged_the_same_live_and_offline(scenario, handling):
    """The touch release rules (a rise beyond the hand's plateau, a fast fall, a second step)
    carry their state between chunks."""
    rec = simulate(scenario, seed=2, blocked=Limb.LEFT, observe_after_s=2400.0, handling=handling)
    inj = rec.model.injection_s
    batch = _batch(rec, Limb.LEFT, [Marker(MarkerKind.INJECTION, inj)])
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(Marker(MarkerKind.INJECTION, inj))
    ask = np.cumsum(np.random.default_rng(3).integers(1, 12, size=20000))
    next_ask = 0
    for i, r in enumerate(_interleaved(rec)):
        live.push(r)
        if i == ask[next_ask]:
            next_ask += 1
            live.verdict  # noqa: B018
    live.finish()
    assert live.artefacts == batch.artefacts and live.verdict_changes == batch.verdict_changes
    assert any(a.kind in ("touch", "probe_lifted") and a.limb is Limb.LEFT for a in batch.artefacts)
    for limb in Limb:
        np.testing.assert_array_equal(live.series(limb).flags, batch.series(limb).flags)
    _assert_same_difference(live, batch)


def test_a_long_gap_is_judged_the_same_live_and_offline():
    """Live, the first 5 s of a gap are judged before anyone knows it will last longer."""
    from .helpers import flat, injection, ramp, readings

    rs = readings(ramp(28.0, 700, 1.0, cap_c=5), flat(28.0), 1400)
    whole = BlockPipeline(Limb.LEFT)
    whole.push_many(rs)
    whole.add_marker(injection(600))
    whole.finish()
    confirm = whole.verdict.confirmed_at_s
    gapped = [r for r in rs if not (r.limb is Limb.RIGHT and confirm - 3 < r.session_s < confirm + 30)]
    batch = BlockPipeline(Limb.LEFT)
    batch.push_many(gapped)
    batch.add_marker(injection(600))
    batch.finish()
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(injection(600))
    for r in gapped:
        live.push(r)
        live.verdict  # noqa: B018
    live.finish()
    assert live.verdict == batch.verdict and live.kinetics() == batch.kinetics()
    assert batch.verdict.confirmed_at_s == confirm  # within the 5 s tolerance when the hold completed


def test_a_long_silence_or_a_mistyped_time_asks_for_no_empty_grid():
    from .helpers import flat, injection, readings

    rs = readings(flat(28.0), flat(28.5), 1200)
    rs += [Reading(limb, 28.0, r.status, r.session_s + 5e9, 0.0) for r in rs[-40:] for limb in [r.limb]]
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(injection(600))
    for r in rs:
        live.push(r)
        live.verdict  # noqa: B018
    live.finish()
    batch = BlockPipeline(Limb.LEFT)
    batch.push_many(rs)
    batch.add_marker(injection(600))
    batch.finish()
    assert live.verdict_changes == batch.verdict_changes and live.kinetics() == batch.kinetics()
    assert len(batch._ticks.t) < 1200 + 2 * 600 + 100  # the silence of 5e9 s holds no grid points
    # "Not confirmed yet" (40 min after the injection) falls in the silence: given at the next reading.
    assert batch.verdict_changes[-1][0] >= 5e9


@pytest.mark.parametrize("scenario", ["success-slow", "failed", "touch"])
def test_baseline_start_marks_before_and_after_the_injection_give_the_batch_results(scenario):
    """"Baseline start" before the injection, and a new baseline with a second injection later,
    each marked live as it happens (a marker may arrive a few seconds after its time)."""
    rec = simulate(scenario, seed=4, blocked=Limb.LEFT, observe_after_s=2400.0)
    inj = rec.model.injection_s
    markers = [Marker(MarkerKind.BASELINE, inj - 150), Marker(MarkerKind.INJECTION, inj),
               Marker(MarkerKind.BASELINE, inj + 1300), Marker(MarkerKind.INJECTION, inj + 1380)]
    batch = _batch(rec, Limb.LEFT, markers)

    live = BlockPipeline(Limb.LEFT)
    pending = list(markers)
    ask = np.cumsum(np.random.default_rng(11).integers(1, 30, size=20000))
    next_ask = 0
    for i, r in enumerate(_interleaved(rec)):
        while pending and r.session_s >= pending[0].session_s + 3.0:
            live.add_marker(pending.pop(0))
        live.push(r)
        if i == ask[next_ask]:
            next_ask += 1
            live.snapshot()
            live.difference_series()
    for m in pending:
        live.add_marker(m)
    live.finish()

    assert [(b[Limb.LEFT].window_start_s, b[Limb.LEFT].window_end_s) for b in batch.baseline_history] == [
        (inj - 150, inj - 30), (inj + 1300, inj + 1380)]
    assert live.verdict_changes == batch.verdict_changes
    assert live.baseline_history == batch.baseline_history and live.baselines == batch.baselines
    assert live.criteria_met_at == batch.criteria_met_at and live.kinetics() == batch.kinetics()
    assert live.snapshot().baseline_note == batch.snapshot().baseline_note
    _assert_same_difference(live, batch)
    result = analyze_arrays(rec.limbs, Limb.LEFT, None, markers=markers)
    assert result.verdict == batch.verdict and result.baselines == batch.baselines


@pytest.mark.parametrize("scenario", ["success-slow", "touch", "probe-lift", "dropout", "sensor-fault"])
@pytest.mark.parametrize("every_s", [10.0, 30.0])
def test_a_slow_ble_thermometer_is_judged_the_same_live_and_offline(scenario, every_s):
    """One reading every 10 or 30 s (a Health Thermometer's Measurement Interval)."""
    rec = simulate(scenario, seed=5, blocked=Limb.LEFT, rate_hz=1.0 / every_s, observe_after_s=2400.0)
    inj = rec.model.injection_s
    batch = _batch(rec, Limb.LEFT, [Marker(MarkerKind.INJECTION, inj)])
    live = BlockPipeline(Limb.LEFT)
    for r in _interleaved(rec):
        if r.session_s >= inj and not live.markers:
            live.add_marker(Marker(MarkerKind.INJECTION, inj))
        live.push(r)
        live.snapshot()
    live.finish()
    assert live.verdict_changes == batch.verdict_changes
    assert live.artefacts == batch.artefacts
    assert live.kinetics() == batch.kinetics()
    for limb in Limb:
        np.testing.assert_array_equal(live.series(limb).flags, batch.series(limb).flags)
        np.testing.assert_array_equal(live.series(limb).smooth_c, batch.series(limb).smooth_c)
    _assert_same_difference(live, batch)
    if scenario == "success-slow":
        assert batch.verdict.state.value == "confirmed"


@pytest.mark.parametrize("scenario,handling", [("failed", "hand-pressed"), ("success-slow", "loose-blocked")])
def test_a_probe_check_during_handling_is_judged_the_same_live_and_offline(scenario, handling):
    """The nurse checks the handled probe while its touch or lift is open, marked live as it
    happens; the event ends at the check, identically in both paths."""
    rec = simulate(scenario, seed=2, blocked=Limb.LEFT, observe_after_s=2400.0, handling=handling)
    inj = rec.model.injection_s
    plain = _batch(rec, Limb.LEFT, [Marker(MarkerKind.INJECTION, inj)], finish=False)
    handled = next(a for a in plain.artefacts if a.kind in ("touch", "probe_lifted") and a.limb is Limb.LEFT)
    check = Marker(MarkerKind.PROBE_CHECKED, handled.start_s + 40.0, "left")
    batch = _batch(rec, Limb.LEFT, [Marker(MarkerKind.INJECTION, inj), check])
    ended = [a for a in batch.artefacts if a.ended_by_check]
    assert len(ended) == 1 and ended[0].end_s == check.session_s and ended[0].start_s == handled.start_s

    live = BlockPipeline(Limb.LEFT)
    live.add_marker(Marker(MarkerKind.INJECTION, inj))
    ask = np.cumsum(np.random.default_rng(5).integers(1, 12, size=20000))
    next_ask, checked = 0, False
    for i, r in enumerate(_interleaved(rec)):
        if not checked and r.session_s >= check.session_s:
            live.add_marker(check)
            checked = True
        live.push(r)
        if i == ask[next_ask]:
            next_ask += 1
            live.verdict  # noqa: B018
    live.finish()
    assert live.artefacts == batch.artefacts and live.verdict_changes == batch.verdict_changes
    for limb in Limb:
        np.testing.assert_array_equal(live.series(limb).flags, batch.series(limb).flags)
    _assert_same_difference(live, batch)
