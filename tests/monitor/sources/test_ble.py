"""The BLE source end to end: bleak's API and our code over bumble's in-process virtual link."""

from __future__ import annotations

import os

import numpy as np
import pytest
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from firmware_protocol.thermistor import Calibration
from monitor.clock import SimulatedClock
from monitor.model import ConnectionState, Limb, ProbeStatus
from monitor.simulation.physiology import PatientModel
from monitor.simulation.virtual_ble import VirtualRadio
from monitor.sources.ble import BLUETOOTH_UNAVAILABLE, BleSource, ble_key
from tests.support.bumble_bleak import backends_for

LEFT_ADDR = "F0:00:00:00:00:01"
RIGHT_ADDR = "F0:00:00:00:00:02"
FAST = (0.05, 0.1, 0.2)
SPEED = 20.0


@pytest.fixture
def radio():
    r = VirtualRadio()
    yield r
    r.close()


@pytest.fixture
def patient():
    return PatientModel.from_scenario("success-fast", seed=5, blocked=Limb.LEFT), SimulatedClock(SPEED)


def make_source(radio, *addresses, registry, **kwargs):
    scanner, client = backends_for(radio)
    options = {"scan_timeout_s": 2.0, "connect_timeout_s": 5.0, "backoff_s": FAST, **kwargs}
    return BleSource(*addresses, registry=registry, scanner_backend=scanner, client_backend=client, **options)


def count(readings, limb):
    return sum(1 for r in readings if r.limb is limb)


def test_one_thermometer_per_foot_streams_both_feet(radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Thermo L", model, (Limb.LEFT,), clock)
    radio.add_thermometer(RIGHT_ADDR, "Thermo R", model, (Limb.RIGHT,), clock)
    src = make_source(radio, LEFT_ADDR, RIGHT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 8 and count(c.readings, Limb.RIGHT) >= 8, what="both feet")
    assert src.state is ConnectionState.STREAMING
    assert src.sites == {LEFT_ADDR: {0: "toe"}, RIGHT_ADDR: {0: "toe"}}
    assert {r.source for r in c.readings if r.limb is Limb.LEFT} == {ble_key(LEFT_ADDR)}
    # What arrived is the patient's temperature (noise 0.03 °C), parsed from IEEE-11073 FLOATs.
    for r in c.readings[:10]:
        assert r.has_temperature
    left = [r.celsius for r in c.readings if r.limb is Limb.LEFT]
    right = [r.celsius for r in c.readings if r.limb is Limb.RIGHT]
    assert 22.0 < np.mean(left) < 36.0 and 22.0 < np.mean(right) < 36.0
    # The user's choice of sides was remembered in the registry.
    assert registry.side(ble_key(LEFT_ADDR)) is Limb.LEFT and registry.side(ble_key(RIGHT_ADDR)) is Limb.RIGHT
    assert src.identity.device_id == f"{LEFT_ADDR}+{RIGHT_ADDR}"


def test_link_loss_reconnects_by_address(radio, patient, start_source, registry):
    model, clock = patient
    left = radio.add_thermometer(LEFT_ADDR, "Thermo L", model, (Limb.LEFT,), clock)
    radio.add_thermometer(RIGHT_ADDR, "Thermo R", model, (Limb.RIGHT,), clock)
    src = make_source(radio, LEFT_ADDR, RIGHT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 3 and src.state is ConnectionState.STREAMING, what="streaming")
    left.go_out_of_range()
    c.wait(lambda: any(e.state is ConnectionState.LOST for e in c.events), what="the loss")
    lost = next(e for e in c.events if e.state is ConnectionState.LOST)
    assert "left foot thermometer Thermo L" in lost.reason and "lost" in lost.reason
    # While it is away the right foot keeps streaming and retries say so in plain words.
    before = count(c.readings, Limb.RIGHT)
    c.wait(lambda: count(c.readings, Limb.RIGHT) >= before + 5, what="the right foot to continue")
    c.wait(lambda: "trying again" in src.reason, what="a retry")
    at_return = count(c.readings, Limb.LEFT)
    left.come_back()
    c.wait(lambda: src.state is ConnectionState.STREAMING and count(c.readings, Limb.LEFT) >= at_return + 5,
           what="the left foot back")
    assert src.reconnections == 1 and left.connections_seen == 2
    states = [e.state for e in c.events]
    assert states.index(ConnectionState.LOST) < states.index(ConnectionState.RECONNECTING) < len(states) - 1
    assert states[-1] is ConnectionState.STREAMING
    # An unsolicited drop while in range reconnects too.
    left.drop_link()
    c.wait(lambda: src.reconnections == 2 and src.state is ConnectionState.STREAMING, what="second reconnection")


def test_measurements_missed_while_the_link_was_down_count_as_lost(radio, patient, start_source, registry):
    model, clock = patient
    thermo = radio.add_thermometer(LEFT_ADDR, "Thermo L", model, (Limb.LEFT,), clock, interval_s=1)
    # The source on the thermometer's clock, so that its Measurement Interval (1 s) is in the same seconds.
    src = make_source(radio, LEFT_ADDR, registry=registry, clock=clock)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 5, what="readings")
    lost_before, unsent_before = src.lost_frames, thermo.samples_unsent
    thermo.go_out_of_range()
    c.wait(lambda: thermo.samples_unsent >= unsent_before + 20, what="samples missed while out of range")
    thermo.come_back()
    at_return = count(c.readings, Limb.LEFT)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= at_return + 3, what="readings after the return")
    missed = thermo.samples_unsent - unsent_before
    # BLE has no sequence numbers: the gap in the Measurement Interval's rhythm is what tells.
    assert src.lost_frames - lost_before >= missed // 2 > 0


