"""The one alarm evaluator: conditions from the data's own times, stored once, priorities."""

from __future__ import annotations

from dataclasses import replace

from monitor.model import Limb, ProbeStatus, Reading
from monitor.pipeline.artefacts import ArtefactKind, ArtefactSegment
from monitor.procedure.alarms import AlarmCondition, AlarmEvaluator, Priority


class ListLog:
    """Records what the evaluator stores, as the session store's events would be."""

    def __init__(self) -> None:
        self.rows: list[list] = []

    def start(self, condition: AlarmCondition) -> int:
        self.rows.append([condition.subkind, condition.limb, str(condition.priority), condition.start_s, None])
        return len(self.rows) - 1

    def end(self, event_id: int, end_s: float) -> None:
        self.rows[event_id][4] = end_s


def reading(limb: Limb, t: float, status: ProbeStatus = ProbeStatus.OK, c: float | None = 31.0) -> Reading:
    return Reading(limb, c if status is ProbeStatus.OK else None, status, t, 1.7e9 + t)


def both(t: float, **status: ProbeStatus) -> list[Reading]:
    return [reading(limb, t, status.get(str(limb), ProbeStatus.OK)) for limb in Limb]


def test_a_probe_fault_starts_at_its_reading_and_ends_at_the_next_good_one():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings(both(1.0) + both(2.0, left=ProbeStatus.OPEN_CIRCUIT) + both(3.0, left=ProbeStatus.OPEN_CIRCUIT))
    assert alarms.priority is Priority.MEDIUM
    assert alarms.lines() == ["L left probe: SENSOR FAULT: OPEN CIRCUIT"]
    change = alarms.on_readings(both(4.0))
    assert change.ended == ("fault:left",) and not alarms.active
    assert log.rows == [["sensor_fault", Limb.LEFT, "medium", 2.0, 4.0]]
    assert change.ended_at == {"fault:left": 4.0}, "the end the file stores, for every view (MQTT's alarm end)"


def test_an_unplugged_probe_is_probe_off_not_a_fault():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings(both(1.0, right=ProbeStatus.NOT_ATTACHED))
    assert [r[0] for r in log.rows] == ["probe_off"]
    assert alarms.limb_priority(Limb.RIGHT) is Priority.MEDIUM and alarms.limb_priority(Limb.LEFT) is None


def test_silence_is_no_data_from_the_last_reading_and_a_slow_probe_gets_its_rhythm():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings([reading(Limb.LEFT, t) for t in range(0, 41)] + [reading(Limb.RIGHT, t) for t in range(0, 31, 30)])
    alarms.evaluate(40.0, [], {Limb.LEFT: 10.0, Limb.RIGHT: 75.0}, newest_s=40.0)
    assert not alarms.active, "a probe that reports every 30 s is not silent after 10 s"
    alarms.on_readings([reading(Limb.LEFT, t) for t in range(41, 60)])
    alarms.evaluate(59.0, [], {Limb.LEFT: 10.0, Limb.RIGHT: 10.0}, newest_s=59.0)
    assert log.rows == [["no_data", Limb.RIGHT, "medium", 30.0, None]]
    assert alarms.lines(now_s=59.0) == ["R right probe: NO DATA for 29 s"]
    alarms.on_readings([reading(Limb.RIGHT, 61.0)])
    assert log.rows[0][4] == 61.0


def test_a_probe_that_never_reports_raises_no_data_since_the_start():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings([reading(Limb.LEFT, t) for t in range(0, 25)])
    alarms.evaluate(19.0, [], {}, newest_s=19.0)
    assert not alarms.active
    alarms.evaluate(24.0, [], {}, newest_s=24.0)
    assert log.rows == [["no_data_since_start", Limb.RIGHT, "medium", 20.0, None]]


def test_a_lost_link_is_one_alarm_and_hides_the_per_foot_silence():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings(both(30.0))
    alarms.on_connection("cable unplugged", 30.0)
    alarms.evaluate(50.0, [], {}, newest_s=30.0)
    assert alarms.lines() == ["NO DATA: cable unplugged"]
    alarms.on_connection(None, 50.0)
    assert log.rows == [["connection_lost", None, "medium", 30.0, 50.0]]


