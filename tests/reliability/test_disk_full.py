"""A really full disk: the session file on a small file system (a 3 MB tmpfs) that fills up.

tests/monitor/procedure/test_recorder.py makes SQLite report a full disk with max_page_count;
here the operating system refuses the writes (ENOSPC on the database, its WAL and journal), as
on a full USB stick or a full laptop disk. Mounting needs root (CI runs as root); elsewhere the
tests are skipped with the reason (tests/monitor/procedure/test_recorder.py still covers the path).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from monitor.clock import SimulatedClock
from monitor.model import Limb
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore

from .harness import Recording, assert_monotonic, assert_nothing_lost

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_disk(mount_tmpfs):
    return mount_tmpfs("small-disk", "size=3m,mode=0700")


def _fill(folder: Path) -> Path:
    """Take every free byte of the file system, as other programs filling the disk would."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 512, 1):  # down to the last byte
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_really_full_disk_is_reported_once_and_every_reading_is_written_when_space_returns(small_disk):
    source = SimulatedSource("success-fast", seed=3, clock=SimulatedClock(manual=True), rate_hz=2.0)
    reports: list = []
    rec = Recording(source, small_disk / "s.sympatherm").start()
    rec.recorder.on_write_error = reports.append
    t = 0.0
    for _ in range(10):
        t += 10.0
        source.step_to(t)
        rec.pump()
    assert rec.recorder.write_error is None
    filler = _fill(small_disk)
    for _ in range(60):  # 10 more minutes at 2 Hz per foot while the disk is full
        t += 10.0
        source.step_to(t)
        rec.pump()
    assert rec.recorder.write_error is not None and "disk is full" in str(rec.recorder.write_error)
    assert [str(r) for r in reports] == [str(rec.recorder.write_error)], "said once, at the first failure"
    assert rec.store.pending_count > 2000, "held in memory"
    filler.unlink()  # space returns
    t += 10.0
    source.step_to(t)
    rec.pump()
    assert rec.recorder.write_error is None and reports[-1] is None and rec.store.pending_count == 0
    rec.finish()
    assert_nothing_lost(rec.stored(), rec.delivered)
    assert len(rec.delivered) == 2 * (2 * int(t) + 1)


def test_record_on_a_full_disk_ends_by_saving_the_whole_session_elsewhere_on_a_second_stop(small_disk, tmp_path):
    """`sympatherm record`, a real process: the disk fills mid-session; it says so at once; asked to
    stop, it cannot close the file, says why and how to go on; asked again, it saves everything to
    the data folder (on another disk) and exits cleanly, with every reading."""
    path = small_disk / "full.sympatherm"
    env = {**os.environ, "SYMPATHERM_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "record", "--demo", "--speed", "50",
                             "--patient-id", "FULL-1", "--blocked", "left", "--out", str(path),
                             "--status-every", "0.2"], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: list[str] = []
    err: list[str] = []
    for stream, lines in ((proc.stdout, out), (proc.stderr, err)):
        threading.Thread(target=lambda s=stream, li=lines: li.extend(s), daemon=True).start()

    def wait_for(lines: list[str], pattern: str, timeout: float = 120.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if match := re.search(pattern, line):
                    return match
            if proc.poll() is not None and not re.search(pattern, "".join(lines)):
                break
            time.sleep(0.05)  # polling for a line, not timing anything
        raise AssertionError(f"no line matching {pattern!r}; stdout {out[-5:]!r}; stderr {err!r}")

    try:
        wait_for(out, r"stored ([2-9]\d\d|\d{4,})")
        _fill(small_disk)
        wait_for(err, r"The disk is full")
        proc.send_signal(signal.SIGTERM)
        wait_for(err, r"press Ctrl-C again to save the session")
        # Asked again. A request that lands while it is still printing that advice is not yet
        # counted as "again" (it repeats the advice 2 s later), so ask until it has been heard.
        saved_line = None
        for _ in range(5):
            asked = sum("press Ctrl-C again" in line for line in err)
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None and not any("Saved the whole" in ln for ln in out):
                if sum("press Ctrl-C again" in line for line in err) > asked:
                    break
                time.sleep(0.05)  # polling for a line, not timing anything
            if any("Saved the whole" in ln for ln in out) or proc.poll() is not None:
                saved_line = wait_for(out, r"Saved the whole session to (\S+) instead")
                break
        assert saved_line is not None, f"never saved elsewhere; stderr {err!r}"
        rescued = Path(saved_line.group(1))
        proc.wait(60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    saved = int(wait_for(out, r"Session saved: .* \((\d+) readings\)").group(1))
    assert rescued.is_relative_to(tmp_path / "home"), f"{rescued} is not in the user's data folder"
    assert rescued.stat().st_mode & 0o077 == 0
    with SessionStore.open_read_only(rescued) as reader:
        readings = reader.readings()
        assert reader.status == "closed" and reader.info().patient_id == "FULL-1"
    assert len(readings) == saved
    assert_monotonic(readings)
    for limb in Limb:  # the simulator's 1 Hz readings: every second present, once
        times = [r.session_s for r in readings if r.limb is limb]
        assert times == [float(i) for i in range(len(times))], "no hole, no duplicate"
