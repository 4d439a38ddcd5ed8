"""Where a station publishes: the broker's address, the room's identity, credentials and TLS.

Nothing is published unless configured: ``--publish mqtts://HOST:PORT --room NAME`` on the
command line, or the GUI's "Publish to a central station" setting (``publish.json`` in the
configuration folder, written 0600 because it may hold the station's password).

``mqtts://`` verifies the broker's certificate (``ca_file``, or the system's CAs) and its host
name. A plain ``mqtt://`` is refused to anything but this computer unless the user explicitly
allows it (``--publish-insecure``): readings would cross the network unencrypted.
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.publish.messages import check_bed, check_name, station_client_id
from monitor.tls import client_context

CONFIG_FILE = "publish.json"
PASSWORD_ENV = "SYMPATHERM_MQTT_PASSWORD"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"mqtts": 8883, "mqtt": 1883}


class PublishConfigError(ValueError):
    """The publishing settings are not usable; the message is plain words (never a password)."""


@dataclass(frozen=True)
class BrokerAddress:
    scheme: str  # "mqtts" or "mqtt"
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "mqtts"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_broker_url(text: str, *, allow_insecure: bool = False) -> BrokerAddress:
    """``mqtts://HOST[:PORT]`` (default 8883), or ``mqtt://`` to this computer (1883) unless
    ``allow_insecure``; PublishConfigError in plain words otherwise."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise PublishConfigError(f"{text!r} is not a broker address ({exc}); write mqtts://HOST:PORT") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise PublishConfigError(f"{text!r} is not a broker address: write mqtts://HOST:PORT, e.g. "
                                 "mqtts://broker.clinic.example:8883")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        raise PublishConfigError("write only mqtts://HOST:PORT: give the user name with --mqtt-user and the "
                                 f"password in a file (--mqtt-password-file) or ${PASSWORD_ENV}")
    host = parts.hostname
    if scheme == "mqtt" and host.lower() not in LOCAL_HOSTS and not allow_insecure:
        raise PublishConfigError(f"mqtt://{host} would send the room's readings across the network unencrypted. "
                                 "Use mqtts:// (TLS), or pass --publish-insecure if this network is trusted.")
    return BrokerAddress(scheme, host, port or DEFAULT_PORTS[scheme])


@dataclass(frozen=True)
class PublishConfig:
    """One station's publishing settings. ``password`` never appears in repr or in words."""

    broker: str  # the URL as given
    room: str
    site: str = "clinic"
    bed: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""  # the CA that signed the broker's certificate ("" : the system's CAs)
    client_cert: str = ""  # a client certificate instead of (or as well as) a password
    client_key: str = ""
    allow_insecure: bool = False  # plain mqtt:// to another computer
    share_patient_id: bool = False  # send state.patient_id and notes' texts
    enabled: bool = True  # the GUI's switch (a saved configuration can be kept but off)

    @property
    def address(self) -> BrokerAddress:
        return parse_broker_url(self.broker, allow_insecure=self.allow_insecure)

    @property
    def client_id(self) -> str:
        return station_client_id(self.site, self.room)

    def describe(self) -> str:
        """Where and as whom, in words (for a status line; no password)."""
        how = "TLS" if self.address.tls else "UNENCRYPTED"
        who = f" as {self.username}" if self.username else (" with a client certificate" if self.client_cert else "")
        return f"{self.site}/{self.room} to {self.address} ({how}{who})"

    def checked(self) -> PublishConfig:
        """This configuration, or PublishConfigError saying what is wrong."""
        try:
            check_name(self.site, "site")
            check_name(self.room, "room")
            bed = check_bed(self.bed)
        except ValueError as exc:
            raise PublishConfigError(str(exc)) from None
        address = self.address
        files = {"CA file": self.ca_file, "client certificate": self.client_cert, "client key": self.client_key}
        if (self.ca_file or self.client_cert) and not address.tls:
            raise PublishConfigError("a CA file or client certificate is for mqtts:// (TLS)")
        if self.client_key and not self.client_cert:
            raise PublishConfigError("a client key needs its client certificate (--mqtt-cert)")
        for what, path in files.items():
            if path and not Path(path).is_file():
                raise PublishConfigError(f"the {what} {path} does not exist")
        if self.password and not self.username:
            raise PublishConfigError("a password needs a user name (--mqtt-user)")
        return replace(self, bed=bed)

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context that verifies the broker's certificate and name; None for mqtt://."""
        if not self.address.tls:
            return None
        try:
            return client_context(self.ca_file, self.client_cert, self.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise PublishConfigError(f"cannot set up TLS to {self.address}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> PublishConfig:
        if not isinstance(raw, dict):
            raise PublishConfigError("the publishing settings must be an object with broker and room")
        known = cls.__dataclass_fields__
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise PublishConfigError(f"unknown publishing setting(s): {', '.join(unknown)}")
        for name, value in raw.items():
            want = bool if isinstance(known[name].default, bool) else str
            if not isinstance(value, want):
                raise PublishConfigError(f"the publishing setting {name} must be {want.__name__}")
        try:
            return cls(**raw)
        except TypeError:
            raise PublishConfigError("the publishing settings need broker and room") from None


def config_path() -> Path:
    from monitor.paths import config_dir

    return config_dir() / CONFIG_FILE


def load_config(path: Path | None = None) -> PublishConfig | None:
    """The saved settings (the GUI's), or None when there are none."""
    path = path or config_path()
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PublishConfigError(f"cannot read {path}: {exc}") from None
    try:
        return PublishConfig.from_dict(raw)
    except PublishConfigError as exc:
        raise PublishConfigError(f"{path}: {exc}") from None


def save_config(config: PublishConfig, path: Path | None = None) -> Path:
    """Write the settings 0600 (they may hold the password), replacing the file atomically."""
    path = path or config_path()
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(config.to_dict(), out, indent=2)
            out.write("\n")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def read_password(path: str | None) -> str:
    """The password from ``path`` (its first line) or else ``$SYMPATHERM_MQTT_PASSWORD``; "" for none.

    Never a command-line argument: other users of the computer can read those."""
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").splitlines()[0].strip() if Path(path).stat().st_size else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise PublishConfigError(f"cannot read the password file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return os.environ.get(PASSWORD_ENV, "")
