"""BLE characteristic values: Health Thermometer (0x1809) and Environmental Sensing (0x181A).

Decoders take the raw value bytes as a GATT client receives them (bytes or bytearray) and
return °C; encoders produce the same bytes, for the simulated thermometer. IEEE-11073
FLOAT (32-bit) and SFLOAT (16-bit) are handled with every special value; a value that is
not a number is never a temperature (``math.nan``). Malformed values raise
:class:`MalformedValueError` (a ValueError) saying what is wrong.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from datetime import datetime

# ---- UUIDs ----------------------------------------------------------------------------

def uuid16(short: int) -> str:
    """The full 128-bit UUID string of a Bluetooth SIG 16-bit UUID."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEALTH_THERMOMETER_SERVICE = uuid16(0x1809)
TEMPERATURE_MEASUREMENT = uuid16(0x2A1C)
TEMPERATURE_TYPE = uuid16(0x2A1D)
INTERMEDIATE_TEMPERATURE = uuid16(0x2A1E)
MEASUREMENT_INTERVAL = uuid16(0x2A21)
ENVIRONMENTAL_SENSING_SERVICE = uuid16(0x181A)
ESS_TEMPERATURE = uuid16(0x2A6E)

# Temperature Type codes (0x2A1D and the optional last byte of 0x2A1C).
TEMPERATURE_TYPES: dict[int, str] = {
    1: "armpit", 2: "body (general)", 3: "ear", 4: "finger", 5: "gastro-intestinal tract",
    6: "mouth", 7: "rectum", 8: "toe", 9: "tympanum",
}
SITE_TOE = 8


class MalformedValueError(ValueError):
    """A characteristic value that does not follow its specification."""


# ---- IEEE-11073 FLOAT and SFLOAT ------------------------------------------------------

# Special values: whole words with exponent 0.
FLOAT_NAN = 0x007FFFFF
FLOAT_NRES = 0x00800000
FLOAT_POS_INF = 0x007FFFFE
FLOAT_NEG_INF = 0x00800002
FLOAT_RESERVED = 0x00800001
SFLOAT_NAN = 0x07FF
SFLOAT_NRES = 0x0800
SFLOAT_POS_INF = 0x07FE
SFLOAT_NEG_INF = 0x0802
SFLOAT_RESERVED = 0x0801

_FLOAT_SPECIAL = {FLOAT_NAN: "NaN", FLOAT_NRES: "NRes", FLOAT_POS_INF: "+INF",
                  FLOAT_NEG_INF: "-INF", FLOAT_RESERVED: "reserved"}
_SFLOAT_SPECIAL = {SFLOAT_NAN: "NaN", SFLOAT_NRES: "NRes", SFLOAT_POS_INF: "+INF",
                   SFLOAT_NEG_INF: "-INF", SFLOAT_RESERVED: "reserved"}
_SPECIAL_VALUE = {"NaN": math.nan, "NRes": math.nan, "reserved": math.nan,
                  "+INF": math.inf, "-INF": -math.inf}
_FLOAT_MANTISSA_MAX = 0x7FFFFD  # larger magnitudes are the special values
_SFLOAT_MANTISSA_MAX = 0x7FD


def _scaled(mantissa: int, exponent: int) -> float:
    # Exact decimal scaling: 3760 / 100 gives 37.6, 3760 * 0.01 would not.
    return float(mantissa * 10**exponent) if exponent >= 0 else mantissa / 10**-exponent


def float_special(word: int) -> str | None:
    """The name of a FLOAT special value ('NaN', 'NRes', '+INF', '-INF', 'reserved') or None."""
    return _FLOAT_SPECIAL.get(word)


def sfloat_special(word: int) -> str | None:
    return _SFLOAT_SPECIAL.get(word)


def decode_float(data: bytes) -> float:
    """4 little-endian bytes of IEEE-11073 FLOAT -> float (nan for NaN/NRes/reserved, ±inf)."""
    if len(data) != 4:
        raise MalformedValueError(f"an IEEE-11073 FLOAT is 4 bytes, not {len(data)}")
    word = int.from_bytes(data, "little")
    special = _FLOAT_SPECIAL.get(word)
    if special is not None:
        return _SPECIAL_VALUE[special]
    mantissa = word & 0xFFFFFF
    if mantissa >= 0x800000:
        mantissa -= 0x1000000
    exponent = word >> 24
    if exponent >= 0x80:
        exponent -= 0x100
    return _scaled(mantissa, exponent)


