"""`sympatherm central`: every room's published state in one window, from the MQTT broker.

    sympatherm central --broker mqtts://HOST:PORT --ca ca.crt --username central --password-file pw

``--snapshot FILE.png`` listens for ``--wait`` seconds, renders the window offscreen and exits
(as ``demo --snapshot`` does): for documentation, tests and machines without a display.
The central only shows; see docs/central-station.md.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.commands._common import NumberIn, SubParsers

if TYPE_CHECKING:
    from monitor.central import BrokerSettings, CentralConnection, CentralModel, RoomKey

SNAPSHOT_WAIT_S = 6.0  # longer than the 5 s of silence, so a silent room shows as it is
SNAPSHOT_SIZE = (1600, 1000)
_SIZE = re.compile(r"([0-9]{3,4})x([0-9]{3,4})")


def window_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels, 320 to 4096 each (argparse type)."""
    m = _SIZE.fullmatch(text.strip())
    if not m or not all(320 <= int(v) <= 4096 for v in m.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a window size: write WIDTHxHEIGHT, e.g. 1600x1000 "
                                         "(320 to 4096 pixels each)")
    return int(m.group(1)), int(m.group(2))


def default_client_id() -> str:
    """Stable on this computer (the broker keeps its session under it), different on another one."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:40] or "host"
    return f"sympatherm-central-{host}"


def register(sub: SubParsers) -> None:
    p = sub.add_parser("central", help="the central station: every room publishing to an MQTT broker",
                       description="Show every room that publishes to the broker: a tile per room (blocked side, "
                                   "both feet, verdict, time since injection, technical alarms, NO COMMUNICATION "
                                   "within 5 s of a station going silent); click a tile for its last 60 minutes. "
                                   "The central only shows: silencing and markers stay in the room.")
    p.add_argument("--broker", required=True, metavar="mqtts://HOST:PORT",
                   help="the MQTT broker (TLS; plain mqtt:// only to this computer unless --insecure)")
    p.add_argument("--ca", type=Path, metavar="FILE", help="the CA that signed the broker's certificate "
                   "(default: the system's CAs)")
    p.add_argument("--username", metavar="NAME", help="the central's user name at the broker")
    p.add_argument("--password-file", type=Path, metavar="FILE",
                   help="a file whose first line is the password (or set $SYMPATHERM_MQTT_PASSWORD)")
    p.add_argument("--cert", type=Path, metavar="FILE", help="a client certificate (PEM) instead of a password")
    p.add_argument("--key", type=Path, metavar="FILE", help="the client certificate's key (PEM)")
    p.add_argument("--site", default="+", metavar="NAME", help="show only this site's rooms (default: every site)")
    p.add_argument("--client-id", default=None, metavar="ID",
                   help="the central's MQTT client id, kept the same so the broker keeps what it missed "
                        "(default: sympatherm-central-<this computer's name>)")
    p.add_argument("--insecure", action="store_true",
                   help="allow a plain mqtt:// broker on another computer (unencrypted: trusted networks only)")
    p.add_argument("--snapshot", metavar="FILE.png", type=Path,
                   help="listen for --wait seconds, render the window offscreen to this PNG and exit")
    p.add_argument("--wait", type=NumberIn(0.0, 600.0, unit="s"), default=None, metavar="SECONDS",
                   help=f"with --snapshot: seconds to listen first (default: {SNAPSHOT_WAIT_S:g})")
    p.add_argument("--size", type=window_size, default=None, metavar="WxH",
                   help="with --snapshot: the picture's size (default: 1600x1000)")
    p.add_argument("--open-room", metavar="SITE/ROOM", default=None,
                   help="with --snapshot: the picture of that room's last 60 minutes")
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> BrokerSettings:
    """The broker settings the flags give; ValueError in plain words."""
    from monitor.central import BrokerSettings
    from monitor.publish.config import PublishConfigError, parse_broker_url, read_password
    from monitor.publish.messages import check_name

    try:
        address = parse_broker_url(args.broker, allow_insecure=args.insecure)
        password = read_password(str(args.password_file) if args.password_file else None)
    except PublishConfigError as exc:
        raise ValueError(str(exc).replace("--publish-insecure", "--insecure")) from None
    if args.site != "+":
        check_name(args.site, "site")
    for what, path in (("CA file", args.ca), ("client certificate", args.cert), ("client key", args.key)):
        if path is not None and not path.is_file():
            raise ValueError(f"the {what} {path} does not exist")
    if (args.ca or args.cert) and not address.tls:
        raise ValueError("--ca and --cert are for mqtts:// (TLS)")
    if args.key and not args.cert:
        raise ValueError("--key needs its client certificate (--cert)")
    if password and not args.username:
        raise ValueError("a password needs a user name (--username)")
    settings = BrokerSettings(address.host, address.port, tls=address.tls, ca_file=args.ca,
                              username=args.username, password=password or None,
                              client_id=args.client_id or default_client_id(), cert_file=args.cert,
                              key_file=args.key, site=args.site)
    try:
        settings.ssl_context()  # a certificate that cannot be read is said now
    except OSError as exc:
        raise ValueError(f"cannot set up TLS to {settings.describe()}: {exc}") from None
    return settings


def _room_key(text: str | None) -> RoomKey | None:
    from monitor.central import RoomKey

    if text is None:
        return None
    site, _, room = text.partition("/")
    if not site or not room:
        raise ValueError(f"--open-room wants SITE/ROOM, e.g. clinic/room-1, not {text!r}")
    return RoomKey(site, room)


def run(args: argparse.Namespace) -> int:
    snapshot_only = [f for f, v in (("--wait", args.wait), ("--size", args.size), ("--open-room", args.open_room))
                     if v is not None]
    if snapshot_only and args.snapshot is None:
        print(f"{', '.join(snapshot_only)} only make sense with --snapshot FILE.png", file=sys.stderr)
        return 2
    try:
        settings = settings_from_args(args)
        open_room = _room_key(args.open_room)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.snapshot is not None:
        return _snapshot(args, settings, open_room)
    from ui.display import display_problem

    problem = display_problem(hint="use `sympatherm central … --snapshot central.png` to render it to a PNG instead.")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from monitor.central import CentralConnection, CentralModel
    from ui.application import get_application
    from ui.central.window import CentralWindow

    app = get_application()
    model = CentralModel()
    connection = CentralConnection(settings)
    window = CentralWindow(model, connection, where=settings.describe())
    connection.start()
    window.resize(1400, 900)
    window.show()
    try:
        return app.exec()
    finally:
        connection.stop()


def _snapshot(args: argparse.Namespace, settings: BrokerSettings, open_room: RoomKey | None) -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no screen
    from monitor.central import CentralConnection, CentralModel
    from ui.application import get_application
    from ui.central.window import CentralWindow, snapshot

    _app = get_application()  # keep a reference: the QApplication must outlive the window
    model = CentralModel()
    connection = CentralConnection(settings)
    window = CentralWindow(model, connection, run_timer=False, where=settings.describe())
    connection.start()
    try:
        _listen(model, connection, SNAPSHOT_WAIT_S if args.wait is None else args.wait)
        if open_room is not None and open_room not in model.rooms:
            print(f"no room {open_room} was heard; the picture shows every room", file=sys.stderr)
            open_room = None
        out = snapshot(args.snapshot, window, args.size or SNAPSHOT_SIZE, room=open_room)
    except OSError as exc:
        print(f"Could not save the snapshot: {exc}", file=sys.stderr)
        return 1
    finally:
        window.stop()
        window.close()
    print(f"Saved the central's window ({len(model.rooms)} room(s) heard, {model.link_words}) to {out}")
    return 0 if model.link_up else 1


def _listen(model: CentralModel, connection: CentralConnection, seconds: float) -> None:
    """Take what the broker sends for ``seconds`` (as the window's timer would)."""
    from ui.application import get_application

    app = get_application()
    end = time.monotonic() + seconds
    while True:
        model.pump(connection.inbox)
        app.processEvents()
        if time.monotonic() >= end:
            break
        time.sleep(0.05)