def test_one_device_with_two_channels_and_registry_swap(radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Thermo 2ch", model, (Limb.LEFT, Limb.RIGHT), clock)
    registry.assign_side(ble_key(LEFT_ADDR), Limb.RIGHT, channel=0)  # the user swapped the cables
    registry.set_calibration(ble_key(LEFT_ADDR), 1, Calibration(offset_c=1.5))
    src = make_source(radio, LEFT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 10 and count(c.readings, Limb.RIGHT) >= 10, what="two channels")
    # The model's left foot arrives on channel 0, which the registry put on the right foot;
    # channel 1 (the model's right foot) is on the left, 1.5 °C higher after its calibration.
    t = clock.now()
    got_right = np.mean([r.celsius for r in c.readings if r.limb is Limb.RIGHT][-5:])
    got_left = np.mean([r.celsius for r in c.readings if r.limb is Limb.LEFT][-5:])
    assert abs(got_right - float(model.truth(Limb.LEFT, t))) < 1.0
    assert abs(got_left - 1.5 - float(model.truth(Limb.RIGHT, t))) < 1.0


def test_environmental_sensing_device_with_two_temperatures(radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "ESS 2ch", model, (Limb.LEFT, Limb.RIGHT), clock, service="ess")
    src = make_source(radio, LEFT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 5 and count(c.readings, Limb.RIGHT) >= 5, what="ESS readings")
    t = clock.now()
    for limb in Limb:
        got = np.mean([r.celsius for r in c.readings if r.limb is limb][-3:])
        assert abs(got - float(model.truth(limb, t))) < 1.0
    assert src.sites == {LEFT_ADDR: {}}  # ESS has no temperature type


def test_an_environmental_sensor_that_can_only_be_read_is_read_regularly(radio, patient, start_source, registry):
    model, clock = patient
    sensor = radio.add_thermometer(LEFT_ADDR, "ESS read-only", model, (Limb.LEFT, Limb.RIGHT), clock,
                                   service="ess", ess_notify=False)
    src = make_source(radio, LEFT_ADDR, registry=registry, ess_poll_s=0.05)
    c = start_source(src)
    c.wait(lambda: sum(1 for r in c.readings if r.has_temperature and r.limb is Limb.LEFT) >= 5
           and sum(1 for r in c.readings if r.has_temperature and r.limb is Limb.RIGHT) >= 5, what="polled readings")
    t = clock.now()
    for limb in Limb:
        got = np.mean([r.celsius for r in c.readings if r.limb is limb and r.has_temperature][-3:])
        assert abs(got - float(model.truth(limb, t))) < 1.0
    assert src.state is ConnectionState.STREAMING
    # After a lost link the reading goes on over the new connection.
    sensor.drop_link()
    c.wait(lambda: src.reconnections == 1 and src.state is ConnectionState.STREAMING, what="the reconnection")
    before = len(c.readings)
    c.wait(lambda: len(c.readings) >= before + 6, what="polled readings after the reconnection")


def test_sensor_fault_and_intermediate_values_over_ble(radio, start_source, registry):
    model = PatientModel.from_scenario("sensor-fault", seed=1, blocked=Limb.LEFT, injection_s=0.0)
    opened = next(ev for ev in model.artefacts if ev.kind == "open")  # the blocked probe goes open-circuit
    clock = SimulatedClock(SPEED)
    radio.add_thermometer(LEFT_ADDR, "Thermo 2ch", model, (Limb.LEFT, Limb.RIGHT), clock,
                          intermediate=True, time_offset_s=opened.start_s - 5.0)
    src = make_source(radio, LEFT_ADDR, registry=registry)
    c = start_source(src)
    # Connecting may take long on a loaded machine: the fault may begin before the first reading, so
    # wait for all three things the test is about, not for the fault alone.
    c.wait(lambda: any(r.status is ProbeStatus.NOT_ATTACHED for r in c.readings) and src.intermediate_readings > 0
           and any(r.has_temperature for r in c.readings if r.limb is Limb.RIGHT),
           timeout=30.0, what="a no-valid-reading value, intermediate values and right-foot temperatures")
    faults = [r for r in c.readings if not r.has_temperature]
    assert all(r.limb is Limb.LEFT and r.celsius is None for r in faults)
    assert src.intermediate_readings > 0
    assert any(r.has_temperature for r in c.readings if r.limb is Limb.RIGHT)


def delivered_intermediates(src):
    return src.intermediate_readings - src.intermediate_ignored


def test_a_device_sending_measurements_and_intermediate_values_gives_one_reading_per_sample(
        radio, patient, start_source, registry):
    model, clock = patient
    thermo = radio.add_thermometer(LEFT_ADDR, "Thermo 2ch", model, (Limb.LEFT, Limb.RIGHT), clock,
                                   intermediate=True)
    # A generous window: a stalled, loaded machine must not make an intermediate value stand in.
    src = make_source(radio, LEFT_ADDR, registry=registry, intermediate_stale_s=120.0)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 15 and count(c.readings, Limb.RIGHT) >= 15
           and src.intermediate_ignored >= 20, what="measurements while intermediate values arrive")
    src.stop()
    c.pump()
    # Each intermediate value is notified just before its sample's measurement, so at most the
    # first per channel can come before that channel's first measurement; all others are dropped.
    assert delivered_intermediates(src) <= 2
    # One reading per sample, not two: at most the measurements indicated, plus that first
    # intermediate value and the last indication, which may arrive unacknowledged at stop().
    for limb in Limb:
        assert thermo.sent_intermediate[limb] >= 14
        assert count(c.readings, limb) <= thermo.sent[limb] + 2


