"""The device registry file: sides and calibrations per device identity."""

from __future__ import annotations

import json
import stat

import pytest

from firmware_protocol.thermistor import Calibration
from monitor import paths
from monitor.model import Limb
from monitor.sources.base import DeviceIdentity
from monitor.sources.registry import DeviceRegistry, RegistryError


def test_sides_and_calibrations_persist_across_instances():
    probe = DeviceIdentity("ble", "Thermo A", device_id="AA:BB:CC:DD:EE:01", channels=1)
    reg = DeviceRegistry()
    assert reg.path.parent == paths.config_dir()
    reg.remember(probe)
    reg.assign_side(probe.key, "right")
    reg.set_calibration(probe.key, 0, Calibration(0.12, 0.998, "ice bath + 37 °C bath"))
    again = DeviceRegistry()
    assert again.side(probe.key) is Limb.RIGHT
    cal = again.calibration(probe.key, 0)
    assert cal.offset_c == pytest.approx(0.12) and cal.gain == pytest.approx(0.998)
    assert cal.apply(30.0) == pytest.approx(0.998 * 30 + 0.12)
    assert cal.note == "ice bath + 37 °C bath"
    assert stat.S_IMODE(reg.path.stat().st_mode) == 0o600
    assert json.loads(reg.path.read_text())["devices"][probe.key]["name"] == "Thermo A"


def test_two_channel_device_defaults_and_swap():
    reg = DeviceRegistry()
    assert reg.channel_limbs("serial:ST-1", 2) == (Limb.LEFT, Limb.RIGHT)
    reg.assign_side("serial:ST-1", Limb.LEFT, channel=1)
    assert reg.channel_limbs("serial:ST-1", 2) == (Limb.RIGHT, Limb.LEFT)
    assert reg.channel_limbs("ble:unknown", 1) == (None,)
    assert reg.channel_limbs("serial:four-channel", 4) == (Limb.LEFT, Limb.RIGHT, None, None)


def test_one_foot_per_single_channel_device():
    reg = DeviceRegistry()
    reg.assign_side("ble:A", "left")
    reg.assign_side("ble:B", "left")  # B takes the left foot; A no longer claims it
    assert reg.side("ble:B") is Limb.LEFT and reg.side("ble:A") is None


def test_only_real_calibrations_are_stored():
    with pytest.raises(RegistryError, match="Calibration"):
        DeviceRegistry().set_calibration("serial:X", 0, {"offset_c": 1.0})


def test_damaged_file_is_kept_aside_not_lost(tmp_path):
    path = tmp_path / "devices.json"
    path.write_text("{not json")
    reg = DeviceRegistry(path)
    assert reg.devices() == []
    assert "damaged" in reg.warning
    kept = list(tmp_path.glob("devices.json.damaged-*"))
    assert kept and kept[0].read_text() == "{not json"
    reg.assign_side("serial:X", "left")
    assert DeviceRegistry(path).side("serial:X") is Limb.LEFT
