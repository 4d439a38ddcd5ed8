"""Ctrl-C / SIGTERM handling of the long-running commands."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

from monitor.commands._signals import StopRequests


def test_signals_are_counted_and_the_previous_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with StopRequests() as stops:
        assert not stops.requested and not stops.wait(0.05)
        threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGTERM)).start()
        started = time.monotonic()
        assert stops.wait(30.0)
        assert time.monotonic() - started < 5.0  # woke on the signal, not at the timeout
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C is a stop request too, not a KeyboardInterrupt
        assert stops.wait(5.0, since=1) and stops.count == 2
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_flood_of_signals_during_waits_never_deadlocks(tmp_path):
    # A handler that took a lock (threading.Event.set) deadlocked when a signal landed while
    # the main thread sat inside Event.wait(); this hammers that exact window. The waiter keeps
    # its handlers until told on stdin that the flood is over (never on a timer: on a loaded
    # machine a late signal would otherwise meet the default handler and end it).
    script = tmp_path / "waiter.py"
    script.write_text(textwrap.dedent("""
        import sys, threading, time
        from monitor.commands._signals import StopRequests
        told = []
        threading.Thread(target=lambda: told.append(sys.stdin.readline()), daemon=True).start()
        with StopRequests() as stops:
            print("ready", flush=True)
            end = time.monotonic() + 120.0  # only if the test itself is gone
            while not told and time.monotonic() < end:
                stops.wait(0.0001)
        print("done", stops.count, flush=True)
    """))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=root, env={**os.environ, "PYTHONPATH": root})
    try:
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(2000):
            os.kill(proc.pid, signal.SIGTERM)
            time.sleep(0.0005)
        out, _ = proc.communicate("over\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out.startswith("done")
    assert int(out.split()[1]) > 0