def test_intermediate_values_stand_in_for_a_device_that_sends_no_measurements(
        radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Spot L", model, (Limb.LEFT,), clock, intermediate=True, measurement_every=0)
    radio.add_thermometer(RIGHT_ADDR, "Spot R", model, (Limb.RIGHT,), clock, intermediate=True, measurement_every=0)
    src = make_source(radio, LEFT_ADDR, RIGHT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 5 and count(c.readings, Limb.RIGHT) >= 5, what="both feet")
    src.stop()
    c.pump()
    assert src.intermediate_ignored == 0 and src.intermediate_readings == len(c.readings)
    t = clock.now()
    for limb in Limb:
        assert abs(np.mean([r.celsius for r in c.readings if r.limb is limb][-3:]) - float(model.truth(limb, t))) < 1.0


def test_intermediate_values_fill_in_between_sparse_measurements(radio, patient, start_source, registry):
    model, clock = patient
    # A measurement every 10 s (its Measurement Interval says so), an intermediate value every second.
    thermo = radio.add_thermometer(LEFT_ADDR, "Thermo L", model, (Limb.LEFT,), clock, intermediate=True,
                                   measurement_every=10, interval_s=10)
    src = make_source(radio, LEFT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 30 and thermo.sent[Limb.LEFT] >= 3, what="a stream of readings")
    src.stop()
    c.pump()
    # One a second, not one every 10 s: the intermediate values are the stream, the measurements in it.
    assert src.intermediate_ignored == 0
    assert src.intermediate_readings < count(c.readings, Limb.LEFT) <= src.intermediate_readings + thermo.sent[Limb.LEFT] + 1


def test_intermediate_values_fill_in_when_measurements_stop_and_give_way_when_they_return(
        radio, patient, start_source, registry):
    model, clock = patient
    # No Measurement Interval stated (0), so the source's own 0.5 s window decides.
    thermo = radio.add_thermometer(LEFT_ADDR, "Thermo L", model, (Limb.LEFT,), clock, intermediate=True,
                                   interval_s=0)
    src = make_source(radio, LEFT_ADDR, registry=registry, intermediate_stale_s=0.5)
    c = start_source(src)
    c.wait(lambda: src.intermediate_ignored >= 5, what="intermediate values given way to measurements")
    thermo.measurement_every = 0  # the device stops sending measurements
    used = delivered_intermediates(src)
    c.wait(lambda: delivered_intermediates(src) >= used + 10, what="intermediate values standing in")
    thermo.measurement_every = 1  # and starts again
    c.wait(lambda: src.intermediate_ignored >= 5 + 10 and count(c.readings, Limb.LEFT) > 0,
           what="measurements leading again")


def test_scan_picks_thermometers_the_registry_placed(radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Thermo A", model, (Limb.LEFT,), clock)
    radio.add_thermometer(RIGHT_ADDR, "Thermo B", model, (Limb.RIGHT,), clock)
    stranger = radio.add_thermometer("F0:00:00:00:00:09", "Someone else", model, (Limb.LEFT,), clock)
    registry.assign_side(ble_key(RIGHT_ADDR), "left")  # B is on the left foot, A on the right
    registry.assign_side(ble_key(LEFT_ADDR), "right")
    src = make_source(radio, registry=registry, scan_timeout_s=0.5)
    c = start_source(src)
    c.wait(lambda: count(c.readings, Limb.LEFT) >= 5 and count(c.readings, Limb.RIGHT) >= 5, what="both feet")
    assert {r.source for r in c.readings if r.limb is Limb.LEFT} == {ble_key(RIGHT_ADDR)}
    assert {r.source for r in c.readings if r.limb is Limb.RIGHT} == {ble_key(LEFT_ADDR)}
    assert stranger.connections_seen == 0


def test_two_unplaced_thermometers_ask_the_user(radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Thermo A", model, (Limb.LEFT,), clock)
    radio.add_thermometer(RIGHT_ADDR, "Thermo B", model, (Limb.RIGHT,), clock)
    src = make_source(radio, registry=registry, scan_timeout_s=0.5)
    c = start_source(src)
    c.wait(lambda: "choose which foot" in src.reason, what="a request to assign sides")
    assert not c.readings


def test_a_lone_unplaced_thermometer_is_not_put_on_a_foot_by_guessing(radio, patient, start_source, registry):
    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Thermo A", model, (Limb.LEFT,), clock)
    src = make_source(radio, registry=registry, scan_timeout_s=0.5)
    c = start_source(src)
    c.wait(lambda: "choose which foot the thermometer Thermo A is on" in src.reason, what="a request to choose")
    assert not c.readings
    registry.assign_side(ble_key(LEFT_ADDR), "right")  # the user answers (e.g. in the setup dialog)
    c.wait(lambda: count(c.readings, Limb.RIGHT) >= 3, what="readings on the chosen foot")
    assert count(c.readings, Limb.LEFT) == 0


class _NoAdapterScanner(BaseBleakScanner):
    """Stands in for BlueZ on a computer without an adapter: raises what bleak raises there."""

    error: Exception = FileNotFoundError(2, "No such file or directory")

    def __init__(self, detection_callback, service_uuids, *args, **kwargs):
        super().__init__(detection_callback, service_uuids)

    async def start(self):
        raise self.error

    async def stop(self):
        pass


@pytest.mark.parametrize("error", [
    FileNotFoundError(2, "No such file or directory"),
    BleakBluetoothNotAvailableError("no adapter", BleakBluetoothNotAvailableReason.NO_BLUETOOTH),
    BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
])
def test_no_bluetooth_is_said_in_plain_words(error, start_source, registry):
    scanner = type("Failing", (_NoAdapterScanner,), {"error": error})
    src = BleSource(LEFT_ADDR, registry=registry, scanner_backend=scanner, backoff_s=FAST)
    c = start_source(src)
    c.wait(lambda: src.reason == BLUETOOTH_UNAVAILABLE, what="the plain reason")
    assert src.state is ConnectionState.CONNECTING


@pytest.mark.skipif(os.path.exists("/run/dbus/system_bus_socket"), reason="this computer has a system D-Bus")
def test_no_bluetooth_with_the_real_platform_backend(start_source, registry):
    src = BleSource(LEFT_ADDR, registry=registry, backoff_s=FAST)
    c = start_source(src)
    c.wait(lambda: src.reason == BLUETOOTH_UNAVAILABLE, what="the plain reason")


def test_each_thermometer_is_recorded_in_the_session_with_its_own_calibration(radio, patient, start_source,
                                                                              registry, tmp_path):
    from monitor.model import SessionInfo
    from monitor.pipeline import BlockPipeline
    from monitor.procedure.recorder import SessionRecorder
    from monitor.store import SessionStore

    model, clock = patient
    radio.add_thermometer(LEFT_ADDR, "Thermo L", model, (Limb.LEFT,), clock)
    radio.add_thermometer(RIGHT_ADDR, "Thermo R", model, (Limb.RIGHT,), clock)
    registry.set_calibration(ble_key(LEFT_ADDR), 0, Calibration(offset_c=0.3))
    src = make_source(radio, LEFT_ADDR, RIGHT_ADDR, registry=registry)
    c = start_source(src)
    c.wait(lambda: src.state is ConnectionState.STREAMING and len(src.devices()) == 2, what="both thermometers")
    store = SessionStore.create(SessionInfo(patient_id="BLE-1", blocked=Limb.LEFT), path=tmp_path / "s.sympatherm")
    recorder = SessionRecorder(src, store, BlockPipeline(Limb.LEFT), registry=registry)
    recorder.pump()
    recorder.finish()
    rows = SessionStore.open_read_only(tmp_path / "s.sympatherm").devices()
    by_key = {row.key: row for row in rows}
    assert set(by_key) == {ble_key(LEFT_ADDR), ble_key(RIGHT_ADDR)}
    assert by_key[ble_key(LEFT_ADDR)].calibration["channel 0"]["offset_c"] == 0.3
    assert by_key[ble_key(RIGHT_ADDR)].calibration["channel 0"]["calibration"] == "none"
