"""The central's model against a real Mosquitto (TLS, passwords, the ACL): stations published through
their procedure cores, a station killed with SIGKILL, the central away and back, bad messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest

from monitor.central import BrokerSettings, CentralConnection, CentralModel, Communication, RoomKey
from monitor.model import Limb
from monitor.publish.messages import Kind, topic
from monitor.publish.station import StationPublisher
from tests.monitor.publish.procedures import run, simulated_procedure
from tests.support.mosquitto import SITE, USERS

REPO = Path(__file__).resolve().parents[3]
ROOM1, ROOM2 = RoomKey(SITE, "room-1"), RoomKey(SITE, "room-2")


class Central:
    """The central's model on its connection, pumped by the test as the window's timer would."""

    def __init__(self, broker, client_id: str = "test-central-model", user: str = "central", *,
                 password: str | None = None, ca_file: Path | None = None) -> None:
        self.settings = BrokerSettings("localhost", broker.port, ca_file=ca_file or Path(broker.ca_file),
                                       username=user, password=password or USERS[user], client_id=client_id)
        self.model = CentralModel()
        self.connection = CentralConnection(self.settings)
        self.connection.start()

    def wait_for(self, condition: Callable[[CentralModel], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.model.pump(self.connection.inbox)
            if condition(self.model):
                return True
            time.sleep(0.05)
        self.model.pump(self.connection.inbox)
        return condition(self.model)

    def room(self, key: RoomKey):
        return self.model.rooms.get(key)

    def stop(self) -> None:
        self.connection.stop()


@pytest.fixture
def central(broker):
    made: list[Central] = []

    def make(**kw) -> Central:
        c = Central(broker, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


def _live(key: RoomKey) -> Callable[[CentralModel], bool]:
    def check(model: CentralModel) -> bool:
        room = model.rooms.get(key)
        return room is not None and room.communication is Communication.LIVE
    return check


def test_the_central_shows_two_stations_published_through_their_cores(tmp_path, broker, central):
    c = central()
    assert c.wait_for(lambda m: m.link_up, 10), c.model.link_words
    stations = []
    for room, scenario in (("room-1", "success-fast"), ("room-2", "probe-lift")):
        procedure, source = simulated_procedure(tmp_path / f"{room}.sympatherm", scenario=scenario)
        publisher = StationPublisher(broker.station(room, bed=room[-1])).attach(procedure).start()
        run(procedure, source, 900.0, after_pump=publisher.tick)
        stations.append((procedure, publisher))
    try:
        for _procedure, publisher in stations:
            publisher._state_due = 0.0  # the state of the procedure as it is now, at once
            publisher.tick()
            assert publisher.flush(10)
        assert c.wait_for(lambda m: _live(ROOM1)(m) and _live(ROOM2)(m)
                          and all(m.rooms[k].state.session_s >= 899 for k in (ROOM1, ROOM2)), 15)
        for key, (procedure, _) in zip((ROOM1, ROOM2), stations, strict=True):
            room = c.room(key)
            snap = procedure.snapshot()
            assert room.state.blocked_side == "left" and room.bed == key.room[-1]
            assert room.state.verdict.state == str(snap.verdict.state)  # the core's verdict, as it is
            assert room.state.di_minus_dc_c == pytest.approx(snap.di_minus_dc_c, abs=1e-3) \
                if snap.di_minus_dc_c is not None else room.state.di_minus_dc_c is None
            assert room.since_injection_s == pytest.approx(room.state.session_s - procedure.snapshot().injection_s)
            # The history is the station's 1 Hz readings: one a second, none lost, none twice.
            assert len(room.history.foot(procedure.info.blocked)) >= 880
            assert room.readings_missed == 0 and room.lost_events == 0
            assert [m.kind for m in room.history.markers()] == [m.kind for m in room.markers]
        assert {a.priority for a in c.room(ROOM2).active_alarms()} <= {"low", "medium"}
    finally:
        for procedure, publisher in stations:
            procedure.finish("test over")
            publisher.close()
    assert c.wait_for(lambda m: all(m.rooms[k].communication is Communication.ENDED for k in (ROOM1, ROOM2)), 10)


def _record(broker, tmp_path: Path, room: str = "room-1") -> subprocess.Popen[str]:
    secret = tmp_path / f"{room}.password"
    secret.write_text(USERS[room] + "\n")
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "record", "--demo", "--speed", "5",
         "--out", str(tmp_path / f"{room}.sympatherm"), "--publish", broker.url, "--room", room, "--site", SITE,
         "--mqtt-user", room, "--mqtt-password-file", str(secret), "--mqtt-ca", broker.ca_file],
        cwd=REPO, text=True, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.mark.slow
def test_a_station_killed_with_sigkill_is_no_communication_at_the_central_within_5_s(tmp_path, broker, central):
    c = central()
    station = _record(broker, tmp_path)
    try:
        assert c.wait_for(_live(ROOM1), 30), (c.model.link_words, station.stderr)
        assert c.wait_for(lambda m: m.rooms[ROOM1].readings is not None, 10)
        station.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert c.wait_for(lambda m: m.rooms[ROOM1].communication is Communication.NO_COMMUNICATION, 5.0)
        took_s = time.monotonic() - killed
        # The broker hands on the station's will: the reason the central gives is the station's.
        assert c.wait_for(lambda m: "the broker's will" in m.rooms[ROOM1].why_no_communication, 10)
    finally:
        station.kill()
        station.communicate(timeout=10)
    assert took_s <= 5.0
    # It comes back: the room's state again, live.
    (tmp_path / "again").mkdir()
    again = _record(broker, tmp_path / "again")
    try:
        assert c.wait_for(_live(ROOM1), 30)
    finally:
        again.kill()
        again.communicate(timeout=10)


def test_silence_without_a_will_is_no_communication_after_5_s_of_the_centrals_clock(tmp_path, broker, central):
    """A station whose network stalls (no will yet): only the central's clock can tell."""
    c = central()
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm")
    publisher = StationPublisher(broker.station("room-1")).attach(procedure).start()
    try:
        run(procedure, source, 60.0, after_pump=publisher.tick)
        assert publisher.flush(10)
        assert c.wait_for(_live(ROOM1), 10)
        heard = c.room(ROOM1).heard_s
        assert c.wait_for(lambda m: m.rooms[ROOM1].communication is Communication.NO_COMMUNICATION, 8)
        assert c.room(ROOM1).why_no_communication.startswith("nothing heard for 5 s")
        assert 5.0 <= c.model.clock() - heard
        publisher._state_due = 0.0
        publisher.tick()  # a sign of life brings it back
        assert c.wait_for(_live(ROOM1), 5)
    finally:
        procedure.finish("test over")
        publisher.close()


