"""Attempts: a new baseline after an injection starts a new attempt with its own injection,
verdict and kinetics; a confirmation is never lost or rewritten; a late injection mark is found."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.model import Limb, Marker, MarkerKind
from monitor.pipeline import BlockPipeline, VerdictState
from monitor.pipeline.timefmt import format_session_time
from tests.monitor.pipeline.helpers import flat, injection, ramp, readings


def run(rs, markers):
    p = BlockPipeline(Limb.LEFT)
    p.push_many(rs)
    p.set_markers(markers)
    p.finish()
    return p


def test_a_confirmation_stays_in_its_attempt_and_the_screen_never_says_confirmed_beside_a_zero_rise():
    # Warms 4 °C after the injection at 600 s (confirmed), a new baseline at 1300 s.
    rs = readings(ramp(28.0, 700, 1.0, cap_c=4.0), flat(28.0), 2000)
    p = run(rs, [injection(600), Marker(MarkerKind.BASELINE, 1300)])
    first, second = p.attempts()
    assert first.outcome == "confirmed" and first.confirmed_at_s < 1000 and first.ended_s == 1300
    assert first.kinetics.peak_rise_c == pytest.approx(4.0, abs=0.1), "its own kinetics, from its own baseline"
    snap = p.snapshot()
    assert snap.rise_c[Limb.LEFT] == pytest.approx(0.0, abs=0.05)  # from the new baseline
    assert snap.attempt == 2 and snap.verdict.state is VerdictState.BASELINE_CAPTURED
    assert snap.verdict.attempt == 2 and "repeat injection" in snap.verdict.message
    assert [a.outcome_words for a in snap.earlier_attempts] == [first.outcome_words]
    assert second.outcome == "no_injection" and second.kinetics.peak_rise_c is None
    # The logged history keeps the first attempt's confirmation, then the second attempt's changes.
    changes = p.verdict_changes
    assert [v.attempt for _, v in changes] == sorted(v.attempt for _, v in changes)
    assert any(v.state is VerdictState.CONFIRMED and v.attempt == 1 for _, v in changes)


def test_each_attempt_is_judged_from_its_own_injection_against_its_own_baseline():
    # No effect after the first injection (600 s); new baseline at 1100 s; the second injection
    # at 1400 s warms the foot from 1450 s.
    rs = readings(ramp(28.0, 1450, 1.0, cap_c=3.0), flat(28.0), 2600)
    p = run(rs, [injection(600), Marker(MarkerKind.BASELINE, 1100), injection(1400)])
    first, second = p.attempts()
    assert first.injections_s == (600,) and second.injections_s == (1400,)
    assert first.outcome == "not_confirmed" and first.verdict.state is VerdictState.NOT_CONFIRMED_YET
    assert "attempt 1" in first.verdict.message
    assert second.outcome == "confirmed" and 1400 < second.confirmed_at_s < 1700
    assert second.kinetics.time_to_plus_1c_s == pytest.approx(50 + 60 + 7, abs=10)  # after ITS injection
    assert p.verdict == second.verdict and p.kinetics() == second.kinetics
    # Two Baseline marks with no injection between them: the later one counts (one attempt).
    again = run(rs, [injection(600), Marker(MarkerKind.BASELINE, 1000), Marker(MarkerKind.BASELINE, 1100),
                     injection(1400)])
    assert [a.baseline_window_s for a in again.attempts()] == [(480, 600), (1100, 1220)]


def test_an_injection_marked_after_the_blocked_foot_began_to_warm_is_found():
    rs = readings(ramp(28.0, 477, 1.0, cap_c=4.0), flat(28.0), 1500)  # warming from 7:57
    p = run(rs, [injection(600)])
    late = p.snapshot().late_injection
    assert late is not None and late.injection_s == 600
    assert 470 <= late.warming_since_s <= 495  # within the smoothing's lag of the true start
    assert f"already warming at {format_session_time(late.warming_since_s)}; was the injection earlier?" in late.words
    assert late.words in p.snapshot().warnings
    # Set back to that time, the baseline is taken from before it and the finding is gone.
    fixed = run(rs, [injection(late.warming_since_s)])
    assert fixed.snapshot().late_injection is None
    assert fixed.baselines[Limb.LEFT].window_end_s == late.warming_since_s
    assert fixed.baselines[Limb.LEFT].celsius == pytest.approx(28.0, abs=0.05)
    # A warm room warms both feet: not the block, no finding; nor on a foot that stays flat.
    both = readings(ramp(28.0, 300, 0.3, cap_c=3.0), ramp(28.5, 300, 0.3, cap_c=3.0), 1500)
    assert run(both, [injection(600)]).snapshot().late_injection is None
    assert run(readings(flat(28.0), flat(28.0), 1500), [injection(600)]).snapshot().late_injection is None


def test_one_attempt_sessions_are_judged_as_before():
    rs = readings(ramp(28.0, 700, 1.0, cap_c=4.0), flat(28.0), 2000)
    p = run(rs, [injection(600)])
    [only] = p.attempts()
    assert only.number == 1 and only.verdict == p.verdict and p.snapshot().attempt == 1
    assert p.snapshot().earlier_attempts == () and np.isfinite(only.confirmed_at_s)
