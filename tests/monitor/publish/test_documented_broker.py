"""The broker configurations docs/ gives a site and a newcomer load in the real Mosquitto and work."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from monitor.publish.config import PublishConfig
from monitor.publish.messages import Kind
from monitor.publish.station import StationPublisher
from tests.monitor.publish.listener import Listener
from tests.monitor.publish.procedures import run, simulated_procedure
from tests.support.mosquitto import REPO, USERS, _listening, free_port, make_certs, mosquitto_paths

DOCS = REPO / "docs" / "mqtt"


def _start(conf: Path, cwd: Path, ports: tuple[int, ...]) -> subprocess.Popen[bytes]:
    broker, _ = mosquitto_paths()
    # Started as root (CI), mosquitto would become user "mosquitto" and not read the test's files.
    conf.write_text(f"user {pwd.getpwuid(os.geteuid()).pw_name}\n" + conf.read_text())
    proc = subprocess.Popen([broker, "-c", str(conf)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not all(_listening(p) for p in ports):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"mosquitto did not start with {conf.name}: {proc.stdout.read().decode()}")
        time.sleep(0.02)
    return proc


def _passwords(folder: Path) -> None:
    _, passwd = mosquitto_paths()
    for i, (name, secret) in enumerate(USERS.items()):
        subprocess.run([passwd, "-b", *(["-c"] if i == 0 else []), str(folder / "passwd"), name, secret], check=True,
                       capture_output=True)


class _At:
    """Enough of tests.support.mosquitto.Broker for the test's central."""

    def __init__(self, port: int, ca: Path) -> None:
        self.port, self.ca_file = port, str(ca)


def test_the_trial_configuration_of_the_walk_through_runs_as_documented(tmp_path, mqtt_certs):
    trial = tmp_path / "trial"
    trial.mkdir()
    shutil.copytree(mqtt_certs, trial / "certs")
    shutil.copyfile(DOCS / "acl", trial / "acl")
    _passwords(trial)
    port = free_port()
    text = (DOCS / "mosquitto-trial.conf").read_text().replace("listener 8883 localhost", f"listener {port} localhost")
    (trial / "mosquitto.conf").write_text(text)
    broker = _start(trial / "mosquitto.conf", trial, (port,))
    try:
        central = Listener(_At(port, trial / "certs" / "ca.crt"))
        procedure, source = simulated_procedure(tmp_path / "s.sympatherm", "success-fast")
        config = PublishConfig(broker=f"mqtts://localhost:{port}", room="room-1", username="room-1",
                               password=USERS["room-1"], ca_file=str(trial / "certs" / "ca.crt"))
        publisher = StationPublisher(config).attach(procedure).start()
        run(procedure, source, 30, after_pump=publisher.tick)
        procedure.finish()
        assert publisher.close(10) and publisher.refused == 0
        assert central.wait_for(lambda: any(not r.body["online"] for r in central.of(Kind.STATUS)))
        central.close()
    finally:
        broker.terminate()
        broker.wait(10)
    assert (trial / "mosquitto.db").exists(), "persistence: the broker saved its state in the trial folder"


def test_the_sites_configuration_loads_with_its_two_listeners(tmp_path, mqtt_certs):
    site = tmp_path / "etc"
    site.mkdir()
    _passwords(site)
    shutil.copyfile(DOCS / "acl", site / "sympatherm.acl")
    shutil.move(site / "passwd", site / "sympatherm.passwd")
    ports = (free_port(), free_port())
    text = (DOCS / "mosquitto.conf").read_text()
    text = text.replace("/etc/mosquitto/certs/", f"{mqtt_certs}/").replace("/etc/mosquitto/", f"{site}/")
    text = text.replace("listener 8883", f"listener {ports[0]} 127.0.0.1").replace(
        "listener 8884", f"listener {ports[1]} 127.0.0.1")
    # What Debian's own mosquitto.conf adds before conf.d:
    text = f"persistence true\npersistence_location {site}/\n" + text
    (site / "mosquitto.conf").write_text(text)
    broker = _start(site / "mosquitto.conf", site, ports)
    try:
        central = Listener(_At(ports[0], mqtt_certs / "ca.crt"))
        assert central.connected.is_set()
        central.close()
    finally:
        broker.terminate()
        broker.wait(10)


@pytest.mark.parametrize("client", ["room-1", "central"])
def test_the_test_certificates_are_signed_by_the_test_ca_for_their_use(mqtt_certs, client):
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(mqtt_certs / "ca.crt"), "-purpose", "sslclient",
                             str(mqtt_certs / f"{client}.crt")], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    server = subprocess.run(["openssl", "verify", "-CAfile", str(mqtt_certs / "ca.crt"), "-purpose", "sslserver",
                             str(mqtt_certs / "server.crt")], capture_output=True, text=True)
    assert server.returncode == 0
    assert oct((mqtt_certs / f"{client}.key").stat().st_mode & 0o777) == "0o600"
    again = make_certs(mqtt_certs, ("room-9",))
    assert (again / "room-9.crt").exists() and (again / "ca.crt").read_bytes() == (mqtt_certs / "ca.crt").read_bytes()
