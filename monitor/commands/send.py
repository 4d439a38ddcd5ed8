"""`sympatherm send FILE --mllp HOST:PORT [--tls --ca FILE]`: a finished session's result to the record."""

from __future__ import annotations

import argparse
import sys

from monitor.commands._common import NumberIn, SubParsers

# --wait (also `sympatherm outbox`'s): the one rule every numeric flag follows (finite, in range).
wait_seconds = NumberIn(0.0, 3600.0, unit="s")


def register(sub: SubParsers) -> None:
    p = sub.add_parser("send", help="send a finished session's result to the hospital record (HL7 over MLLP)",
                       description="Queue the session's HL7 v2 ORU^R01 (IHE PCD-01) in the outbox and deliver "
                                   "it over MLLP. It counts as delivered only when the receiver acknowledges it "
                                   "(AA); until then it stays in the outbox and is retried (sympatherm outbox). "
                                   "Plain MLLP is unencrypted: use --tls unless the network is protected.")
    p.add_argument("file", help="the session file (.sympatherm), finished")
    p.add_argument("--mllp", metavar="HOST:PORT",
                   help="the receiver (default: the receiver configured in hl7.json, if any)")
    p.add_argument("--tls", action="store_true", help="connect with TLS, verifying the receiver's certificate")
    p.add_argument("--ca", metavar="FILE", help="the CA certificate(s) that signed the receiver's (default: the "
                                                "system's trusted CAs)")
    p.add_argument("--cert", metavar="FILE", help="our client certificate, for a receiver that asks for one")
    p.add_argument("--key", metavar="FILE", help="the key of --cert (if not in the same file)")
    p.add_argument("--server-name", metavar="NAME", help="the name on the receiver's certificate, if not HOST")
    p.add_argument("--wait", type=wait_seconds, default=30.0, metavar="SECONDS",
                   help="how long to keep retrying now (default 30); what is not delivered by then stays queued")
    p.add_argument("--again", action="store_true", help="send a session already delivered to this receiver once more")
    p.set_defaults(func=run)


def receiver_from_args(args: argparse.Namespace) -> object:
    from monitor.outbox import ConfigError, Receiver, load_receiver, parse_address

    configured = load_receiver()
    if args.mllp is None:
        if configured is None:
            raise ConfigError("no receiver: give --mllp HOST:PORT, or configure one in hl7.json (docs/hl7.md); "
                              "nothing is sent anywhere otherwise")
        return configured
    host, port = parse_address(args.mllp)
    tls = bool(args.tls or args.ca or args.cert)
    return Receiver(host, port, tls=tls, ca_file=args.ca or "", client_cert=args.cert or "",
                    client_key=args.key or "", server_name=args.server_name or "").checked()


def run(args: argparse.Namespace) -> int:
    from monitor.exports.hl7 import Hl7Error
    from monitor.outbox import ConfigError, Outbox, OutboxError, Outcome, Receiver, deliver
    from monitor.outbox.queue import queue_session
    from monitor.store import StoreError

    try:
        receiver = receiver_from_args(args)
        assert isinstance(receiver, Receiver)
        with Outbox() as outbox:
            entry = queue_session(outbox, args.file, receiver, again=args.again)
            print(f"Queued {entry.control_id} for {receiver.describe()} in {outbox.path}")
            if not receiver.tls:
                print("Note: plain MLLP is unencrypted; use it only on a protected network (or --tls).")
            def report(o: Outcome) -> None:
                print(f"  {o.control_id}: {o.words}")

            outcomes = deliver(outbox, now_due=True, report=report)  # this one and anything else waiting
            if outbox.get(entry.control_id).state == "waiting":
                outcomes = deliver(outbox, wait_s=args.wait, only=entry.control_id, report=report)
            final = outbox.get(entry.control_id)
    except (ConfigError, OutboxError, Hl7Error, StoreError, OSError) as exc:
        print(f"sympatherm send: {exc}", file=sys.stderr)
        return 1
    if final.state == "delivered":
        print(f"Delivered: {receiver.address} acknowledged {final.control_id} ({final.ack_code}).")
        return 0
    if final.state == "rejected":
        print(f"sympatherm send: REJECTED by the receiver ({final.ack_code}): {final.ack_text}. It is kept in the "
              f"outbox; after fixing the cause: sympatherm outbox --retry {final.control_id}", file=sys.stderr)
        return 1
    mine = [o for o in outcomes if o.control_id == final.control_id]
    why = mine[-1].words if mine else final.last_error
    print(f"sympatherm send: not delivered yet ({why}). It stays in the outbox and is retried by "
          "`sympatherm outbox --deliver` or the next send.", file=sys.stderr)
    return 3
