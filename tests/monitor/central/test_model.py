"""The central's model on messages handed to it (no broker): rooms, history, silence, bad input."""

from __future__ import annotations

import math

import pytest

from monitor.central import CentralModel, Communication, LinkChange, RoomKey
from monitor.model import Limb
from tests.monitor.central.stations import FakeStation, alarm_now, verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def model(clock: Clock) -> CentralModel:
    m = CentralModel(clock)
    m.feed(LinkChange(True, "connected", clock()))
    return m


def send(model: CentralModel, message: tuple[str, bytes], **kw) -> None:
    model.receive(*message, **kw)


ROOM1 = RoomKey("clinic", "room-1")


def test_two_stations_become_two_live_rooms_with_their_own_values(model):
    a, b = FakeStation(room="room-1", blocked="left"), FakeStation(room="room-2", blocked="right",
                                                                  run_id="fedcba9876543210")
    for st, left in ((a, 33.4), (b, 30.0)):
        send(model, st.status())
        st.session_s = 900.0
        send(model, st.state(left=left, rise_left=3.1 if st is a else 0.2))
        send(model, st.readings(left, 30.2))
    rooms = model.sorted_rooms()
    assert [str(r.key) for r in rooms] == ["clinic/room-1", "clinic/room-2"]
    r1, r2 = rooms
    assert r1.communication is Communication.LIVE and r2.communication is Communication.LIVE
    assert r1.state.blocked_side == "left" and r2.state.blocked_side == "right"
    assert r1.state.feet["left"].celsius == 33.4 and r2.state.feet["left"].celsius == 30.0
    assert r1.since_injection_s == pytest.approx(600.0)
    assert r1.bed == "2"


def test_silence_of_more_than_5_s_is_no_communication_and_new_data_brings_the_room_back(model, clock):
    st = FakeStation()
    send(model, st.status())
    send(model, st.state())
    room = model.rooms[ROOM1]
    clock.now += 5.0
    model.check_communication()
    assert room.communication is Communication.LIVE
    clock.now += 0.5
    model.check_communication()
    assert room.communication is Communication.NO_COMMUNICATION
    assert room.why_no_communication == "nothing heard for 5 s"
    send(model, st.readings())
    assert room.communication is Communication.LIVE


def test_the_will_is_no_communication_at_once_and_a_finished_session_is_not(model):
    st = FakeStation()
    send(model, st.status())
    send(model, st.state())
    send(model, st.status(online=False, reason="connection lost (the broker's will)"))
    room = model.rooms[ROOM1]
    assert room.communication is Communication.NO_COMMUNICATION
    assert "the broker's will" in room.why_no_communication
    send(model, st.status())
    send(model, st.state(finished=True))
    send(model, st.status(online=False, reason="session finished"))
    assert room.communication is Communication.ENDED


def test_the_centrals_own_link_down_is_no_communication_for_every_room(model, clock):
    for name in ("room-1", "room-2"):
        st = FakeStation(room=name)
        send(model, st.status())
        send(model, st.state())
    model.feed(LinkChange(False, "link to the broker lost", clock()))
    model.check_communication()
    assert {r.communication for r in model.rooms.values()} == {Communication.NO_COMMUNICATION}
    assert all("no link to the broker" in r.why_no_communication for r in model.rooms.values())


def test_duplicates_are_dropped_and_gaps_counted(model):
    st = FakeStation()
    first = st.readings(31.0, 30.0)
    send(model, first)
    send(model, first)  # QoS 1: at least once
    room = model.rooms[ROOM1]
    assert room.duplicates == 1 and len(room.history.foot(Limb.LEFT)) == 1
    st.seqs["readings"] += 3  # three lost on the way
    st.session_s = 4.0
    send(model, st.readings(31.1, 30.0))
    assert room.readings_missed == 3
    st.seqs["alarms"] = 5
    send(model, st.alarm("start"))  # alarm 1..5 never came: a loss the central shows
    assert room.lost_events == 0  # the first alarm seen of a run is no gap
    st.seqs["alarms"] += 1
    send(model, st.alarm("end"))
    assert room.lost_events == 1


