"""Binary protocol v1: golden byte vectors, streaming, resync, counters, sequence wrap-around."""

from __future__ import annotations

import pytest

from firmware_protocol.frames import (
    ChannelValue,
    FrameDecoder,
    FrameError,
    HelloFrame,
    IdentityRequest,
    SampleFrame,
    cobs_decode,
    cobs_encode,
    crc16_ccitt_false,
    decode_payload,
    encode_frame,
    encode_payload,
)
from monitor.model import PROBE_STATUS_CODES, ProbeStatus

OK = ProbeStatus.OK

SAMPLE = SampleFrame(7, 123456, (ChannelValue(31.25, 1823.4, OK),
                                 ChannelValue(None, None, ProbeStatus.OPEN_CIRCUIT)))
SAMPLE_HEX = "04 01 02 07 04 40 e2 01 02 02 05 35 0c 3a 47 01 02 01 08 80 ff ff ff ff 09 b4 00"
HELLO = HelloFrame(0, 0, "ST-0042", "1.0.0", "YSI-400", 2, 1.0)
HELLO_HEX = ("03 01 01 01 01 01 01 01 04 02 e8 03 01 19 07 53 54 2d 30 30 34 32 05 31 2e 30 2e 30"
             " 07 59 53 49 2d 34 30 30 83 ee 00")
IDENTITY_HEX = "03 01 10 01 01 01 01 01 03 41 96 00"


