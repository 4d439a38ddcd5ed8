"""Turning decoded channel values into :class:`~monitor.model.Reading` objects.

Shared by every source that speaks the framed or text protocol (simulated, serial), so
that a channel means the same thing whichever way it arrived: channel 0 is the left
foot and channel 1 the right unless the device registry swapped them, and a per-probe
calibration (offset/gain against a reference thermometer) is applied here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.model import VALID_RANGE_C, Limb, ProbeStatus, Reading

DEFAULT_CHANNEL_LIMBS: tuple[Limb, Limb] = (Limb.LEFT, Limb.RIGHT)


@dataclass(frozen=True)
class ChannelCalibration:
    """``corrected = gain * measured + offset_c`` (one- or two-point calibration)."""

    offset_c: float = 0.0
    gain: float = 1.0

    def apply(self, celsius: float) -> float:
        return self.gain * celsius + self.offset_c


def make_reading(limb: Limb, celsius: float | None, status: ProbeStatus, session_s: float, wall: float,
                 *, sequence: int | None = None, device_time_s: float | None = None, source: str = "",
                 calibration: ChannelCalibration | None = None, plausibility_check: bool = False) -> Reading:
    """One reading; ``plausibility_check`` marks values outside the skin range as out of range
    (used for the text protocol, which carries no status or CRC of its own)."""
    if celsius is not None and calibration is not None and status is ProbeStatus.OK:
        celsius = round(calibration.apply(celsius), 3)
    if plausibility_check and celsius is not None and status is ProbeStatus.OK:
        lo, hi = VALID_RANGE_C
        if not lo <= celsius <= hi:
            status = ProbeStatus.OUT_OF_RANGE
    return Reading(limb, celsius, status, session_s, wall, sequence, device_time_s, source)
