"""The in-process simulated patient source."""

from __future__ import annotations

import time

import pytest

from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb, ProbeStatus
from monitor.simulation.physiology import PatientModel
from monitor.simulation.source import SimulatedSource
from monitor.simulation.wire import SimulatedProbeWire


def test_manual_clock_steps_deterministically():
    clock = SimulatedClock(manual=True)
    src = SimulatedSource("success-fast", seed=4, clock=clock, rate_hz=2.0)
    assert src.identity.simulated and src.identity.kind == "simulated"
    src.start()
    assert src.state is ConnectionState.STREAMING
    assert src.step_to(10.0) == 21  # t = 0, 0.5, ..., 10.0
    assert clock.now() == 10.0
    readings = src.drain()
    assert [r.session_s for r in readings if r.limb is Limb.LEFT] == [i / 2 for i in range(21)]
    assert {r.limb for r in readings} == {Limb.LEFT, Limb.RIGHT}
    assert all(r.source == src.identity.key for r in readings)
    # Probes settle from room temperature toward skin: the first value is near 23 °C.
    assert abs(readings[0].celsius - 23.0) < 0.5
    # Same seed, same readings.
    other = SimulatedSource("success-fast", seed=4, clock=SimulatedClock(manual=True), rate_hz=2.0)
    other.start()
    other.step_to(10.0)
    assert [r.celsius for r in other.drain()] == [r.celsius for r in readings]
    src.stop()
    assert src.state is ConnectionState.STOPPED


def test_block_warms_the_blocked_foot_after_the_suggested_injection():
    src = SimulatedSource("success-fast", seed=2, clock=SimulatedClock(manual=True), blocked=Limb.RIGHT)
    inj = src.suggested_injection_s
    assert 120 < inj < 900
    src.start()
    src.step_to(inj + 2400)
    readings = src.drain()
    right = [r.celsius for r in readings if r.limb is Limb.RIGHT and r.has_temperature]
    at_inj = [r.celsius for r in readings if r.limb is Limb.RIGHT and abs(r.session_s - inj) < 1][0]
    assert max(right) - at_inj > 2.5


def test_sensor_fault_scenario_reports_fault_statuses():
    src = SimulatedSource("sensor-fault", seed=1, clock=SimulatedClock(manual=True))
    src.start()
    src.step_to(src.suggested_injection_s + 1600)
    statuses = {r.status for r in src.drain()}
    assert ProbeStatus.OPEN_CIRCUIT in statuses and ProbeStatus.SHORT_CIRCUIT in statuses


def test_dropouts_show_as_lost_frames_in_health():
    src = SimulatedSource("dropout", seed=1, clock=SimulatedClock(manual=True))
    src.start()
    src.step_to(src.suggested_injection_s + 600)
    times = [r.session_s for r in src.drain() if r.limb is Limb.LEFT]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b - a > 1.5]
    assert gaps, "the dropout scenario must leave gaps"
    health = src.health()
    assert health.lost_frames >= sum(round(g) - 1 for g in gaps)
    assert health.last_reading_age_s[Limb.LEFT] is not None


def test_dropouts_are_one_foot_at_a_time_with_a_probe_per_foot():
    src = SimulatedSource("dropout", seed=1, clock=SimulatedClock(manual=True))
    src.start()
    src.step_to(src.suggested_injection_s + 3000)
    readings = src.drain()
    times = {limb: {r.session_s for r in readings if r.limb is limb} for limb in Limb}
    only_right = times[Limb.RIGHT] - times[Limb.LEFT]
    only_left = times[Limb.LEFT] - times[Limb.RIGHT]
    assert only_right and only_left, "each foot's probe drops out on its own"
    # The other foot goes on through every second one foot is missing; no second is lost by both
    # feet at once (the scenario's dropouts do not overlap).
    every = {float(t) for t in range(0, int(src.suggested_injection_s + 3000) + 1)}
    assert times[Limb.LEFT] | times[Limb.RIGHT] == every
    # Each probe counts its own lost frames.
    assert src.health().lost_frames == len(only_right) + len(only_left)


def test_a_two_channel_probe_loses_whole_frames_in_a_dropout():
    model = PatientModel.from_scenario("dropout", seed=1)
    wire = SimulatedProbeWire(model, per_foot=False)
    limbs_per_sample = [{s.limb for s in wire.sample(i, float(i))} for i in range(int(model.injection_s) + 3000)]
    assert {frozenset(x) for x in limbs_per_sample} == {frozenset(Limb), frozenset()}
    assert wire.lost_frames == sum(1 for x in limbs_per_sample if not x) > 0


