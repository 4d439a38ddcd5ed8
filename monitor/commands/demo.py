"""`sympatherm demo`: the GUI with a simulated patient (injection marked automatically).

``--snapshot FILE.png --after SECONDS`` renders the window offscreen after that much
simulated time and exits: for documentation, tests and machines without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from monitor.commands._common import add_simulation_flags, positive_float


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more seconds")
    return value


def register(sub) -> None:
    p = sub.add_parser("demo", help="the live display with a simulated patient",
                       description="Run the live display against the simulated patient. The injection is "
                                   "marked automatically at the scenario's time unless you mark it (key I).")
    add_simulation_flags(p, default_speed=10.0)
    p.add_argument("--blocked", choices=["left", "right"], default="left",
                   help="the side the simulated physician blocks (default: left)")
    p.add_argument("--rate", type=positive_float, default=1.0, metavar="HZ",
                   help="readings per second per foot (default: 1)")
    p.add_argument("--difference", action="store_true",
                   help="show the Di − Dc plot under the main plot from the start (key V toggles it)")
    p.add_argument("--snapshot", metavar="FILE.png", type=Path,
                   help="render the window offscreen to this PNG and exit (no display needed)")
    p.add_argument("--after", metavar="SECONDS", type=_non_negative, default=None,
                   help="with --snapshot: simulated seconds to run before rendering (default: 1800)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from monitor.model import Limb

    blocked = Limb.parse(args.blocked)
    if args.after is not None and args.snapshot is None:
        print("--after only makes sense with --snapshot FILE.png", file=sys.stderr)
        return 2
    if args.snapshot is not None:
        # Rendering to a file needs no screen at all.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from ui.application import get_application
        from ui.demo import snapshot

        _app = get_application()  # keep a reference: the QApplication must outlive the window
        after = 1800.0 if args.after is None else args.after
        try:
            out = snapshot(args.snapshot, args.scenario, args.seed, blocked, after, rate_hz=args.rate,
                           difference=args.difference)
        except OSError as exc:
            print(f"Could not save the snapshot: {exc}", file=sys.stderr)
            return 1
        print(f"Saved the window after {after:g} simulated seconds to {out}")
        return 0

    from ui.display import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from ui.demo import run_demo

    return run_demo(args.scenario, args.seed, args.speed, blocked, rate_hz=args.rate, difference=args.difference)
