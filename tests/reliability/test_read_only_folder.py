"""An output folder that cannot be written: a read-only file system (EROFS refuses even root,
unlike folder permissions). Recording there, exporting there and rescuing a session there are
each a plain one-line error; nothing is created, and a running session goes on, losing nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.clock import SimulatedClock
from monitor.exports import ExportError, export_session
from monitor.simulation.source import SimulatedSource
from monitor.store import StoreWriteError

from .harness import Recording, assert_nothing_lost

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def read_only(mount_tmpfs):
    return mount_tmpfs("read-only", "ro,size=1m")


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "SYMPATHERM_HOME": str(home)}, timeout=120)


def test_recording_into_a_read_only_folder_is_refused_in_one_plain_line(read_only, tmp_path):
    done = _cli("record", "--demo", "--speed", "100", "--duration", "30", "--out", str(read_only / "x.sympatherm"),
                home=tmp_path / "home")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Read-only file system" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert list(read_only.iterdir()) == []


def test_a_running_session_cannot_be_rescued_or_exported_into_a_read_only_folder_and_goes_on(
        read_only, tmp_path):
    source = SimulatedSource("success-fast", seed=5, clock=SimulatedClock(manual=True))
    rec = Recording(source, tmp_path / "s.sympatherm").start()
    source.step_to(300)
    rec.pump()
    with pytest.raises(StoreWriteError, match="Read-only file system"):
        rec.store.relocate(read_only / "rescue.sympatherm")
    for fmt in ("csv", "pdf", "edf", "fhir"):
        with pytest.raises(ExportError, match="Read-only file system"):
            export_session(rec.path, fmt, read_only / f"x.{fmt}")
    source.step_to(600)
    rec.pump()
    assert rec.recorder.write_error is None and rec.store.path == tmp_path / "s.sympatherm"
    rec.finish()
    assert_nothing_lost(rec.stored(), rec.delivered)
    assert len(rec.delivered) == 2 * 601
    assert list(read_only.iterdir()) == []
    # From the command line: one plain line and exit status 1 for each format.
    for fmt in ("pdf", "csv"):
        done = _cli("export", str(rec.path), "--format", fmt, "--out", f"{read_only}/", home=tmp_path / "home")
        assert done.returncode == 1 and "Read-only file system" in done.stderr and "Traceback" not in done.stderr
