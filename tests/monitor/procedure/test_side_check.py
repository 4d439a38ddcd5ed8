"""The side check's judgement on the simulated patient's probes, just taped on (see side_check_series)."""

from __future__ import annotations

import pytest

from monitor.model import Limb, ProbeStatus
from monitor.procedure.side_check import SideCheck, SideCheckPhase, SideCheckState
from tests.monitor.procedure.side_check_series import Hand, taped_on_series


def _run(readings, check: SideCheck | None = None) -> tuple[SideCheck, list[tuple[float, SideCheckState]]]:
    check = check or SideCheck()
    return check, [(r.session_s, check.add_reading(r)) for r in readings]


def _phases(states) -> list[SideCheckPhase]:
    out: list[SideCheckPhase] = []
    for _t, st in states:
        if not out or out[-1] is not st.phase:
            out.append(st.phase)
    return out


def _settled_at(states) -> float:
    return next(t for t, st in states if st.phase is not SideCheckPhase.SETTLING)


@pytest.mark.parametrize("scenario", ["success-fast", "success-slow", "failed", "warm-start"])
@pytest.mark.parametrize("seed", [1, 2, 5])
def test_probes_settling_and_skin_warming_by_itself_give_no_verdict(scenario, seed):
    # 25 minutes untouched: the probes settle (both climb by up to 7 °C), the simulated block warms
    # the blocked foot slowly after the injection. No tile may light on any of it.
    _check, states = _run(taped_on_series(1500.0, seed=seed, scenario=scenario))
    assert all(st.responded is None and not st.final for _t, st in states)
    assert _phases(states)[:2] == [SideCheckPhase.SETTLING, SideCheckPhase.WARM]
    first = states[0][1]
    assert first.title == "Waiting for the probes to settle"
    assert 60.0 <= _settled_at(states) <= 420.0  # both probes need a minute of steady readings at least


def test_while_settling_it_waits_and_says_so():
    _check, states = _run(taped_on_series(90.0))
    st = states[-1][1]
    assert st.phase is SideCheckPhase.SETTLING
    assert "Keep your hands off both probes" in st.detail and "°C/min" in st.detail
    assert all(not p.settled and p.change_c is None for p in st.probes.values())


@pytest.mark.parametrize("rate_hz", [1.0, 10.0])
def test_the_left_probe_warmed_in_a_hand_confirms_left(rate_hz):
    steady = _settled_at(_run(taped_on_series(600.0))[1])
    on = steady + 30.0
    _check, states = _run(taped_on_series(on + 120.0, Hand(Limb.LEFT, on, on + 30.0), rate_hz=rate_hz))
    assert _phases(states) == [SideCheckPhase.SETTLING, SideCheckPhase.WARM, SideCheckPhase.CONFIRMED]
    confirmed_at, confirmed = next((t, st) for t, st in states if st.final)
    assert on + 5.0 <= confirmed_at <= on + 15.0  # held 5 s once clear
    assert confirmed.probes[Limb.LEFT].change_c > 3.0 > 0.5 > confirmed.probes[Limb.RIGHT].change_c
    st = states[-1][1]  # 90 s after letting go: still confirmed
    assert st.responded is Limb.LEFT and not st.offer_swap
    assert st.title == "LEFT confirmed: the sides are right"


def test_the_right_probe_warmed_says_the_sides_look_swapped_and_offers_to_swap():
    steady = _settled_at(_run(taped_on_series(600.0))[1])
    on = steady + 20.0
    _check, states = _run(taped_on_series(on + 60.0, Hand(Limb.RIGHT, on)))
    st = states[-1][1]
    assert st.phase is SideCheckPhase.SWAPPED and st.responded is Limb.RIGHT and st.offer_swap
    assert st.title == "Sides look swapped"
    assert "You warmed the LEFT probe, but the RIGHT tile responded" in st.detail
    assert all(s.responded is None for _t, s in states if _t < on)