def test_history_keeps_60_minutes_of_both_feet_di_minus_dc_and_markers(model):
    st = FakeStation()
    for s in range(0, 4000, 10):
        st.session_s = float(s)
        send(model, st.readings(30.0 + s / 1000, None if s == 3500 else 29.0))
        send(model, st.state(di_minus_dc=None if s == 3500 else s / 1000))
    send(model, st.markers(("baseline", 200.0), ("injection", 600.0), ("note", 3000.0)))
    h = model.rooms[ROOM1].history
    left, right, diff = h.foot(Limb.LEFT), h.foot(Limb.RIGHT), h.difference()
    assert left.t[0] == pytest.approx(3990.0 - 3600.0) and left.t[-1] == 3990.0
    assert len(left) == len(right) == len(diff) == 361
    assert math.isnan(right.value[list(right.t).index(3500.0)])  # not valid: a gap, never a number
    assert math.isnan(diff.value[list(diff.t).index(3500.0)])  # withheld by the station: a gap
    assert [m.kind for m in h.markers()] == ["injection", "note"]  # the baseline is older than 60 min
    # the newest markers message is the whole list
    send(model, st.markers(("note", 3000.0)))
    assert [m.kind for m in h.markers()] == ["note"]


def test_a_new_session_in_the_room_starts_its_history_afresh_a_resume_does_not(model):
    st = FakeStation()
    st.session_s = 100.0
    send(model, st.state())
    send(model, st.readings())
    room = model.rooms[ROOM1]
    resumed = st.restarted("1111111111111111", new_session=False)
    resumed.session_s = 101.0
    send(model, resumed.state())
    assert len(room.history.foot(Limb.LEFT)) == 1
    nxt = st.restarted("2222222222222222", new_session=True)
    send(model, nxt.state())
    assert len(room.history.foot(Limb.LEFT)) == 0 and room.readings is None


def test_the_stations_history_draws_what_came_before_the_central_heard_the_room(model):
    st = FakeStation()
    send(model, st.history(0.0, [30.0, 30.1, None, 30.3]))  # retained: may come before the state
    room = model.rooms[ROOM1]
    assert len(room.history.foot(Limb.LEFT)) == 0, "not before the state says which session it is"
    st.session_s = 35.0
    send(model, st.state(di_minus_dc=0.4))
    left, diff = room.history.foot(Limb.LEFT), room.history.difference()
    assert list(left.t) == [0.0, 10.0, 20.0, 30.0] and math.isnan(left.value[2]) and left.value[3] == 30.3
    assert list(diff.t) == [0.0, 10.0, 20.0, 30.0, 35.0], "then the state's own Di − Dc"
    for s in (36, 37):
        st.session_s = float(s)
        send(model, st.readings(31.0))
    # The next history replaces the one before, but only where the central heard nothing itself.
    send(model, st.history(0.0, [29.0, 29.1, 29.2, 29.3, 29.4]))
    left = room.history.foot(Limb.LEFT)
    assert list(left.t) == [0.0, 10.0, 20.0, 30.0, 36.0, 37.0]
    assert list(left.value) == [29.0, 29.1, 29.2, 29.3, 31.0, 31.0] and room.history.seeded(Limb.LEFT) == 4
    assert room.lost_events == 0


def test_a_history_of_another_session_never_runs_into_this_one(model):
    st = FakeStation()
    send(model, st.state())
    old = st.restarted("1111111111111111", new_session=True)
    old.started_at = "2026-12-01T07:00:00.000Z"  # yesterday's patient's, still retained
    send(model, old.history(0.0, [30.0, 30.1]))
    assert len(model.rooms[ROOM1].history.foot(Limb.LEFT)) == 0
    nxt = st.restarted("2222222222222222", new_session=True)
    send(model, nxt.history(0.0, [33.0, 33.1]))
    send(model, nxt.state())  # the room's next session: its own history, once its state says so
    assert list(model.rooms[ROOM1].history.foot(Limb.LEFT).value) == [33.0, 33.1]


