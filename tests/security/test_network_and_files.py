"""Where patient data lives and who can read it; and that SympaTherm opens no network port."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil

from monitor import paths
from monitor.clock import SimulatedClock
from monitor.model import Limb, SessionInfo
from monitor.pipeline import BlockPipeline
from monitor.procedure.recorder import SessionRecorder
from monitor.simulation.source import SimulatedSource
from monitor.sources.registry import DeviceRegistry
from monitor.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_session_files_and_their_journals_are_private_to_the_user():
    source = SimulatedSource("success-fast", seed=1, clock=SimulatedClock(manual=True))
    store = SessionStore.create(SessionInfo(patient_id="PRIV-1", blocked=Limb.LEFT))
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    source.start()
    source.step_to(120)
    recorder.pump()
    path = store.path
    assert path.parent == paths.sessions_dir()
    wal, shm = Path(str(path) + "-wal"), Path(str(path) + "-shm")
    assert wal.exists(), "recording in WAL mode"
    for f in (path, wal, shm):
        if f.exists():
            assert _mode(f) == 0o600, f"{f.name} is {oct(_mode(f))}"
    folder = paths.sessions_dir()
    while folder != paths.data_dir().parent:
        assert _mode(folder) & 0o077 == 0, f"{folder} is readable by others ({oct(_mode(folder))})"
        folder = folder.parent
    pointers = list((paths.data_dir() / "recording-now").glob("*.path"))
    assert pointers and all(_mode(p) == 0o600 for p in pointers)
    recorder.finish()
    assert _mode(path) == 0o600 and not wal.exists()


def test_the_device_registry_is_private_to_the_user():
    registry = DeviceRegistry()
    registry.assign_side("serial:SIM-1", Limb.LEFT, channel=0)
    files = [p for p in paths.config_dir().rglob("*") if p.is_file()]
    assert files and all(_mode(p) & 0o077 == 0 for p in files), [(p.name, oct(_mode(p))) for p in files]


def _inet_connections(pid: int) -> list:
    try:
        return psutil.Process(pid).net_connections(kind="inet")
    except psutil.NoSuchProcess:
        return []


def _watch(proc: subprocess.Popen, until, timeout: float = 60.0) -> list:
    """Sample the process's internet sockets (listening or not) while it runs, until ``until()``."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        seen += _inet_connections(proc.pid)
        for child in psutil.Process(proc.pid).children(recursive=True):
            seen += _inet_connections(child.pid)
        if until():
            break
        time.sleep(0.1)  # polling a condition, not timing anything
    seen += _inet_connections(proc.pid)
    return seen


def _readings_in(folder: Path) -> int:
    files = list(folder.glob("*.sympatherm")) if folder.exists() else []
    if not files:
        return 0
    try:
        with SessionStore.open_read_only(files[0]) as store:
            return store.reading_count()
    except Exception:  # noqa: BLE001 - being created right now; look again
        return 0


def test_headless_recording_opens_no_network_socket(tmp_path):
    env = {**os.environ, "SYMPATHERM_HOME": str(tmp_path)}
    out = tmp_path / "s" / "net.sympatherm"
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "record", "--demo", "--speed", "60",
                             "--duration", "900", "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen = _watch(proc, lambda: _readings_in(out.parent) >= 200)
        assert _readings_in(out.parent) >= 200, proc.stderr.read() if proc.poll() is not None else "no readings"
    finally:
        proc.terminate()
        proc.wait(20)
    assert seen == [], f"sockets seen: {seen}"


def test_the_gui_opens_no_network_socket(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", SYMPATHERM_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "demo", "--speed", "120", "--rate", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sessions = tmp_path / "data" / "sympatherm" / "sessions"
    try:
        seen = _watch(proc, lambda: _readings_in(sessions) >= 200)
        assert _readings_in(sessions) >= 200, proc.stderr.read() if proc.poll() is not None else "no readings"
        listening = [c for c in psutil.Process(proc.pid).net_connections(kind="all") if c.status == "LISTEN"]
    finally:
        proc.terminate()
        proc.wait(20)
    assert seen == [], f"internet sockets seen: {seen}"
    assert listening == [], f"listening sockets: {listening}"


def test_the_socket_watch_does_see_a_listening_process():
    """Control: the check above would notice a port being opened."""
    code = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        seen = _watch(proc, lambda: bool(_inet_connections(proc.pid)), timeout=10.0)
    finally:
        proc.kill()
        proc.wait(10)
    assert any(c.status == "LISTEN" for c in seen)
