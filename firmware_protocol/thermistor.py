"""Thermistor conversion: resistance <-> temperature, ADC divider, fault classification,
per-probe calibration.

Models (T in kelvin, R in ohm):

* Steinhart–Hart: 1/T = A + B·ln R + C·(ln R)³
* Beta: 1/T = 1/T0 + ln(R/R0)/β, good over 20–40 °C, worse away from its two points.

Presets are data (see ``PRESETS``); the YSI 400 coefficients are the ones in public
circulation, not from a YSI datasheet, so per-probe calibration is always allowed.
Calibrations are data too (``Calibration.to_dict``/``from_dict``), stored with the
probe's identity by the device registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from firmware_protocol.frames import ChannelValue
from firmware_protocol.status import VALID_RANGE_C, ProbeStatus

KELVIN = 273.15


class ThermistorModel(Protocol):
    def celsius(self, resistance_ohm: float) -> float: ...
    def resistance(self, celsius: float) -> float: ...
    def to_dict(self) -> dict[str, Any]: ...


def _check_resistance(r: float) -> None:
    if not (r > 0 and math.isfinite(r)):
        raise ValueError(f"a thermistor resistance must be a positive finite number of ohms, not {r!r}")


@dataclass(frozen=True, slots=True)
class SteinhartHart:
    a: float
    b: float
    c: float

    def celsius(self, resistance_ohm: float) -> float:
        _check_resistance(resistance_ohm)
        x = math.log(resistance_ohm)
        return 1.0 / (self.a + self.b * x + self.c * x**3) - KELVIN

    def resistance(self, celsius: float) -> float:
        inv_t = 1.0 / (celsius + KELVIN)
        # Newton's method on x = ln R from the C = 0 solution. (Cardano's closed form loses
        # all precision when C is tiny, as it is for a curve fitted to a Beta-model part.)
        x = (inv_t - self.a) / self.b
        for _ in range(60):
            slope = self.b + 3.0 * self.c * x * x
            if slope <= 0:
                break
            step = (self.a + self.b * x + self.c * x**3 - inv_t) / slope
            x -= step
            if abs(step) < 1e-13 * max(1.0, abs(x)):
                return math.exp(x)
        raise ValueError(f"these Steinhart–Hart coefficients have no resistance for {celsius} °C")

    @classmethod
    def fit(cls, points: list[tuple[float, float]] | tuple[tuple[float, float], ...]) -> SteinhartHart:
        """Coefficients through three (resistance Ω, temperature °C) points."""
        if len(points) != 3:
            raise ValueError(f"a Steinhart–Hart fit needs exactly three (ohm, °C) points, not {len(points)}")
        for r, t in points:
            _check_resistance(r)
            if not (math.isfinite(t) and t > -KELVIN):
                raise ValueError(f"{t!r} °C is not a temperature")
        (r1, t1), (r2, t2), (r3, t3) = sorted(points)
        if len({r1, r2, r3}) < 3 or len({t1, t2, t3}) < 3:
            raise ValueError("the three calibration points need three different resistances and temperatures")
        if not t1 > t2 > t3:
            raise ValueError("an NTC thermistor's resistance must fall as temperature rises; "
                             "these points do not")
        l1, l2, l3 = (math.log(r) for r in (r1, r2, r3))
        y1, y2, y3 = (1.0 / (t + KELVIN) for t in (t1, t2, t3))
        g2 = (y2 - y1) / (l2 - l1)
        g3 = (y3 - y1) / (l3 - l1)
        c = (g3 - g2) / (l3 - l2) / (l1 + l2 + l3)
        b = g2 - c * (l1 * l1 + l1 * l2 + l2 * l2)
        a = y1 - (b + l1 * l1 * c) * l1
        if b <= 0:
            raise ValueError("these points give a non-physical curve (B ≤ 0); check the readings")
        return cls(a, b, c)

    def to_dict(self) -> dict[str, Any]:
        return {"model": "steinhart-hart", "a": self.a, "b": self.b, "c": self.c}


@dataclass(frozen=True, slots=True)
class BetaModel:
    beta: float
    r0_ohm: float
    t0_c: float = 25.0

    def __post_init__(self) -> None:
        if not (self.beta > 0 and math.isfinite(self.beta)):
            raise ValueError(f"β must be a positive number of kelvin, not {self.beta!r}")
        _check_resistance(self.r0_ohm)

    def celsius(self, resistance_ohm: float) -> float:
        _check_resistance(resistance_ohm)
        return 1.0 / (1.0 / (self.t0_c + KELVIN) + math.log(resistance_ohm / self.r0_ohm) / self.beta) - KELVIN

    def resistance(self, celsius: float) -> float:
        return self.r0_ohm * math.exp(self.beta * (1.0 / (celsius + KELVIN) - 1.0 / (self.t0_c + KELVIN)))

    def to_dict(self) -> dict[str, Any]:
        return {"model": "beta", "beta": self.beta, "r0_ohm": self.r0_ohm, "t0_c": self.t0_c}


def _number(d: dict[str, Any], key: str, default: float | None = None) -> float:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key!r} must be a finite number, not {value!r}")
    return float(value)


def model_from_dict(d: object) -> SteinhartHart | BetaModel:
    """Rebuild a model written by ``to_dict`` (e.g. from the device registry's JSON)."""
    if not isinstance(d, dict):
        raise ValueError(f"a thermistor model must be a mapping, not {type(d).__name__}")
    kind = d.get("model")
    if kind == "steinhart-hart":
        return SteinhartHart(_number(d, "a"), _number(d, "b"), _number(d, "c"))
    if kind == "beta":
        return BetaModel(_number(d, "beta"), _number(d, "r0_ohm"), _number(d, "t0_c", 25.0))
    raise ValueError(f"unknown thermistor model {kind!r}; expected 'steinhart-hart' or 'beta'")


# ---- presets --------------------------------------------------------------------------

YSI_400 = SteinhartHart(1.4733e-3, 2.372e-4, 1.074e-7)
NTC_10K_B3950 = BetaModel(3950.0, 10_000.0)
NTC_10K_B3435 = BetaModel(3435.0, 10_000.0)

PRESETS: dict[str, SteinhartHart | BetaModel] = {
    "ysi400": YSI_400,
    "ntc10k-b3950": NTC_10K_B3950,
    "ntc10k-b3435": NTC_10K_B3435,
}
PRESET_LABELS: dict[str, str] = {
    "ysi400": "YSI 400 series, 2252 Ω at 25 °C (public Steinhart–Hart set, provisional)",
    "ntc10k-b3950": "generic 10 kΩ NTC, β 3950 K (check the part's datasheet)",
    "ntc10k-b3435": "10 kΩ NTC, β 3435 K (e.g. Semitec 103AT-2 class parts)",
}


# ---- ADC divider ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Divider:
    """Thermistor Rt to ground, series Rs to the ADC reference: code = N·Rt/(Rs+Rt).

    ``adc_bits`` sets N = 2**bits; codes run 0..N−1. Pick Rs near the probe's resistance
    at 30–35 °C (≈1.5–1.8 kΩ for YSI 400) for the best sensitivity.
    """

    series_ohm: float
    adc_bits: int = 12

    @property
    def max_code(self) -> int:
        return (1 << self.adc_bits) - 1

    def resistance(self, code: int) -> float:
        """Rt = Rs·code/(N − code); 0 at code 0 (short), inf at the top rail (open)."""
        if not 0 <= code <= self.max_code:
            raise ValueError(f"ADC code {code} is outside 0..{self.max_code} for a {self.adc_bits}-bit ADC")
        if code >= self.max_code:
            return math.inf
        return self.series_ohm * code / ((1 << self.adc_bits) - code)

    def code(self, resistance_ohm: float) -> int:
        """The code a resistance produces (for simulated probes); rails for open and short."""
        if resistance_ohm <= 0:
            return 0
        if math.isinf(resistance_ohm):
            return self.max_code
        return min(self.max_code, round((1 << self.adc_bits) * resistance_ohm / (self.series_ohm + resistance_ohm)))


# ---- calibration ----------------------------------------------------------------------

GAIN_RANGE = (0.8, 1.25)
MAX_OFFSET_C = 10.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """Per-probe correction against a reference thermometer: corrected = offset_c + gain × raw."""

    offset_c: float = 0.0
    gain: float = 1.0
    note: str = ""  # how and when it was made, e.g. "2-point vs ref. thermometer, 2026-11-23"

    def __post_init__(self) -> None:
        for name, value in (("offset", self.offset_c), ("gain", self.gain)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"calibration {name} must be a finite number, not {value!r}")
        if not GAIN_RANGE[0] <= self.gain <= GAIN_RANGE[1]:
            raise ValueError(f"a calibration gain of {self.gain:g} is implausible (expected "
                             f"{GAIN_RANGE[0]}–{GAIN_RANGE[1]}); check the reference readings")
        if abs(self.offset_c) > MAX_OFFSET_C:
            raise ValueError(f"a calibration offset of {self.offset_c:+.2f} °C is implausible "
                             f"(more than {MAX_OFFSET_C:g} °C); check the probe and the reference")

    def apply(self, celsius: float) -> float:
        return self.offset_c + self.gain * celsius

    @property
    def is_identity(self) -> bool:
        return self.offset_c == 0.0 and self.gain == 1.0

    @classmethod
    def one_point(cls, raw_c: float, reference_c: float, note: str = "") -> Calibration:
        return cls(reference_c - raw_c, 1.0, note)

    @classmethod
    def two_point(cls, first: tuple[float, float], second: tuple[float, float], note: str = "") -> Calibration:
        """From two (probe reading °C, reference °C) pairs at different temperatures."""
        (raw1, ref1), (raw2, ref2) = first, second
        if abs(raw2 - raw1) < 1.0:
            raise ValueError("the two calibration points must be at least 1 °C apart")
        gain = (ref2 - ref1) / (raw2 - raw1)
        return cls(ref1 - gain * raw1, gain, note)

    def to_dict(self) -> dict[str, Any]:
        return {"offset_c": self.offset_c, "gain": self.gain, "note": self.note}

    @classmethod
    def from_dict(cls, d: object) -> Calibration:
        if not isinstance(d, dict):
            raise ValueError(f"a calibration must be a mapping, not {type(d).__name__}")
        note = d.get("note", "")
        if not isinstance(note, str):
            raise ValueError(f"calibration note must be text, not {note!r}")
        return cls(_number(d, "offset_c", 0.0), _number(d, "gain", 1.0), note)


NO_CALIBRATION = Calibration()


# ---- fault classification and conversion ----------------------------------------------

@dataclass(frozen=True, slots=True)
class FaultLimits:
    """A resistance colder than ``open_below_c`` is an open circuit, hotter than
    ``short_above_c`` a short: sensor faults, not temperatures."""

    open_below_c: float = -40.0
    short_above_c: float = 125.0
    valid_range_c: tuple[float, float] = VALID_RANGE_C


DEFAULT_LIMITS = FaultLimits()


def classify_resistance(resistance_ohm: float | None, model: ThermistorModel,
                        limits: FaultLimits = DEFAULT_LIMITS) -> ProbeStatus:
    """OPEN_CIRCUIT, SHORT_CIRCUIT or OK for a resistance (None or nan: NOT_ATTACHED)."""
    if resistance_ohm is None or math.isnan(resistance_ohm):
        return ProbeStatus.NOT_ATTACHED
    if resistance_ohm >= model.resistance(limits.open_below_c):
        return ProbeStatus.OPEN_CIRCUIT
    if resistance_ohm <= model.resistance(limits.short_above_c):
        return ProbeStatus.SHORT_CIRCUIT
    return ProbeStatus.OK


def convert_resistance(resistance_ohm: float | None, model: ThermistorModel,
                       calibration: Calibration = NO_CALIBRATION,
                       limits: FaultLimits = DEFAULT_LIMITS) -> ChannelValue:
    """Resistance -> ChannelValue with the calibrated temperature and a status.

    Faults carry no temperature; a plausible conversion outside the skin range is kept
    but marked OUT_OF_RANGE.
    """
    status = classify_resistance(resistance_ohm, model, limits)
    ohm = resistance_ohm if resistance_ohm is not None and math.isfinite(resistance_ohm) else None
    if status is not ProbeStatus.OK or ohm is None:  # OK implies a finite resistance
        return ChannelValue(None, ohm, status)
    celsius = calibration.apply(model.celsius(ohm))
    low, high = limits.valid_range_c
    if not low <= celsius <= high:
        return ChannelValue(celsius, ohm, ProbeStatus.OUT_OF_RANGE)
    return ChannelValue(celsius, ohm, ProbeStatus.OK)


def convert_adc(code: int, divider: Divider, model: ThermistorModel,
                calibration: Calibration = NO_CALIBRATION,
                limits: FaultLimits = DEFAULT_LIMITS) -> ChannelValue:
    """ADC code -> ChannelValue. The top rail reads as open, code 0 as short."""
    return convert_resistance(divider.resistance(code), model, calibration, limits)
