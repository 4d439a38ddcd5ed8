"""The one place a probe source is built from its description.

:func:`build_source` turns a :class:`~monitor.procedure.source_spec.SourceSpec` into the
:class:`~monitor.sources.base.ProbeSource` it describes: the simulated patient, a serial probe
or Bluetooth thermometers. `sympatherm record` uses it for new and resumed sessions, and the
GUI is handed it (with :func:`scenario_choices`, the simulated scenarios as plain data) by
`sympatherm` and `sympatherm demo`: the GUI never builds a source itself.

:func:`spec_from_args` reads `record`'s source flags into a spec; :func:`resume_flags` writes
a spec back as those flags, for the resume command `sympatherm sessions` prints.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import TYPE_CHECKING, overload

from monitor.commands._common import SubParsers
from monitor.model import Limb
from monitor.procedure.source_spec import BleSpec, SerialSpec, SimulatedSpec, SourceSpec

if TYPE_CHECKING:
    from monitor.clock import SessionClock, SimulatedClock
    from monitor.simulation.source import SimulatedSource
    from monitor.sources.base import ProbeSource


@overload
def build_source(spec: SimulatedSpec, *, clock: SimulatedClock | None = None,
                 start_at_s: float = 0.0) -> SimulatedSource: ...
@overload
def build_source(spec: SourceSpec, *, clock: SessionClock | None = None, start_at_s: float = 0.0) -> ProbeSource: ...
def build_source(spec: SourceSpec, *, clock: SessionClock | None = None, start_at_s: float = 0.0) -> ProbeSource:
    """The ProbeSource ``spec`` describes; ValueError in plain words (a serial port that is not there).

    ``clock``: the source's clock (tests step a manual one; None: the source's own). ``start_at_s``
    (the simulated patient only): the patient time a resumed session goes on at, probes long settled."""
    if isinstance(spec, SimulatedSpec):
        from monitor.clock import SimulatedClock
        from monitor.simulation.source import SimulatedSource

        if clock is not None and not isinstance(clock, SimulatedClock):
            raise TypeError(f"the simulated patient runs on a SimulatedClock, not a {type(clock).__name__}")
        return SimulatedSource(spec.scenario, seed=spec.seed, speed=spec.speed, blocked=spec.blocked,
                               clock=clock, rate_hz=spec.rate_hz, start_at_s=start_at_s)
    if isinstance(spec, SerialSpec):
        from monitor.sources.serial import SerialSource

        port = None if spec.auto else spec.port
        if port is not None and port.startswith("/") and not os.path.exists(port):
            # A device path that is not there is a typo or an unplugged cable: say so now rather
            # than record an empty session.
            raise ValueError(f"there is no serial port {port}; is the probe plugged in? "
                             "(`--port auto` finds a SympaTherm probe by itself)")
        if spec.baud:
            return SerialSource(port, spec.baud, clock=clock)
        return SerialSource(port, clock=clock)
    if isinstance(spec, BleSpec):
        from monitor.sources.ble import BleSource

        return BleSource(*spec.addresses, clock=clock)
    raise ValueError(f"no source can be built from {spec!r}")


def spec_from_args(args: argparse.Namespace, *, blocked: Limb | None = None) -> SourceSpec:
    """The source `record`'s flags ask for (``--demo``, ``--port``/``--baud`` or ``--ble``).

    ``blocked``: the side the simulated patient is blocked on (default: ``--blocked``, else left)."""
    if args.demo:
        if blocked is None:
            given = getattr(args, "blocked", None)
            blocked = Limb.parse(given) if given else Limb.LEFT
        return SimulatedSpec(scenario=args.scenario, seed=args.seed, speed=args.speed, blocked=blocked)
    if args.port:
        return SerialSpec(port=args.port, baud=args.baud)
    addresses = [a.strip() for a in (args.ble or "").split(",") if a.strip()]
    if not 1 <= len(addresses) <= 2:
        raise ValueError("--ble takes one or two addresses: LEFT[,RIGHT]")
    return BleSpec(addresses=tuple(addresses))


def resume_flags(spec: SourceSpec) -> str | None:
    """`sympatherm record` flags that reach ``spec`` again, as typed; None if no flags can (a simulated
    patient at another reading rate than `record`'s one per second)."""
    if isinstance(spec, SimulatedSpec):
        if spec.rate_hz != 1.0:
            return None
        words = ["--demo", "--scenario", spec.scenario, "--seed", str(spec.seed), "--speed", f"{spec.speed:g}"]
    elif isinstance(spec, SerialSpec):
        words = ["--port", spec.port] + (["--baud", str(spec.baud)] if spec.baud else [])
    elif isinstance(spec, BleSpec):
        words = ["--ble", ",".join(spec.addresses)]
    else:
        return None
    return shlex.join(words)


def scenario_choices() -> list[tuple[str, str]]:
    """The simulated patient's scenarios as (name, description), sorted by name: plain data for the GUI."""
    from monitor.simulation.physiology import SCENARIOS

    return [(name, scenario.description) for name, scenario in sorted(SCENARIOS.items())]


def register(sub: SubParsers) -> None:
    """Not a subcommand: `monitor.cli` calls ``register`` on every public module here; this one adds nothing."""
