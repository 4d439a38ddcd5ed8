"""Serial faults through the real serial source, recorder and session file.

Cable pulled and replugged under a new port name with a stranger plugged in meanwhile;
corrupted, truncated, duplicated and reordered frames; a text device where binary was
expected and the reverse. Each test ends by proving the file holds every reading received.
"""

from __future__ import annotations

import os

import pytest

from firmware_protocol.frames import ChannelValue, HelloFrame, SampleFrame, encode_frame
from firmware_protocol.textlines import encode_text_line
from monitor.model import ConnectionState, Limb, ProbeStatus
from monitor.simulation.virtual_serial import VirtualSerialProbe
from monitor.sources.serial import SerialSource
from tests.support.raw_line import RawLine

from .harness import assert_nothing_lost

SPEED = 30.0


@pytest.fixture
def strangers():
    made: list[VirtualSerialProbe] = []
    yield made
    for probe in made:
        probe.stop()


def test_cable_pulled_and_replugged_under_a_new_name_while_a_stranger_is_plugged_in(
        make_probe, make_recording, registry, strangers):
    probe = make_probe(speed=SPEED, usb_serial="USB-42")
    listed = [probe]
    src = SerialSource(None, registry=registry, discovery=lambda: [p.port_info() for p in listed if p.path])
    rec = make_recording(src)
    rec.pump_until(lambda: rec.count(Limb.LEFT) >= 10, what="readings before the unplug")
    before = list(rec.delivered)
    first_path = probe.path
    probe.unplug()
    rec.pump_until(lambda: src.state is ConnectionState.RECONNECTING, what="the loss to be seen")
    # Listed from the moment its device node exists, as comports() lists a real USB device (the
    # node may reuse the pulled probe's /dev/pts number).
    stranger = VirtualSerialProbe(speed=SPEED, device_id="SIM-0002", usb_serial="USB-99")
    listed.append(stranger)
    stranger.start()
    strangers.append(stranger)
    rec.pump_until(lambda: probe.samples_unplugged >= 5, what="time passing unplugged")
    assert src.state is ConnectionState.RECONNECTING
    new_path = probe.replug()
    assert new_path != first_path or not os.path.exists(first_path)
    rec.pump_until(lambda: src.state is ConnectionState.STREAMING and rec.count(Limb.LEFT) >= len(before) // 2 + 15,
                   what="the stream to continue")
    rec.finish()

    assert rec.delivered[:len(before)] == before
    assert stranger.identity_requests == 0, "the stranger was written to"
    assert {r.source for r in rec.delivered} == {"serial:SIM-0001"}, "a reading came from the stranger"
    for limb in Limb:  # nothing twice (the probe resent its backlog on reconnection)
        times = [r.device_time_s for r in rec.delivered if r.limb is limb]
        assert len(times) == len(set(times))
    stored = rec.stored()
    assert_nothing_lost(stored, rec.delivered)
    with rec.store.open_read_only(rec.path) as reader:
        gaps = reader.events("connection_gap")
        devices = reader.devices()
    assert len(gaps) == 1 and "unplugged" in gaps[0].message and gaps[0].end_s is not None
    assert [d.key for d in devices] == ["serial:SIM-0001"], "one device, whatever its port name"


# ---- a raw pseudo-terminal: the test writes exactly the bytes a faulty link would carry ----------


def _sample(i: int) -> SampleFrame:
    return SampleFrame(i, 1000 * i, (ChannelValue(round(30.0 + 0.01 * i, 2), None, ProbeStatus.OK),
                                     ChannelValue(round(29.0 + 0.01 * i, 2), None, ProbeStatus.OK)))


def _start_on(line: RawLine, registry, make_recording, **kwargs):
    src = SerialSource(line.path, registry=registry, discovery=lambda: [line.info()], **kwargs)
    rec = make_recording(src)
    rec.pump_until(lambda: "listening" in src.reason, what="the port to open")
    return src, rec


