"""Property tests: round trips, and bad bytes never raise nor invent a reading."""

from __future__ import annotations

import math
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_protocol import ble
from firmware_protocol.frames import FrameDecoder, cobs_decode, cobs_encode, encode_frame
from firmware_protocol.sniff import detect_protocol
from firmware_protocol.textlines import TextLineDecoder, TextSample, encode_text_line
from firmware_protocol.thermistor import PRESETS, SteinhartHart
from tests.firmware_protocol.strategies import frames, sample_frames

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def feed_in_chunks(decoder, data: bytes, cuts: list[int]) -> list:
    out = []
    at = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        out += decoder.feed(data[at:cut])
        at = max(at, cut)
    return out


@FAST
@given(st.binary(max_size=600))
def test_cobs_round_trip(data):
    encoded = cobs_encode(data)
    assert b"\x00" not in encoded
    assert cobs_decode(encoded) == data


@FAST
@given(st.lists(frames, min_size=1, max_size=6), st.lists(st.integers(0, 10_000), max_size=8))
def test_frames_round_trip_in_any_chunking(sent, cuts):
    stream = b"".join(encode_frame(f) for f in sent)
    dec = FrameDecoder()
    assert feed_in_chunks(dec, stream, cuts) == sent
    assert (dec.crc_failures, dec.malformed_frames) == (0, 0)


@FAST
@given(st.binary(max_size=2000), st.lists(st.integers(0, 10_000), max_size=8))
def test_random_bytes_never_raise_nor_yield_frames(data, cuts):
    assert feed_in_chunks(FrameDecoder(), data, cuts) == []
    TextLineDecoder().feed(data)
    assert detect_protocol(data) in (None, "text")


@settings(max_examples=25, deadline=None)
@given(sample_frames, sample_frames)
def test_every_single_bit_flip_is_caught(frame, following):
    wire = encode_frame(frame)
    after = encode_frame(following)
    for bit in range(len(wire) * 8):
        bad = bytearray(wire)
        bad[bit // 8] ^= 1 << (bit % 8)
        dec = FrameDecoder()
        got = dec.feed(bytes(bad) + after)
        # Only the untouched following frame may come out; if the flip hit the
        # delimiter, the corrupted frame swallows it.
        assert got in ([following], []), f"bit {bit}"
        if got:
            assert dec.crc_failures + dec.malformed_frames >= 1


@FAST
@given(st.lists(sample_frames, min_size=1, max_size=5), st.binary(max_size=300), st.integers(0, 10**6),
       st.integers(1, 3))
def test_garbage_and_flips_never_yield_a_frame_not_sent(sent, garbage, seed, nflips):
    stream = bytearray(b"".join(encode_frame(f) for f in sent))
    for k in range(nflips):
        bit = (seed * (k + 7919)) % (len(stream) * 8)
        stream[bit // 8] ^= 1 << (bit % 8)
    mid = seed % (len(stream) + 1)
    data = bytes(stream[:mid]) + garbage + bytes(stream[mid:])
    got = FrameDecoder().feed(data)
    remaining = list(sent)
    for frame in got:  # an in-order subsequence of what was sent
        assert frame in remaining
        remaining = remaining[remaining.index(frame) + 1:]


@FAST
@given(st.integers(-9999, 9999), st.integers(-9999, 9999), st.booleans(), st.binary(max_size=40))
def test_text_round_trip_after_noise(left, right, with_crc, noise):
    line = encode_text_line(left / 100, right / 100, with_crc)
    dec = TextLineDecoder()
    dec.feed(noise + b"\n")
    assert dec.feed(line) == [TextSample(left / 100, right / 100, with_crc)]


@FAST
@given(st.integers(-9999, 9999), st.integers(-9999, 9999), st.integers(0, 10**6))
def test_text_crc_line_bit_flips_never_yield_a_wrong_reading(left, right, seed):
    line = bytearray(encode_text_line(left / 100, right / 100, with_crc=True))
    bit = seed % ((len(line) - 1) * 8)  # not the newline
    line[bit // 8] ^= 1 << (bit % 8)
    for sample in TextLineDecoder(at_line_start=True).feed(bytes(line) + b"\n"):
        # A flip that removes the '*' turns the line into an unchecked reading of the
        # digits before it; it may never carry a CRC claim it did not earn.
        assert not sample.crc_checked or sample == TextSample(left / 100, right / 100, True)


timestamps = st.none() | st.datetimes(min_value=datetime(1582, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda d: d.replace(microsecond=0))


@FAST
@given(st.integers(-8_000_000, 8_000_000), timestamps, st.none() | st.integers(0, 255))
def test_temperature_measurement_round_trip(centi, timestamp, site):
    raw = ble.encode_temperature_measurement(centi / 100, timestamp, site)
    got = ble.parse_temperature_measurement(raw)
    assert got == ble.TemperatureMeasurement(centi / 100, timestamp, site)
    assert ble.parse_temperature_measurement(bytearray(raw)) == got


@FAST
@given(st.binary(max_size=20))
def test_ble_parsers_raise_only_value_error(data):
    for parse in (ble.parse_temperature_measurement, ble.parse_ess_temperature,
                  ble.parse_temperature_type, ble.parse_measurement_interval):
        try:
            value = parse(data)
        except ValueError as exc:
            assert str(exc)
        else:
            assert value is not None


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


@FAST
@given(st.binary(min_size=4, max_size=4), st.binary(min_size=2, max_size=2))
def test_float_and_sfloat_decode_everything_and_re_encode(f4, f2):
    word4, word2 = int.from_bytes(f4, "little"), int.from_bytes(f2, "little")
    cases = ((ble.decode_float, ble.encode_float, word4, 24, 8, ble.float_special(word4)),
             (ble.decode_sfloat, ble.encode_sfloat, word2, 12, 4, ble.sfloat_special(word2)))
    for decode, encode, word, mbits, ebits, special in cases:
        raw = word.to_bytes((mbits + ebits) // 8, "little")
        value = decode(raw)
        assert isinstance(value, float)
        if special is not None:
            assert not math.isfinite(value)
            continue
        assert math.isfinite(value)
        mantissa, exponent = _signed(word & ((1 << mbits) - 1), mbits), _signed(word >> mbits, ebits)
        if abs(mantissa) <= (1 << (mbits - 1)) - 3:
            assert decode(encode(value, exponent)) == value


@FAST
@given(st.floats(0.0, 60.0), st.sampled_from(sorted(PRESETS)))
def test_thermistor_models_invert(t, name):
    model = PRESETS[name]
    assert math.isclose(model.celsius(model.resistance(t)), t, abs_tol=1e-9)


@FAST
@given(st.floats(1.0e-3, 1.6e-3), st.floats(2.0e-4, 3.0e-4), st.floats(-1.0e-8, 3.0e-7), st.floats(0.0, 60.0))
def test_steinhart_hart_inverse_for_any_plausible_coefficients(a, b, c, t):
    model = SteinhartHart(a, b, c)
    r = model.resistance(t)
    assert math.isclose(model.celsius(r), t, abs_tol=1e-9)


@FAST
@given(st.lists(st.floats(5.0, 55.0), min_size=3, max_size=3, unique=True).filter(
    lambda ts: min(abs(a - b) for i, a in enumerate(ts) for b in ts[i + 1:]) > 2.0))
def test_three_point_fit_passes_through_its_points(temps):
    truth = PRESETS["ysi400"]
    fitted = SteinhartHart.fit([(truth.resistance(t), t) for t in temps])
    for t in temps:
        assert math.isclose(fitted.celsius(truth.resistance(t)), t, abs_tol=1e-6)
