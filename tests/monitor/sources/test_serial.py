"""The serial source end to end over real pseudo-terminals, against the virtual probe."""

from __future__ import annotations

import os
import select

import pytest
import serial

from monitor.model import ConnectionState, Limb, ProbeStatus
from monitor.simulation.physiology import PatientModel
from monitor.sources.ports import SYMPATHERM_PID, SYMPATHERM_VID, PortInfo
from monitor.sources.serial import SerialSource

SPEED = 30.0  # simulated seconds per real second; 1 sample per simulated second


def lefts(readings):
    return [r for r in readings if r.limb is Limb.LEFT]


@pytest.fixture
def raw_pty():
    """(master fd, device path) of a raw pseudo-terminal: a port whose bytes the test writes itself."""
    import pty
    import tty

    master, slave = pty.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def assert_no_duplicates(readings):
    for limb in Limb:
        times = [r.device_time_s for r in readings if r.limb is limb]
        assert times == sorted(times) and len(set(times)) == len(times), "a reading was delivered twice"


@pytest.mark.parametrize("protocol", ["binary", "text"])
def test_reads_the_virtual_probe_like_hardware(protocol, make_probe, start_source, registry):
    probe = make_probe(scenario="success-fast", seed=3, speed=SPEED, protocol=protocol)
    src = SerialSource(probe.path, discovery=lambda: [probe.port_info()], registry=registry)
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 25, what="25 readings")
    assert src.state is ConnectionState.STREAMING and src.protocol == protocol
    assert {r.limb for r in c.readings} == {Limb.LEFT, Limb.RIGHT}
    if protocol == "binary":
        # The hello frame named the device; what arrived is exactly what the model produced.
        assert src.identity.device_id == "SIM-0001" and src.identity.probe_model == "simulated YSI 400"
        assert_no_duplicates(c.readings)
        twin = PatientModel.from_scenario("success-fast", seed=3, blocked=Limb.LEFT)
        last = max(r.device_time_s for r in c.readings)
        expected = {}
        for n in range(int(round(last)) + 1):
            for limb in Limb:
                expected[(limb, float(n))] = twin.measure(limb, float(n))
        for r in c.readings:
            assert expected[(r.limb, r.device_time_s)] == (r.celsius, r.status)
        assert src.health().lost_frames == 0
    else:
        assert src.identity.usb_serial == "SIM-0001" and src.identity.device_id.startswith("usb-1209:5354")
        assert all(20.0 < r.celsius < 36.0 for r in c.readings)
    health = src.health()
    assert health.readings_per_s > 0 and health.last_reading_age_s[Limb.RIGHT] is not None
    # Boot banner and line noise before the first frame are not held against the link.
    assert health.crc_failures == 0 and health.malformed_frames == 0


@pytest.mark.parametrize("protocol", ["binary", "text"])
def test_garbage_mid_stream_is_counted_and_survived(protocol, make_probe, start_source, registry):
    probe = make_probe(speed=SPEED, protocol=protocol)
    src = SerialSource(probe.path, registry=registry, discovery=lambda: [probe.port_info()])
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 5, what="first readings")
    before = len(c.readings)
    if protocol == "binary":
        probe.inject(b"\x13\x37\x00\x05\xff\xee\xdd\xcc\x00" + bytes(range(1, 200)) + b"\x00")
    else:
        probe.inject(b"\xff\xfe\x00garbage\n12.3.4,,5\n31.0;\n")
    c.wait(lambda: len(c.readings) >= before + 20, what="readings after the garbage")
    health = src.health()
    assert health.crc_failures + health.malformed_frames >= 1
    assert src.state is ConnectionState.STREAMING
    if protocol == "binary":
        assert_no_duplicates(c.readings)