@pytest.mark.slow
def test_a_central_away_catches_up_on_return_nothing_lost(tmp_path, broker, central):
    """QoS 1, a persistent session and retained state: what came while the central was away is
    handed to it when it comes back with the same client id."""
    c = central(client_id="test-central-away")
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", scenario="dropout")
    publisher = StationPublisher(broker.station("room-1")).attach(procedure).start()
    try:
        run(procedure, source, 120.0, after_pump=publisher.tick)
        assert publisher.flush(10)
        assert c.wait_for(lambda m: _live(ROOM1)(m) and m.rooms[ROOM1].readings.session_s >= 119, 10)
        c.stop()  # the central is away ...
        run(procedure, source, 1500.0, after_pump=publisher.tick)  # ... while the dropouts, their alarms and the rest go on
        publisher._state_due = 0.0
        publisher.tick()
        assert publisher.flush(10)
        sent = dict(publisher.acked)
        back = central(client_id="test-central-away")  # ... and comes back
        back.model = c.model  # the same window: its rooms and history
        assert back.wait_for(lambda m: m.rooms[ROOM1].readings.session_s >= 1499
                             and m.rooms[ROOM1].state.session_s >= 1499, 20)
        room = back.room(ROOM1)
        assert room.readings_missed == 0 and room.lost_events == 0
        # every second the station published, from before and while away
        heard = len(room.history.foot(procedure.info.blocked)) - room.history.seeded(procedure.info.blocked)
        assert heard == sent[Kind.READINGS] == room.received[Kind.READINGS].seq
        assert sent[Kind.ALARMS] > 0 and sent[Kind.VERDICT] > 0
        assert room.received[Kind.ALARMS].seq == sent[Kind.ALARMS]
        assert room.received[Kind.VERDICT].seq == sent[Kind.VERDICT]
    finally:
        procedure.finish("test over")
        publisher.close()


def _now(publisher: StationPublisher, *, history: bool = True) -> None:
    """The station's state (and history) as they are now, at once, and at the broker."""
    publisher._state_due = 0.0
    if history:
        publisher._history_due = 0.0
    publisher.tick()
    assert publisher.flush(10)


