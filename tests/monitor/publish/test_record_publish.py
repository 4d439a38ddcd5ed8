"""`sympatherm record --publish`: flags refused in plain words, and a station killed with SIGKILL
leaves its will (status online false) at the broker, which a central turns into NO COMMUNICATION."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.publish.messages import Kind
from tests.monitor.publish.listener import Listener
from tests.support.mosquitto import USERS

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("flags", "words"), [
    (["--publish", "mqtt://broker.clinic.example", "--room", "room-1"], "unencrypted"),
    (["--publish", "mqtts://broker.clinic.example:8883"], "--room NAME"),
    (["--publish", "mqtts://broker:8883", "--room", "room 1"], "room name must be"),
    (["--publish", "mqtts://user:secret@broker:8883", "--room", "r1"], "--mqtt-password-file"),
    (["--publish", "https://broker", "--room", "r1"], "mqtts://HOST:PORT"),
    (["--room", "room-1"], "only mean something with --publish"),
    (["--publish", "mqtts://broker:8883", "--room", "r1", "--mqtt-ca", "/no/such/ca.crt"], "does not exist"),
])
def test_publishing_flags_that_cannot_work_are_refused_before_any_file_is_made(tmp_path, capsys, flags, words):
    out = tmp_path / "s.sympatherm"
    assert main(["record", "--demo", "--duration", "5", "--out", str(out), *flags]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_plain_mqtt_to_another_computer_needs_the_explicit_flag(tmp_path, capsys):
    import argparse

    from monitor.commands.record import register
    from monitor.publish.flags import config_from_args

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["record", "--demo", "--publish", "mqtt://10.0.0.7", "--room", "r1",
                              "--publish-insecure"])
    config = config_from_args(args)
    assert config is not None and str(config.address) == "mqtt://10.0.0.7:1883"
    assert "UNENCRYPTED" in config.describe()


def _record(broker, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    secret = tmp_path / "password"
    secret.write_text(USERS["room-1"] + "\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "record", "--demo", "--speed", "20", "--out", str(tmp_path / "s.sympatherm"),
         "--publish", broker.url, "--room", "room-1", "--site", "clinic", "--mqtt-user", "room-1",
         "--mqtt-password-file", str(secret), "--mqtt-ca", broker.ca_file, "--status-every", "1", *extra],
        cwd=REPO, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


@pytest.mark.slow
def test_a_station_killed_with_sigkill_leaves_its_will_and_a_clean_end_says_session_finished(tmp_path, broker):
    central = Listener(broker)
    station = _record(broker, tmp_path)
    try:
        assert central.wait_for(lambda: len(central.of(Kind.STATE, "room-1")) >= 2, 30), station.stderr
        assert central.of(Kind.STATUS, "room-1")[-1].body["online"] is True
        station.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert central.wait_for(lambda: central.of(Kind.STATUS, "room-1")[-1].body["online"] is False, 5)
        took_s = time.monotonic() - killed
    finally:
        station.kill()
        out, err = station.communicate(timeout=10)
    will = central.of(Kind.STATUS, "room-1")[-1].body
    assert will["reason"] == "connection lost (the broker's will)" and took_s < 5
    assert USERS["room-1"] not in out + err, "the password is never printed"
    late = Listener(broker, client_id="late-central")
    assert late.wait_for(lambda: bool(late.of(Kind.STATUS)))
    assert late.of(Kind.STATUS)[-1].body["online"] is False, "retained: a central that starts later knows too"
    late.close()

    # The station comes back (a new run), then ends normally: online, then "session finished".
    (tmp_path / "again").mkdir()
    again = _record(broker, tmp_path / "again", "--duration", "40")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "publish: connected to" in out
    ups = [r.body for r in central.of(Kind.STATUS, "room-1")]
    assert [b["online"] for b in ups[-2:]] == [True, False] and ups[-1]["reason"] == "session finished"
    assert central.of(Kind.STATE, "room-1")[-1].body["finished"] is True
    central.close()
