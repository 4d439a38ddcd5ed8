"""`sympatherm outbox [--deliver] [--retry CONTROL_ID]`: what is waiting for the record, what failed and why."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from monitor.commands._common import SubParsers
from monitor.commands.send import wait_seconds


def register(sub: SubParsers) -> None:
    p = sub.add_parser("outbox", help="list the results waiting for the hospital record, and why any failed",
                       description="List the HL7 messages in the outbox: waiting (with the last error and the "
                                   "next attempt), rejected by the receiver (with its words) and delivered.")
    p.add_argument("--deliver", action="store_true", help="try every waiting message now")
    p.add_argument("--retry", metavar="CONTROL_ID", help="put a rejected message back in the queue and try it")
    p.add_argument("--wait", type=wait_seconds, default=30.0, metavar="SECONDS",
                   help="with --deliver/--retry: how long to keep retrying (default 30)")
    p.set_defaults(func=run)


def _when(wall: float | None) -> str:
    return datetime.fromtimestamp(wall).strftime("%Y-%m-%d %H:%M:%S") if wall else "—"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from monitor.outbox import DELIVERED, REJECTED, WAITING, Outbox, OutboxError, deliver

    try:
        with Outbox() as outbox:
            if args.retry:
                outbox.retry(args.retry)
            if args.deliver or args.retry:
                deliver(outbox, wait_s=args.wait, now_due=True, only=args.retry,
                        report=lambda o: print(f"{o.control_id}: {o.words}"))
            entries = outbox.entries()
            path = outbox.path
    except OutboxError as exc:
        print(f"sympatherm outbox: {exc}", file=sys.stderr)
        return 1
    if not entries:
        print(f"The outbox is empty ({path}).")
        return 0
    print(f"Outbox {path}:")
    for state, title in ((WAITING, "Waiting"), (REJECTED, "Rejected by the receiver (kept)"), (DELIVERED, "Delivered")):
        rows = [e for e in entries if e.state == state]
        if not rows:
            continue
        print(f"{title}: {len(rows)}")
        for e in rows:
            line = (f"  {e.control_id}  {Path(e.session).name}  to {e.receiver.describe()}  queued {_when(e.created_wall)}"
                    f"  attempts {e.attempts}")
            if state == WAITING:
                line += f"  next {_when(e.next_attempt_wall)}" + (f"\n    last error: {e.last_error}" if e.last_error else "")
            elif state == REJECTED:
                line += f"\n    {e.ack_code}: {e.ack_text}"
            else:
                line += f"  acknowledged {_when(e.done_wall)} ({e.ack_code})"
            print(line)
    return 1 if any(e.state != DELIVERED for e in entries) and (args.deliver or args.retry) else 0
