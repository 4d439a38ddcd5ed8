"""The nurse's "probe checked" marker ends an open touch or lift on that foot at its time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading
from monitor.pipeline import BlockPipeline, VerdictState
from monitor.pipeline.artefacts import ArtefactKind
from monitor.pipeline.batch import analyze

from .helpers import injection, ramp, readings

CHECK_S = 1500.0


def _right_lifted(t: np.ndarray) -> np.ndarray:
    """The contralateral probe falls off at 1100 s; re-taped, it reads 1.2 °C lower for good, so
    the detector never sees it "come back" and the lift would stay open for the session."""
    return np.where(t < 1100, 27.0, np.where(t < 1106, 27.0 - (t - 1100) * 0.2, 25.8))


def _recording(end_s: float = 2400) -> list[Reading]:
    return readings(ramp(27.0, 1300, 1.0, 4.0), _right_lifted, end_s)


def _checked(limb: Limb = Limb.RIGHT, at: float = CHECK_S) -> Marker:
    return Marker(MarkerKind.PROBE_CHECKED, at, str(limb))


def _batch(rs, markers) -> BlockPipeline:
    p = BlockPipeline(Limb.LEFT)
    p.push_many(rs)
    p.set_markers(markers)
    p.finish()
    return p


def _lifts(p: BlockPipeline):
    return [a for a in p.artefacts if a.kind is ArtefactKind.PROBE_LIFTED]


def _assert_same(live: BlockPipeline, batch: BlockPipeline) -> None:
    assert live.artefacts == batch.artefacts
    assert live.verdict_changes == batch.verdict_changes
    assert live.criteria_met_at == batch.criteria_met_at
    for limb in Limb:
        a, b = live.series(limb), batch.series(limb)
        np.testing.assert_array_equal(a.smooth_c, b.smooth_c)
        np.testing.assert_array_equal(a.flags, b.flags)
    da, db = live.difference_series(), batch.difference_series()
    np.testing.assert_array_equal(da.t_s, db.t_s)
    np.testing.assert_array_equal(da.di_minus_dc_c, db.di_minus_dc_c)


def test_a_lift_that_never_comes_back_blocks_confirmation_until_the_nurse_checks_the_probe():
    rs = _recording()
    unchecked = _batch(rs, [injection(900)])
    [lift] = _lifts(unchecked)
    assert lift.limb is Limb.RIGHT and lift.end_s is None and not lift.ended_by_check
    assert unchecked.verdict.state is not VerdictState.CONFIRMED

    checked = _batch(rs, [injection(900), _checked()])
    [lift] = _lifts(checked)
    assert lift.limb is Limb.RIGHT and lift.end_s == CHECK_S and lift.ended_by_check
    assert lift.reason == ArtefactKind.PROBE_LIFTED.plain  # the reason is kept
    assert checked.verdict.state is VerdictState.CONFIRMED
    assert checked.verdict.confirmed_at_s > CHECK_S


def test_a_check_on_the_other_foot_or_before_the_lift_changes_nothing():
    rs = _recording()
    plain = _batch(rs, [injection(900)])
    for marker in (_checked(Limb.LEFT), _checked(Limb.RIGHT, at=1000.0)):
        p = _batch(rs, [injection(900), marker])
        assert p.artefacts == plain.artefacts and p.verdict_changes == plain.verdict_changes


def test_after_the_check_a_new_lift_is_detected_again():
    def right(t):
        second = np.where(t < 1800, 0.0, np.minimum((t - 1800) * 0.2, 1.2))
        return _right_lifted(t) - second

    p = _batch(readings(ramp(27.0, 1300, 1.0, 4.0), right, 2400), [injection(900), _checked()])
    lifts = _lifts(p)
    assert len(lifts) == 2
    assert lifts[0].end_s == CHECK_S and lifts[0].ended_by_check
    assert 1780 <= lifts[1].start_s <= 1810 and not lifts[1].ended_by_check


def test_a_check_does_not_end_a_sensor_fault():
    rs = [r if not (r.limb is Limb.RIGHT and r.session_s >= 1100) else
          replace(r, celsius=None, status=ProbeStatus.OPEN_CIRCUIT) for r in _recording(1800)]
    p = _batch(rs, [injection(900), _checked()])
    faults = [a for a in p.artefacts if a.kind is ArtefactKind.SENSOR_FAULT]
    assert faults and all(f.end_s is None and not f.ended_by_check for f in faults)


def test_a_check_must_name_a_foot_plainly():
    p = BlockPipeline(Limb.LEFT)
    with pytest.raises(ValueError, match="'left' or 'right'"):
        p.add_marker(Marker(MarkerKind.PROBE_CHECKED, 10.0, "both"))
    assert p.markers == []


def test_marked_live_as_it_happens_equals_the_batch():
    rs = _recording()
    batch = _batch(rs, [injection(900), _checked()])
    live = BlockPipeline(Limb.LEFT)
    ask = np.cumsum(np.random.default_rng(11).integers(1, 9, size=len(rs)))
    next_ask, marked = 0, set()
    for i, r in enumerate(rs):
        for m in (injection(900), _checked()):
            if m.kind not in marked and r.session_s >= m.session_s:
                live.add_marker(m)  # the nurse presses the key now: later than every reading so far
                marked.add(m.kind)
        live.push(r)
        if i == ask[next_ask]:
            next_ask += 1
            live.verdict  # noqa: B018 - processing between readings is the point
            if next_ask % 5 == 0:
                live.difference_series()
    live.finish()
    _assert_same(live, batch)
    assert live.verdict.state is VerdictState.CONFIRMED


def test_a_check_placed_late_moved_or_removed_rejudges_like_the_batch():
    rs = _recording()
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(injection(900))
    half = len(rs) * 3 // 4  # up to about 1800 s
    live.push_many(rs[:half])
    live.verdict  # noqa: B018 - the lift has been judged open over the past
    late = replace(_checked(), placed_s=1790.0, id=7)
    live.add_marker(late)  # placed now, dated back to 1500 s
    live.verdict  # noqa: B018
    moved = replace(late, session_s=1600.0)
    live.set_markers([injection(900), moved])
    live.verdict  # noqa: B018
    live.push_many(rs[half:])
    live.finish()
    _assert_same(live, _batch(rs, [injection(900), moved]))
    assert _lifts(live)[0].end_s == 1600.0

    live.set_markers([injection(900)])  # removed: the lift is open again, as if never checked
    _assert_same(live, _batch(rs, [injection(900)]))
    assert _lifts(live)[0].end_s is None


def test_analyze_takes_the_check_from_the_markers():
    rs = _recording()
    result = analyze(rs, Limb.LEFT, markers=[injection(900), _checked()])
    assert result.verdict.state is VerdictState.CONFIRMED
    assert any(a.ended_by_check for a in result.artefacts)


def test_a_check_round_trips_through_the_interchange_csv_and_is_analysed_the_same(tmp_path):
    from monitor.csvio import read_interchange_csv, write_interchange_csv

    rs = _recording()
    path = tmp_path / "checked.csv"
    write_interchange_csv(path, rs, {"blocked": "left"}, markers=[injection(900), _checked()])
    rec = read_interchange_csv(path)
    [check] = [m for m in rec.markers if m.kind is MarkerKind.PROBE_CHECKED]
    assert (check.session_s, check.text, check.checked_limb) == (CHECK_S, "right", Limb.RIGHT)
    result = analyze(rec, Limb.LEFT)
    direct = analyze(rs, Limb.LEFT, markers=[injection(900), _checked()])
    assert result.verdict == direct.verdict and result.verdict.state is VerdictState.CONFIRMED
    assert result.artefacts == direct.artefacts


def test_a_csv_check_that_names_no_foot_is_refused_in_plain_words(tmp_path):
    from monitor.csvio import CsvFormatError, read_interchange_csv

    path = tmp_path / "bad.csv"
    path.write_text("# marker: probe_checked,1500,both\ntime_s,left_c,right_c\n0,27,27\n")
    with pytest.raises(CsvFormatError, match="line 1: a 'probe checked' marker must name the foot"):
        read_interchange_csv(path)