def reference_crc(data: bytes) -> int:
    """Bit-by-bit CRC-16/CCITT-FALSE, written from the definition, to check the fast one."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def sample(seq: int, left: float = 31.0, right: float = 30.0) -> SampleFrame:
    return SampleFrame(seq, seq * 1000, (ChannelValue(left, None, OK), ChannelValue(right, None, OK)))


def test_crc_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert reference_crc(b"123456789") == 0x29B1
    payload = encode_payload(SAMPLE)
    assert crc16_ccitt_false(payload) == reference_crc(payload)


@pytest.mark.parametrize("raw, encoded", [
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255)) + b"\x01"),
])
def test_cobs_known_vectors(raw, encoded):
    assert cobs_encode(raw) == encoded
    assert cobs_decode(encoded) == raw


def test_golden_sample_frame():
    assert encode_payload(SAMPLE).hex(" ") == (
        "01 02 07 00 40 e2 01 00 02 00 35 0c 3a 47 00 00 01 00 80 ff ff ff ff")
    assert encode_frame(SAMPLE) == bytes.fromhex(SAMPLE_HEX)
    assert FrameDecoder().feed(bytes.fromhex(SAMPLE_HEX)) == [SAMPLE]


def test_golden_hello_frame():
    assert encode_frame(HELLO) == bytes.fromhex(HELLO_HEX)
    assert FrameDecoder().feed(bytes.fromhex(HELLO_HEX)) == [HELLO]


def test_golden_identity_request():
    assert encode_frame(IdentityRequest()) == bytes.fromhex(IDENTITY_HEX)
    assert FrameDecoder().feed(bytes.fromhex(IDENTITY_HEX)) == [IdentityRequest(0)]


def test_every_status_code_round_trips_in_model_order():
    channels = tuple(ChannelValue(20.0 + i, 1000.0 + i, st) for i, st in enumerate(PROBE_STATUS_CODES))
    frame = SampleFrame(1, 2, channels)
    payload = encode_payload(frame)
    codes = [payload[9 + 7 * i] for i in range(len(channels))]
    assert codes == list(range(len(PROBE_STATUS_CODES)))
    assert decode_payload(payload) == frame


def test_byte_by_byte_feeding_and_chunks():
    stream = b"".join(encode_frame(sample(i)) for i in range(20))
    dec = FrameDecoder()
    got = []
    for i in range(len(stream)):
        got += dec.feed(stream[i:i + 1])
    assert got == [sample(i) for i in range(20)]
    assert (dec.crc_failures, dec.malformed_frames, dec.lost_frames) == (0, 0, 0)


def test_resynchronises_after_garbage_within_one_frame():
    dec = FrameDecoder()
    garbage = bytes([0x55, 0x13, 0x99, 0xFE]) * 10
    stream = garbage + encode_frame(sample(1)) + encode_frame(sample(2))
    # The garbage glues onto frame 1 (no delimiter in between): frame 1 is lost, frame 2 is not.
    assert dec.feed(stream) == [sample(2)]
    assert dec.crc_failures + dec.malformed_frames == 1
    # With a delimiter in the garbage, nothing sent after it is lost.
    dec = FrameDecoder()
    assert dec.feed(garbage + b"\x00" + encode_frame(sample(1))) == [sample(1)]


def test_crc_failure_counted_and_sequence_gap_becomes_loss():
    frames = [encode_frame(sample(i)) for i in range(5)]
    bad = bytearray(frames[2])
    bad[6] ^= 0x04
    dec = FrameDecoder()
    got = dec.feed(frames[0] + frames[1] + bytes(bad) + frames[3] + frames[4])
    assert [f.sequence for f in got] == [0, 1, 3, 4]
    assert dec.crc_failures == 1
    assert dec.malformed_frames == 0
    assert dec.lost_frames == 1
    assert "CRC" in dec.last_error


def test_sequence_wrap_around_is_not_loss_but_a_gap_across_it_is():
    dec = FrameDecoder()
    dec.feed(encode_frame(sample(65534)) + encode_frame(sample(65535)) + encode_frame(sample(0)))
    assert dec.lost_frames == 0
    dec.feed(encode_frame(sample(3)))  # 1 and 2 missing
    assert dec.lost_frames == 2
    dec = FrameDecoder()
    dec.feed(encode_frame(sample(65533)) + encode_frame(sample(1)))  # 65534, 65535, 0 missing
    assert dec.lost_frames == 3
    assert dec.sequence_resets == 0


def test_device_reboot_hello_resets_sequence_without_loss():
    dec = FrameDecoder()
    dec.feed(encode_frame(sample(40000)) + encode_frame(HELLO) + encode_frame(sample(1)))
    assert dec.lost_frames == 0
    assert dec.sequence_resets == 1


def test_malformed_frames_with_good_crc():
    def framed(payload: bytes) -> bytes:
        return cobs_encode(payload + crc16_ccitt_false(payload).to_bytes(2, "big")) + b"\x00"

    good = encode_payload(sample(1))
    cases = {
        "version": bytes([2]) + good[1:],
        "type": good[:1] + b"\x7f" + good[2:],
        "length": good[:-1],
        "status": good[:9] + b"\x09" + good[10:],
        "header": good[:5],
        "hello tail": encode_payload(HELLO) + b"\x00",
    }
    for why, payload in cases.items():
        dec = FrameDecoder()
        assert dec.feed(framed(payload)) == [], why
        assert (dec.malformed_frames, dec.crc_failures) == (1, 0), why
        assert dec.last_error, why
    dec = FrameDecoder()
    dec.feed(framed(cases["version"]) + framed(cases["type"]))
    assert dec.unsupported_version == 2
    assert FrameDecoder().unsupported_version is None
    with pytest.raises(ValueError, match="version 2"):
        decode_payload(cases["version"])


def test_overlong_run_without_delimiter_is_dropped_and_counted_once():
    dec = FrameDecoder()
    for _ in range(10):
        assert dec.feed(b"\x41" * 100) == []
    assert dec.malformed_frames == 1
    assert dec.feed(b"\x00" + encode_frame(sample(9))) == [sample(9)]
    assert dec.malformed_frames == 1


def test_encoder_refuses_what_the_wire_cannot_carry():
    for bad in (
        SampleFrame(70000, 0, (ChannelValue(1.0, None),)),
        SampleFrame(0, -1, (ChannelValue(1.0, None),)),
        SampleFrame(0, 0, ()),
        SampleFrame(0, 0, (ChannelValue(400.0, None),)),
        SampleFrame(0, 0, (ChannelValue(float("nan"), None),)),
        SampleFrame(0, 0, (ChannelValue(None, -5.0),)),
        SampleFrame(0, 0, (ChannelValue(None, None, OK),)),
        HelloFrame(0, 0, "x" * 33, "1", "m", 2, 1.0),
        HelloFrame(0, 0, "id", "1", "m", 0, 1.0),
    ):
        with pytest.raises(FrameError):
            encode_frame(bad)


def test_resistance_only_and_fault_channels():
    frame = SampleFrame(3, 9, (ChannelValue(None, 2252.0, OK), ChannelValue(None, None, ProbeStatus.NOT_ATTACHED)))
    assert FrameDecoder().feed(encode_frame(frame)) == [frame]
