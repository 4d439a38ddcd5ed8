"""The other foot cannot fool Di − Dc, and a hand that stays is touch for as long as it stays.

After a unilateral block the other foot stays flat or cools by at most ~1 °C in 30 min; it warms
only with the whole body (systemic warming). Each recording here would have confirmed a block
that did not happen on the detector before these rules (tests fail on the old code).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from monitor.model import Limb, Marker, MarkerKind
from monitor.pipeline import BlockPipeline
from monitor.pipeline.artefacts import ArtefactKind
from monitor.pipeline.batch import analyze_arrays
from monitor.pipeline.snapshot import SYSTEMIC_WORDS
from monitor.procedure.minutes import minute_table

from .helpers import flat, injection, ramp, readings

INJ = 600.0
END = 3000.0


def _systemic(level: float, start_s: float = 900.0, amp_c: float = 2.6, tau_s: float = 500.0):
    """A foot warmed by the whole body (a blanket, sedation): an exponential approach."""
    return lambda t: level + np.where(t > start_s, amp_c * (1.0 - np.exp(-(t - start_s) / tau_s)), 0.0)


def _loosening(curve, start_s: float, room_c: float = 23.0, share: float = 1.0, tau_s: float = 400.0,
               end_s: float = np.inf):
    """The probe's tape lets go over minutes: the reading heads toward room temperature, and
    settles back onto the skin (tau 60 s) if re-taped at ``end_s``."""
    def reading(t: np.ndarray) -> np.ndarray:
        skin = curve(t)
        off = share * (1.0 - np.exp(-np.clip(np.minimum(t, end_s) - start_s, 0, None) / tau_s))
        off = np.where(t >= end_s, off * np.exp(-np.clip(t - end_s, 0, None) / 60.0), off)
        return skin + (room_c - skin) * off
    return reading


def _hand(curve, start_s: float, end_s: float, hand_c: float, tau_s: float, share: float = 1.0):
    def reading(t: np.ndarray) -> np.ndarray:
        skin = curve(t)
        on = (t >= start_s) & (t < end_s)
        grip = share * (1.0 - np.exp(-np.clip(t - start_s, 0, None) / tau_s))
        return np.where(on, skin + (hand_c - skin) * grip, skin)
    return reading


def _run(left, right, end_s: float = END, markers: list[Marker] | None = None, criteria: str = "default"
         ) -> BlockPipeline:
    pipe = BlockPipeline(Limb.LEFT, criteria)  # left blocked, right the other foot
    pipe.push_many(readings(left, right, end_s))
    pipe.set_markers([injection(INJ), *(markers or [])])
    pipe.finish()
    return pipe


def _flags(pipe: BlockPipeline, limb: Limb, kind: ArtefactKind):
    return [a for a in pipe.artefacts if a.limb is limb and a.kind is kind]


def test_a_loosening_other_probe_during_systemic_warming_does_not_confirm_and_says_why():
    """Both feet warm 2.6 °C together; the other foot's tape lets go (toward 23 °C over minutes)."""
    left = _systemic(26.0, amp_c=2.6)
    right = _loosening(_systemic(26.5, amp_c=2.6), start_s=1500.0, tau_s=300.0)
    pipe = _run(left, right)
    assert not pipe.verdict.is_confirmed, pipe.verdict
    lifted = _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
    assert lifted and "other foot's probe" in lifted[0].reason
    assert not _flags(pipe, Limb.LEFT, ArtefactKind.PROBE_LIFTED)  # the blocked foot kept its readings
    # The rise-only preset is met (that is its published meaning) and the report can say the
    # other foot had warmed too.
    assert pipe.criteria_met_at["rise-2"] is not None
    notes = pipe.snapshot().criteria_notes
    assert "systemic, not a block sign" in notes["rise-2"]
    assert pipe.criteria_met_at["default"] is None


def test_a_very_slow_fall_of_the_other_foot_is_flagged_once_deeper_than_that_foot_cools():
    """1.3 °C over 25 min: under the rate rules, deeper than the other foot cools (≤ ~1 °C / 30 min)."""
    right = lambda t: 27.0 - np.clip(t - 1200.0, 0, 1500.0) * (1.3 / 1500.0)  # noqa: E731
    pipe = _run(flat(27.0), right)
    deep = _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
    assert deep and "below its level of the last 30 min" in deep[0].reason
    assert 1200.0 + 1000.0 < deep[0].start_s < 1200.0 + 1500.0


