"""The command line's publishing flags (``sympatherm record --publish …``) and what they make.

Off unless ``--publish`` is given. The password is never a flag (other users of the computer can
read a command line): ``--mqtt-password-file`` or ``$SYMPATHERM_MQTT_PASSWORD``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from monitor.publish.config import PASSWORD_ENV, PublishConfig, PublishConfigError, read_password

if TYPE_CHECKING:
    from monitor.procedure import Procedure
    from monitor.publish.station import StationPublisher


def add_publish_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("publish to a central station (off unless --publish is given; docs/central-station.md)")
    g.add_argument("--publish", metavar="mqtts://HOST:PORT",
                   help="publish this room's live state to the MQTT broker at this address (TLS)")
    g.add_argument("--room", metavar="NAME", help="this room's name on the wire (letters, digits, . _ -)")
    g.add_argument("--site", default="clinic", metavar="NAME", help="the site's name on the wire (default: clinic)")
    g.add_argument("--bed", default="", metavar="TEXT", help="the bed or bay, shown on the central's tile")
    g.add_argument("--mqtt-user", default="", metavar="NAME", help="this station's user name at the broker")
    g.add_argument("--mqtt-password-file", metavar="FILE",
                   help=f"a file whose first line is the password (or set ${PASSWORD_ENV})")
    g.add_argument("--mqtt-ca", default="", metavar="FILE", help="the CA that signed the broker's certificate")
    g.add_argument("--mqtt-cert", default="", metavar="FILE", help="this station's client certificate (PEM)")
    g.add_argument("--mqtt-key", default="", metavar="FILE", help="the client certificate's key (PEM)")
    g.add_argument("--publish-insecure", action="store_true",
                   help="allow a plain mqtt:// broker on another computer (unencrypted: trusted networks only)")
    g.add_argument("--publish-patient-id", action="store_true",
                   help="also send the patient ID and the notes' texts (off: room and bed are the identity)")


def config_from_args(args: argparse.Namespace) -> PublishConfig | None:
    """The publishing settings the flags give (None without --publish); PublishConfigError in words."""
    if not args.publish:
        given = [f for f, v in (("--room", args.room), ("--mqtt-user", args.mqtt_user), ("--mqtt-ca", args.mqtt_ca))
                 if v]
        if given:
            raise PublishConfigError(f"{', '.join(given)} only mean something with --publish mqtts://HOST:PORT")
        return None
    if not args.room:
        raise PublishConfigError("--publish needs this room's name: --room NAME")
    config = PublishConfig(broker=args.publish, room=args.room, site=args.site, bed=args.bed,
                           username=args.mqtt_user, password=read_password(args.mqtt_password_file),
                           ca_file=args.mqtt_ca, client_cert=args.mqtt_cert, client_key=args.mqtt_key,
                           allow_insecure=args.publish_insecure, share_patient_id=args.publish_patient_id).checked()
    config.ssl_context()  # a certificate or key that cannot be read is said now, not mid-session
    return config


def start_publishing(config: PublishConfig | None, procedure: Procedure) -> StationPublisher | None:
    """A publisher following ``procedure`` and connecting in the background (None: not configured).

    For any front-end: call ``publisher.tick()`` after each ``procedure.pump()`` and
    ``publisher.close()`` once the procedure is finished."""
    if config is None or not config.enabled:
        return None
    from monitor.publish.station import StationPublisher

    return StationPublisher(config).attach(procedure).start()