def decode_sfloat(data: bytes) -> float:
    """2 little-endian bytes of IEEE-11073 SFLOAT -> float (nan for NaN/NRes/reserved, ±inf)."""
    if len(data) != 2:
        raise MalformedValueError(f"an IEEE-11073 SFLOAT is 2 bytes, not {len(data)}")
    word = int.from_bytes(data, "little")
    special = _SFLOAT_SPECIAL.get(word)
    if special is not None:
        return _SPECIAL_VALUE[special]
    mantissa = word & 0x0FFF
    if mantissa >= 0x800:
        mantissa -= 0x1000
    exponent = word >> 12
    if exponent >= 0x8:
        exponent -= 0x10
    return _scaled(mantissa, exponent)


def _mantissa(value: float, exponent: int, limit: int, kind: str) -> int:
    mantissa = round(value * 10**-exponent) if exponent <= 0 else round(value / 10**exponent)
    if abs(mantissa) > limit:
        raise ValueError(f"{value} does not fit an IEEE-11073 {kind} with exponent {exponent}")
    return mantissa


def encode_float(value: float, exponent: int = -2) -> bytes:
    """float -> 4 bytes of FLOAT; nan -> NaN, ±inf -> ±INF. Raises ValueError if it does not fit."""
    if not -128 <= exponent <= 127:
        raise ValueError(f"FLOAT exponent must be -128..127, not {exponent}")
    if math.isnan(value):
        word = FLOAT_NAN
    elif math.isinf(value):
        word = FLOAT_POS_INF if value > 0 else FLOAT_NEG_INF
    else:
        mantissa = _mantissa(value, exponent, _FLOAT_MANTISSA_MAX, "FLOAT")
        word = ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)
    return word.to_bytes(4, "little")


def encode_sfloat(value: float, exponent: int = -1) -> bytes:
    """float -> 2 bytes of SFLOAT; nan -> NaN, ±inf -> ±INF. Raises ValueError if it does not fit."""
    if not -8 <= exponent <= 7:
        raise ValueError(f"SFLOAT exponent must be -8..7, not {exponent}")
    if math.isnan(value):
        word = SFLOAT_NAN
    elif math.isinf(value):
        word = SFLOAT_POS_INF if value > 0 else SFLOAT_NEG_INF
    else:
        mantissa = _mantissa(value, exponent, _SFLOAT_MANTISSA_MAX, "SFLOAT")
        word = ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)
    return word.to_bytes(2, "little")


def fahrenheit_to_celsius(f: float) -> float:
    return (f - 32.0) * 5.0 / 9.0


def celsius_to_fahrenheit(c: float) -> float:
    return c * 9.0 / 5.0 + 32.0


# ---- Health Thermometer ---------------------------------------------------------------

FLAG_FAHRENHEIT = 0x01
FLAG_TIMESTAMP = 0x02
FLAG_TYPE = 0x04
_RESERVED_FLAGS = 0xF8
_TIMESTAMP = struct.Struct("<HBBBBB")


@dataclass(frozen=True, slots=True)
class TemperatureMeasurement:
    """A decoded 0x2A1C / 0x2A1E value.

    ``celsius`` is ``math.nan`` when the device sent no valid number (``special`` then names
    the FLOAT special value: 'NaN', 'NRes', '+INF', '-INF' or 'reserved').
    ``site`` is the temperature type code (8 = toe) or None; ``fahrenheit`` records the unit
    the device used on the wire (the value is always converted to °C).
    """

    celsius: float
    timestamp: datetime | None
    site: int | None
    fahrenheit: bool = False
    special: str | None = None

    @property
    def is_valid(self) -> bool:
        return math.isfinite(self.celsius)


def _parse_timestamp(raw: bytes) -> datetime | None:
    year, month, day, hour, minute, second = _TIMESTAMP.unpack(raw)
    if year == 0 or month == 0 or day == 0:
        return None  # 0 means "not known" in the Date Time format
    if not 1582 <= year <= 9999:
        raise MalformedValueError(f"time stamp year {year} is outside 1582..9999")
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise MalformedValueError(
            f"time stamp {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} is not a date: {exc}"
        ) from None


