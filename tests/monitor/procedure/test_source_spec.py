"""The source description kept in a session file: versioned JSON read strictly, the flags older
files kept, and the session meta that holds it."""

from __future__ import annotations

import json

import pytest

from monitor.model import Limb, SessionInfo
from monitor.procedure.source_spec import (
    LEGACY_FLAGS_META_KEY,
    SOURCE_META_KEY,
    BleSpec,
    SerialSpec,
    SimulatedSpec,
    SourceSpec,
    from_legacy_flags,
    store_spec,
    stored_spec,
)
from monitor.store import SessionStore

SPECS = [
    SimulatedSpec(scenario="success-slow", seed=7, speed=12.5, blocked=Limb.RIGHT, rate_hz=2.0),
    SimulatedSpec(),
    SerialSpec(port="/dev/ttyACM0"),
    SerialSpec(port="auto", baud=115200),
    SerialSpec(port="COM3", baud=None),
    BleSpec(addresses=("AA:BB:CC:DD:EE:01",)),
    BleSpec(addresses=("AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02")),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.to_json())
def test_each_kind_round_trips_as_a_whole_object(spec):
    again = SourceSpec.from_json(spec.to_json())
    assert again == spec and type(again) is type(spec)
    assert hash(again) == hash(spec)  # frozen: usable as a key


def test_the_json_is_the_documented_shape():
    assert json.loads(SimulatedSpec(scenario="failed", seed=3, speed=10, blocked=Limb.LEFT).to_json()) == {
        "version": 1, "kind": "simulated", "scenario": "failed", "seed": 3, "speed": 10.0, "blocked": "left",
        "rate_hz": 1.0}
    assert json.loads(SerialSpec(port="/dev/ttyACM0").to_json()) == {
        "version": 1, "kind": "serial", "port": "/dev/ttyACM0", "baud": None}
    assert json.loads(BleSpec(addresses=("AA:01", "BB:02")).to_json()) == {
        "version": 1, "kind": "ble", "addresses": ["AA:01", "BB:02"]}
    assert SimulatedSpec().simulated and not SerialSpec().simulated and not BleSpec(("A",)).simulated


def _sim(**changes) -> str:
    data = {"version": 1, "kind": "simulated", "scenario": "success-fast", "seed": 1, "speed": 10.0,
            "blocked": "left", "rate_hz": 1.0}
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not _DROP})


_DROP = object()