def test_the_other_foot_cooling_as_it_does_after_a_block_is_not_flagged_and_the_block_confirms():
    """Flat, then cooling 0.8 °C over 30 min (Irazuzta 1992) while the blocked foot warms."""
    right = lambda t: 27.0 - np.clip(t - 900.0, 0, 1800.0) * (0.8 / 1800.0)  # noqa: E731
    pipe = _run(ramp(26.0, 900.0, 1.0, 5.0), right)
    assert not _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
    assert pipe.verdict.is_confirmed


def test_a_lifted_other_probe_carried_back_up_by_systemic_warming_stays_flagged_until_re_taped():
    """Lifted half-way toward the room at 1000 s; the body's warming then lifts its reading back
    near the pre-lift level without the probe being on the skin. Re-taped at 2200 s it climbs
    back, settles, and is trusted again."""
    skin_right = _systemic(24.5, start_s=1000.0, amp_c=2.5, tau_s=400.0)
    left = _systemic(25.0, start_s=1000.0, amp_c=2.5, tau_s=400.0)
    right = _loosening(skin_right, start_s=1000.0, share=0.6, tau_s=10.0, end_s=2200.0)
    pipe = _run(left, right, end_s=3000.0)
    [lift] = _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
    assert lift.end_s is not None and lift.end_s > 2200.0
    assert not pipe.verdict.is_confirmed


def test_the_nurse_s_probe_check_ends_a_loosening_flag_on_the_other_foot():
    right = _loosening(flat(27.0), start_s=1200.0, share=0.5, tau_s=200.0)
    unchecked = _run(flat(26.0), right)
    [open_lift] = _flags(unchecked, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
    assert open_lift.end_s is None
    checked = _run(flat(26.0), right, markers=[Marker(MarkerKind.PROBE_CHECKED, 2400.0, "right")])
    ended = [a for a in _flags(checked, Limb.RIGHT, ArtefactKind.PROBE_LIFTED) if a.ended_by_check]
    assert ended and ended[0].end_s == 2400.0


def test_di_minus_dc_counts_the_other_foot_s_highest_rise_so_a_probe_that_stops_following_the_body_cannot_make_one():
    """The other foot rose 1.5 °C with the body, then its probe reads a little lower (0.15 °C in 10
    min: no flag) while the body and the blocked foot warm on to +2.7 °C. Di − Dc is counted
    against its highest rise, not its latest reading: no confirmation."""
    left = _systemic(26.0, start_s=900.0, amp_c=3.0, tau_s=900.0)
    right_skin = _systemic(26.0, start_s=900.0, amp_c=3.0, tau_s=900.0)
    held = lambda t: np.where(t < 1500, right_skin(t), right_skin(1500.0) - np.clip(t - 1500, 0, 600) * 0.15 / 600)  # noqa: E731
    pipe = _run(left, held)
    snap = pipe.snapshot()
    assert snap.di_minus_dc_c is not None and snap.di_minus_dc_judged_c is not None
    assert snap.di_minus_dc_judged_c < 1.5 and snap.di_minus_dc_c - snap.di_minus_dc_judged_c >= 0.1
    assert any(w.startswith("Di − Dc counted as") for w in snap.warnings)
    assert not pipe.verdict.is_confirmed
    assert pipe.criteria_met_at["di-dc-1.5"] is None


def _held_then_falling(fall_c: float) -> tuple[Callable, Callable]:
    """Both feet warm with the body; from 1500 s the other probe reads ``fall_c`` lower over 10
    min (too slowly for the loosening rules) while the blocked foot warms on."""
    left = _systemic(26.0, start_s=900.0, amp_c=3.0, tau_s=900.0)
    skin = _systemic(26.0, start_s=900.0, amp_c=3.0, tau_s=900.0)
    return left, lambda t: np.where(t < 1500, skin(t), skin(1500.0) - np.clip(t - 1500, 0, 600) * fall_c / 600)


def test_an_other_foot_that_warmed_with_the_body_and_then_turns_back_is_left_out_until_checked():
    """Skin warming with the whole body does not cool back within minutes; a probe loosening as
    it warms does. The other foot rose 1.5 °C, then fell 0.4 °C back: from then on Di − Dc leaves
    it out (no number on the snapshot, the reason stored as a lifted probe) until the nurse checks it."""
    left, right = _held_then_falling(0.4)
    pipe = _run(left, right)
    snap = pipe.snapshot()
    assert snap.di_minus_dc_c is None and snap.rise_c[Limb.RIGHT] is None
    assert snap.rise_withheld[Limb.RIGHT] == snap.limb_status[Limb.RIGHT] == ArtefactKind.PROBE_LIFTED.plain
    [words] = [w for w in snap.warnings if w.startswith("The other foot's probe may be loose")]
    [seg] = [a for a in _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED) if a.reason.startswith(
        "the other foot's probe may be loose")]
    assert words == seg.reason[:1].upper() + seg.reason[1:] + "."
    assert seg.end_s is None and 1500.0 < seg.start_s < 2100.0
    assert not pipe.verdict.is_confirmed and pipe.criteria_met_at["di-dc-1.5"] is None
    # Every view of that stretch shows the same: no minute value, no Di − Dc on the plot's curve.
    late = [r for r in minute_table(pipe, INJ, END) if r.session_s > seg.start_s + 15.0]
    assert late and all(r.rise_c[Limb.RIGHT] is None and r.di_minus_dc_c is None for r in late)
    diff = pipe.difference_series()
    assert np.isnan(diff.di_minus_dc_c[diff.t_s > seg.start_s]).all()
    # ... nor in the kinetics the report and `analyze` print (the old max Di − Dc was +1.6 °C).
    kin = pipe.kinetics()
    assert kin.max_di_minus_dc_c is not None and kin.max_di_minus_dc_c < 1.0
    assert not np.isnan(diff.di_minus_dc_c[(diff.t_s > INJ + 120) & (diff.t_s < seg.start_s - 30)]).any()
    checked = _run(left, right, markers=[Marker(MarkerKind.PROBE_CHECKED, 2500.0, "right")])
    [ended] = [a for a in _flags(checked, Limb.RIGHT, ArtefactKind.PROBE_LIFTED) if a.reason.startswith(
        "the other foot's probe may be loose")]
    assert ended.end_s == 2500.0 and ended.ended_by_check
    after = checked.snapshot()
    assert after.rise_withheld[Limb.RIGHT] is None and after.limb_status[Limb.RIGHT] == "OK"


