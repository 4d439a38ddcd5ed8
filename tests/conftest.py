"""Test isolation: offscreen Qt, and QSettings / data / config folders inside a temp folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real settings, sessions and device registry."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        path = home / sub
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    monkeypatch.setenv("SYMPATHERM_HOME", str(home))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    try:
        from PyQt6.QtCore import QSettings
    except ImportError:  # pragma: no cover - Qt is a hard dependency, but keep core tests runnable
        yield home
        return
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(home / "qsettings"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "qsettings"))
    yield home


@pytest.fixture
def make_probe():
    """Virtual serial probes on real pseudo-terminals, stopped after the test."""
    from monitor.virtual_device import VirtualSerialProbe

    made: list[VirtualSerialProbe] = []

    def make(**kwargs) -> VirtualSerialProbe:
        probe = VirtualSerialProbe(**kwargs)
        made.append(probe)
        probe.start()
        return probe

    yield make
    for probe in made:
        probe.stop()
