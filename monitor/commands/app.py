"""Plain `sympatherm` (and `sympatherm app`): the real application.

Opens the set-up flow (probes found automatically, the simulated patient offered when none
is attached), then the live window. Without a display it says so in one line.
"""

from __future__ import annotations

import argparse
import sys

from monitor.commands._common import SubParsers


def register(sub: SubParsers) -> None:
    p = sub.add_parser("app", help="the application: set up a session and monitor it (same as plain sympatherm)",
                       description="Open the SympaTherm application: choose probes, enter the session, record.")
    p.set_defaults(func=run_app)


def run_app(args: argparse.Namespace) -> int:
    from ui.display import display_problem

    problem = display_problem(hint="run it on a desktop, or use `sympatherm demo --snapshot demo.png` to "
                                   "render the simulated demo to a PNG.")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from monitor.commands.sources import build_source, scenario_choices
    from ui.app_flow import run_application

    # The GUI builds no source itself: it is handed the one builder, and the scenarios as plain data.
    return run_application(build_source, scenario_choices())