@pytest.mark.parametrize("seed", [1, 2, 3, 6, 7])
def test_both_probes_warmed_is_not_clear(seed):
    # Two hands, a second apart. Both end near the hand's temperature, so the colder foot's probe
    # rises more: by more than 1 °C for some seeds. That is still not clear.
    steady = _settled_at(_run(taped_on_series(600.0, seed=seed))[1])
    on = steady + 20.0
    hands = (Hand(Limb.LEFT, on + 1.0, on + 40.0), Hand(Limb.RIGHT, on, on + 40.0))
    _check, states = _run(taped_on_series(on + 200.0, *hands, seed=seed))
    assert all(st.responded is None for _t, st in states)
    during = [st for t, st in states if on + 10.0 <= t <= on + 40.0]
    assert during and all(st.phase is SideCheckPhase.NOT_CLEAR for st in during)
    assert during[-1].title == "Not clear: warm the LEFT probe in your hand"
    assert "Both probes rose" in during[-1].detail
    assert states[-1][1].phase is SideCheckPhase.WARM  # let go and cooled: ready for a proper try


def test_a_hand_on_a_probe_before_both_settled_decides_nothing_and_the_check_starts_again():
    # The probe can settle at the hand's temperature; let go, it falls: never a verdict, and the
    # check waits for both to settle again, so the LEFT probe warmed then is judged from there.
    _check, states = _run(taped_on_series(900.0, Hand(Limb.LEFT, 60.0, 200.0)))
    assert all(st.responded is None for _t, st in states)
    again = [t for (t, st), (_t0, before) in zip(states[1:], states, strict=False)
             if before.phase is SideCheckPhase.SETTLING and st.phase is SideCheckPhase.WARM]
    assert again and again[-1] > 200.0
    on = again[-1] + 20.0
    _check, states = _run(taped_on_series(on + 30.0, Hand(Limb.LEFT, 60.0, 200.0), Hand(Limb.LEFT, on)))
    assert states[-1][1].phase is SideCheckPhase.CONFIRMED


def test_a_probe_fault_waits_for_both_probes_to_settle_again():
    steady = _settled_at(_run(taped_on_series(600.0))[1])
    readings = taped_on_series(steady + 10.0)
    check, _states = _run(readings)
    st = check.add(steady + 11.0, Limb.LEFT, None, ProbeStatus.OPEN_CIRCUIT)
    assert st.phase is SideCheckPhase.SETTLING
    assert st.probes[Limb.LEFT].problem == ProbeStatus.OPEN_CIRCUIT.plain
    assert ProbeStatus.OPEN_CIRCUIT.plain in st.detail
    # Readings again: judged only after a minute of steady readings from it.
    later = [r for r in taped_on_series(steady + 120.0) if r.session_s > steady + 11.0]
    _check, states = _run(later, check)
    assert _settled_at(states) >= steady + 11.0 + 45.0


def test_a_silent_probe_holds_the_judgement():
    steady = _settled_at(_run(taped_on_series(600.0))[1])
    on = steady + 20.0
    readings = [r for r in taped_on_series(on + 30.0, Hand(Limb.LEFT, on))
                if r.limb is Limb.LEFT or r.session_s < on - 15.0]  # the RIGHT probe stopped sending
    _check, states = _run(readings)
    st = states[-1][1]
    assert st.phase is SideCheckPhase.SETTLING and st.responded is None
    assert st.probes[Limb.RIGHT].problem.startswith("no reading for ")


def test_no_minus_zero_in_the_words():
    check = SideCheck()
    for i in range(120):
        check.add(float(i), Limb.LEFT, 30.0 + (0.01 if i % 2 else -0.01))
        st = check.add(float(i), Limb.RIGHT, 29.0)
    assert st.phase is SideCheckPhase.WARM
    assert "−0.0" not in st.detail and "-0.0" not in st.detail
    assert all(p.change_c is not None and abs(p.change_c) < 0.05 for p in st.probes.values())


def test_a_slowly_reporting_probe_is_judged_as_it_reports():
    # One foot's thermometer every 15 s, the other every second: no "no reading" between its reports.
    readings = [r for r in taped_on_series(600.0) if r.limb is Limb.LEFT or r.session_s % 15 == 0]
    _check, states = _run(readings)
    assert states[-1][1].phase is SideCheckPhase.WARM
    assert all(not st.probes[Limb.RIGHT].problem for t, st in states if t > 60.0)
