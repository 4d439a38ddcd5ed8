"""`sympatherm simulate --pty` as a separate process, read by the serial source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from monitor.model import ConnectionState, Limb
from monitor.sources.serial import SerialSource


@pytest.mark.parametrize(("protocol", "stop_signal"), [("binary", signal.SIGINT), ("text", signal.SIGTERM)])
def test_simulate_pty_is_read_by_the_serial_source(protocol, stop_signal, start_source, registry):
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "simulate", "--pty", "--protocol", protocol,
         "--scenario", "failed", "--speed", "40", "--seed", "7"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        path = proc.stdout.readline().strip()
        injection = float(proc.stdout.readline())
        assert path.startswith("/dev/") and os.path.exists(path)
        assert 300 < injection < 900
        src = SerialSource(path, registry=registry, discovery=lambda: [])
        c = start_source(src)
        c.wait(lambda: len([r for r in c.readings if r.limb is Limb.RIGHT]) >= 10, what="readings")
        assert src.state is ConnectionState.STREAMING and src.protocol == protocol
        stopped_at = time.time()
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=30) == 0
        c.wait(lambda: src.state is not ConnectionState.STREAMING, what="the loss to be noticed")
        assert "unplugged" in src.reason or "lost" in src.reason
        # The pty is gone; under parallel tests another process may already have a new one with
        # the same number, made after the stop.
        assert not os.path.exists(path) or os.stat(path).st_ctime >= stopped_at - 1.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()
        proc.stderr.close()


def test_simulate_without_pty_explains_itself():
    out = subprocess.run([sys.executable, "-m", "monitor.cli", "simulate"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and "--pty" in out.stderr