def test_a_source_started_mid_patient_goes_on_without_settling_again():
    whole = PatientModel.from_scenario("success-slow", seed=3, blocked=Limb.LEFT)
    resume_at = whole.injection_s + 600.0
    src = SimulatedSource("success-slow", seed=3, clock=SimulatedClock(manual=True), start_at_s=resume_at,
                          injection_s=whole.injection_s)
    assert src.suggested_injection_s == whole.injection_s  # in the patient's (the session's) time
    src.start()
    src.step_to(300.0)
    readings = src.drain()
    assert readings[0].session_s == 0.0  # the source's own clock starts at zero
    for r in readings:
        truth = float(whole.truth(r.limb, r.session_s + resume_at))
        assert abs(r.celsius - truth) < 0.2, (r, truth)  # no dip toward room temperature
    # A source started at zero settles from room temperature, which is what the resume avoids.
    fresh = SimulatedSource("success-slow", seed=3, clock=SimulatedClock(manual=True))
    fresh.start()
    fresh.step_to(0.0)
    assert abs(fresh.drain()[0].celsius - 23.0) < 0.5
    with pytest.raises(ValueError, match="start_at_s"):
        SimulatedSource("success-slow", start_at_s=-1.0)


def test_threaded_source_runs_at_speed_and_stops():
    src = SimulatedSource("failed", seed=1, speed=200.0, rate_hz=1.0)
    src.start()
    deadline = time.monotonic() + 5.0
    got = []
    while time.monotonic() < deadline and len(got) < 60:
        got.extend(src.drain())
        time.sleep(0.02)
    src.stop()
    assert len(got) >= 60
    left = [r.session_s for r in got if r.limb is Limb.LEFT]
    assert left == sorted(left) and len(set(left)) == len(left)
    assert src.health().readings_per_s > 0


def test_unknown_scenario_is_a_plain_error():
    with pytest.raises(ValueError, match="unknown scenario"):
        SimulatedSource("nope")


def test_an_own_clock_starts_when_the_source_starts_not_when_it_is_built():
    source = SimulatedSource("success-fast", seed=1, speed=1000.0, rate_hz=1.0)
    time.sleep(0.5)  # 500 simulated seconds would pass here if the clock ran from construction
    source.start()
    try:
        assert source.clock.now() < 250.0
    finally:
        source.stop()


def test_measure_and_measure_series_read_the_same_probe_artefacts_included():
    """One implementation of the artefacts (lift, loosening, hand): a reading at a time and many at
    once give the same values from the same noise stream."""
    import numpy as np

    for name in ("probe-lift", "touch", "sustained-hand", "systemic-slow-lift", "sensor-fault"):
        t = np.arange(0.0, 2400.0, 7.0)
        one = PatientModel.from_scenario(name, seed=4, blocked=Limb.RIGHT)
        many = PatientModel.from_scenario(name, seed=4, blocked=Limb.RIGHT)
        for limb in Limb:
            singles = [one.measure(limb, float(x)) for x in t]
            celsius, status, present = many.measure_series(limb, t)
            for s, c, st, p in zip(singles, celsius, status, present, strict=True):
                if not p:
                    assert s is None
                elif st:
                    assert s is not None and s[0] is None
                else:
                    assert s is not None and s[0] == c


def test_a_resting_hand_holds_the_probe_near_its_temperature_with_a_living_hand_s_variation():
    import numpy as np

    for seed in range(1, 30):
        m = PatientModel.from_scenario("sustained-hand", seed=seed, blocked=Limb.LEFT)
        [hand] = m.artefacts
        if hand.end_s - hand.start_s > 400 and hand.share > 0.95:
            break
    t = np.arange(hand.start_s + 150.0, hand.start_s + 400.0, 1.0)
    value, _, _ = m.probe_reads(hand.limb, t)
    assert abs(float(np.median(value)) - hand.level_c) < 0.5
    wobble = value - np.convolve(value, np.ones(31) / 31, mode="same")
    assert 0.3 * hand.tremor_c < float(np.std(wobble[20:-20])) < 2 * hand.tremor_c
    assert not m.reads_skin(hand.limb, t).any() and m.reads_skin(hand.limb.other, t).all()