def test_a_central_started_mid_procedure_draws_the_rooms_last_hour_from_the_stations_history(tmp_path, broker,
                                                                                             central):
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", scenario="success-fast")
    # A history only when the test says (a station sends one every 30 s of wall time).
    publisher = StationPublisher(broker.station("room-1"), history_every_s=3600.0).attach(procedure).start()
    try:
        run(procedure, source, 1500.0, after_pump=publisher.tick)  # 25 minutes before any central
        _now(publisher)
        run(procedure, source, 1550.0, after_pump=publisher.tick)  # and on, the last history 50 s old
        _now(publisher, history=False)
        c = central(client_id="test-central-late")
        assert c.wait_for(lambda m: ROOM1 in m.rooms and m.rooms[ROOM1].history.seeded(Limb.LEFT) > 0, 10)
        room = c.room(ROOM1)
        left, difference = room.history.foot(Limb.LEFT), room.history.difference()
        assert left.t[0] == 0.0 and left.t[-1] == 1500.0 and len(left) == 151, "every 10 s from the start"
        series = procedure.pipeline.series(Limb.LEFT)
        for t, value in zip(left.t[::10], left.value[::10], strict=True):
            i = int(np.searchsorted(series.t_s, t, side="right")) - 1
            assert value == pytest.approx(float(series.smooth_c[i]), abs=1e-3), "the station's own values"
        core = procedure.pipeline.difference_series()
        j = int(np.searchsorted(core.t_s, 1400.0, side="right")) - 1
        at = int(np.searchsorted(difference.t, 1400.0))
        assert difference.t[at] == 1400.0 and difference.value[at] == pytest.approx(float(core.di_minus_dc_c[j]),
                                                                                    abs=1e-3)
        assert difference.t[-1] == 1550.0, "then the retained state's Di − Dc"
        assert room.history.markers(), "the retained markers, as before"

        # The station goes on: the central's own readings follow, and the next history fills what
        # lay between the last history and the central's first reading.
        run(procedure, source, 1600.0, after_pump=publisher.tick)
        _now(publisher)
        assert c.wait_for(lambda m: m.rooms[ROOM1].readings is not None
                          and m.rooms[ROOM1].readings.session_s >= 1599
                          and m.rooms[ROOM1].history.seeded(Limb.LEFT) > 151, 10)
        left, seeded = room.history.foot(Limb.LEFT), room.history.seeded(Limb.LEFT)
        assert np.all(np.diff(left.t) > 0), "one curve, in order"
        assert list(left.t[seeded:]) == [float(t) for t in range(1551, 1601)], "every second it heard itself"
        assert left.t[seeded - 1] == 1550.0 and left.t[seeded] - left.t[seeded - 1] <= 10.0, "no gap at the seam"
        assert room.lost_events == 0 and room.not_understood == 0
    finally:
        procedure.finish("test over")
        publisher.close()


@pytest.mark.slow
def test_a_broker_restart_is_no_communication_then_live_again_with_no_event_lost(tmp_path, broker, central):
    c = central()
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", scenario="dropout")
    publisher = StationPublisher(broker.station("room-1")).attach(procedure).start()
    try:
        run(procedure, source, 300.0, after_pump=publisher.tick)
        assert c.wait_for(_live(ROOM1), 10)
        broker.stop()
        assert c.wait_for(lambda m: not m.link_up and m.rooms[ROOM1].communication is Communication.NO_COMMUNICATION, 5)
        assert "no link to the broker" in c.room(ROOM1).why_no_communication
        run(procedure, source, 1200.0, after_pump=publisher.tick)  # the dropouts' alarms, while it is away
        broker.start()
        assert publisher.flush(30)
        assert c.wait_for(lambda m: m.link_up and _live(ROOM1)(m)
                          and m.rooms[ROOM1].received[Kind.ALARMS].seq == publisher.acked[Kind.ALARMS], 30)
        assert c.room(ROOM1).lost_events == 0
    finally:
        procedure.finish("test over")
        publisher.close()


def test_malformed_and_foreign_messages_on_the_topics_are_counted_never_fatal(tmp_path, broker, central):
    c = central()
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm")
    publisher = StationPublisher(broker.station("room-1")).attach(procedure).start()
    rogue = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rogue-room-1", protocol=mqtt.MQTTv5)
    rogue.tls_set(ca_certs=broker.ca_file)
    rogue.username_pw_set("room-1", USERS["room-1"])  # a station's own credentials, its own topics
    rogue.connect("localhost", broker.port)
    rogue.loop_start()
    try:
        run(procedure, source, 30.0, after_pump=publisher.tick)
        assert c.wait_for(_live(ROOM1), 10)
        bad = [(topic(SITE, "room-1", Kind.STATE), b"{not json"),
               (topic(SITE, "room-1", Kind.READINGS), b'{"schema": "sympatherm/v1/readings", "seq": -1}'),
               (f"sympatherm/v1/{SITE}/room-1/telemetry", b"hello"),
               (topic(SITE, "room-1", Kind.ALARMS), b"\x00\xff" * 100)]
        for t, payload in bad:
            rogue.publish(t, payload, qos=1).wait_for_publish(5)
        assert c.wait_for(lambda m: m.not_understood_total() == len(bad), 10)
        assert c.room(ROOM1).not_understood == len(bad)
        run(procedure, source, 60.0, after_pump=publisher.tick)
        assert publisher.flush(10)
        assert c.wait_for(lambda m: m.rooms[ROOM1].readings.session_s >= 59, 10)  # it carries on
        assert c.room(ROOM1).communication is Communication.LIVE
    finally:
        rogue.loop_stop()
        rogue.disconnect()
        procedure.finish("test over")
        publisher.close()


def test_the_central_is_refused_with_a_wrong_password_and_says_so(central):
    c = central(client_id="test-central-wrong", password="wrong")
    assert c.wait_for(lambda m: "refused" in m.link_words, 10) and not c.model.link_up


def test_the_central_verifies_the_brokers_certificate(central, tmp_path):
    from tests.support.mosquitto import make_certs

    other_ca = tmp_path / "other"
    make_certs(other_ca, clients=())
    c = central(client_id="test-central-other-ca", ca_file=other_ca / "ca.crt")
    assert c.wait_for(lambda m: "cannot reach" in m.link_words, 10) and not c.model.link_up
