"""Test isolation: offscreen Qt, and QSettings / data / config folders inside a temp folder."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_USER_VARS = (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"),
              ("XDG_STATE_HOME", "state"))


def _point_user_folders_at(home: str) -> None:
    for var, sub in _USER_VARS:
        os.makedirs(os.path.join(home, sub), exist_ok=True)
        os.environ[var] = os.path.join(home, sub)
    os.environ["SYMPATHERM_HOME"] = home


# Module- and session-scoped fixtures run before any function-scoped one, so the whole run starts
# inside a throw-away home too (it once wrote "recording now" pointers into the real data folder).
_SESSION_HOME = tempfile.mkdtemp(prefix="sympatherm-tests-")
_point_user_folders_at(_SESSION_HOME)
atexit.register(shutil.rmtree, _SESSION_HOME, ignore_errors=True)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real settings, sessions and device registry."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in _USER_VARS:
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
    from monitor.simulation.virtual_serial import VirtualSerialProbe

    made: list[VirtualSerialProbe] = []

    def make(**kwargs) -> VirtualSerialProbe:
        probe = VirtualSerialProbe(**kwargs)
        made.append(probe)
        probe.start()
        return probe

    yield make
    for probe in made:
        probe.stop()
