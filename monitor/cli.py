"""The `sympatherm` command line.

Subcommands live in :mod:`monitor.commands`, one module each with ``register(sub)``;
this module only assembles them. Plain ``sympatherm`` opens the GUI application.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from monitor import __version__, commands

DESCRIPTION = (
    "SympaTherm: bilateral foot skin-temperature monitoring for lumbar sympathetic blocks. "
    "It supports a clinician's judgement and is not a certified medical device."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sympatherm", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"sympatherm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # Plain `sympatherm` is the real application: the GUI with probe discovery.
        try:
            from monitor.commands import app as app_command
        except ImportError:
            parser.print_help()
            return 0
        return app_command.run_app(args)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at interpreter exit
        return code
    except BrokenPipeError:
        # The reader stopped early (`| head`): what was asked for is done; no traceback on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