def test_the_turn_back_rule_is_the_same_live_and_in_batch():
    left, right = _held_then_falling(0.4)
    t = np.arange(0.0, 3000.0, 1.0)
    limbs = {Limb.LEFT: (t, np.round(left(t), 2), np.zeros(t.size, np.int8)),
             Limb.RIGHT: (t, np.round(right(t), 2), np.zeros(t.size, np.int8))}
    batch = analyze_arrays(limbs, Limb.LEFT, INJ)
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(Marker(MarkerKind.INJECTION, INJ, "injection"))
    for a in range(0, t.size, 37):
        for limb, (tt, cc, ss) in limbs.items():
            live.push_arrays(limb, tt[a:a + 37], cc[a:a + 37], ss[a:a + 37])
        live.snapshot()
    live.finish()
    assert live.artefacts == batch.artefacts
    assert live.criteria_met_at == batch.criteria_met_at_s


def test_systemic_warming_is_said_in_words_on_the_snapshot_and_not_for_a_one_sided_block():
    both = _run(_systemic(26.0), _systemic(26.5))
    snap = both.snapshot()
    assert snap.systemic_warming is not None and snap.systemic_warming.startswith(SYSTEMIC_WORDS)
    assert snap.warnings[-1] == snap.systemic_warming
    assert not both.verdict.is_confirmed and both.criteria_met_at["rise-2"] is not None
    block = _run(ramp(26.0, 900.0, 1.0, 5.0), flat(26.5))
    assert block.snapshot().systemic_warming is None and block.verdict.is_confirmed


def test_a_block_confirms_through_a_lift_of_the_other_probe_once_it_is_re_taped():
    right = _loosening(flat(27.0), start_s=1300.0, share=0.9, tau_s=20.0, end_s=1600.0)
    pipe = _run(ramp(26.0, 900.0, 1.0, 5.0), right)
    [lift] = _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
    assert lift.end_s is not None and lift.end_s < 1900.0
    assert pipe.verdict.is_confirmed


