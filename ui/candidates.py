"""The probes (and the simulated patient) the set-up offers, as :class:`ProbeCandidate` objects.

A candidate carries the :class:`~monitor.procedure.source_spec.SourceSpec` it stands for and a
``make_source`` that opens it: a found probe's is the core's discovery's; the simulated
patient's calls the source builder the command line hands the GUI (the GUI never builds a
source itself, and knows nothing of the simulator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from monitor.clock import SimulatedClock
from monitor.model import Limb
from monitor.procedure.source_spec import BleSpec, SerialSpec, SimulatedSpec, SourceBuilder, SourceSpec
from monitor.sources.base import ProbeSource


@dataclass
class ProbeCandidate:
    """One probe (or the simulated patient) the user can choose."""

    name: str
    state: str  # in plain words: "ready", "in use by another program", ...
    kind: str  # serial | ble | simulated
    key: str = ""  # device registry key, once known
    usable: bool = True
    # make_source(swap_sides: bool | None, scenario: str, speed: float) -> ProbeSource;
    # swap_sides None: the probe's sides as the device registry remembers them.
    make_source: Callable[..., ProbeSource] | None = None
    extra: dict = field(default_factory=dict)
    spec: SourceSpec | None = None  # what the candidate is, as kept in a session file

    @property
    def simulated(self) -> bool:
        return self.kind == "simulated"


def simulated_spec(candidate: ProbeCandidate, scenario: str | None = None, speed: float | None = None,
                   blocked: Limb | None = None) -> SimulatedSpec:
    """The simulated candidate's spec with the scenario, speed and side chosen in the set-up."""
    spec = candidate.spec if isinstance(candidate.spec, SimulatedSpec) else SimulatedSpec()
    return replace(spec, scenario=scenario or spec.scenario,
                   speed=spec.speed if speed is None else float(speed),
                   blocked=spec.blocked if blocked is None else blocked)


def simulated_candidate(build_source: SourceBuilder, seed: int = 1, speed: float = 10.0) -> ProbeCandidate:
    """The simulated patient, built by ``build_source`` (the command line's) when chosen."""
    candidate = ProbeCandidate("Simulated patient", "always available (not a real patient)", "simulated",
                               key="simulated", extra={"seed": seed}, spec=SimulatedSpec(seed=seed, speed=speed))

    def make(swap: bool = False, scenario: str | None = None, speed: float | None = None,
             blocked: Limb | None = Limb.LEFT, clock=None) -> ProbeSource:
        spec = simulated_spec(candidate, scenario, speed, blocked)
        return build_source(spec, clock=clock or SimulatedClock(spec.speed))

    candidate.make_source = make
    return candidate


def candidate_from_discovery(probe) -> ProbeCandidate:
    """A probe the core's discovery found (a :class:`~monitor.sources.discovery.DiscoveredProbe`)."""
    def factory(swap: bool = False, scenario: str = "", speed: float = 1.0, blocked: Limb = Limb.LEFT,
                clock=None):
        return probe.make_source(swap_sides=swap)

    # Only a recognised probe is picked by default; an unknown serial port (a USB adapter, a
    # modem) stays in the list for the user to choose deliberately.
    return ProbeCandidate(probe.name, probe.state, probe.kind, key=probe.key, usable=probe.usable,
                          make_source=factory,
                          extra={"known": probe.known_probe, "address": probe.address, "probe": probe},
                          spec=_discovered_spec(probe))


def _discovered_spec(probe) -> SourceSpec | None:
    try:
        if probe.kind == "serial" and probe.address:
            return SerialSpec(port=probe.address)
        if probe.kind == "ble" and probe.address:
            return BleSpec(addresses=tuple(a for a in probe.address.split(",") if a))
    except ValueError:
        pass  # an address no session file could keep: the candidate is still offered
    return None


def pair_candidates(first: ProbeCandidate, second: ProbeCandidate) -> ProbeCandidate:
    """Two ticked Bluetooth thermometers, one per foot, as one choice (the core's ``ble_pair``).
    ``extra["members"]``: (registry key, name) of each, left foot first before any swap."""
    from monitor.sources.ble import ble_key
    from monitor.sources.discovery import ble_pair

    pair = ble_pair(first.extra["probe"], second.extra["probe"])
    names = {ble_key(c.extra["probe"].address): c.name for c in (first, second)}
    members = [(ble_key(a), names[ble_key(a)]) for a in pair.address.split(",")]
    candidate = candidate_from_discovery(pair)
    candidate.extra["members"] = members
    return candidate
