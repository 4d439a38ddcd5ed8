"""Flags that mean the same everywhere (`--scenario`, `--speed`, `--seed`, `--blocked`, `--out`), and
the ranges every numeric flag is checked against.

Every number typed on the command line must be finite and inside a range that makes sense for
what it is; anything else is refused by argparse (exit code 2, one line naming the flag) before a
file is created. The ranges, and why:

===================  =====================  ====================================================
flag                 range                  why
===================  =====================  ====================================================
``--speed``          0.1 ≤ x ≤ 10 000       the simulated clock's rate: 10 000 × runs 48 h in
                                            17 s, faster than the simulated worker keeps up
                                            with (readings trail the clock); slower than 0.1 ×
                                            a 45 min procedure takes a working day
``--rate``           0.2 ≤ x ≤ 50 Hz        what a real probe sends (PROTOCOL.md, "Rate")
``--seed``           0 … 2³² − 1            numpy's seed range (the source description's too)
``--baud``           50 … 10 000 000        real serial ports (the source description's range)
``--duration``       1 s ≤ x ≤ 48 h         a session time: less than a reading's interval
                                            records nothing; no procedure lasts two days
``--injection-at``   0 ≤ x ≤ 48 h           session time starts at 0 (record); on a file's own
                                            time axis (analyze) |x| ≤ 10¹⁰ s, the CSV reader's limit
``--status-every``   0.1 ≤ x ≤ 3600 s       real seconds between status lines
``--after``          0 ≤ x ≤ 48 h           simulated seconds before a snapshot
``--core-c``         30 ≤ x ≤ 42 °C         a living patient's core temperature
``--room-c``         10 ≤ x ≤ 40 °C         a room a procedure is done in
===================  =====================  ====================================================

The GUI's dialogs hold the same ranges in their spin boxes (``tests/monitor/commands/
test_extreme_numbers.py`` checks that they agree).
"""

from __future__ import annotations

import argparse
import math
import re
from typing import TypeAlias

from monitor.csvio import TIME_LIMIT_S

# What each command's register() is given: argparse's sub-command parsers. A string: argparse's
# _SubParsersAction is generic only to the type checker (typeshed), not at run time.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

MAX_SESSION_S = 48 * 3600.0
SPEED_RANGE = (0.1, 10_000.0)
DURATION_RANGE_S = (1.0, MAX_SESSION_S)
RATE_HZ_RANGE = (0.2, 50.0)
SEED_RANGE = (0, 2**32 - 1)
BAUD_RANGE = (50, 10_000_000)
STATUS_EVERY_RANGE_S = (0.1, 3600.0)
CORE_C_RANGE = (30.0, 42.0)
ROOM_C_RANGE = (10.0, 40.0)
# A time on a CSV's own axis (any origin, e.g. POSIX seconds): the CSV reader's own limit.
FILE_TIME_LIMIT_S = TIME_LIMIT_S


def _shown(value: float) -> str:
    return f"{value:g}"


def _as_typed(text: str) -> str:
    """What the user typed, quoted and short enough for a one-line error."""
    return repr(text if len(text) <= 24 else text[:20] + "…")


_WHOLE = re.compile(r"[+-]?[0-9]{1,30}")
_WHOLE_ANY = re.compile(r"[+-]?[0-9]+")


class NumberIn:
    """An argparse type: a finite number with ``low`` ≤ x ≤ ``high`` (the range is kept for tests)."""

    def __init__(self, low: float, high: float, *, unit: str = "") -> None:
        self.low, self.high, self.unit = low, high, unit
        self.__name__ = "number"  # argparse's name for the type, should it ever name it

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_as_typed(text)} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{_as_typed(text)} is not a finite number")
        if not self.low <= value <= self.high:
            where = f"from {_shown(self.low)} to {_shown(self.high)}" + (f" {self.unit}" if self.unit else "")
            raise argparse.ArgumentTypeError(f"{_as_typed(text)} is out of range: give a number {where}")
        return value + 0.0  # -0.0 becomes 0.0


class WholeNumberIn:
    """An argparse type: a whole number with ``low`` ≤ x ≤ ``high``."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.__name__ = "whole number"

    def __call__(self, text: str) -> int:
        where = f"give a whole number from {self.low} to {self.high}"
        if not _WHOLE.fullmatch(text.strip()):
            # Only a run of digits too long to be any seed or baud rate is "out of range".
            what = "is out of range" if _WHOLE_ANY.fullmatch(text.strip()) else "is not a whole number"
            raise argparse.ArgumentTypeError(f"{_as_typed(text)} {what}: {where}")
        value = int(text)
        if not self.low <= value <= self.high:
            raise argparse.ArgumentTypeError(f"{_as_typed(text)} is out of range: {where}")
        return value


def number_in(low: float, high: float, *, unit: str = "") -> NumberIn:
    """The argparse type for a finite number from ``low`` to ``high`` (see :class:`NumberIn`)."""
    return NumberIn(low, high, unit=unit)


def whole_number_in(low: int, high: int) -> WholeNumberIn:
    """The argparse type for a whole number from ``low`` to ``high`` (see :class:`WholeNumberIn`)."""
    return WholeNumberIn(low, high)


speed = NumberIn(*SPEED_RANGE, unit="× real time")
rate_hz = NumberIn(*RATE_HZ_RANGE, unit="Hz")
seed = WholeNumberIn(*SEED_RANGE)
baud = WholeNumberIn(*BAUD_RANGE)
duration_s = NumberIn(*DURATION_RANGE_S, unit="s")
session_time_s = NumberIn(0.0, MAX_SESSION_S, unit="s")
file_time_s = NumberIn(-FILE_TIME_LIMIT_S, FILE_TIME_LIMIT_S, unit="s")
status_every_s = NumberIn(*STATUS_EVERY_RANGE_S, unit="s")
core_c = NumberIn(*CORE_C_RANGE, unit="°C")
room_c = NumberIn(*ROOM_C_RANGE, unit="°C")


def add_simulation_flags(p: argparse.ArgumentParser, *, default_speed: float = 1.0) -> None:
    from monitor.simulation.physiology import SCENARIOS

    p.add_argument("--scenario", default="success-fast", choices=sorted(SCENARIOS),
                   help="simulated patient scenario (default: success-fast)")
    p.add_argument("--speed", type=speed, default=default_speed, metavar="X",
                   help="simulated time runs this many times faster than real time, up to "
                        f"{SPEED_RANGE[1]:g} (default: {default_speed:g})")
    p.add_argument("--seed", type=seed, default=1, help="random seed, for a reproducible patient (default: 1)")


def add_blocked_flag(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("--blocked", choices=["left", "right"], required=required,
                   help="the side that was blocked")


def add_out_flag(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--out", metavar="PATH", help=help_text)
