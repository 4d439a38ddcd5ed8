"""`sympatherm sessions`, `analyze`, `export` and `record --resume` name what a file really is:
damaged files listed as damaged (never with a verdict), empty files as empty, closed ones as
closed, and a folder that cannot be written as exactly that. Real files, damaged by overwriting
bytes; a real read-only file system."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.model import Limb, SessionInfo
from monitor.store import SessionStore
from tests.support.sessions import record_simulated

REPO = Path(__file__).resolve().parents[3]
PAGE = 4096


def _damage_page(path: Path, page: int) -> bytes:
    """A bad sector: one page overwritten with a pattern SQLite cannot take for a b-tree page."""
    data = bytearray(path.read_bytes())
    data[page * PAGE:(page + 1) * PAGE] = bytes(range(256)) * (PAGE // 256)
    path.write_bytes(bytes(data))
    return bytes(data)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> bytes:
    """A closed 45-minute simulated session whose verdict is 'confirmed', as bytes."""
    folder = tmp_path_factory.mktemp("recorded")
    return record_simulated(folder / "whole.sympatherm", patient_id="DEMO-success-fast-0042").read_bytes()


def test_a_file_damaged_in_the_middle_is_listed_as_damaged_not_with_its_verdict(recorded, tmp_path, capsys):
    path = tmp_path / "middle.sympatherm"
    path.write_bytes(recorded)
    damaged = _damage_page(path, len(recorded) // PAGE // 2)
    # The defect's shape: without the page check the summary still reads "confirmed", 45 minutes.
    with SessionStore.open_read_only(path, check_integrity=False) as quick:
        assert quick.summary().verdict == "confirmed"
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    [row] = [ln for ln in out.splitlines() if "middle.sympatherm" in ln]
    assert "confirmed" not in row and "45:00" not in row
    assert "DAMAGED" in row and "is a SympaTherm session file that is damaged" in row
    assert main(["export", str(path), "--format", "csv", "--out", str(tmp_path / "x.csv")]) == 1
    assert "is a SympaTherm session file that is damaged" in capsys.readouterr().err
    assert path.read_bytes() == damaged, "listing and exporting leave the damaged file exactly as it was"


def test_analyze_names_a_session_file_with_damaged_first_bytes_as_one(recorded, tmp_path, capsys):
    for name in ("header.sympatherm", "renamed.bin"):
        path = tmp_path / name
        data = bytearray(recorded)
        data[0:16] = b"\x00" * 16  # SQLite's magic string gone; SympaTherm's application id (bytes 68-71) kept
        path.write_bytes(bytes(data))
        assert main(["analyze", str(path)]) == 2
        err = capsys.readouterr().err
        assert "is a SympaTherm session file that is damaged" in err, err
        assert "UTF-8" not in err and "Traceback" not in err


def test_an_empty_file_is_called_an_empty_file(tmp_path, capsys):
    empty = tmp_path / "empty.sympatherm"
    empty.write_bytes(b"")
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    [row] = [ln for ln in capsys.readouterr().out.splitlines() if "empty.sympatherm" in ln]
    assert "is an empty file (0 bytes)" in row and "SQLite" not in row
    assert main(["analyze", str(empty)]) == 2
    assert "is an empty file" in capsys.readouterr().err
    plain = tmp_path / "empty.csv"
    plain.write_bytes(b"")
    assert main(["analyze", str(plain)]) == 2
    assert "is an empty file" in capsys.readouterr().err


def test_closing_a_session_that_is_already_closed_says_so_and_changes_nothing(recorded, tmp_path, capsys):
    path = tmp_path / "closed.sympatherm"
    path.write_bytes(recorded)
    assert main(["sessions", "--close", str(path)]) == 1
    captured = capsys.readouterr()
    assert "is already closed" in captured.err and "interruption" not in captured.out + captured.err
    assert path.read_bytes() == recorded, "its end reason is not overwritten"


def test_a_long_patient_id_is_shown_whole_or_elided_visibly(tmp_path, capsys):
    for pid in ("DEMO-success-fast", "P" * 40):
        store = SessionStore.create(SessionInfo(patient_id=pid, blocked=Limb.LEFT), tmp_path / f"{pid[:8]}.sympatherm")
        store.close()
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "DEMO-success-fast " in out, "a 17-character ID is shown whole"
    assert "P" * 23 + "…" in out and "P" * 24 not in out


def test_a_patient_id_with_terminal_escapes_is_printed_harmlessly(tmp_path, capsys):
    store = SessionStore.create(SessionInfo(patient_id="X\x1b[2J\x07", blocked=Limb.LEFT), tmp_path / "esc.sympatherm")
    store.close()
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "X?[2J?" in out


# ---- a folder that cannot be written (a read-only file system refuses even root) -----------
def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "SYMPATHERM_HOME": str(home)}, timeout=120)


@pytest.fixture
def read_only_unfinished(tmp_path):
    """An unfinished (killed) session on a real file system then remounted read-only."""
    point = tmp_path / "mnt"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(point)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here ({done.stderr.strip() or 'not root'})")
    try:
        path = point / "unfinished.sympatherm"
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "record", "--demo", "--speed", "200",
                                 "--status-every", "0.2", "--out", str(path)], cwd=REPO, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "SYMPATHERM_HOME": str(tmp_path / "home")})
        for line in proc.stdout:
            if re.search(r"stored [1-9]", line):
                break
        proc.kill()
        proc.wait(timeout=20)
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def test_resuming_or_closing_in_a_read_only_folder_says_nothing_was_recorded(read_only_unfinished, tmp_path):
    before = {p.name: p.read_bytes() for p in read_only_unfinished.parent.iterdir()}
    done = _cli("record", "--resume", str(read_only_unfinished), "--demo", "--speed", "200", "--duration", "900",
                home=tmp_path / "home")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "held in memory" not in done.stderr, "nothing is held: nothing was recorded"
    assert "cannot be resumed" in done.stderr and "Nothing was recorded and the file is unchanged" in done.stderr
    closing = _cli("sessions", "--close", str(read_only_unfinished), home=tmp_path / "home")
    assert closing.returncode == 1 and "held in memory" not in closing.stderr
    assert "cannot be closed" in closing.stderr and "unchanged" in closing.stderr
    assert {p.name: p.read_bytes() for p in read_only_unfinished.parent.iterdir()} == before