def test_corrupted_truncated_duplicated_and_reordered_frames(make_recording, registry):
    line = RawLine()
    try:
        src, rec = _start_on(line, registry, make_recording)
        line.write(encode_frame(HelloFrame(0, 0, "RAW-1", "t", "ysi400", 2, 1.0)))
        stream = bytearray()
        expected: list[int] = []
        corrupted, truncated, duplicated = {20, 55, 90}, {30, 70}, {40, 41, 80}
        for i in range(1, 121):
            frame = encode_frame(_sample(i))
            if i == 100:  # 100 and 101 arrive swapped: 101 is delivered, the late 100 is not
                held = frame
                continue
            if i in corrupted:
                bad = bytearray(frame)
                bad[len(bad) // 2] ^= 0x10
                stream += bad
                continue
            if i in truncated:
                stream += frame[: len(frame) // 2] + b"\x00"  # bytes lost on the line, delimiter kept
                continue
            stream += frame
            expected.append(i)
            if i in duplicated:
                stream += frame
            if i == 101:
                stream += held
        for k in range(0, len(stream), 61):  # arbitrary chunking, as a UART delivers it
            line.write(bytes(stream[k:k + 61]))
        rec.pump_until(lambda: rec.count(Limb.RIGHT) >= len(expected) or
                       any(r.device_time_s == 120.0 for r in rec.delivered if r.limb is Limb.RIGHT),
                       what="the last frame")
        rec.finish()
    finally:
        line.close()

    for limb, base in ((Limb.LEFT, 30.0), (Limb.RIGHT, 29.0)):
        got = [(r.device_time_s, r.celsius) for r in rec.delivered if r.limb is limb]
        assert got == [(float(i), round(base + 0.01 * i, 2)) for i in expected], \
            "every intact frame delivered once, in order, and nothing invented"
    health = src.health()
    assert health.crc_failures + health.malformed_frames >= 1  # the user sees line errors counted
    assert src.duplicates_dropped == len(duplicated) + 1  # the copies and the late frame
    # Missing frames are counted from the sequence numbers: the damaged ones and the late one.
    assert health.lost_frames == len(corrupted) + len(truncated) + 1
    assert_nothing_lost(rec.stored(), rec.delivered)


def test_text_sent_when_binary_is_expected_invents_nothing_and_keeps_what_came_before(
        make_recording, registry):
    line = RawLine()
    try:
        src, rec = _start_on(line, registry, make_recording, protocol="binary")
        line.write(encode_frame(HelloFrame(0, 0, "RAW-1", "t", "ysi400", 2, 1.0)))
        line.write(b"".join(encode_frame(_sample(i)) for i in range(1, 11)))
        rec.pump_until(lambda: rec.count(Limb.LEFT) == 10, what="ten binary samples")
        before = list(rec.delivered)
        # The probe is reflashed with a text firmware mid-session (or another device answers).
        text = b"".join(encode_text_line(31.0 + i / 10, 30.0) + b"\r\n" for i in range(300))
        line.write(text)
        rec.pump_until(lambda: src.health().malformed_frames + src.health().crc_failures >= 1,
                       what="the text to be rejected")
        line.write(b"".join(encode_frame(_sample(i)) for i in range(11, 16)))  # binary again
        rec.pump_until(lambda: any(r.device_time_s == 15.0 for r in rec.delivered), what="binary samples again")
        rec.finish()
    finally:
        line.close()
    assert rec.delivered[:len(before)] == before
    # Frame 11 is glued to the text before it (no delimiter between them) and rejected; 12-15 decode.
    assert [r.device_time_s for r in rec.delivered if r.limb is Limb.LEFT] == [float(i) for i in (*range(1, 11),
                                                                                               12, 13, 14, 15)]
    assert_nothing_lost(rec.stored(), rec.delivered)


def test_binary_sent_when_text_is_expected_invents_nothing_and_keeps_what_came_before(
        make_recording, registry):
    line = RawLine()
    try:
        src, rec = _start_on(line, registry, make_recording, protocol="text")
        line.write(b"\r\n" + b"".join(encode_text_line(31.0, 30.0 + i / 100) + b"\r\n" for i in range(10)))
        rec.pump_until(lambda: rec.count(Limb.RIGHT) == 10, what="ten text lines")
        before = list(rec.delivered)
        frames = b"".join(encode_frame(_sample(i)) for i in range(1, 400))
        line.write(encode_frame(HelloFrame(0, 0, "RAW-1", "t", "ysi400", 2, 1.0)) + frames)
        line.write(b"\r\n" + b"".join(encode_text_line(32.0, 31.0) + b"\r\n" for _ in range(5)))
        rec.pump_until(lambda: rec.count(Limb.RIGHT) >= 15, what="text lines after the binary")
        rec.finish()
    finally:
        line.close()
    assert rec.delivered[:len(before)] == before
    # Nothing was read out of the binary frames: every reading is one of the lines sent.
    sent = {(31.0, round(30.0 + i / 100, 2)) for i in range(10)} | {(32.0, 31.0)}
    pairs = list(zip([r.celsius for r in rec.delivered if r.limb is Limb.LEFT],
                     [r.celsius for r in rec.delivered if r.limb is Limb.RIGHT], strict=True))
    assert set(pairs) <= sent and len(pairs) == 15
    assert_nothing_lost(rec.stored(), rec.delivered)



def test_a_corrupted_frame_right_after_the_first_good_one_is_counted(make_recording, registry):
    """Line noise before the first good frame is boot noise; a bad frame after it is not."""
    line = RawLine()
    try:
        src, rec = _start_on(line, registry, make_recording)
        bad = bytearray(encode_frame(_sample(1)))
        bad[len(bad) // 2] ^= 0x01
        line.write(encode_frame(HelloFrame(0, 0, "RAW-1", "t", "ysi400", 2, 1.0)) + bytes(bad)
                   + encode_frame(_sample(2)))
        rec.pump_until(lambda: rec.count(Limb.LEFT) >= 1, what="the good sample")
        rec.finish()
    finally:
        line.close()
    assert [r.device_time_s for r in rec.delivered if r.limb is Limb.LEFT] == [2.0]
    assert src.health().crc_failures == 1
