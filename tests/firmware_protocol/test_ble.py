"""BLE Health Thermometer and ESS values: golden vectors, special values, malformed input."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from firmware_protocol import ble
from firmware_protocol.ble import (
    MalformedValueError,
    TemperatureMeasurement,
    decode_float,
    decode_sfloat,
    encode_ess_temperature,
    encode_float,
    encode_measurement_interval,
    encode_sfloat,
    encode_temperature_measurement,
    encode_temperature_type,
    parse_ess_temperature,
    parse_intermediate_temperature,
    parse_measurement_interval,
    parse_temperature_measurement,
    parse_temperature_type,
)

DEVICES_MD_VECTOR = bytes.fromhex("06 B0 0E 00 FE DC 07 0C 05 0B 32 1B 04")


def test_public_health_thermometer_vector():
    assert parse_temperature_measurement(DEVICES_MD_VECTOR) == TemperatureMeasurement(
        celsius=37.6, timestamp=datetime(2012, 12, 5, 11, 50, 27), site=4)
    assert encode_temperature_measurement(37.6, datetime(2012, 12, 5, 11, 50, 27), 4) == DEVICES_MD_VECTOR


def test_truncated_twin_is_refused_in_plain_words():
    with pytest.raises(ValueError, match=r"temperature type.*13 bytes.*only 12"):
        parse_temperature_measurement(DEVICES_MD_VECTOR[:-1])


@pytest.mark.parametrize("hexstr, expected", [
    ("00 B0 0E 00 FE", TemperatureMeasurement(37.6, None, None)),
    ("04 B0 0E 00 FE 08", TemperatureMeasurement(37.6, None, 8)),
    # 98.6 °F = 986 x 10^-1
    ("01 DA 03 00 FF", TemperatureMeasurement(37.0, None, None, fahrenheit=True)),
    ("02 B0 0E 00 FE 00 00 00 00 00 00 00", TemperatureMeasurement(37.6, None, None)),  # time not known
    ("00 C2 01 00 00", TemperatureMeasurement(450.0, None, None)),  # exponent 0
    ("00 9C FF FF FF", TemperatureMeasurement(-10.0, None, None)),  # negative mantissa, exponent -1
])
def test_golden_measurements(hexstr, expected):
    got = parse_temperature_measurement(bytes.fromhex(hexstr))
    assert got.celsius == pytest.approx(expected.celsius, abs=1e-12)
    assert got == TemperatureMeasurement(got.celsius, expected.timestamp, expected.site,
                                         expected.fahrenheit, expected.special)
    assert parse_intermediate_temperature(bytes.fromhex(hexstr)) == got


@pytest.mark.parametrize("word, name", [
    (0x007FFFFF, "NaN"), (0x00800000, "NRes"), (0x007FFFFE, "+INF"), (0x00800002, "-INF"),
    (0x00800001, "reserved"),
])
@pytest.mark.parametrize("flags", [0x00, 0x01])
def test_float_special_values_are_never_temperatures(word, name, flags):
    got = parse_temperature_measurement(bytes([flags]) + word.to_bytes(4, "little"))
    assert math.isnan(got.celsius)
    assert (got.special, got.timestamp, got.site, got.fahrenheit) == (name, None, None, bool(flags))
    assert not got.is_valid


def test_vendor_nan_constant_is_an_ordinary_number():
    # 0x07FFFFFF (a wrong NaN in one vendor SDK) is mantissa -1 x 10^7 by the standard;
    # it decodes as a number far outside any skin range, which the range check rejects.
    assert decode_float((0x07FFFFFF).to_bytes(4, "little")) == -1e7


def test_float_and_sfloat_decoding_and_specials():
    assert decode_float(bytes.fromhex("B0 0E 00 FE")) == 37.6
    assert decode_sfloat(bytes.fromhex("78 F1")) == 37.6  # 0x178 = 376, exponent -1
    assert decode_sfloat(bytes.fromhex("FF 0F")) == -0.1 * 10  # mantissa -1, exponent 0
    for word, expected in ((0x07FF, "nan"), (0x0800, "nan"), (0x0801, "nan"),
                           (0x07FE, "inf"), (0x0802, "-inf")):
        got = decode_sfloat(word.to_bytes(2, "little"))
        assert repr(got) == expected
    assert math.isinf(decode_float((0x007FFFFE).to_bytes(4, "little")))
    assert decode_float((0x00800002).to_bytes(4, "little")) == -math.inf
    assert encode_float(math.nan) == (0x007FFFFF).to_bytes(4, "little")
    assert encode_float(math.inf) == (0x007FFFFE).to_bytes(4, "little")
    assert encode_float(-math.inf) == (0x00800002).to_bytes(4, "little")
    assert encode_sfloat(math.nan) == (0x07FF).to_bytes(2, "little")
    assert encode_sfloat(-math.inf) == (0x0802).to_bytes(2, "little")
    assert encode_sfloat(37.6) == bytes.fromhex("78 F1")
    with pytest.raises(ValueError):
        encode_sfloat(300.0, exponent=-1)  # mantissa 3000 > 2045
    with pytest.raises(MalformedValueError):
        decode_float(b"\x00\x00\x00")


def test_fahrenheit_round_trip_and_encoders():
    raw = encode_temperature_measurement(34.5, site=ble.SITE_TOE, fahrenheit=True)
    got = parse_temperature_measurement(raw)
    assert got.fahrenheit and got.site == 8
    assert got.celsius == pytest.approx(34.5, abs=0.006)  # 0.01 °F resolution on the wire
    assert parse_temperature_measurement(encode_temperature_measurement(math.nan)).special == "NaN"


@pytest.mark.parametrize("hexstr, words", [
    ("", "at least 5 bytes"),
    ("00 B0 0E 00", "at least 5 bytes"),
    ("02 B0 0E 00 FE DC 07 0C", "time stamp"),
    ("00 B0 0E 00 FE 04", "unexpected"),
    ("02 B0 0E 00 FE DC 07 0D 05 0B 32 1B", "not a date"),  # month 13
    ("02 B0 0E 00 FE DC 07 0C 05 18 32 1B", "not a date"),  # hour 24
    ("02 B0 0E 00 FE 10 00 0C 05 0B 32 1B", "year 16"),
])
def test_malformed_measurements(hexstr, words):
    with pytest.raises(MalformedValueError, match=words):
        parse_temperature_measurement(bytes.fromhex(hexstr))


def test_reserved_flag_bits_tolerate_future_fields():
    got = parse_temperature_measurement(bytes.fromhex("08 B0 0E 00 FE AA BB"))
    assert got == TemperatureMeasurement(37.6, None, None)


def test_type_and_interval():
    assert parse_temperature_type(b"\x08") == 8 == ble.SITE_TOE
    assert ble.TEMPERATURE_TYPES[8] == "toe"
    assert encode_temperature_type(8) == b"\x08"
    assert parse_measurement_interval(bytes.fromhex("3C 00")) == 60
    assert parse_measurement_interval(encode_measurement_interval(0)) == 0
    assert encode_measurement_interval(65535) == b"\xff\xff"
    for bad in (b"", b"\x01\x02"):
        with pytest.raises(MalformedValueError):
            parse_temperature_type(bad)
    for bad in (b"\x01", b"\x01\x02\x03"):
        with pytest.raises(MalformedValueError):
            parse_measurement_interval(bad)
    with pytest.raises(ValueError):
        encode_measurement_interval(70000)


def test_ess_temperature():
    assert parse_ess_temperature(bytes.fromhex("4E 0D")) == 34.06
    assert parse_ess_temperature(bytearray(b"\x00\x80")) != parse_ess_temperature(b"\x00\x80")  # nan
    assert math.isnan(parse_ess_temperature(b"\x00\x80"))
    assert parse_ess_temperature(bytes.fromhex("18 FC")) == -10.0
    assert encode_ess_temperature(34.06) == bytes.fromhex("4E 0D")
    assert encode_ess_temperature(math.nan) == b"\x00\x80"
    with pytest.raises(MalformedValueError, match="2 bytes"):
        parse_ess_temperature(b"\x4e")
    with pytest.raises(ValueError):
        encode_ess_temperature(400.0)


def test_uuids():
    assert ble.HEALTH_THERMOMETER_SERVICE == "00001809-0000-1000-8000-00805f9b34fb"
    assert ble.TEMPERATURE_MEASUREMENT.startswith("00002a1c")
    assert ble.ESS_TEMPERATURE.startswith("00002a6e")
