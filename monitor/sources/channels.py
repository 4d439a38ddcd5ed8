"""Turning decoded channel values into :class:`~monitor.model.Reading` objects.

Shared by every source that speaks the framed or text protocol (simulated, serial), so
that a channel means the same thing whichever way it arrived: channel 0 is the left
foot and channel 1 the right unless the device registry says otherwise, a channel that
carries only a resistance is converted with the probe's thermistor model, and a
per-probe calibration (offset/gain against a reference thermometer) is applied here, once.
"""

from __future__ import annotations

from firmware_protocol.thermistor import (
    DEFAULT_LIMITS,
    PRESETS,
    YSI_400,
    Calibration,
    ThermistorModel,
    convert_resistance,
)
from monitor.model import VALID_RANGE_C, Limb, ProbeStatus, Reading

DEFAULT_CHANNEL_LIMBS: tuple[Limb, Limb] = (Limb.LEFT, Limb.RIGHT)


def thermistor_for(probe_model: str) -> ThermistorModel:
    """The thermistor model named by a hello frame's probe model (a preset name), else YSI 400."""
    key = probe_model.strip().lower().replace(" ", "").replace("-", "")
    for name, model in PRESETS.items():
        if name.replace("-", "") in key:
            return model
    return YSI_400


def make_reading(limb: Limb, celsius: float | None, status: ProbeStatus, session_s: float, wall: float,
                 *, resistance_ohm: float | None = None, probe_model: str = "",
                 sequence: int | None = None, device_time_s: float | None = None, source: str = "",
                 calibration: Calibration | None = None, plausibility_check: bool = False) -> Reading:
    """One reading.

    A channel with a resistance but no temperature is converted here (with ``calibration``);
    otherwise ``calibration`` corrects the device's temperature. ``plausibility_check`` marks
    values outside the skin range as out of range (the text protocol carries no status).
    """
    if celsius is None and resistance_ohm is not None and status is ProbeStatus.OK:
        value = convert_resistance(resistance_ohm, thermistor_for(probe_model),
                                   calibration if calibration is not None else Calibration())
        return Reading(limb, value.celsius, value.status, session_s, wall, sequence, device_time_s, source)
    if celsius is not None and calibration is not None and status is ProbeStatus.OK:
        celsius = round(calibration.apply(celsius), 3)
    if plausibility_check and celsius is not None and status is ProbeStatus.OK:
        # An open thermistor converts absurdly cold, a short absurdly hot: faults, not temperatures.
        if celsius <= DEFAULT_LIMITS.open_below_c:
            celsius, status = None, ProbeStatus.OPEN_CIRCUIT
        elif celsius >= DEFAULT_LIMITS.short_above_c:
            celsius, status = None, ProbeStatus.SHORT_CIRCUIT
        elif not VALID_RANGE_C[0] <= celsius <= VALID_RANGE_C[1]:
            status = ProbeStatus.OUT_OF_RANGE
    return Reading(limb, celsius, status, session_s, wall, sequence, device_time_s, source)