def test_a_hand_pulling_the_reading_over_half_a_minute_is_touch_and_stays_touch_while_it_rests():
    """A hand with slow contact (tau 18 s) adds 2.4 °C: under the 10 s step, faster than skin
    warms over 30 s. It rests 12 min on a failed block's foot."""
    left = _hand(flat(28.0), 1200.0, 1920.0, hand_c=30.4, tau_s=18.0)
    pipe = _run(left, flat(27.5))
    [touch] = _flags(pipe, Limb.LEFT, ArtefactKind.TOUCH)
    assert "in 30 s" in touch.reason
    assert touch.start_s < 1215.0 and (touch.end_s is None or touch.end_s > 1900.0)
    assert not pipe.verdict.is_confirmed


def test_a_hand_still_pulling_after_a_minute_is_not_taken_for_skin_warming_beyond_it():
    """A hand at 35 °C pulls a 25 °C foot with tau 22 s: after a minute the reading still climbs
    the last degree. That climb is the hand's, not skin warming beyond the hand's plateau."""
    left = _hand(flat(25.0), 1200.0, 2200.0, hand_c=35.0, tau_s=22.0)
    pipe = _run(left, flat(27.0))
    [touch] = _flags(pipe, Limb.LEFT, ArtefactKind.TOUCH)
    assert touch.end_s is None or touch.end_s >= 2200.0
    assert not pipe.verdict.is_confirmed


def test_a_re_taped_probe_climbing_back_to_its_own_earlier_level_is_not_a_touch():
    """A loosened blocked-foot probe re-taped: the climb back is faster than skin warms, but to no
    more than the foot's own level of the minutes before (a hand would pull it beyond)."""
    left = _loosening(flat(29.0), start_s=1200.0, share=0.8, tau_s=150.0, end_s=1700.0)
    pipe = _run(left, flat(28.0))
    assert not _flags(pipe, Limb.LEFT, ArtefactKind.TOUCH)


def test_live_equals_batch_with_the_other_foot_rules():
    left = _systemic(26.0)
    right = _loosening(_systemic(26.5), start_s=1500.0, tau_s=300.0, end_s=2300.0)
    rs = readings(left, right, END)
    batch = BlockPipeline(Limb.LEFT)
    batch.push_many(rs)
    batch.add_marker(injection(INJ))
    batch.finish()
    live = BlockPipeline(Limb.LEFT)
    live.add_marker(injection(INJ))
    for r in rs:
        live.push(r)
        live.verdict  # noqa: B018 - after every reading: the scalar path
    live.finish()
    assert live.artefacts == batch.artefacts and live.verdict_changes == batch.verdict_changes
    assert live.criteria_met_at == batch.criteria_met_at
    assert live.criteria_other_rise_c == batch.criteria_other_rise_c
    for limb in Limb:
        np.testing.assert_array_equal(live.series(limb).flags, batch.series(limb).flags)


def test_the_core_s_words_never_print_minus_zero():
    from monitor.pipeline.snapshot import criteria_notes, signed_c

    assert signed_c(-0.03) == "+0.0" and signed_c(-0.06) == "-0.1" and signed_c(0.04) == "+0.0"
    notes = criteria_notes({"rise-2": 900.0}, {"rise-2": -0.03}, {"rise-2"}, 1.0)
    assert "-0.0" not in notes["rise-2"] and "+0.0 °C" in notes["rise-2"]


def test_a_light_hand_on_the_other_foot_is_touch_and_its_release_no_loosening():
    """A hand that adds only 0.8 °C (little contact) within half a minute: on the blocked foot that
    could be skin, on the other foot, which warms only with the body, it is a hand. Flagged as
    touch, its release is its end, not a lift that never ends (it was one before)."""
    right = _hand(flat(27.0), start_s=1200.0, end_s=1350.0, hand_c=35.0, tau_s=8.0, share=0.1)
    pipe = _run(flat(26.0), right)
    [touch] = _flags(pipe, Limb.RIGHT, ArtefactKind.TOUCH)
    assert 1195.0 <= touch.start_s <= 1240.0 and touch.end_s is not None and touch.end_s < 1500.0
    assert not _flags(pipe, Limb.RIGHT, ArtefactKind.PROBE_LIFTED)
