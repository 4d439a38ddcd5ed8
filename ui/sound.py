"""Short audible signals: one tone per alarm priority and a gentle chime for information.

Best effort: QtMultimedia needs a sound server (PulseAudio/PipeWire). Without one the app
falls back to the system beep for alarms and stays silent for the chime; it never crashes.
"""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QUrl
from PyQt6.QtWidgets import QApplication

if TYPE_CHECKING:  # imported when first needed: QtMultimedia may be missing (no libpulse)
    from PyQt6.QtMultimedia import QSoundEffect

# (frequencies in Hz, pulse length s, gap s). Medium: three pulses; low: two; info: two soft notes.
_PATTERNS = {
    "medium": ([660.0, 660.0, 660.0], 0.15, 0.10),
    "low": ([520.0, 520.0], 0.18, 0.15),
    "info": ([880.0, 1175.0], 0.25, 0.05),
}


def _write_tone(path: Path, freqs: list[float], pulse: float, gap: float, rate: int = 22050) -> None:
    frames = bytearray()
    for f in freqs:
        n = int(pulse * rate)
        for i in range(n):
            env = min(1.0, i / (0.01 * rate), (n - i) / (0.02 * rate))  # soft edges, no clicks
            frames += struct.pack("<h", int(12000 * env * math.sin(2 * math.pi * f * i / rate)))
        frames += b"\x00\x00" * int(gap * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


class SoundPlayer:
    def __init__(self, volume: float = 0.7) -> None:
        self.volume = volume
        self.played: list[str] = []  # what was asked for (shown in tests and the log)
        self._effects: dict[str, QSoundEffect] = {}
        self._dir: tempfile.TemporaryDirectory | None = None
        self._available: bool | None = None

    def _ensure(self) -> bool:
        if self._available is not None:
            return self._available
        try:
            from PyQt6.QtMultimedia import QSoundEffect
        except Exception:  # noqa: BLE001 - missing libpulse etc.: fall back to the beep
            self._available = False
            return False
        self._dir = tempfile.TemporaryDirectory(prefix="sympatherm-sounds-")
        for name, (freqs, pulse, gap) in _PATTERNS.items():
            p = Path(self._dir.name) / f"{name}.wav"
            _write_tone(p, freqs, pulse, gap)
            eff = QSoundEffect()
            eff.setSource(QUrl.fromLocalFile(str(p)))
            self._effects[name] = eff
        self._available = True
        return True

    def set_volume(self, volume: float) -> None:
        self.volume = max(0.0, min(1.0, volume))

    def play(self, kind: str) -> None:
        self.played.append(kind)
        if self.volume <= 0:
            return
        try:
            if self._ensure():
                eff = self._effects[kind]
                eff.setVolume(self.volume)
                eff.play()
            elif kind != "info":
                QApplication.beep()
        except Exception:  # noqa: BLE001 - sound is best effort
            pass
