"""The v1 wire contract without a broker: topics, round trips, schemas, and bad input in words."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from monitor.publish import messages as m
from monitor.publish.sendqueue import SendQueue

RUN = "0123456789abcdef"
AT = m.iso_utc(1_800_000_000.25)


def _verdict() -> m.Verdict:
    return m.Verdict("confirmed", "Block CONFIRMED", "default", "ΔTb ≥ 2.0 °C, held for 60 s", ("rise",), 620.0, AT)


def _state(**changes) -> m.State:
    foot = m.FootNow(33.1, True, "OK", 30.0, 3.1, None, 0.1)
    withheld = m.FootNow(30.0, False, "probe may have lifted", 29.9, None, "probe may have lifted", 0.1)
    base = dict(site="clinic", room="room-1", bed="Bay 3", run_id=RUN, seq=1, simulated=False, blocked_side="left",
                verdict=_verdict(), attempt=1, injection_s=300.0, injection_at=AT,
                feet={"left": foot, "right": withheld}, di_minus_dc_c=None, di_minus_dc_withheld="R probe may have lifted",
                alarms=(m.AlarmNow("probe_lifted:right:1.0", "low", "R right probe: lifted", "right", 1.0, AT, False),),
                session_s=700.0, session_started_at=AT, finished=False, sent_at=AT)
    return m.State(**{**base, **changes})


EXAMPLES: list[m.Message] = [
    m.Status("clinic", "room-1", None, False, "sympatherm-station-clinic-room-1", "sympatherm 0.1.0", True,
             "connection lost (the broker's will)", AT),
    _state(),
    _state(patient_id="PT-1"),
    m.Readings(RUN, 3, 12.0, AT, {"left": m.FootReading(None, False), "right": m.FootReading(31.2, True)}, 4, AT),
    m.VerdictChange(RUN, 2, 620.0, 1, _verdict(), AT),
    m.AlarmEvent(RUN, 1, "end", "no_data:left", "medium", "L left probe: NO DATA", "left", 1.0, AT, 2.0, AT, AT),
    m.Markers(RUN, 1, (m.MarkerNow(1, "injection", "Injection", 300.0, AT, ""),), AT),
    m.History(RUN, 1, AT, 1200.0, 10.0, {"left": (31.2, None, 31.4), "right": (30.0, 30.1, None)},
              (None, 1.2, 1.3), AT),
]


def test_every_schema_file_is_a_valid_2020_12_schema_with_an_id_and_the_version_field():
    for kind in m.Kind:
        schema = m.schema(kind)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:sympatherm:schema:v1:{kind}"
        assert schema["properties"]["schema"] == {"const": f"sympatherm/v1/{kind}"}
        assert "schema" in schema["required"]
    folder = Path(m.__file__).with_name("schemas")
    assert sorted(p.stem for p in folder.glob("*.json")) == sorted(k.value for k in m.Kind)


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda msg: type(msg).__name__)
def test_each_message_round_trips_and_matches_its_schema(message):
    kind = m.KIND_OF[type(message)]
    payload = m.encode(message)
    body = json.loads(payload)
    assert list(body)[0] == "schema" and body["schema"] == f"sympatherm/v1/{kind}"
    m.validate(kind, body)
    assert m.decode(kind, payload) == message


def test_the_patient_id_is_absent_unless_given_and_nan_travels_as_null():
    assert "patient_id" not in json.loads(m.encode(_state()))
    body = json.loads(m.encode(_state(di_minus_dc_c=float("nan"))))
    assert body["di_minus_dc_c"] is None


@pytest.mark.parametrize(("payload", "words"), [
    (b"\xff\xfe not json", "not JSON"),
    (b"[1, 2]", "is not of type 'object'"),
    (b'{"schema": "sympatherm/v2/state"}', "was expected"),
    (json.dumps({**json.loads(m.encode(_state())), "extra": 1}).encode(), "Additional properties"),
    (json.dumps({**json.loads(m.encode(_state())), "blocked_side": "both"}).encode(), "blocked_side"),
    (json.dumps({**json.loads(m.encode(_state())), "sent_at": "yesterday"}).encode(), "sent_at"),
])
def test_a_malformed_or_foreign_payload_is_a_message_error_in_words(payload, words):
    with pytest.raises(m.MessageError, match=words):
        m.decode(m.Kind.STATE, payload)


@pytest.mark.parametrize("payload", [
    b"[" * 100_000 + b"]" * 100_000,  # past the JSON parser's own stack: RecursionError before
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    "[" * 50_000 + "]" * 50_000,  # text, as a tool may hand it
    json.dumps({**json.loads(m.encode(_state())), "extra": [[[[[[[[[[1]]]]]]]]]]}).encode(),  # under the stack
])
def test_deeply_nested_json_is_a_message_error_saying_so_not_a_recursion_error(payload):
    with pytest.raises(m.MessageError, match="nests deeper than 8 levels"):
        m.decode(m.Kind.STATE, payload)


def test_a_payload_larger_than_a_v1_message_may_be_is_refused_before_it_is_read():
    valid = m.encode(_state())
    padded = valid + b" " * (m.MAX_PAYLOAD_BYTES - len(valid) + 1)  # still valid JSON
    assert m.decode(m.Kind.STATE, valid + b" " * (m.MAX_PAYLOAD_BYTES - len(valid))) == _state()
    with pytest.raises(m.MessageError, match=f"too large: {m.MAX_PAYLOAD_BYTES + 1} bytes"):
        m.decode(m.Kind.STATE, padded)


def test_a_history_whose_lists_differ_in_length_is_a_message_error():
    body = json.loads(m.encode(EXAMPLES[-1]))
    assert m.decode(m.Kind.HISTORY, json.dumps(body)).times() == [1200.0, 1210.0, 1220.0]
    body["feet"]["right"].append(30.2)
    with pytest.raises(m.MessageError, match="lists differ in length"):
        m.decode(m.Kind.HISTORY, json.dumps(body))
    body["feet"]["right"] = [30.0] * 3602
    with pytest.raises(m.MessageError, match="is too long"):
        m.decode(m.Kind.HISTORY, json.dumps(body))


def test_topics_are_built_and_parsed_and_bad_names_refused():
    assert m.topic("clinic", "room-1", "state") == "sympatherm/v1/clinic/room-1/state"
    assert m.parse_topic("sympatherm/v1/clinic/room-1/alarms") == m.Topic("clinic", "room-1", m.Kind.ALARMS)
    assert m.subscription("clinic") == "sympatherm/v1/clinic/+/#"
    for bad in ("sympatherm/v1/clinic/room-1", "sympatherm/v2/clinic/room-1/state", "other/v1/a/b/state",
                "sympatherm/v1/clinic/room-1/secrets", "sympatherm/v1/clinic/room 1/state"):
        with pytest.raises(m.MessageError):
            m.parse_topic(bad)
    for bad in ("", "room/1", "room+", "#", "-room", "a" * 65, "bäd"):
        with pytest.raises(ValueError, match="letters, digits"):
            m.topic("clinic", bad, "state")
    assert m.posix_of(AT) == pytest.approx(1_800_000_000.25)


def test_the_send_queue_is_bounded_keeps_events_drops_oldest_readings_and_says_so():
    q = SendQueue(readings_max=3, events_max=2)
    for seq in range(1, 6):
        q.put_reading(m.Readings(RUN, seq, float(seq), AT, {}, 0, AT))
    q.put_state(_state(session_s=1.0))
    q.put_state(_state(session_s=2.0))  # replaces the first
    for seq in (1, 2, 3):
        q.put_event(m.Markers(RUN, seq, (), AT))
    assert len(q) == 3 + 1 + 2 and q.readings_dropped == 2 and q.events_dropped == 1
    taken = [q.take() for _ in range(len(q))]
    assert [t.seq for t in taken[:2]] == [2, 3], "events first, oldest dropped"
    assert isinstance(taken[2], m.State) and taken[2].session_s == 2.0 and taken[2].seq == 1
    assert [(t.seq, t.dropped_before) for t in taken[3:]] == [(3, 2), (4, 0), (5, 0)]
    assert q.take() is None


def test_the_send_queue_keeps_only_the_newest_history_numbered_when_sent_after_the_state():
    q = SendQueue()
    history = EXAMPLES[-1]
    q.put_reading(m.Readings(RUN, 1, 1.0, AT, {}, 0, AT))
    q.put_history(history)
    q.put_history(replace(history, start_s=1210.0))  # replaces the first
    q.put_state(_state())
    assert len(q) == 3
    taken = [q.take() for _ in range(3)]
    assert [type(t) for t in taken] == [m.State, m.History, m.Readings]
    assert taken[1].start_s == 1210.0 and taken[1].seq == 1
    q.put_history(history)
    assert q.take().seq == 2 and q.take() is None


def test_a_station_going_offline_sends_its_newest_state_before_it_says_so():
    q = SendQueue()
    q.put_event(m.Markers(RUN, 1, (), AT))
    q.put_state(_state(session_s=9.0))
    q.put_event(m.Status("clinic", "room-1", None, False, "c", "sympatherm 0.1.0", True, "session finished", AT))
    taken = [q.take() for _ in range(3)]
    assert isinstance(taken[0], m.Markers), "events still go first"
    assert isinstance(taken[1], m.State) and taken[1].session_s == 9.0, "the last state before 'offline'"
    assert isinstance(taken[2], m.Status) and not taken[2].online
