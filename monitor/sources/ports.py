"""Serial port discovery, injectable.

:func:`system_ports` asks pyserial's ``comports()``, which lists USB serial adapters but
not pseudo-terminals; tests and the simulator pass their own discovery function that
presents a pseudo-terminal as a USB device (:class:`PortInfo` with VID/PID and serial).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# USB IDs of SympaTherm probes: the only devices auto-detection may write an identity
# request to. 0x1209 is the pid.codes open-hardware vendor ID; 0x5354 ("ST") is the ID our
# probe firmware enumerates with (and the simulator pretends to have).
SYMPATHERM_VID = 0x1209
SYMPATHERM_PID = 0x5354
KNOWN_PROBE_USB_IDS: frozenset[tuple[int, int]] = frozenset({(SYMPATHERM_VID, SYMPATHERM_PID)})


@dataclass(frozen=True)
class PortInfo:
    """One serial port as discovery sees it."""

    device: str  # e.g. /dev/ttyACM0
    vid: int | None = None
    pid: int | None = None
    serial_number: str = ""
    description: str = ""
    manufacturer: str = ""

    @property
    def usb_id(self) -> tuple[int, int] | None:
        return (self.vid, self.pid) if self.vid is not None and self.pid is not None else None

    @property
    def is_known_probe(self) -> bool:
        return self.usb_id in KNOWN_PROBE_USB_IDS

    def describe(self) -> str:
        parts = [self.device]
        if self.usb_id:
            parts.append(f"USB {self.vid:04X}:{self.pid:04X}")
        if self.serial_number:
            parts.append(f"serial {self.serial_number}")
        if self.description and self.description != "n/a":
            parts.append(self.description)
        return ", ".join(parts)


PortDiscovery = Callable[[], list[PortInfo]]


def system_ports() -> list[PortInfo]:
    """The computer's serial ports, from pyserial (pseudo-terminals are not listed)."""
    from serial.tools import list_ports

    out = []
    for p in list_ports.comports():
        out.append(PortInfo(p.device, p.vid, p.pid, p.serial_number or "", p.description or "",
                            p.manufacturer or ""))
    return out