def parse_temperature_measurement(data: bytes) -> TemperatureMeasurement:
    """Decode a Temperature Measurement (0x2A1C) or Intermediate Temperature (0x2A1E) value."""
    data = bytes(data)
    if len(data) < 5:
        raise MalformedValueError(
            f"a temperature measurement needs at least 5 bytes (flags and a 4-byte FLOAT), got {len(data)}")
    flags = data[0]
    need = 5 + (7 if flags & FLAG_TIMESTAMP else 0) + (1 if flags & FLAG_TYPE else 0)
    if len(data) < need:
        promised = [w for f, w in ((FLAG_TIMESTAMP, "a time stamp"), (FLAG_TYPE, "a temperature type"))
                    if flags & f]
        raise MalformedValueError(
            f"flags 0x{flags:02X} promise {' and '.join(promised)}, i.e. {need} bytes, "
            f"but the value has only {len(data)}")
    if len(data) > need and not flags & _RESERVED_FLAGS:
        raise MalformedValueError(f"the value has {len(data) - need} unexpected bytes after the fields "
                                  f"its flags 0x{flags:02X} announce")
    word = int.from_bytes(data[1:5], "little")
    special = _FLOAT_SPECIAL.get(word)
    value = decode_float(data[1:5])
    fahrenheit = bool(flags & FLAG_FAHRENHEIT)
    if special is not None:
        celsius = math.nan  # NaN, NRes and the infinities are all "no valid reading"
    else:
        celsius = fahrenheit_to_celsius(value) if fahrenheit else value
    at = 5
    timestamp = None
    if flags & FLAG_TIMESTAMP:
        timestamp = _parse_timestamp(data[at:at + 7])
        at += 7
    site = data[at] if flags & FLAG_TYPE else None
    return TemperatureMeasurement(celsius, timestamp, site, fahrenheit, special)


parse_intermediate_temperature = parse_temperature_measurement


def encode_temperature_measurement(celsius: float, timestamp: datetime | None = None,
                                   site: int | None = None, *, fahrenheit: bool = False,
                                   exponent: int = -2) -> bytes:
    """Encode a 0x2A1C / 0x2A1E value; nan becomes the FLOAT NaN ("no valid reading")."""
    flags = 0
    value = celsius
    if fahrenheit:
        flags |= FLAG_FAHRENHEIT
        value = celsius_to_fahrenheit(celsius)
    tail = b""
    if timestamp is not None:
        flags |= FLAG_TIMESTAMP
        if not 1582 <= timestamp.year <= 9999:
            raise ValueError(f"time stamp year {timestamp.year} is outside 1582..9999")
        tail += _TIMESTAMP.pack(timestamp.year, timestamp.month, timestamp.day,
                                timestamp.hour, timestamp.minute, timestamp.second)
    if site is not None:
        if not 0 <= site <= 255:
            raise ValueError(f"temperature type must be 0..255, not {site}")
        flags |= FLAG_TYPE
        tail += bytes([site])
    return bytes([flags]) + encode_float(value, exponent) + tail


encode_intermediate_temperature = encode_temperature_measurement


def parse_temperature_type(data: bytes) -> int:
    """Temperature Type (0x2A1D): one byte, the site code (see TEMPERATURE_TYPES; 8 = toe)."""
    if len(data) != 1:
        raise MalformedValueError(f"a temperature type is 1 byte, not {len(data)}")
    return data[0]


def encode_temperature_type(site: int) -> bytes:
    if not 0 <= site <= 255:
        raise ValueError(f"temperature type must be 0..255, not {site}")
    return bytes([site])


def parse_measurement_interval(data: bytes) -> int:
    """Measurement Interval (0x2A21): uint16 seconds; 0 = no periodic measurement."""
    if len(data) != 2:
        raise MalformedValueError(f"a measurement interval is 2 bytes (uint16 seconds), not {len(data)}")
    return int.from_bytes(data, "little")


def encode_measurement_interval(seconds: int) -> bytes:
    if not 0 <= seconds <= 0xFFFF:
        raise ValueError(f"measurement interval must be 0..65535 s, not {seconds}")
    return int(seconds).to_bytes(2, "little")


# ---- Environmental Sensing ------------------------------------------------------------

ESS_UNKNOWN = -0x8000


def parse_ess_temperature(data: bytes) -> float:
    """ESS Temperature (0x2A6E): sint16 in 0.01 °C; 0x8000 = not known -> math.nan."""
    if len(data) != 2:
        raise MalformedValueError(f"an ESS temperature is 2 bytes (sint16, 0.01 °C), not {len(data)}")
    centi = int.from_bytes(data, "little", signed=True)
    return math.nan if centi == ESS_UNKNOWN else centi / 100


def encode_ess_temperature(celsius: float) -> bytes:
    """°C -> 2 bytes; nan -> 0x8000 ("not known"). Raises ValueError outside ±327.67 °C."""
    if math.isnan(celsius):
        return ESS_UNKNOWN.to_bytes(2, "little", signed=True)
    if math.isinf(celsius):
        raise ValueError("an ESS temperature cannot be infinite")
    centi = round(celsius * 100)
    if not -0x7FFF <= centi <= 0x7FFF:
        raise ValueError(f"{celsius} °C does not fit an ESS temperature (-327.67..327.67 °C)")
    return centi.to_bytes(2, "little", signed=True)
