"""A damaged session file at start-up: one plain warning names it with the reason, it is not
offered for resuming or review (clicking those on it used to crash start-up), the file is left
as it was, and the warning is not repeated for the same file in the same run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication, QMessageBox

from monitor import paths
from monitor.store import find_damaged_sessions, find_unfinished_sessions
from ui import app_flow

ROOT = Path(__file__).resolve().parents[2]

# A recording that dies (os._exit: no clean close, as after a kill -9), its WAL folded into the
# file first so that damage to a page hits real readings.
_RECORD_AND_DIE = """
import os, sys
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.store import SessionStore

store = SessionStore.create(SessionInfo(patient_id="DMG-1", blocked=Limb.LEFT), sys.argv[1])
for k in range(400):
    store.add_readings([Reading(limb, 30.0 + k * 0.01, ProbeStatus.OK, float(k), 1.7e9 + k, k, None, "test")
                        for limb in Limb])
store.commit()
store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
os._exit(0)
"""


def _damaged_session(path: Path) -> bytes:
    subprocess.run([sys.executable, "-c", _RECORD_AND_DIE, str(path)], check=True, cwd=ROOT, timeout=120)
    Path(f"{path}-wal").unlink(missing_ok=True)
    data = bytearray(path.read_bytes())
    data[4096 * 3: 4096 * 4] = bytes(range(256)) * 16  # a bad sector: one page of the readings overwritten
    path.write_bytes(bytes(data))
    return bytes(data)


class _BoxCloser:
    """Closes every message box that opens (as a user pressing OK would), remembering its text."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, list[str]]] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._close)
        self.timer.start()

    def _close(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            self.seen.append((box.windowTitle(), box.text(), [b.text() for b in box.buttons()]))
            box.done(0)


def test_a_damaged_file_is_reported_once_at_start_up_and_left_untouched(qtbot, monkeypatch):
    folder = paths.sessions_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "2026-damaged.sympatherm"
    damaged_bytes = _damaged_session(path)
    assert [d.path for d in find_damaged_sessions()] == [path]
    assert find_unfinished_sessions() == []
    monkeypatch.setattr(app_flow, "_damaged_reported", set())

    from monitor.commands.sources import build_source

    controller = app_flow.AppController(build_source)
    monkeypatch.setattr(controller, "new_session", lambda: False)  # the set-up dialog is not under test
    closer = _BoxCloser()
    assert controller.start() is False
    qtbot.waitUntil(lambda: len(closer.seen) >= 1, timeout=30000)
    assert len(closer.seen) == 1, "one warning, and no resume/review offer for the damaged file"
    title, text, buttons = closer.seen[0]
    assert title == "Damaged session file"
    assert "2026-damaged.sympatherm" in text and str(folder) in text
    assert "a SympaTherm session file that is damaged" in text  # the reason, in short
    assert "left untouched" in text and "Keep a copy" in text
    assert not any(b in buttons for b in ("Resume recording", "Review and export", "Mark as finished"))
    assert controller.windows == []

    assert controller.start() is False  # same run, same file: not shown again
    QApplication.processEvents()
    assert len(closer.seen) == 1
    closer.timer.stop()
    assert path.read_bytes() == damaged_bytes, "the damaged file is left exactly as it was"
