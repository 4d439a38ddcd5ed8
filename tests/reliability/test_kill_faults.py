"""The process killed with SIGKILL in the middle of a recording.

A child process records a simulated patient through the real recorder, pipeline and session
file as fast as it can (a commit after every batch, each fsynced), and says on stdout how many
readings it had received each time a commit has returned. It is killed without warning while
it keeps writing, so the kill usually lands inside a transaction. Whatever it said was saved
must be in the file, unchanged, once each, and the file must open and be offered for recovery.
No sleeps: the test waits for the child's own words, however slowly a loaded machine runs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from monitor.clock import SimulatedClock
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore, close_unfinished, find_unfinished_sessions

from .harness import assert_monotonic

ROOT = Path(__file__).resolve().parents[2]
SCENARIO, SEED = "sensor-fault", 11  # faults and gaps in the stream, not just clean numbers

CHILD = textwrap.dedent("""
    import sys
    from monitor.clock import SimulatedClock
    from monitor.model import Limb, MarkerKind, SessionInfo
    from monitor.pipeline import BlockPipeline
    from monitor.procedure.recorder import SessionRecorder
    from monitor.simulation.source import SimulatedSource
    from monitor.store import SessionStore

    source = SimulatedSource(sys.argv[2], seed=int(sys.argv[3]), clock=SimulatedClock(manual=True))
    store = SessionStore.create(SessionInfo(patient_id="KILL-2", blocked=Limb.LEFT), sys.argv[1])
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    recorder.schedule_marker(MarkerKind.INJECTION, source.suggested_injection_s)
    source.start()
    t = 0.0
    while True:
        t += 3.0
        source.step_to(t)
        recorder.pump()  # commits everything received (interval 0): returns once it is on disk
        if recorder.write_error is None and store.pending_count == 0:
            print(recorder.readings_received, flush=True)
""")


def _expected_readings(n: int) -> list[tuple]:
    """The same patient, regenerated here: what the child's first ``n`` readings must be."""
    source = SimulatedSource(SCENARIO, seed=SEED, clock=SimulatedClock(manual=True))
    source.start()
    got: list = []
    t = 0.0
    while len(got) < n:
        t += 3.0
        source.step_to(t)
        got += source.drain()
    source.stop()
    return [_essentials(r) for r in got[:n]]


def _essentials(r) -> tuple:
    # Everything but the wall clock, which is the child's own start time plus session time.
    return (r.limb, r.celsius, r.status, r.session_s, r.sequence, r.device_time_s, r.source)


def test_sigkill_mid_transaction_keeps_every_reading_it_had_saved(tmp_path):
    path = tmp_path / "killed.sympatherm"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), SCENARIO, str(SEED)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    saved: list[int] = []
    enough = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            saved.append(int(line))
            if saved[-1] >= 1500:  # a few hundred transactions in, still writing
                enough.set()
                return
        enough.set()  # the child ended on its own: the assertions below say why

    threading.Thread(target=read, daemon=True).start()
    try:
        assert enough.wait(120), f"the child said nothing; stderr: {proc.stderr.read() if proc.poll() else ''}"
        assert proc.poll() is None, f"the child ended by itself: {proc.stderr.read()}"
        proc.send_signal(signal.SIGKILL)  # while it goes on writing
        proc.wait(30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    said_saved = saved[-1]

    with SessionStore.open_read_only(path) as reader:  # opens cleanly: the integrity check passes
        stored = reader.readings()
        assert reader.status == "recording"
    assert len(stored) >= said_saved, f"it said {said_saved} readings were saved; the file holds {len(stored)}"
    assert [_essentials(r) for r in stored] == _expected_readings(len(stored)), \
        "the file holds exactly the readings received, unchanged, once each, in order"
    assert_monotonic(stored)
    drift = [r.wall_time - r.session_s for r in stored]
    assert max(drift) - min(drift) < 1e-6, "wall clock kept beside session time, unchanged"

    assert find_unfinished_sessions(tmp_path) == [path], "offered for recovery at the next start"
    close_unfinished(path)
    with SessionStore.open_read_only(path) as reader:
        assert reader.status == "closed" and reader.reading_count() == len(stored)
