"""`sympatherm central --snapshot`: the window rendered offscreen from a real broker, as a PNG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtGui import QImage

from monitor.publish.station import StationPublisher
from tests.monitor.publish.procedures import run, simulated_procedure
from tests.support.mosquitto import USERS

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_central_snapshot_renders_the_rooms_it_hears_to_a_png(tmp_path, broker):
    procedure, source = simulated_procedure(tmp_path / "s.sympatherm", scenario="success-fast")
    publisher = StationPublisher(broker.station("room-1", bed="3")).attach(procedure).start()
    secret = tmp_path / "central.password"
    secret.write_text(USERS["central"] + "\n")
    png = tmp_path / "central.png"
    room_png = tmp_path / "room.png"
    base = [sys.executable, "-m", "monitor.cli", "central", "--broker", broker.url, "--ca", broker.ca_file,
            "--username", "central", "--password-file", str(secret), "--client-id", "test-central-snapshot",
            "--wait", "2"]
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # --snapshot needs no screen itself
    try:
        run(procedure, source, 1500.0, after_pump=publisher.tick)
        publisher._state_due = 0.0
        publisher.tick()
        assert publisher.flush(10)
        done = subprocess.run([*base, "--snapshot", str(png), "--size", "1024x700"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "1 room(s) heard" in done.stdout
        room = subprocess.run([*base, "--snapshot", str(room_png), "--open-room", "clinic/room-1"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)
        assert room.returncode == 0, room.stderr
    finally:
        procedure.finish("test over")
        publisher.close()
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1024, 700)
    assert (QImage(str(room_png)).width(), QImage(str(room_png)).height()) == (1600, 1000)


def test_central_snapshot_without_a_broker_still_renders_and_says_so(tmp_path):
    png = tmp_path / "central.png"
    done = subprocess.run([sys.executable, "-m", "monitor.cli", "central", "--broker", "mqtt://localhost:9",
                           "--snapshot", str(png), "--wait", "1"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "cannot reach the broker" in done.stdout
    assert QImage(str(png)).width() == 1600