def test_alarm_events_and_the_state_agree_on_the_active_alarms(model):
    st = FakeStation()
    send(model, st.state())
    room = model.rooms[ROOM1]
    send(model, st.alarm("start", "probe_lifted:left", "low", "L left probe: check the tape"))
    send(model, st.alarm("start"))
    assert [a.priority for a in room.active_alarms()] == ["medium", "low"]
    send(model, st.alarm("end"))
    assert [a.id for a in room.active_alarms()] == ["probe_lifted:left"]
    send(model, st.state(alarms=(alarm_now(),)))  # the retained state is the list as the core has it
    assert [a.id for a in room.active_alarms()] == ["probe_off:right"]
    send(model, st.verdict("confirmed", "Block CONFIRMED at 12:40"))
    assert room.verdict_changes[-1][1:] == ("confirmed", "Block CONFIRMED at 12:40")
    send(model, st.state(verdict=verdict("confirmed", "Block CONFIRMED at 12:40")))
    assert room.state.verdict.state == "confirmed"


@pytest.mark.parametrize("topic, payload, why", [
    ("sympatherm/v1/clinic/room-1/state", b"{not json", "not JSON"),
    ("sympatherm/v1/clinic/room-1/state", b'{"schema": "sympatherm/v1/state"}', "not a valid"),
    ("sympatherm/v1/clinic/room-1/readings", b"\xff\xfe\x00", "not JSON"),
    ("sympatherm/v1/clinic/room-1/whatever", b"{}", "topic"),
    ("sympatherm/v1/clinic/room 1/state", b"{}", "topic"),
    ("sympatherm/v1/x/y/z/w", b"{}", "not a sympatherm/v1"),
    ("sympatherm/v1/clinic/room-1/readings", b"[1, 2, 3]", "not a valid"),
    ("sympatherm/v1/clinic/room-1/readings", b'{"a": ' * 5000 + b"1" + b"}" * 5000, "nests deeper"),
    ("sympatherm/v1/clinic/room-1/readings", b" " * (300 * 1024) + b"{}", "too large"),
])
def test_malformed_and_foreign_messages_are_counted_per_topic_and_room_never_raised(model, topic, payload, why):
    st = FakeStation()
    send(model, st.state())
    model.receive(topic, payload)
    model.receive(topic, payload)
    entry = model.not_understood[topic]
    assert entry.count == 2 and why in entry.reason
    assert model.not_understood_total() == 2
    if entry.room == ROOM1:
        assert model.rooms[ROOM1].not_understood == 2
    assert model.rooms[ROOM1].communication is Communication.LIVE  # the room itself is unaffected


def test_a_state_naming_another_room_is_not_taken_for_this_room(model):
    other = FakeStation(room="room-9")
    topic, payload = other.state()
    model.receive(FakeStation().topic("state"), payload)
    assert ROOM1 not in model.rooms and RoomKey("clinic", "room-9") not in model.rooms
    assert "room-9" in model.not_understood[FakeStation().topic("state")].reason


def test_a_flood_of_made_up_topics_is_counted_in_bounded_memory(model):
    for i in range(1000):
        model.receive(f"sympatherm/v1/clinic/r{i}/bogus", b"{}")
    assert len(model.not_understood) <= 201
    assert model.not_understood_total() == 1000


def test_views_hear_each_changed_room_once_per_pump(model, clock):
    import queue

    from monitor.central import Incoming

    st = FakeStation()
    changed = []
    model.events.room_changed.connect(lambda room: changed.append(room.key))
    inbox = queue.SimpleQueue()
    for _ in range(5):
        st.session_s += 1
        inbox.put(Incoming(*st.readings(), False, clock()))
    assert model.pump(inbox) == 5
    assert changed == [ROOM1]
