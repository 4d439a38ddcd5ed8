"""Where results go: the receiver (host, port, TLS), from the command line or the site's hl7.json.

Nothing is sent unless a receiver is given explicitly (``--mllp HOST:PORT``, the GUI's field) or
configured in the ``receiver`` section of ``hl7.json`` in the configuration folder. TLS verifies
the receiver's certificate against ``ca_file`` (or the system's trusted CAs) and its host name.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from monitor.tls import client_context

CONFIG_FILE = "hl7.json"


class ConfigError(Exception):
    """The receiver's configuration is not usable; the message is plain words."""


@dataclass(frozen=True)
class Receiver:
    host: str
    port: int
    tls: bool = False
    ca_file: str = ""  # the CA that signed the receiver's certificate (empty: the system's CAs)
    client_cert: str = ""  # for a receiver that asks for our certificate (mutual TLS)
    client_key: str = ""
    server_name: str = ""  # the name on the receiver's certificate, if not the host
    timeout_s: float = 30.0  # to connect, and to wait for the acknowledgement

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        return f"{self.address} ({'TLS' if self.tls else 'plain MLLP, unencrypted'})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Receiver:
        if not isinstance(raw, dict):
            raise ConfigError("the receiver must be an object with host and port")
        fields = cls.__dataclass_fields__
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise ConfigError(f"unknown receiver setting(s): {', '.join(unknown)}")
        try:
            receiver = cls(**raw)
        except TypeError as exc:
            raise ConfigError(f"the receiver needs host and port: {exc}") from None
        return receiver.checked()

    def checked(self) -> Receiver:
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError("the receiver's host is empty")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ConfigError(f"the receiver's port must be a whole number from 1 to 65535, not {self.port!r}")
        if not isinstance(self.tls, bool):
            raise ConfigError("the receiver's tls must be true or false")
        if not isinstance(self.timeout_s, int | float) or not 0.1 <= float(self.timeout_s) <= 600.0:
            raise ConfigError("the receiver's timeout_s must be from 0.1 to 600 seconds")
        if (self.ca_file or self.client_cert) and not self.tls:
            raise ConfigError("ca_file and client_cert are for TLS: set tls to true (or leave them out)")
        return self

    def ssl_context(self) -> ssl.SSLContext | None:
        """A verifying TLS client context, or None for plain MLLP."""
        if not self.tls:
            return None
        try:
            return client_context(self.ca_file, self.client_cert, self.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot set up TLS to {self.address}: {exc}") from None


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets: ``[::1]:2575``)."""
    host, sep, port = text.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{text!r} is not HOST:PORT (a port from 1 to 65535), e.g. hl7.example.org:2575")
    return host, int(port)


def load_receiver(path: Path | None = None) -> Receiver | None:
    """The ``receiver`` section of hl7.json, or None when the site configured none."""
    if path is None:
        from monitor.paths import config_dir

        path = config_dir() / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("receiver") is None:
        return None
    try:
        return Receiver.from_dict(raw["receiver"])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
