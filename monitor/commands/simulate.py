"""`sympatherm simulate --pty`: the simulated patient as a virtual serial probe.

Prints the device path on the first line and the scenario's injection time (simulated
seconds after serving started) on the second, then serves until Ctrl-C or SIGTERM.
Any serial program, including `sympatherm record --port PATH`, can read it as hardware.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from monitor.commands._common import SubParsers, add_blocked_flag, add_simulation_flags, rate_hz
from monitor.commands._signals import StopRequests

if TYPE_CHECKING:
    from monitor.simulation.virtual_serial import VirtualSerialProbe


def register(sub: SubParsers) -> None:
    p = sub.add_parser(
        "simulate", help="serve the simulated patient as a virtual serial probe",
        description="Serve the simulated patient on a pseudo-terminal, through the real probe protocol. "
                    "The first output line is the device path to open, the second the injection time in "
                    "simulated seconds after serving started. Runs until Ctrl-C or SIGTERM.")
    p.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal (the only way, for now)")
    p.add_argument("--protocol", choices=["binary", "text"], default="binary",
                   help="framed binary protocol or plain text lines (default: binary)")
    add_simulation_flags(p)
    add_blocked_flag(p)
    p.add_argument("--rate", type=rate_hz, default=1.0, metavar="HZ",
                   help="samples per simulated second, 0.2 to 50 as a real probe (default: 1)")
    p.add_argument("--device-id", default="SIM-0001", help="the identity the probe reports (default: SIM-0001)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.pty:
        print("sympatherm simulate: say where to serve the probe: add --pty", file=sys.stderr)
        return 2
    from monitor.model import Limb
    from monitor.simulation.virtual_serial import VirtualSerialProbe

    blocked = Limb.parse(args.blocked) if args.blocked else Limb.LEFT
    try:
        probe = VirtualSerialProbe(args.scenario, seed=args.seed, speed=args.speed, protocol=args.protocol,
                                   rate_hz=args.rate, blocked=blocked, device_id=args.device_id)
    except ValueError as exc:
        print(f"sympatherm simulate: {exc}", file=sys.stderr)
        return 2
    with StopRequests() as stops:
        _serve(args, probe, stops)
    return 0


def _serve(args: argparse.Namespace, probe: VirtualSerialProbe, stops: StopRequests) -> None:
    try:
        path = probe.start()
        print(path, flush=True)
        print(f"{probe.injection_s:.1f}", flush=True)
        print(f"serving {probe.model.describe()} as {args.protocol} probe {args.device_id} at {args.speed:g}x "
              f"on {path}; stop with Ctrl-C", file=sys.stderr, flush=True)
        stops.wait(float("inf"), since=0)
    finally:
        probe.stop()