@pytest.mark.parametrize("text, words", [
    ("", "not valid JSON"),
    ("{", "not valid JSON"),
    ("[1, 2]", "JSON object, not a list"),
    ('"simulated"', "JSON object, not text"),
    ("null", "JSON object, not null"),
    (_sim(version=_DROP), "has no version"),
    (_sim(version=2), "version 2 (a newer SympaTherm wrote it)"),
    (_sim(version=0), "version 0"),
    (_sim(version="1"), "version must be a whole number"),
    (_sim(version=1.0), "version must be a whole number"),
    (_sim(version=True), "version must be a whole number"),
    (_sim(kind="usb"), "unknown source kind 'usb'"),
    (_sim(kind=None), "unknown source kind None"),
    (_sim(kind=_DROP), "unknown source kind None"),
    (_sim(seed=_DROP), "lacks seed"),
    (_sim(colour="red"), "unexpected field(s): colour"),
    (_sim(scenario=3), "scenario must be text, not a number"),
    (_sim(scenario=""), "scenario is empty"),
    (_sim(scenario="../../etc/passwd"), "is not a scenario name"),
    (_sim(scenario="x" * 300), "too long"),
    (_sim(seed=1.5), "seed must be a whole number"),
    (_sim(seed=True), "seed must be a whole number"),
    (_sim(seed="1"), "seed must be a whole number"),
    (_sim(seed=-1), "seed must be between 0 and"),
    (_sim(seed=2**40), "seed must be between 0 and"),
    (_sim(speed=0), "speed must be greater than zero"),
    (_sim(speed=-3.0), "speed must be greater than zero"),
    (_sim(speed=1e9), "at most 100000"),
    (_sim(speed="fast"), "speed must be a number, not text"),
    (_sim(speed=None), "speed must be a number, not null"),
    (_sim(speed=False), "speed must be a number, not true/false"),
    (_sim(speed=1e400), "holds Infinity, which is not a number"),  # json.dumps writes Infinity
    (_sim().replace("10.0", "1e999"), "speed must be a finite number"),  # a literal too big for a float
    (_sim().replace("10.0", "NaN"), "holds NaN, which is not a number"),
    (_sim().replace("10.0", "-Infinity"), "holds -Infinity"),
    (_sim(rate_hz=0), "reading rate must be between"),
    (_sim(rate_hz=5000), "reading rate must be between"),
    (_sim(blocked="both"), "blocked side must be \"left\" or \"right\""),
    (_sim(blocked="LEFT"), "blocked side must be"),
    (_sim(blocked=None), "blocked side must be"),
    ('{"version": 1, "kind": "serial", "port": "/dev/ttyACM0"}', "lacks baud"),
    ('{"version": 1, "kind": "serial", "port": "", "baud": null}', "serial port is empty"),
    ('{"version": 1, "kind": "serial", "port": 5, "baud": null}', "serial port must be text"),
    ('{"version": 1, "kind": "serial", "port": "/dev/tty\\n", "baud": null}', "control characters"),
    ('{"version": 1, "kind": "serial", "port": " /dev/ttyACM0", "baud": null}', "spaces around it"),
    ('{"version": 1, "kind": "serial", "port": "auto", "baud": "9600"}', "baud rate must be a whole number"),
    ('{"version": 1, "kind": "serial", "port": "auto", "baud": 9600.0}', "baud rate must be a whole number"),
    ('{"version": 1, "kind": "serial", "port": "auto", "baud": 0}', "baud rate must be between"),
    ('{"version": 1, "kind": "serial", "port": "auto", "baud": 100000000}', "baud rate must be between"),
    ('{"version": 1, "kind": "ble", "addresses": []}', "one or two addresses"),
    ('{"version": 1, "kind": "ble", "addresses": ["A", "B", "C"]}', "one or two addresses"),
    ('{"version": 1, "kind": "ble", "addresses": "AA:BB"}', "must be a list, not text"),
    ('{"version": 1, "kind": "ble", "addresses": [1]}', "Bluetooth address must be text"),
    ('{"version": 1, "kind": "ble", "addresses": ["AA BB"]}', "not a Bluetooth address"),
    ('{"version": 1, "kind": "ble", "addresses": ["AA,BB"]}', "not a Bluetooth address"),
    ('{"version": 1, "kind": "ble", "addresses": ["aa:01", "AA:01"]}', "are the same"),
    ('{"version": 1, "kind": "ble"}', "lacks addresses"),
    ("{" + '"kind": "ble", ' * 400 + '"version": 1}', "too long"),
])
def test_every_invalid_description_is_refused_in_plain_words(text, words):
    with pytest.raises(ValueError) as caught:
        SourceSpec.from_json(text)
    assert words in str(caught.value)


def test_the_constructors_check_too_and_the_base_is_not_a_spec():
    with pytest.raises(ValueError, match="speed must be a finite number"):
        SimulatedSpec(speed=float("inf"))
    with pytest.raises(ValueError, match="speed must be greater than zero"):
        SimulatedSpec(speed=float("-0.0"))
    with pytest.raises(ValueError, match="blocked side must be left or right"):
        SimulatedSpec(blocked="up")  # type: ignore[arg-type]
    assert SimulatedSpec(blocked="right").blocked is Limb.RIGHT  # type: ignore[arg-type]
    assert BleSpec(addresses=["A1", "B2"]).addresses == ("A1", "B2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a list, not text"):
        BleSpec(addresses="AA:BB")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SourceSpec()
    with pytest.raises(ValueError, match="JSON text, not bytes"):
        SourceSpec.from_json(b"{}")  # type: ignore[arg-type]


@pytest.mark.parametrize("flags, spec", [
    ("--demo --scenario success-fast --seed 1 --speed 200",
     SimulatedSpec(scenario="success-fast", seed=1, speed=200.0)),
    ("--demo --scenario failed --seed 3 --speed 1e+03", SimulatedSpec(scenario="failed", seed=3, speed=1000.0)),
    ("--demo", SimulatedSpec(scenario="success-fast", seed=1, speed=1.0)),  # record's defaults
    ("--port /dev/ttyACM0", SerialSpec(port="/dev/ttyACM0")),
    ("--port auto --baud 9600", SerialSpec(port="auto", baud=9600)),
    ("--port '/dev/serial/by-id/usb-Sympa Therm-if00'", SerialSpec(port="/dev/serial/by-id/usb-Sympa Therm-if00")),
    ("--ble AA:BB:CC:DD:EE:01", BleSpec(addresses=("AA:BB:CC:DD:EE:01",))),
    ("--ble AA:BB:CC:DD:EE:01,AA:BB:CC:DD:EE:02", BleSpec(addresses=("AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"))),
])
def test_legacy_flag_strings_are_read_without_argparse(flags, spec):
    assert from_legacy_flags(flags) == spec


