"""Where SympaTherm keeps its files: the user's data and configuration folders (platformdirs).

Patient data is created readable by the user only. ``SYMPATHERM_HOME`` (used by the
tests) moves everything under one folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "sympatherm"


def _override() -> Path | None:
    home = os.environ.get("SYMPATHERM_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    """Folder for session files (created 0700)."""
    base = _override()
    path = base / "data" / APP if base else Path(platformdirs.user_data_dir(APP, appauthor=False))
    return _private_dir(path)


def config_dir() -> Path:
    """Folder for the device registry and other configuration (created 0700)."""
    base = _override()
    path = base / "config" / APP if base else Path(platformdirs.user_config_dir(APP, appauthor=False))
    return _private_dir(path)


def sessions_dir() -> Path:
    return _private_dir(data_dir() / "sessions")


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
