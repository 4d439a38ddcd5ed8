"""A station publishing through the procedure core to a real Mosquitto broker (TLS, ACL, persistence)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from monitor.model import Limb, MarkerKind
from monitor.publish.config import PublishConfig
from monitor.publish.messages import Kind, decode
from monitor.publish.station import StationPublisher
from monitor.store import SessionStore
from tests.monitor.publish.listener import Listener
from tests.monitor.publish.procedures import run, simulated_procedure, stored


def _seqs(listener: Listener, kind: Kind, room: str = "room-1") -> list[int]:
    return [r.body["seq"] for r in listener.of(kind, room)]


def _unique_in_order(seqs: list[int]) -> list[int]:
    seen: set[int] = set()
    return [s for s in seqs if not (s in seen or seen.add(s))]  # QoS 1: a repeat is a duplicate, dropped


def test_a_station_publishes_the_cores_values_and_every_message_matches_its_schema(tmp_path, broker):
    central = Listener(broker)
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "probe-lift", patient_id="PT-0042")
    told_verdicts: list[str] = []
    procedure.events.verdict.connect(lambda snap: told_verdicts.append(str(snap.verdict.state)))
    publisher = StationPublisher(broker.station("room-1", bed="Bay 3")).attach(procedure).start()
    run(procedure, source, 900, after_pump=publisher.tick)
    procedure.add_marker(MarkerKind.NOTE, text="Mr Smith asked for water")
    run(procedure, source, 1800, after_pump=publisher.tick)
    procedure.finish()
    assert publisher.close(timeout_s=10), publisher.notices()
    assert central.wait_for(lambda: any(not r.body["online"] for r in central.of(Kind.STATUS)))
    assert central.validate_all() > 1800
    assert publisher.errors == 0 and publisher.refused == 0

    # Readings: one per session second, numbered without a gap, the pipeline's smoothed values.
    readings = [r.body for r in central.of(Kind.READINGS)]
    assert _unique_in_order([b["seq"] for b in readings]) == list(range(1, len(readings) + 1))
    assert len(readings) >= 1790 and all(b["dropped_before"] == 0 for b in readings)
    series = procedure.pipeline.series(Limb.LEFT)
    for body in readings[::97]:
        i = int(np.searchsorted(series.t_s, body["session_s"], side="right")) - 1
        foot = body["feet"]["left"]
        assert foot["valid"] == bool(series.valid[i])
        if foot["valid"]:
            assert foot["celsius"] == pytest.approx(float(series.smooth_c[i]), abs=1e-3)

    # Verdict changes and alarms: exactly what the core said and stored.
    assert [r.body["verdict"]["state"] for r in central.of(Kind.VERDICT)] == told_verdicts
    _, alarms, _ = stored(procedure.store.path)
    starts = [r.body for r in central.of(Kind.ALARMS) if r.body["event"] == "start"]
    ends = [r.body for r in central.of(Kind.ALARMS) if r.body["event"] == "end"]
    assert alarms and [(a["start_s"], a["text"]) for a in starts] == [(pytest.approx(s), m) for _, s, _, m in alarms]
    assert sorted(a["id"] for a in ends) == sorted(a["id"] for a in starts), "every alarm that started ended"
    assert all(a["priority"] in ("low", "medium") for a in starts)

    # Markers: the whole list, retained; a note's free text stays in the room by default.
    last = central.of(Kind.MARKERS)[-1].body["markers"]
    assert [(m["kind"], m["session_s"]) for m in last] == [(str(m.kind), pytest.approx(m.session_s))
                                                           for m in procedure.markers]
    assert [m["text"] for m in last if m["kind"] == "note"] == [""]

    # The last state is the core's snapshot; room and bed are the identity, not the patient.
    state = decode(Kind.STATE, central.of(Kind.STATE)[-1].payload)
    snap = procedure.snapshot()
    assert state.finished and state.room == "room-1" and state.bed == "Bay 3" and state.patient_id is None
    assert b"PT-0042" not in b"".join(r.payload for r in central.received)
    assert state.verdict.state == str(snap.verdict.state) and state.attempt == snap.attempt
    assert state.injection_s == pytest.approx(procedure.injection_s())
    for limb in Limb:
        foot = state.feet[str(limb)]
        assert foot.rise_c == (None if snap.rise_c[limb] is None else pytest.approx(snap.rise_c[limb], abs=1e-3))
        assert foot.rise_withheld == snap.rise_withheld.get(limb)
    assert (state.di_minus_dc_c is None) == (snap.di_minus_dc_c is None)
    statuses = [r.body for r in central.of(Kind.STATUS)]
    assert statuses[0]["online"] and statuses[-1] | {"sent_at": ""} == statuses[-1] | {
        "online": False, "reason": "session finished", "sent_at": ""}
    central.close()


def test_retained_state_status_and_markers_reach_a_central_that_connects_later(tmp_path, broker):
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "success-fast", patient_id="PT-7")
    publisher = StationPublisher(broker.station("room-2", share_patient_id=True)).attach(procedure).start()
    run(procedure, source, 400, after_pump=publisher.tick)
    procedure.add_marker(MarkerKind.NOTE, text="sedation given")
    publisher.tick()
    assert publisher.flush(10)
    late = Listener(broker, client_id="late-central")
    assert late.wait_for(lambda: all(late.of(k) for k in (Kind.STATUS, Kind.STATE, Kind.MARKERS, Kind.HISTORY)))
    assert all(r.retain for r in late.received)
    assert {r.kind for r in late.received} == {Kind.STATUS, Kind.STATE, Kind.MARKERS, Kind.HISTORY}, \
        "only those are retained"
    state = late.of(Kind.STATE)[-1].body
    assert state["patient_id"] == "PT-7", "the site enabled it"
    assert [m["text"] for m in late.of(Kind.MARKERS)[-1].body["markers"] if m["kind"] == "note"] == ["sedation given"]
    assert late.of(Kind.STATUS)[-1].body["online"] is True
    procedure.finish()
    publisher.close(5)
    late.close()


def _difference_at(procedure, t: float) -> float | None:
    """The core's Di − Dc series (as the room's plot draws it) at its newest point at or before t."""
    series = procedure.pipeline.difference_series()
    j = int(np.searchsorted(series.t_s, t, side="right")) - 1
    value = float(series.di_minus_dc_c[j]) if j >= 0 and series.relative_to_baseline else float("nan")
    return value if np.isfinite(value) else None


def test_the_retained_history_is_the_last_60_minutes_every_10_s_from_the_cores_series(tmp_path, broker):
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "success-fast")
    publisher = StationPublisher(broker.station("room-1")).attach(procedure).start()
    run(procedure, source, 4000, after_pump=publisher.tick)  # longer than the 60 minutes
    publisher._history_due = 0.0  # the history of the procedure as it is now, at once
    publisher.tick()
    assert publisher.flush(10)
    late = Listener(broker, client_id="late-central-history")
    assert late.wait_for(lambda: late.of(Kind.HISTORY))
    received = late.of(Kind.HISTORY)[-1]
    history = decode(Kind.HISTORY, received.payload)
    assert received.retain and len(received.payload) < 20_000, "compact"
    times = history.times()
    assert history.step_s == 10.0 and times[-1] == 4000.0 and times[0] == 400.0, "the last 60 minutes"
    assert history.session_started_at == decode(Kind.STATE, late.of(Kind.STATE)[-1].payload).session_started_at
    for limb in Limb:
        series = procedure.pipeline.series(limb)
        for t, value in zip(times, history.feet[str(limb)], strict=True):
            i = int(np.searchsorted(series.t_s, t, side="right")) - 1
            if series.valid[i]:
                assert value == pytest.approx(float(series.smooth_c[i]), abs=1e-3), (limb, t)
            else:
                assert value is None
    expected = [_difference_at(procedure, t) for t in times]
    assert sum(v is not None for v in history.di_minus_dc_c) > 300
    assert history.di_minus_dc_c == tuple(None if e is None else pytest.approx(e, abs=1e-3) for e in expected)
    procedure.finish()
    publisher.close(5)
    late.close()


def test_the_acl_lets_a_station_publish_only_under_its_own_room_and_the_central_only_read(tmp_path, broker):
    central = Listener(broker)
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "success-fast")
    # room-1's credentials, but configured as room-2: the broker refuses everything it sends.
    intruder = StationPublisher(broker.station("room-2", user="room-1")).attach(procedure).start()
    run(procedure, source, 60, after_pump=intruder.tick)
    intruder.flush(5)
    # The central's credentials may subscribe, never publish.
    spoof = Listener(broker, client_id="spoofing-central")
    spoof.client.publish("sympatherm/v1/clinic/room-1/state", b'{"schema": "sympatherm/v1/state"}', qos=1,
                         retain=True).wait_for_publish(5)
    # A client certificate names the station (its common name is its user name at the broker).
    procedure2, source2 = simulated_procedure(tmp_path / "t.sympatherm", "success-fast")
    cert = broker.certs / "room-1"
    by_cert = StationPublisher(PublishConfig(broker=broker.cert_url, room="room-1", site="clinic",
                                             ca_file=broker.ca_file, client_cert=f"{cert}.crt",
                                             client_key=f"{cert}.key")).attach(procedure2).start()
    run(procedure2, source2, 30, after_pump=by_cert.tick)
    assert by_cert.flush(10) and by_cert.refused == 0 and by_cert.acked[Kind.READINGS] >= 20
    assert central.wait_for(lambda: len(central.of(Kind.READINGS, "room-1")) >= 20)

    assert intruder.acked[Kind.READINGS] == 0 and intruder.refused > 0
    assert any("ACL" in n for n in intruder.notices())
    assert not central.of(Kind.STATE, "room-2") and not central.of(Kind.READINGS, "room-2")
    assert all(r.body.get("run_id") == by_cert.run_id for r in central.of(Kind.STATE, "room-1")), "no spoofed state"
    for p, pub in ((procedure, intruder), (procedure2, by_cert)):
        p.finish()
        pub.close(2)
    central.close()
    spoof.close()


@pytest.mark.slow
def test_a_broker_restart_mid_procedure_loses_no_verdict_alarm_or_marker(tmp_path, broker):
    first = Listener(broker)
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "probe-lift")
    told = []
    procedure.events.verdict.connect(lambda snap: told.append(str(snap.verdict.state)))
    publisher = StationPublisher(broker.station("room-1"), readings_max=300).attach(procedure).start()
    run(procedure, source, 450, after_pump=publisher.tick)
    assert publisher.flush(10)

    first.close()  # the central away: the broker keeps its (persistent) session's messages
    run(procedure, source, 1000, after_pump=publisher.tick)
    assert publisher.flush(10)
    broker.stop()  # SIGTERM: mosquitto saves them (persistence true); away while the procedure goes on
    run(procedure, source, 1200, after_pump=publisher.tick)
    procedure.add_marker(MarkerKind.NOTE, text="broker away")
    run(procedure, source, 1800, after_pump=publisher.tick)
    assert publisher.pending > 0 and len(publisher.queue) <= 300 + 50, "the station keeps them, bounded"
    broker.start()
    second = Listener(broker)  # the same client id: its session, with what came while it was away
    procedure.finish()
    assert publisher.close(timeout_s=20), publisher.notices()
    assert second.wait_for(lambda: any(not r.body["online"] for r in second.of(Kind.STATUS)), 10)
    got = first.received + second.received
    by_kind = {kind: [r.body for r in got if r.kind is kind] for kind in Kind}

    for kind in (Kind.VERDICT, Kind.ALARMS, Kind.MARKERS):
        seqs = sorted({b["seq"] for b in by_kind[kind]})
        assert seqs == list(range(1, publisher._seq[kind] + 1)), f"{kind}: every one, once the duplicates go"
    verdicts = {b["seq"]: b["verdict"]["state"] for b in by_kind[Kind.VERDICT]}
    assert [verdicts[k] for k in sorted(verdicts)] == told
    _, alarms, _ = stored(procedure.store.path)
    assert len({b["id"] for b in by_kind[Kind.ALARMS]}) == len(alarms) > 0
    assert any(450 < b["session_s"] < 1000 for b in by_kind[Kind.VERDICT]), "a change while the central was away"
    assert any(1000 < b["start_s"] < 1800 for b in by_kind[Kind.ALARMS]), "an alarm while the broker was away"
    assert len(by_kind[Kind.MARKERS][-1]["markers"]) == len(procedure.markers) == 2
    # Readings: 800 s came while the broker was away and 300 fitted; the rest are announced.
    readings = {b["seq"]: b for b in by_kind[Kind.READINGS]}
    missing = sorted(set(range(1, max(readings) + 1)) - set(readings))
    announced = sum(b["dropped_before"] for b in readings.values())
    assert missing and announced == len(missing) == publisher.queue.readings_dropped
    assert publisher.queue.events_dropped == 0
    second.close()


@pytest.mark.slow
def test_a_missing_or_stalled_broker_changes_nothing_the_station_records(tmp_path, broker):
    def record(name: str, publisher_for) -> tuple[object, ...]:
        procedure, source = simulated_procedure(tmp_path / f"{name}.sympatherm", "probe-lift")
        publisher = publisher_for(procedure)
        tick = publisher.tick if publisher else None
        run(procedure, source, 300, after_pump=tick)
        if publisher is not None and name == "stalled":
            os.kill(broker.process.pid, signal.SIGSTOP)  # accepts nothing more, answers nothing
        run(procedure, source, 700, after_pump=tick)
        procedure.finish()
        if publisher is not None:
            publisher.close(timeout_s=0.5)
            assert len(publisher.queue) <= 100 + 20, "bounded"
            assert publisher.errors == 0
        return stored(procedure.store.path)

    alone = record("alone", lambda p: None)
    missing = PublishConfig(broker="mqtts://localhost:1", room="room-1", site="clinic", ca_file=broker.ca_file)
    assert record("missing", lambda p: StationPublisher(missing, readings_max=100).attach(p).start()) == alone
    stalled = record("stalled", lambda p: StationPublisher(broker.station("room-1"), readings_max=100)
                     .attach(p).start())
    os.kill(broker.process.pid, signal.SIGCONT)
    assert stalled == alone


def test_a_slot_that_fails_is_counted_and_never_reaches_the_core(tmp_path, monkeypatch):
    from monitor.publish import station

    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "success-fast")
    config = PublishConfig(broker="mqtts://localhost:1", room="room-1")
    publisher = StationPublisher(config).attach(procedure)  # never started: nothing is sent

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the publisher")

    monkeypatch.setattr(station, "readings_at", broken)
    run(procedure, source, 120, after_pump=publisher.tick)
    procedure.finish()
    assert publisher.errors > 0 and any("recording goes on" in n for n in publisher.notices())
    with SessionStore.open_read_only(procedure.store.path) as ro:
        assert ro.reading_count() > 200


def test_the_guis_saved_settings_start_a_publisher_that_closes_itself_when_the_session_ends(tmp_path, broker):
    from monitor.publish.config import save_config
    from monitor.publish.saved import publish_from_saved_settings

    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "success-fast")
    assert publish_from_saved_settings(procedure) == (None, None), "off unless configured"
    save_config(broker.station("room-2", enabled=False))
    assert publish_from_saved_settings(procedure) == (None, None), "off when switched off"
    save_config(PublishConfig(broker="mqtt://10.0.0.7", room="room-2"))
    publisher, problem = publish_from_saved_settings(procedure)
    assert publisher is None and "unencrypted" in problem
    save_config(broker.station("room-2"))
    central = Listener(broker)
    publisher, problem = publish_from_saved_settings(procedure)
    assert problem is None
    run(procedure, source, 60)  # no tick(): readings drive the state as well
    procedure.finish()
    assert central.wait_for(lambda: any(not r.body["online"] for r in central.of(Kind.STATUS, "room-2")))
    assert central.of(Kind.STATE, "room-2")[-1].body["finished"] is True
    central.close()


@pytest.mark.parametrize(("password", "ca", "words", "advice"), [
    ("not-it", True, "refused the connection", "user name, password or certificate"),
    ("pw-room-1", False, "cannot connect", "signed by the CA given"),  # the system's CAs do not know the test CA
])
def test_a_connection_that_cannot_work_is_said_once_in_words_and_no_password_shown(broker, password, ca, words,
                                                                                 advice):
    import time

    config = PublishConfig(broker=broker.url, room="room-1", site="clinic", username="room-1", password=password,
                           ca_file=broker.ca_file if ca else "")
    publisher = StationPublisher(config).start()
    deadline = time.monotonic() + 10
    said: list[str] = []
    while time.monotonic() < deadline and not any(words in n for n in said):
        said += publisher.notices()
        time.sleep(0.05)
    time.sleep(1.5)  # paho retries
    said += publisher.notices()
    publisher.close(0.2)
    problems = [n for n in said if words in n]
    assert len(problems) == 1 and advice in problems[0]
    assert not any(password in n for n in said) and not publisher.connected
