"""Probe statuses and the valid skin-temperature range: defined here, on the wire.

The status codes a probe sends (PROTOCOL.md) are indexes into :data:`PROBE_STATUS_CODES`;
the core (``monitor.model``) re-exports these names so every layer uses the one list.
"""

from __future__ import annotations

import enum

# Skin temperatures outside this range are not skin (domain.md, "Sensor fault").
VALID_RANGE_C: tuple[float, float] = (15.0, 42.0)


class ProbeStatus(enum.StrEnum):
    """One list of probe statuses, used on the wire, in the pipeline, the store and the GUI."""

    OK = "ok"
    OPEN_CIRCUIT = "open_circuit"
    SHORT_CIRCUIT = "short_circuit"
    OUT_OF_RANGE = "out_of_range"
    ADC_SATURATED = "adc_saturated"
    NOT_ATTACHED = "not_attached"

    @property
    def is_fault(self) -> bool:
        return self is not ProbeStatus.OK

    @property
    def plain(self) -> str:
        return _STATUS_WORDS[self]


_STATUS_WORDS = {
    ProbeStatus.OK: "probe OK",
    ProbeStatus.OPEN_CIRCUIT: "sensor fault: open circuit",
    ProbeStatus.SHORT_CIRCUIT: "sensor fault: short circuit",
    ProbeStatus.OUT_OF_RANGE: "reading out of range",
    ProbeStatus.ADC_SATURATED: "sensor fault: ADC saturated",
    ProbeStatus.NOT_ATTACHED: "probe not attached",
}

# Status codes on the wire (firmware_protocol) map onto this order; never reorder.
PROBE_STATUS_CODES: tuple[ProbeStatus, ...] = (
    ProbeStatus.OK,
    ProbeStatus.OPEN_CIRCUIT,
    ProbeStatus.SHORT_CIRCUIT,
    ProbeStatus.OUT_OF_RANGE,
    ProbeStatus.ADC_SATURATED,
    ProbeStatus.NOT_ATTACHED,
)
