"""Flags that mean the same everywhere (`--scenario`, `--speed`, `--seed`, `--blocked`, `--out`)."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# What each command's register() is given: argparse's sub-command parsers. A string: argparse's
# _SubParsersAction is generic only to the type checker (typeshed), not at run time.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return value


def add_simulation_flags(p: argparse.ArgumentParser, *, default_speed: float = 1.0) -> None:
    from monitor.simulation.physiology import SCENARIOS

    p.add_argument("--scenario", default="success-fast", choices=sorted(SCENARIOS),
                   help="simulated patient scenario (default: success-fast)")
    p.add_argument("--speed", type=positive_float, default=default_speed,
                   help=f"simulated time runs this many times faster than real time (default: {default_speed:g})")
    p.add_argument("--seed", type=int, default=1, help="random seed, for a reproducible patient (default: 1)")


def add_blocked_flag(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("--blocked", choices=["left", "right"], required=required,
                   help="the side that was blocked")


def add_out_flag(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--out", metavar="PATH", help=help_text)