def test_text_sensor_faults_become_fault_statuses(make_probe, start_source, registry):
    probe = make_probe(scenario="sensor-fault", seed=1, speed=1000.0, protocol="text", injection_s=20.0)
    src = SerialSource(probe.path, registry=registry, discovery=lambda: [probe.port_info()])
    c = start_source(src)
    c.wait(lambda: {ProbeStatus.OPEN_CIRCUIT, ProbeStatus.SHORT_CIRCUIT} <= {r.status for r in c.readings},
           timeout=30.0, what="open and short circuit readings")
    assert all(r.celsius is None for r in c.readings if r.status.is_fault and r.status is not ProbeStatus.OUT_OF_RANGE)


def test_unplug_and_replug_under_a_new_name(make_probe, start_source, registry):
    probe = make_probe(speed=SPEED, usb_serial="USB-42")
    stranger = None
    listed = [probe]
    src = SerialSource(None, registry=registry, discovery=lambda: [p.port_info() for p in listed if p.path])
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 10, what="readings before the unplug")
    assert src.identity.device_id == "SIM-0001"
    first_path = probe.path
    probe.unplug()
    c.wait(lambda: src.state in (ConnectionState.LOST, ConnectionState.RECONNECTING), what="the loss")
    lost = [e for e in c.events if e.state is ConnectionState.LOST]
    assert lost and "unplugged" in lost[0].reason and first_path in lost[0].reason
    # A different probe appears meanwhile: it must be left alone.
    stranger = make_probe(speed=SPEED, device_id="SIM-0002", usb_serial="USB-99")
    listed.append(stranger)
    c.pump()  # readings emitted before the loss was reported
    count_at_unplug = len(c.readings)
    c.wait(lambda: probe.samples_unplugged >= 5, what="time passing while unplugged")
    c.pump()
    assert src.state is ConnectionState.RECONNECTING
    assert len(c.readings) == count_at_unplug
    assert stranger.identity_requests == 0
    # Usually a new name; the old one when another process took no pty meanwhile (both are real).
    new_path = probe.replug()
    c.wait(lambda: src.state is ConnectionState.STREAMING and len(c.readings) >= count_at_unplug + 20,
           what="the stream to continue")
    states = [e.state for e in c.events]
    i_lost = states.index(ConnectionState.LOST)
    assert ConnectionState.RECONNECTING in states[i_lost:] and states[-1] is ConnectionState.STREAMING
    assert new_path in c.events[-1].reason
    # The gap: readings stop before the loss and resume after the reconnection.
    t_lost = c.events[i_lost].session_s
    t_reopened = [e for e in c.events if e.state is ConnectionState.RECONNECTING][-1].session_s
    assert not [r for r in c.readings if t_lost < r.session_s < t_reopened]
    assert_no_duplicates(c.readings)
    assert all(r.source == "serial:SIM-0001" for r in c.readings)
    assert src.duplicates_dropped >= 1  # the probe resent its backlog after the identity request
    # Each sample taken while unplugged is either counted lost or came back in the resent backlog.
    assert src.health().lost_frames + src.backlog_recovered >= probe.samples_unplugged
    assert probe.identity_requests >= 2 and stranger.identity_requests == 0


def test_same_model_without_serial_number_is_told_apart_by_its_identity_frame(make_probe, start_source, registry):
    probe = make_probe(speed=SPEED, usb_serial="")
    listed = [probe]
    src = SerialSource(None, registry=registry, discovery=lambda: [p.port_info() for p in listed if p.path])
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 5, what="first readings")
    probe.unplug()
    c.wait(lambda: src.state is ConnectionState.RECONNECTING, what="reconnecting")
    other = make_probe(speed=SPEED, device_id="SIM-0777", usb_serial="")
    listed.append(other)
    c.wait(lambda: any("different probe (SIM-0777)" in e.reason for e in c.events), what="the stranger refused")
    probe.replug()
    c.wait(lambda: src.state is ConnectionState.STREAMING, what="reconnection to SIM-0001")
    c.wait(lambda: len(lefts(c.readings)) >= 15, what="more readings")
    assert all(r.source == "serial:SIM-0001" for r in c.readings)
    assert_no_duplicates(c.readings)


