"""System programs some tests need (LibreOffice, node, avr-gcc, simavr, …), installed the way
``tools/bootstrap.sh`` installs Qt's libraries.

:func:`require` returns the program's path. When it is missing it is installed from Debian's
packages if the tests run as root with apt-get (as CI does); otherwise the test is skipped with
the exact command to run. Under ``CI=true`` a program that is still missing fails the test
instead: a skipped test would prove nothing there. Installs are serialised with a file lock, so
parallel test workers never run apt-get at the same time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

_LOCK = Path("/tmp/sympatherm-tests-apt.lock")
_APT_TIMEOUT_S = 1800.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _can_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _apt_install(packages: Sequence[str]) -> str:
    """Install ``packages`` (as root); returns apt's output tail on failure, "" on success."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one apt-get at a time across test workers
        for cmd in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=_APT_TIMEOUT_S)
            if done.returncode != 0:
                return (done.stdout + done.stderr)[-2000:]
    return ""


def require(executable: str, packages: Sequence[str], *, what: str) -> str:
    """The path of ``executable``, installing Debian ``packages`` if it is missing and we can.

    ``what``: what the test needs it for, in words (shown when it is skipped or fails)."""
    found = shutil.which(executable)
    if found:
        return found
    why = ""
    if _can_install():
        why = _apt_install(packages)
        found = shutil.which(executable)
        if found:
            return found
    command = f"sudo apt-get install -y {' '.join(packages)}"
    message = f"{what} needs `{executable}` (Debian: {', '.join(packages)}). Run: {command}"
    if why:
        message += f"\napt-get said: {why}"
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)