def test_legacy_simulated_flags_take_the_sessions_side():
    assert from_legacy_flags("--demo --scenario failed --seed 2 --speed 10", blocked=Limb.RIGHT).blocked is Limb.RIGHT


@pytest.mark.parametrize("flags, words", [
    ("", "exactly one source"),
    ("--scenario failed", "exactly one source"),
    ("--demo --port /dev/x", "exactly one source"),
    ("--demo --demo", "--demo is given twice"),
    ("--demo --seed", "--seed needs a value"),
    ("--demo --seed --speed 2", "--seed needs a value"),
    ("--demo --seed one", "is not a whole number"),
    ("--demo --seed 1.5", "is not a whole number"),
    ("--demo --speed nan", "is not a number"),
    ("--demo --speed inf", "is not a number"),
    ("--demo --speed 0", "speed must be greater than zero"),
    ("--demo --scenario '$(rm -rf ~)'", "is not a scenario name"),
    ("--demo --baud 9600", "--baud does not go with --demo"),
    ("--port /dev/x --seed 3", "--seed does not go with --port"),
    ("--port /dev/x --baud fast", "is not a whole number"),
    ("--ble ,", "one or two addresses"),
    ("--ble A,B,C", "one or two addresses"),
    ("--ble A --resume x", "'--resume' is not a source flag"),
    ("--port=/dev/x", "is not a source flag"),
    ("--port '/dev/x", "cannot be read"),  # unbalanced quote
    ("--demo __import__('os')", "is not a source flag"),
])
def test_bad_legacy_flags_are_refused_in_plain_words(flags, words):
    with pytest.raises(ValueError) as caught:
        from_legacy_flags(flags)
    assert words in str(caught.value) and "the session's saved source" in str(caught.value)


def test_a_real_session_file_keeps_its_spec(tmp_path):
    path = tmp_path / "s.sympatherm"
    spec = SimulatedSpec(scenario="success-slow", seed=4, speed=20.0, blocked=Limb.RIGHT)
    store = SessionStore.create(SessionInfo(patient_id="SPEC-1", blocked=Limb.RIGHT, simulated=True), path)
    assert stored_spec(store) is None  # nothing said yet
    store_spec(store, spec)
    store.commit()
    assert stored_spec(store) == spec
    store.close()
    with SessionStore.open_read_only(path) as reader:
        assert stored_spec(reader) == spec
        assert json.loads(reader.meta()[SOURCE_META_KEY])["kind"] == "simulated"
        assert LEGACY_FLAGS_META_KEY not in reader.meta()  # only the spec is written now
    with pytest.raises(TypeError):
        store_spec(store, "--demo")  # type: ignore[arg-type]


def test_an_old_file_with_only_flags_still_says_its_source(tmp_path):
    store = SessionStore.create(SessionInfo(patient_id="OLD-1", blocked=Limb.RIGHT, simulated=True),
                                tmp_path / "old.sympatherm")
    store.set_meta(LEGACY_FLAGS_META_KEY, "--demo --scenario success-fast --seed 1 --speed 10")
    store.commit()
    store.close()
    with SessionStore.open_read_only(tmp_path / "old.sympatherm") as reader:
        assert stored_spec(reader) == SimulatedSpec(scenario="success-fast", seed=1, speed=10.0, blocked=Limb.RIGHT)
    # Where both are there, the spec is the source; a spec that cannot be read is said, not skipped.
    store = SessionStore.open(tmp_path / "old.sympatherm", resume=True)
    store.set_meta(SOURCE_META_KEY, SerialSpec(port="auto").to_json())
    store.commit()
    assert stored_spec(store) == SerialSpec(port="auto")
    store.set_meta(SOURCE_META_KEY, '{"version": 9, "kind": "serial"}')
    store.commit()
    with pytest.raises(ValueError, match="the session's saved source cannot be read: .*version 9"):
        stored_spec(store)
    store.close()
