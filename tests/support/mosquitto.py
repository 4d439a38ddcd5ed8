"""A real Mosquitto broker on localhost for the central-station tests (Debian's ``mosquitto``).

Each :class:`Broker` has its own folder, port, configuration, password file and ACL, and
certificates made by ``tools/mqtt-test-certs`` (a test CA, the broker's certificate for
localhost, client certificates). It runs with ``persistence true`` and can be stopped,
killed and started again on the same port (a broker restart). Two TLS listeners:

- ``port``: user name and password (``USERS``), the broker's certificate verified by clients;
- ``cert_port``: a client certificate required, its common name the user name.

ACL: docs/mqtt/acl, the one the documentation gives a site: each room's user may publish only
under ``sympatherm/v1/clinic/<its room>/``; ``central`` may only subscribe. Under CI=true a missing ``mosquitto`` fails the test
(:func:`tests.support.system_tools.require`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.publish.config import PublishConfig
from tests.support.system_tools import require

REPO = Path(__file__).resolve().parents[2]
SITE = "clinic"
ROOMS = ("room-1", "room-2")
USERS = {"room-1": "pw-room-1", "room-2": "pw-room-2", "central": "pw-central"}
_START_TIMEOUT_S = 10.0


def mosquitto_paths() -> tuple[str, str]:
    """(mosquitto, mosquitto_passwd), installing the Debian package when it can."""
    for name in ("mosquitto", "mosquitto_passwd"):
        if shutil.which(name) is None and Path(f"/usr/sbin/{name}").exists():
            os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin"  # a non-root PATH may lack it
    broker = require("mosquitto", ["mosquitto"], what="the central-station tests (a real MQTT broker)")
    passwd = shutil.which("mosquitto_passwd") or str(Path(broker).with_name("mosquitto_passwd"))
    return broker, passwd


def make_certs(folder: Path, clients: tuple[str, ...] = (*ROOMS, "central")) -> Path:
    """The test CA, the broker's and the clients' certificates, by tools/mqtt-test-certs."""
    args = [str(REPO / "tools" / "mqtt-test-certs"), str(folder)]
    for c in clients:
        args += ["--client", c]
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    return folder


DOCUMENTED_ACL = REPO / "docs" / "mqtt" / "acl"  # the tests prove the ACL the site is told to use


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    folder: Path
    certs: Path
    port: int = field(default_factory=free_port)
    cert_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtts://localhost:{self.port}"

    @property
    def cert_url(self) -> str:
        return f"mqtts://localhost:{self.cert_port}"

    @property
    def ca_file(self) -> str:
        return str(self.certs / "ca.crt")

    @property
    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def config_text(self) -> str:
        user = pwd.getpwuid(os.geteuid()).pw_name  # as root, mosquitto would switch to "mosquitto"
        tls = [f"cafile {self.certs / 'ca.crt'}", f"certfile {self.certs / 'server.crt'}",
               f"keyfile {self.certs / 'server.key'}", "tls_version tlsv1.2"]
        return "\n".join([
            f"user {user}", "per_listener_settings false", "allow_anonymous false",
            f"password_file {self.folder / 'passwd'}", f"acl_file {self.folder / 'acl'}",
            "persistence true", f"persistence_location {self.folder / 'persist'}/", "autosave_interval 1",
            "max_queued_messages 100000",
            f"log_dest file {self.folder / 'mosquitto.log'}", "log_type error", "log_type warning",
            "log_type notice", "log_type information", "log_timestamp_format %H:%M:%S",
            "", f"listener {self.port} 127.0.0.1", *tls,
            "", f"listener {self.cert_port} 127.0.0.1", *tls, "require_certificate true",
            "use_identity_as_username true", ""])

    def prepare(self) -> None:
        _, passwd = mosquitto_paths()
        (self.folder / "persist").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DOCUMENTED_ACL, self.folder / "acl")
        pw = self.folder / "passwd"
        pw.unlink(missing_ok=True)
        for name, secret in USERS.items():
            subprocess.run([passwd, "-b", *([] if pw.exists() else ["-c"]), str(pw), name, secret],
                           check=True, capture_output=True, timeout=30)
        (self.folder / "mosquitto.conf").write_text(self.config_text())
        for f in ("acl", "passwd", "mosquitto.conf"):
            os.chmod(self.folder / f, 0o600)

    def start(self) -> Broker:
        broker, _ = mosquitto_paths()
        self.process = subprocess.Popen([broker, "-c", str(self.folder / "mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err}\n{self.log}")
            if all(_listening(p) for p in (self.port, self.cert_port)):
                return self
            time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not open its ports in {_START_TIMEOUT_S:g} s\n{self.log}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the broker (SIGTERM saves its persistence file; ``kill``: SIGKILL, it saves nothing)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def restart(self) -> Broker:
        self.stop()
        return self.start()

    def station(self, room: str = "room-1", *, user: str | None = None, **extra: object) -> PublishConfig:
        """A station's settings with its user name and password (``user``: another's)."""
        name = user or room
        return PublishConfig(broker=self.url, room=room, site=SITE, username=name, password=USERS[name],
                             ca_file=self.ca_file, **extra)  # type: ignore[arg-type]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def mqtt_certs(tmp_path_factory) -> Path:
    mosquitto_paths()
    return make_certs(tmp_path_factory.mktemp("mqtt-certs"))


@pytest.fixture
def broker(tmp_path, mqtt_certs):
    b = Broker(tmp_path / "broker", mqtt_certs)
    b.prepare()
    b.start()
    yield b
    b.stop()