def test_auto_detect_listens_and_never_writes_to_unknown_ports(make_probe, start_source, registry, raw_pty):
    master, port = raw_pty
    unknown = PortInfo(port, 0x0403, 0x6001, "FT-OTHER", "another device")
    # A probe behind a generic USB adapter (unknown IDs): found by listening to its boot hello.
    probe = make_probe(speed=SPEED, vid=0x10C4, pid=0xEA60, usb_serial="CP-1")
    src = SerialSource(None, registry=registry, listen_s=1.0,
                       discovery=lambda: [unknown, probe.port_info()])
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 5, what="readings from the auto-detected probe")
    assert src.identity.usb_serial == "CP-1"
    assert probe.identity_requests == 0 and probe.bytes_received == 0  # unknown USB IDs: never written to
    ready, _, _ = select.select([master], [], [], 0.0)
    assert not ready, "something was written to a device we do not know"


def test_text_probes_are_never_written_to(make_probe, start_source, registry):
    probe = make_probe(speed=SPEED, protocol="text")  # known SympaTherm USB IDs, but text
    src = SerialSource(None, registry=registry, discovery=lambda: [probe.port_info()])
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 10, what="text readings")
    assert src.protocol == "text" and probe.bytes_received == 0


def test_line_errors_after_the_first_good_frame_count_even_in_one_chunk(start_source, registry, raw_pty):
    from firmware_protocol.frames import ChannelValue, HelloFrame, SampleFrame, encode_frame

    master, port = raw_pty
    src = SerialSource(port, registry=registry, discovery=lambda: [])
    c = start_source(src)
    c.wait(lambda: "listening" in src.reason, what="the port to open")
    good = [encode_frame(SampleFrame(i, i * 1000, (ChannelValue(30.0, None, ProbeStatus.OK),
                                                   ChannelValue(29.0, None, ProbeStatus.OK)))) for i in (1, 2, 3)]
    corrupted = bytearray(good[1])
    corrupted[4] ^= 0x01
    boot_noise = b"booting...\r\n\x13\x37\x00"
    os.write(master, boot_noise + encode_frame(HelloFrame(0, 0, "RAW-1", "t", "ysi400", 2, 1.0))
             + good[0] + bytes(corrupted) + good[2])
    c.wait(lambda: len(lefts(c.readings)) >= 2, what="the two intact samples")
    health = src.health()
    assert health.crc_failures + health.malformed_frames == 1  # the damaged frame; the boot noise is forgiven
    assert health.lost_frames == 1


def test_a_device_restart_whose_hello_was_lost_does_not_silence_the_probe(start_source, registry, raw_pty):
    from firmware_protocol.frames import ChannelValue, HelloFrame, SampleFrame, encode_frame

    def sample(seq, celsius):
        return encode_frame(SampleFrame(seq, seq * 1000, (ChannelValue(celsius, None, ProbeStatus.OK),
                                                          ChannelValue(29.0, None, ProbeStatus.OK))))

    master, port = raw_pty
    src = SerialSource(port, registry=registry, discovery=lambda: [])
    c = start_source(src)
    c.wait(lambda: "listening" in src.reason, what="the port to open")
    os.write(master, encode_frame(HelloFrame(0, 0, "RAW-2", "t", "ysi400", 2, 1.0))
             + b"".join(sample(i, 30.0) for i in range(1, 81)))
    c.wait(lambda: len(lefts(c.readings)) == 80, what="the first 80 samples")
    # A watchdog restart: the hello it sends at boot is garbled, then its clock and numbers begin again.
    hello = bytearray(encode_frame(HelloFrame(0, 0, "RAW-2", "t", "ysi400", 2, 1.0)))
    hello[5] ^= 0x40
    os.write(master, bytes(hello) + b"".join(sample(i, 31.0) for i in range(1, 11)))
    c.wait(lambda: len(lefts(c.readings)) == 90, what="the samples after the restart")
    assert [r.celsius for r in lefts(c.readings)[80:]] == [31.0] * 10
    assert src.device_restarts == 1 and src.duplicates_dropped == 0
    # A resend of recent samples is still recognised as one and dropped.
    os.write(master, sample(9, 31.0) + sample(10, 31.0) + sample(11, 31.5))
    c.wait(lambda: len(lefts(c.readings)) == 91, what="the new sample after the resend")
    assert lefts(c.readings)[-1].celsius == 31.5 and src.duplicates_dropped == 2


