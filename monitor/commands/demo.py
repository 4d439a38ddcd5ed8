"""`sympatherm demo`: the GUI with a simulated patient (injection marked automatically).

``--snapshot FILE.png --after SECONDS`` renders the window offscreen after that much
simulated time and exits: for documentation, tests and machines without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.commands._common import SubParsers, add_simulation_flags, rate_hz, session_time_s
from monitor.model import Limb, SessionInfo

if TYPE_CHECKING:
    from ui.main_window import MainWindow

SNAPSHOT_AFTER_S = 1800.0


def demo_info(scenario: str, blocked: Limb) -> SessionInfo:
    return SessionInfo(patient_id=f"DEMO-{scenario}", blocked=blocked, operator="Demo operator",
                       nurse="Demo nurse", simulated=True, notes="simulated patient (sympatherm demo)")


def build_demo_window(scenario: str, seed: int, speed: float, blocked: Limb, *, manual: bool,
                      session_path: Path | None = None, rate_hz: float = 1.0,
                      auto_injection: bool = True) -> MainWindow:
    """The live window on a simulated patient, recording to ``session_path`` (or the sessions folder).

    The source is built by :func:`monitor.commands.sources.build_source` and kept in the file, so a
    crashed demo can be resumed. The simulated physician's injection is scheduled in the procedure
    core (``auto_injection``), as ``sympatherm record --demo`` does. A QApplication must exist."""
    from monitor.clock import SimulatedClock
    from monitor.commands.sources import build_source
    from monitor.procedure import Procedure
    from monitor.procedure.source_spec import SimulatedSpec, store_spec
    from monitor.store import SessionStore
    from ui.demo import demo_window

    spec = SimulatedSpec(scenario=scenario, seed=seed, speed=speed, blocked=blocked, rate_hz=rate_hz)
    source = build_source(spec, clock=SimulatedClock(speed, manual=manual))
    info = demo_info(scenario, blocked)
    store = SessionStore.create(info, session_path, source_description=source.identity.name)
    store_spec(store, spec)
    procedure = Procedure(source, info, store)
    if auto_injection:
        procedure.schedule_injection(source.suggested_injection_s)
    return demo_window(procedure, manual=manual)


def snapshot_demo(path: Path, scenario: str, seed: int, blocked: Limb, after_s: float, rate_hz: float = 1.0,
                  size: tuple[int, int] | None = None, difference: bool = False) -> Path:
    """Render the demo window after ``after_s`` simulated seconds to ``path`` (PNG); nothing is kept
    of the session. A QApplication must exist."""
    from ui.demo import SNAPSHOT_SIZE, snapshot

    with tempfile.TemporaryDirectory(prefix="sympatherm-snapshot-") as tmp:
        window = build_demo_window(scenario, seed, 1.0, blocked, manual=True,
                                   session_path=Path(tmp) / "snapshot.sympatherm", rate_hz=rate_hz)
        return snapshot(path, window, after_s, size=size or SNAPSHOT_SIZE, difference=difference)


def register(sub: SubParsers) -> None:
    p = sub.add_parser("demo", help="the live display with a simulated patient",
                       description="Run the live display against the simulated patient. The injection is "
                                   "marked automatically at the scenario's time unless you mark it (key I).")
    add_simulation_flags(p, default_speed=10.0)
    p.add_argument("--blocked", choices=["left", "right"], default="left",
                   help="the side the simulated physician blocks (default: left)")
    p.add_argument("--rate", type=rate_hz, default=1.0, metavar="HZ",
                   help="readings per second per foot, 0.2 to 50 as a real probe (default: 1)")
    p.add_argument("--difference", action="store_true",
                   help="show the Di − Dc plot under the main plot from the start (key V toggles it)")
    p.add_argument("--snapshot", metavar="FILE.png", type=Path,
                   help="render the window offscreen to this PNG and exit (no display needed)")
    p.add_argument("--after", metavar="SECONDS", type=session_time_s, default=None,
                   help="with --snapshot: simulated seconds to run before rendering, at most 48 h (default: 1800)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    blocked = Limb.parse(args.blocked)
    if args.after is not None and args.snapshot is None:
        print("--after only makes sense with --snapshot FILE.png", file=sys.stderr)
        return 2
    if args.snapshot is not None:
        # Rendering to a file needs no screen at all.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from ui.application import get_application

        _app = get_application()  # keep a reference: the QApplication must outlive the window
        after = SNAPSHOT_AFTER_S if args.after is None else args.after
        try:
            out = snapshot_demo(args.snapshot, args.scenario, args.seed, blocked, after, rate_hz=args.rate,
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
    from ui.application import get_application
    from ui.demo import run_demo

    _app = get_application()  # before the window; run_demo runs it
    window = build_demo_window(args.scenario, args.seed, args.speed, blocked, manual=False, rate_hz=args.rate)
    return run_demo(window, difference=args.difference)
