"""The device registry: which probe is on which foot, and each probe's calibration.

One small JSON file in the user's configuration folder, shared by the GUI and headless
recording. Entries are keyed by :attr:`monitor.sources.base.DeviceIdentity.key`, so a
probe keeps its side and calibration whichever port or address it turns up on.

Qt-free. Every change is read-modify-write under a lock file and written atomically
(temporary file, fsync, rename), so two programs sharing the file never see half of it.
A damaged file is kept beside the new one (``devices.json.damaged-<time>``), never lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_protocol.thermistor import Calibration
from monitor import paths
from monitor.model import Limb
from monitor.sources.base import DeviceIdentity

REGISTRY_FILE = "devices.json"
FORMAT_VERSION = 1


class RegistryError(ValueError):
    """A registry request that cannot be honoured, in plain words."""


@dataclass
class CalibrationRecord:
    """A per-channel calibration against a reference thermometer, and when it was made."""

    calibration: Calibration
    calibrated_at: float | None = None  # POSIX seconds

    def to_json(self) -> dict[str, Any]:
        return {**self.calibration.to_dict(), "calibrated_at": self.calibrated_at}

    @classmethod
    def from_json(cls, d: object) -> CalibrationRecord:
        if not isinstance(d, dict):
            raise ValueError(f"a calibration record must be a mapping, not {type(d).__name__}")
        at = d.get("calibrated_at")
        return cls(Calibration.from_dict({k: v for k, v in d.items() if k != "calibrated_at"}),
                   float(at) if at is not None else None)


@dataclass
class DeviceRecord:
    key: str
    kind: str = ""
    name: str = ""
    # channel index (as text, JSON keys are strings) -> "left" | "right"
    sides: dict[str, str] = field(default_factory=dict)
    calibrations: dict[str, CalibrationRecord] = field(default_factory=dict)
    last_seen: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "sides": dict(self.sides),
            "calibrations": {ch: c.to_json() for ch, c in self.calibrations.items()},
            "last_seen": self.last_seen,
        }

    @classmethod
    def from_json(cls, key: str, d: object) -> DeviceRecord:
        if not isinstance(d, dict):
            raise ValueError(f"the record of {key} must be a mapping, not {type(d).__name__}")
        sides = {str(ch): str(Limb.parse(side)) for ch, side in dict(d.get("sides", {})).items()}
        cals = {str(ch): CalibrationRecord.from_json(c) for ch, c in dict(d.get("calibrations", {})).items()}
        last = d.get("last_seen")
        return cls(key, str(d.get("kind", "")), str(d.get("name", "")), sides, cals,
                   float(last) if last is not None else None)


class DeviceRegistry:
    """Side assignments and per-probe calibrations, keyed by ``DeviceIdentity.key``."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else paths.config_dir() / REGISTRY_FILE
        #: Set when a damaged file was found and moved aside; shown to the user.
        self.warning = ""

    # ---- reading ---------------------------------------------------------------------
    def devices(self) -> list[DeviceRecord]:
        return sorted(self._load().values(), key=lambda r: r.key)

    def get(self, key: str) -> DeviceRecord | None:
        return self._load().get(key)

    def side(self, key: str, channel: int = 0) -> Limb | None:
        rec = self.get(key)
        if rec is None or str(channel) not in rec.sides:
            return None
        return Limb(rec.sides[str(channel)])

    def channel_limbs(self, key: str, channels: int = 2) -> tuple[Limb | None, ...]:
        """The limb of each channel: the user's assignment, else channel 0 left and 1 right
        for a device with two or more channels (further channels unused), else None (a
        one-channel device the user has not placed)."""
        rec = self.get(key)
        default: tuple[Limb | None, ...]
        if channels >= 2:
            default = (Limb.LEFT, Limb.RIGHT) + tuple(None for _ in range(channels - 2))
        else:
            default = tuple(None for _ in range(channels))
        if rec is None or not rec.sides:
            return default
        assigned = tuple(Limb(rec.sides[str(i)]) if str(i) in rec.sides else None for i in range(channels))
        if channels == 2 and assigned.count(None) == 1:
            # One side given: the other channel is the other foot.
            known = next(limb for limb in assigned if limb is not None)
            assigned = tuple(limb if limb is not None else known.other for limb in assigned)
        return assigned

    def calibration(self, key: str, channel: int = 0) -> Calibration | None:
        rec = self.get(key)
        if rec is None or str(channel) not in rec.calibrations:
            return None
        return rec.calibrations[str(channel)].calibration

    # ---- changing ----------------------------------------------------------------------
    def remember(self, identity: DeviceIdentity) -> DeviceRecord:
        """Note that this device was seen now (keeps its side and calibration)."""
        with self._editing() as records:
            rec = records.setdefault(identity.key, DeviceRecord(identity.key))
            rec.kind, rec.name, rec.last_seen = identity.kind, identity.name, time.time()
            return rec

    def assign_side(self, key: str, limb: Limb | str, channel: int = 0) -> None:
        """Put ``channel`` of device ``key`` on ``limb``. On a two-channel device the other
        channel moves to the other foot, so the two never end up on the same side."""
        limb = Limb.parse(limb) if isinstance(limb, str) else limb
        if channel < 0:
            raise RegistryError("channel numbers start at 0")
        with self._editing() as records:
            rec = records.setdefault(key, DeviceRecord(key))
            rec.sides[str(channel)] = str(limb)
            for ch, side in list(rec.sides.items()):
                if ch != str(channel) and side == str(limb):
                    rec.sides[ch] = str(limb.other)
            # Another one-channel device on the same foot loses that place.
            for other in records.values():
                if other.key != key and len(other.sides) == 1 and list(other.sides.values()) == [str(limb)]:
                    other.sides.clear()

    def clear_side(self, key: str) -> None:
        with self._editing() as records:
            if key in records:
                records[key].sides.clear()

    def set_calibration(self, key: str, channel: int, calibration: Calibration) -> None:
        """Remember ``calibration`` for one channel of device ``key`` (validated by Calibration)."""
        if not isinstance(calibration, Calibration):
            raise RegistryError("set_calibration needs a firmware_protocol.thermistor.Calibration")
        with self._editing() as records:
            rec = records.setdefault(key, DeviceRecord(key))
            rec.calibrations[str(channel)] = CalibrationRecord(calibration, time.time())

    def clear_calibration(self, key: str, channel: int) -> None:
        with self._editing() as records:
            if key in records:
                records[key].calibrations.pop(str(channel), None)

    def forget(self, key: str) -> None:
        with self._editing() as records:
            records.pop(key, None)

    # ---- file handling -----------------------------------------------------------------
    def _load(self) -> dict[str, DeviceRecord]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or not isinstance(doc.get("devices", {}), dict):
                raise ValueError("not a device registry")
            return {str(k): DeviceRecord.from_json(str(k), v) for k, v in doc.get("devices", {}).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            self._set_aside(exc)
            return {}

    def _set_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        with contextlib.suppress(OSError):
            os.replace(self.path, aside)
        self.warning = (f"The device registry {self.path} was damaged ({exc}); it was kept as {aside.name} "
                        "and probe sides and calibrations must be set again.")

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, DeviceRecord]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = self._load()
            yield records
            self._write(records)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write(self, records: dict[str, DeviceRecord]) -> None:
        doc = {"format": "sympatherm-device-registry", "version": FORMAT_VERSION,
               "devices": {k: r.to_json() for k, r in sorted(records.items())}}
        fd, tmp = tempfile.mkstemp(prefix=".devices-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=2, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