def test_a_one_channel_probe_waits_for_the_user_to_place_it(start_source, registry, raw_pty):
    from firmware_protocol.frames import ChannelValue, HelloFrame, SampleFrame, encode_frame

    master, port = raw_pty
    src = SerialSource(port, registry=registry, discovery=lambda: [])
    c = start_source(src)
    c.wait(lambda: "listening" in src.reason, what="the port to open")
    os.write(master, encode_frame(HelloFrame(0, 0, "ONE-1", "t", "ysi400", 1, 1.0)) + b"".join(
        encode_frame(SampleFrame(i, i * 1000, (ChannelValue(30.0, None, ProbeStatus.OK),))) for i in (1, 2, 3)))
    c.wait(lambda: "choose which foot" in src.reason, what="a request to place the probe")
    assert src.state is ConnectionState.STREAMING and not c.readings  # never guessed
    registry.assign_side(src.identity.key, Limb.RIGHT)  # the user places it (e.g. in the setup dialog)
    numbers = iter(range(4, 100_000))

    def one_more_sample_then_check():
        n = next(numbers)
        os.write(master, encode_frame(SampleFrame(n, n * 1000, (ChannelValue(30.0, None, ProbeStatus.OK),))))
        return any(r.limb is Limb.RIGHT for r in c.readings)

    c.wait(one_more_sample_then_check, what="readings on the chosen foot")
    assert "choose which foot" not in src.reason and not lefts(c.readings)


def test_named_port_that_does_not_exist_says_so(start_source, registry, tmp_path):
    src = SerialSource(str(tmp_path / "ttyNOPE"), registry=registry, discovery=lambda: [])
    c = start_source(src)
    c.wait(lambda: "no such port" in src.reason, what="a plain reason")
    assert src.state is ConnectionState.CONNECTING


def test_side_assignment_from_the_registry_swaps_channels(make_probe, start_source, registry):
    probe = make_probe(speed=SPEED)
    registry.assign_side("serial:SIM-0001", Limb.LEFT, channel=1)
    src = SerialSource(probe.path, registry=registry, discovery=lambda: [probe.port_info()])
    c = start_source(src)
    c.wait(lambda: len(c.readings) >= 10, what="readings")
    twin = PatientModel.from_scenario("success-fast", seed=1)
    # Channel 1 carries the model's right foot; the registry put channel 1 on the left.
    values = {float(n): twin.measure(Limb.RIGHT, float(n)) for n in range(int(max(r.device_time_s for r in c.readings)) + 1)
              if twin.measure(Limb.LEFT, float(n))}
    r = lefts(c.readings)[0]
    assert (r.celsius, r.status) == values[r.device_time_s]


# ---- a stranger at the pulled probe's old path ------------------------------------------------
# Port names are reused (/dev/pts/N, ttyACM0): after an unplug another device may get the old
# name. A symlink standing for the port name makes that reuse deterministic here.
def _stranger_refused(c) -> bool:
    return any("SIM-0002" in e.reason or "did not identify itself" in e.reason for e in c.events)


