"""The one replay of a stored session (monitor.procedure.replay) and the one criteria record
(monitor.procedure.criteria_record) it reads the criteria with."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.exports.session_data import load_session
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.pipeline import CRITERIA_PRESETS, BlockPipeline, Criteria
from monitor.pipeline.artefacts import ArtefactKind
from monitor.procedure.criteria_record import criteria_from_record, criteria_to_record
from monitor.procedure.minutes import minute_table
from monitor.procedure.replay import replay_session
from monitor.store import SessionStore

ADJUSTED = CRITERIA_PRESETS["default"].adjusted(min_rise_c=2.5, hold_s=90.0)


def _readings(until_s: float = 1500.0, *, left_until_s: float | None = None) -> list[Reading]:
    t = np.arange(0.0, until_s)
    warm = np.clip((t - 600.0) / 300.0, 0.0, 1.0) * 3.0
    out = []
    for i, s in enumerate(t):
        out.append(Reading(Limb.RIGHT, round(28.0 + warm[i] + 0.01 * np.sin(s / 5.0), 2), ProbeStatus.OK, float(s),
                           1.7e9 + s))
        if left_until_s is None or s < left_until_s:
            out.append(Reading(Limb.LEFT, round(28.3 + 0.01 * np.sin(s / 6.0), 2), ProbeStatus.OK, float(s),
                               1.7e9 + s))
    return out


def _store(tmp_path, readings, *, criteria: dict | None = None, core_c: float | None = None, close: bool = True,
           name: str = "s.sympatherm"):
    info = SessionInfo(patient_id="RP-1", blocked=Limb.RIGHT, core_c=core_c)
    store = SessionStore.create(info, tmp_path / name, criteria=criteria)
    store.add_readings(readings)
    store.add_marker(Marker(MarkerKind.INJECTION, 600.0))
    if close:
        store.close()
    else:
        store.commit()
    return store


def _by_hand(readings, markers, criteria="default", finish=True) -> BlockPipeline:
    pipe = BlockPipeline(Limb.RIGHT, criteria)
    pipe.push_many(sorted(readings, key=lambda r: r.session_s))
    pipe.set_markers(markers)
    if finish:
        pipe.finish()
    return pipe


def test_a_loaded_session_and_a_read_only_store_replay_alike_and_as_the_live_pipeline(tmp_path):
    readings = _readings()
    store = _store(tmp_path, readings, criteria=criteria_to_record(ADJUSTED))
    from_data = replay_session(load_session(store.path))
    with SessionStore.open_read_only(store.path) as ro:
        from_store = replay_session(ro)
    by_hand = _by_hand(readings, [Marker(MarkerKind.INJECTION, 600.0)], ADJUSTED)
    for pipe in (from_data, from_store):
        assert pipe.blocked is Limb.RIGHT
        assert pipe.criteria == ADJUSTED, "an adjusted preset is replayed with its own thresholds"
        assert pipe.verdict == by_hand.verdict and pipe.verdict.state == "confirmed"
        assert pipe.baselines == by_hand.baselines
        assert minute_table(pipe, 600.0, 1499.0) == minute_table(by_hand, 600.0, 1499.0)


def test_readings_are_replayed_in_time_order_whatever_order_they_were_stored_in(tmp_path):
    readings = _readings(900.0)
    shuffled = readings[::-1]
    store = _store(tmp_path, shuffled)
    pipe = replay_session(load_session(store.path))
    assert sum(len(pipe.series(limb).t_s) for limb in Limb) == len(readings), "none dropped as out of order"


def test_a_closed_session_is_finished_and_an_interrupted_one_is_not(tmp_path):
    readings = _readings(900.0, left_until_s=800.0)  # the left probe went silent 100 s before the end
    closed = replay_session(load_session(_store(tmp_path, readings).path))
    open_store = _store(tmp_path, readings, close=False, name="open.sympatherm")
    interrupted = replay_session(load_session(open_store.path))
    open_store.close()

    def silence(pipe):
        return [a for a in pipe.artefacts if a.kind is ArtefactKind.NO_DATA and a.limb is Limb.LEFT]

    [ended] = silence(closed)
    [still_open] = silence(interrupted)
    assert ended.end_s == pytest.approx(899.0) and still_open.end_s is None
    assert replay_session(load_session(open_store.path), finish=True).artefacts == closed.artefacts


def test_moved_markers_are_replayed_where_they_were_moved_to(tmp_path):
    store = _store(tmp_path, _readings(), close=False)
    [inj] = store.markers()
    store.move_marker(inj.id, 630.0, reason="placed late")
    store.close()
    pipe = replay_session(load_session(store.path))
    assert [m.session_s for m in pipe.markers] == [630.0]
    assert pipe.snapshot().injection_s == 630.0


def test_criteria_that_need_a_core_temperature_fall_back_to_the_default_without_one(tmp_path):
    core3 = criteria_to_record(CRITERIA_PRESETS["core-3"])
    without = replay_session(load_session(_store(tmp_path, _readings(900.0), criteria=core3).path))
    assert without.criteria == CRITERIA_PRESETS["default"]
    with_core = replay_session(load_session(_store(tmp_path, _readings(900.0), criteria=core3, core_c=36.8,
                                                   name="core.sympatherm").path))
    assert with_core.criteria == CRITERIA_PRESETS["core-3"] and with_core.core_c == 36.8


def test_the_overrides_are_what_analyze_passes(tmp_path):
    store = _store(tmp_path, _readings(900.0))
    with SessionStore.open_read_only(store.path) as ro:
        pipe = replay_session(ro, blocked=Limb.LEFT, criteria="rise-3", core_c=37.0, finish=False)
    assert pipe.blocked is Limb.LEFT and pipe.criteria.id == "rise-3" and pipe.core_c == 37.0


# ---- the criteria record ------------------------------------------------------------------
@pytest.mark.parametrize("criteria", [*CRITERIA_PRESETS.values(), ADJUSTED,
                                      Criteria("mine", "My own", "our unit's protocol", min_di_minus_dc_c=1.2)])
def test_criteria_round_trip_through_the_record(criteria):
    record = criteria_to_record(criteria)
    assert set(record) == {"id", "label", "source", "min_rise_c", "min_di_minus_dc_c", "core_within_c", "hold_s"}
    assert criteria_from_record(record) == criteria


@pytest.mark.parametrize(("record", "expected"), [
    (None, "default"),
    ({}, "default"),
    ({"id": "rise-2"}, "rise-2"),  # only the id: that preset
    ({"id": "rise-2", "min_rise_c": "lots"}, "rise-2"),  # not a number: the preset its id names
    ({"id": "rise-2", "min_rise_c": None}, "rise-2"),  # no threshold left: the preset
    ({"id": "rise-2", "hold_s": -5}, "rise-2"),  # a negative hold: the preset
    ({"id": "someone-elses", "min_rise_c": 2.0}, "default"),  # unknown, without label and source
    ({"id": "default", "min_rise_c": float("nan")}, "default"),
])
def test_a_record_that_gives_no_valid_criteria_falls_back_to_its_preset_else_the_default(record, expected):
    assert criteria_from_record(record) == CRITERIA_PRESETS[expected]


def test_a_partial_record_keeps_the_preset_s_other_fields():
    got = criteria_from_record({"id": "rise-2", "min_rise_c": 2.5})
    assert got.min_rise_c == 2.5 and got.label == CRITERIA_PRESETS["rise-2"].label