def test_lifted_touched_and_frozen_follow_the_pipelines_segments_with_their_priorities():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings(both(100.5))
    segments = [ArtefactSegment(Limb.LEFT, ArtefactKind.PROBE_LIFTED, 100.0, None),
                ArtefactSegment(Limb.RIGHT, ArtefactKind.TOUCH, 90.0, 95.0),
                ArtefactSegment(Limb.RIGHT, ArtefactKind.SETTLING, 0.0, 60.0)]
    alarms.evaluate(101.0, segments, {}, newest_s=101.0)
    assert sorted(log.rows, key=lambda r: r[3]) == [["touch", Limb.RIGHT, "low", 90.0, 95.0],
                                                    ["probe_lifted", Limb.LEFT, "low", 100.0, None]]
    assert alarms.priority is Priority.LOW
    segments[0] = ArtefactSegment(Limb.LEFT, ArtefactKind.PROBE_LIFTED, 100.0, 130.0)
    alarms.on_readings(both(130.5))
    alarms.evaluate(131.0, segments + [ArtefactSegment(Limb.LEFT, ArtefactKind.FROZEN, 140.0, None)], {},
                    newest_s=131.0)
    assert ["probe_lifted", Limb.LEFT, "low", 100.0, 130.0] in log.rows
    assert alarms.priority is Priority.MEDIUM and len(log.rows) == 3, "each segment is stored once"


def test_overlapping_lift_segments_of_one_probe_are_one_alarm_until_the_last_ends():
    """The criteria leave the other foot out from 100 s (it turned back) and its own rules find a
    lift inside that from 150 s to 200 s: one "check the tape" alarm, from 100 s until the check at
    300 s ends the first (the recorder had stored two, and the nurse saw the line twice)."""
    log = ListLog()
    alarms = AlarmEvaluator(log)

    def at(t: float, segments: list[ArtefactSegment]) -> list[str]:
        alarms.on_readings(both(t - 0.5))
        alarms.evaluate(t, segments, {}, newest_s=t)
        return [line for line in alarms.lines() if "check the tape" in line]

    turned = ArtefactSegment(Limb.RIGHT, ArtefactKind.PROBE_LIFTED, 100.0, None, "turned back")
    at(101.0, [turned])
    inner = ArtefactSegment(Limb.RIGHT, ArtefactKind.PROBE_LIFTED, 150.0, None, "fell 0.5 °C in 2 min")
    assert len(at(151.0, [turned, inner])) == 1 and len(log.rows) == 1
    assert len(at(201.0, [turned, replace(inner, end_s=200.0)])) == 1 and log.rows[0][4] is None
    assert not at(301.0, [replace(turned, end_s=300.0), replace(inner, end_s=200.0)])
    assert log.rows == [["probe_lifted", Limb.RIGHT, "low", 100.0, 300.0]]
    later = ArtefactSegment(Limb.RIGHT, ArtefactKind.PROBE_LIFTED, 400.0, None)
    assert len(at(401.0, [replace(turned, end_s=300.0), replace(inner, end_s=200.0), later])) == 1
    assert len(log.rows) == 2, "a lift after the alarm ended is a new alarm"


def test_acknowledging_silences_but_keeps_the_alarm_until_its_condition_ends():
    alarms = AlarmEvaluator()
    alarms.on_readings(both(1.0, left=ProbeStatus.SHORT_CIRCUIT))
    assert alarms.acknowledge() == 1 and alarms.all_acknowledged and alarms.active
    assert alarms.acknowledge() == 0
    alarms.on_readings(both(2.0, right=ProbeStatus.NOT_ATTACHED))
    assert not alarms.all_acknowledged, "a new alarm needs its own acknowledgement"


def test_finish_ends_every_alarm_at_the_end_of_the_session():
    log = ListLog()
    alarms = AlarmEvaluator(log)
    alarms.on_readings(both(1.0, left=ProbeStatus.SHORT_CIRCUIT))
    alarms.set_external("write", "NOT SAVING: disk full", 1.5, "write_error")
    alarms.finish(9.0)
    assert not alarms.active and [r[4] for r in log.rows] == [9.0, 9.0]