@pytest.mark.parametrize("named", [True, False], ids=["user-named-port", "auto-detected"])
def test_stranger_at_the_reused_old_path_is_never_written_to(named, make_probe, start_source, registry, tmp_path):
    probe = make_probe(speed=SPEED, usb_serial="USB-42")
    port = str(tmp_path / "ttyACM0")
    os.symlink(probe.path, port)
    listing: dict[str, PortInfo] = {} if named else {port: PortInfo(port, SYMPATHERM_VID, SYMPATHERM_PID, "USB-42")}
    src = SerialSource(port if named else None, registry=registry, discovery=lambda: list(listing.values()))
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 5, what="first readings")
    assert src.identity.device_id == "SIM-0001" and probe.identity_requests >= 1
    probe.unplug()
    os.unlink(port)
    listing.clear()
    c.wait(lambda: src.state is ConnectionState.RECONNECTING, what="the loss")
    count_at_unplug = len(c.readings)
    # Another device of the same model gets the old name.
    stranger = make_probe(speed=SPEED, device_id="SIM-0002", usb_serial="USB-99")
    if named:  # nothing lists it (as comports() does not list a pseudo-terminal, or a by-id link)
        os.symlink(stranger.path, port)
        c.wait(lambda: _stranger_refused(c), what="the stranger to be listened to and refused")
        assert stranger.bytes_received == 0, "an unlisted device at the named path was written to"
    # Listed from the start: our VID/PID, but no serial number (it cannot be ours, which has one).
    listing[port] = PortInfo(port, SYMPATHERM_VID, SYMPATHERM_PID, "")
    if not named:
        os.symlink(stranger.path, port)
    sent = stranger.samples_sent
    c.wait(lambda: stranger.samples_sent >= sent + 20, what="time passing with the stranger listed")
    assert stranger.bytes_received == 0, "a listed device that is not ours was written to"
    c.pump()
    assert src.state is not ConnectionState.STREAMING and len(c.readings) == count_at_unplug
    # Our probe comes back under another name (unlisted when the user named the old one: it
    # must prove itself by the hello it repeats after a replug, which is only listened to).
    os.unlink(port)
    listing.clear()
    new_port = str(tmp_path / "ttyACM1")
    os.symlink(probe.replug(), port if named else new_port)
    if not named:
        listing[new_port] = PortInfo(new_port, SYMPATHERM_VID, SYMPATHERM_PID, "USB-42")
    c.wait(lambda: src.state is ConnectionState.STREAMING and len(c.readings) >= count_at_unplug + 10,
           what="the stream to continue from our probe")
    assert all(r.source == "serial:SIM-0001" for r in c.readings)
    assert_no_duplicates(c.readings)
    assert stranger.bytes_received == 0 and stranger.identity_requests == 0


def test_a_listing_taken_before_the_port_changed_hands_is_not_trusted(make_probe, start_source, registry, tmp_path):
    """comports() is a snapshot: it may still list our probe at a path that another device has
    just been given. Only the listing seen while the port is held open may vouch for it."""
    probe = make_probe(speed=SPEED, usb_serial="USB-42")
    port = str(tmp_path / "ttyACM0")
    os.symlink(probe.path, port)
    ours = PortInfo(port, SYMPATHERM_VID, SYMPATHERM_PID, "USB-42")
    state = {"stale": False, "plugged": True}

    def discovery():
        return [ours] if state["plugged"] or state["stale"] else []

    def open_port(path, baud):
        opened = serial.Serial(path, baud, timeout=0.1, write_timeout=0.5, exclusive=True)
        state["stale"] = False  # the system's listing catches up once the port is open
        return opened

    src = SerialSource(None, registry=registry, discovery=discovery, open_port=open_port)
    c = start_source(src)
    c.wait(lambda: len(lefts(c.readings)) >= 5, what="first readings")
    probe.unplug()
    os.unlink(port)
    state["plugged"] = False
    c.wait(lambda: src.state is ConnectionState.RECONNECTING, what="the loss")
    count_at_unplug = len(c.readings)
    state["stale"] = True  # the next listing still shows our probe at the old name...
    stranger = make_probe(speed=SPEED, device_id="SIM-0002", usb_serial="USB-99")
    os.symlink(stranger.path, port)  # ...which another device now has
    c.wait(lambda: _stranger_refused(c), what="the stranger to be refused")
    assert stranger.bytes_received == 0, "written to on the strength of a stale listing"
    assert len(c.readings) == count_at_unplug, "the stranger's samples were taken for ours"
