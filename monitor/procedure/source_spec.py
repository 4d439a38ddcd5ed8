"""What a session records from, as plain data: a :class:`SourceSpec` kept in the session file.

A spec is one of three small frozen dataclasses:

- :class:`SimulatedSpec` — the simulated patient (scenario, seed, speed, blocked side, rate);
- :class:`SerialSpec` — a serial probe on a port (or ``"auto"``: find the probe), optional baud;
- :class:`BleSpec` — one or two Bluetooth thermometers, left foot first.

It is written to the session meta as versioned JSON (:data:`SOURCE_META_KEY`), for example::

    {"version": 1, "kind": "simulated", "scenario": "success-fast", "seed": 1, "speed": 10.0,
     "blocked": "left", "rate_hz": 1.0}
    {"version": 1, "kind": "serial", "port": "/dev/ttyACM0", "baud": null}
    {"version": 1, "kind": "ble", "addresses": ["AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"]}

Reading is strict: an unknown version or kind, a missing or unexpected field, a wrong type, or
a number that is not finite or out of range is a :class:`ValueError` in plain words (nothing
is evaluated or unpickled). Files written before the spec existed keep their source as
`sympatherm record` flags (meta ``record_source_flags``); :func:`stored_spec` reads those too,
with a small explicit parser for exactly the flags that were ever written.

The spec only describes; building the :class:`~monitor.sources.base.ProbeSource` is the command
line's job (``monitor.commands.sources.build_source``), handed to the GUI as a
:class:`SourceBuilder`.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Protocol, Self

from monitor.model import Limb, SessionInfo

if TYPE_CHECKING:
    from monitor.clock import SessionClock
    from monitor.sources.base import ProbeSource

SPEC_VERSION = 1
# Not "source": the store keeps that one itself, for the source's name in words.
SOURCE_META_KEY = "source_spec"
# Where files written before the spec existed keep their source: `sympatherm record` flags.
LEGACY_FLAGS_META_KEY = "record_source_flags"

MAX_SPEED = 100_000.0  # the simulator this many times faster than real time is already absurd
MIN_RATE_HZ, MAX_RATE_HZ = 0.001, 1000.0
MAX_SEED = 2**32 - 1
MIN_BAUD, MAX_BAUD = 50, 10_000_000
MAX_TEXT = 256  # a port path, an address, a scenario name
MAX_JSON = 4096

_SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SourceSpec:
    """A description of a probe source: :class:`SimulatedSpec`, :class:`SerialSpec` or :class:`BleSpec`."""

    kind: ClassVar[str] = ""

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        if cls is SourceSpec:
            raise TypeError("SourceSpec is a base: make a SimulatedSpec, SerialSpec or BleSpec")
        return super().__new__(cls)

    @property
    def simulated(self) -> bool:
        return self.kind == "simulated"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, ``version`` and ``kind`` first."""
        out: dict[str, Any] = {"version": SPEC_VERSION, "kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Limb):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> SourceSpec:
        """The spec in ``text``; ValueError in plain words if it is not exactly a valid one."""
        if not isinstance(text, str):
            raise ValueError(f"a source description is JSON text, not {type(text).__name__}")
        if len(text) > MAX_JSON:
            raise ValueError(f"the source description is too long ({len(text)} characters) to be a real one")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the source description is not valid JSON ({exc.msg} at character {exc.pos})") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: object) -> SourceSpec:
        if not isinstance(data, dict):
            raise ValueError(f"a source description is a JSON object, not {_json_type(data)}")
        version = data.get("version")
        if "version" not in data:
            raise ValueError("the source description has no version")
        if type(version) is not int:
            raise ValueError(f"the source description's version must be a whole number, not {version!r}")
        if version != SPEC_VERSION:
            newer = " (a newer SympaTherm wrote it)" if version > SPEC_VERSION else ""
            raise ValueError(f"the source description is version {version}{newer}; "
                             f"this SympaTherm reads version {SPEC_VERSION}")
        kind = data.get("kind")
        spec_class = _KINDS.get(kind) if isinstance(kind, str) else None
        if spec_class is None:
            raise ValueError(f"unknown source kind {kind!r}; it must be one of: {', '.join(_KINDS)}")
        names = [f.name for f in fields(spec_class)]
        given = set(data) - {"version", "kind"}
        missing = [n for n in names if n not in given]
        extra = sorted(given - set(names), key=str)
        if missing:
            raise ValueError(f"the {kind} source description lacks {', '.join(missing)}")
        if extra:
            raise ValueError(f"the {kind} source description has unexpected field(s): {', '.join(map(str, extra))}")
        return spec_class._from_fields(data)


@dataclass(frozen=True)
class SimulatedSpec(SourceSpec):
    """The simulated patient: ``scenario`` with ``seed``, ``speed`` × real time, ``blocked`` the side
    the simulated physician blocks, ``rate_hz`` readings per second per foot."""

    kind: ClassVar[str] = "simulated"
    scenario: str = "success-fast"
    seed: int = 1
    speed: float = 1.0
    blocked: Limb = Limb.LEFT
    rate_hz: float = 1.0

    def __post_init__(self) -> None:
        _check_text(self.scenario, "the simulated patient's scenario")
        if not _SCENARIO_NAME.fullmatch(self.scenario):
            raise ValueError(f"{self.scenario!r} is not a scenario name (letters, digits and '-' only)")
        if type(self.seed) is not int:
            raise ValueError(f"the simulated patient's seed must be a whole number, not {self.seed!r}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"the simulated patient's seed must be between 0 and {MAX_SEED}, not {self.seed}")
        speed = _number(self.speed, "the simulated patient's speed")
        if not 0 < speed <= MAX_SPEED:
            raise ValueError(f"the simulated patient's speed must be greater than zero and at most "
                             f"{MAX_SPEED:g} × real time, not {speed:g}")
        rate = _number(self.rate_hz, "the simulated patient's reading rate")
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            raise ValueError(f"the simulated patient's reading rate must be between {MIN_RATE_HZ:g} and "
                             f"{MAX_RATE_HZ:g} readings per second, not {rate:g}")
        object.__setattr__(self, "speed", speed)
        object.__setattr__(self, "rate_hz", rate)
        object.__setattr__(self, "blocked", _limb(self.blocked))

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> SimulatedSpec:
        blocked = data["blocked"]
        if blocked not in ("left", "right"):
            raise ValueError(f"the simulated patient's blocked side must be \"left\" or \"right\", not {blocked!r}")
        return cls(scenario=data["scenario"], seed=data["seed"], speed=data["speed"], blocked=Limb(blocked),
                   rate_hz=data["rate_hz"])


@dataclass(frozen=True)
class SerialSpec(SourceSpec):
    """A serial probe on ``port`` (``"auto"``: find the SympaTherm probe), at ``baud`` (None: the probe's)."""

    kind: ClassVar[str] = "serial"
    port: str = "auto"
    baud: int | None = None

    def __post_init__(self) -> None:
        _check_text(self.port, "the serial port")
        if self.port != self.port.strip():
            raise ValueError(f"the serial port {self.port!r} has spaces around it")
        if self.baud is not None:
            if type(self.baud) is not int:
                raise ValueError(f"the baud rate must be a whole number or null, not {self.baud!r}")
            if not MIN_BAUD <= self.baud <= MAX_BAUD:
                raise ValueError(f"the baud rate must be between {MIN_BAUD} and {MAX_BAUD}, not {self.baud}")

    @property
    def auto(self) -> bool:
        return self.port == "auto"

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> SerialSpec:
        return cls(port=data["port"], baud=data["baud"])


@dataclass(frozen=True)
class BleSpec(SourceSpec):
    """One or two Bluetooth thermometers, left foot first (one two-channel thermometer covers both)."""

    kind: ClassVar[str] = "ble"
    addresses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.addresses, str) or not isinstance(self.addresses, (tuple, list)):
            raise ValueError(f"the Bluetooth addresses must be a list, not {_json_type(self.addresses)}")
        addresses = tuple(self.addresses)
        if not 1 <= len(addresses) <= 2:
            raise ValueError("a Bluetooth source takes one or two addresses: the left foot's, then the right foot's "
                             f"(got {len(addresses)})")
        for address in addresses:
            _check_text(address, "a Bluetooth address")
            if any(c.isspace() or c == "," for c in address):
                raise ValueError(f"{address!r} is not a Bluetooth address (no spaces or commas)")
        if len(addresses) == 2 and addresses[0].upper() == addresses[1].upper():
            raise ValueError(f"the two Bluetooth addresses are the same ({addresses[0]}): one thermometer per foot")
        object.__setattr__(self, "addresses", addresses)

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> BleSpec:
        addresses = data["addresses"]
        if not isinstance(addresses, list):
            raise ValueError(f"the Bluetooth addresses must be a list, not {_json_type(addresses)}")
        return cls(addresses=tuple(addresses))


_KINDS: dict[str, type[SimulatedSpec] | type[SerialSpec] | type[BleSpec]] = {
    "simulated": SimulatedSpec, "serial": SerialSpec, "ble": BleSpec}


class SourceBuilder(Protocol):
    """Builds the :class:`~monitor.sources.base.ProbeSource` a spec describes (the command line's
    ``build_source``; the GUI is handed one). ``clock`` and ``start_at_s`` are for the simulated
    patient: a clock tests step by hand, and the patient time a resumed session goes on at."""

    def __call__(self, spec: SourceSpec, *, clock: SessionClock | None = None,
                 start_at_s: float = 0.0) -> ProbeSource: ...


# ---- the session file -----------------------------------------------------------------------

class _MetaStore(Protocol):
    """What :func:`stored_spec` reads (a ``SessionStore`` or a ``SessionReader``)."""

    def meta(self) -> dict[str, str]: ...

    def info(self) -> SessionInfo: ...


class _MetaWriter(Protocol):
    """What :func:`store_spec` writes to (a ``SessionStore``)."""

    def set_meta(self, key: str, value: str) -> None: ...


def store_spec(store: _MetaWriter, spec: SourceSpec) -> None:
    """Keep ``spec`` in the session's meta, so the session can be resumed from the same source."""
    if not isinstance(spec, SourceSpec):
        raise TypeError(f"store_spec needs a SourceSpec, not {type(spec).__name__}")
    store.set_meta(SOURCE_META_KEY, spec.to_json())


def stored_spec(store: _MetaStore) -> SourceSpec | None:
    """The source kept in the session's meta; None if the file does not say. Files from before the
    spec have `sympatherm record` flags instead, which are read too. ValueError in plain words when
    what is there cannot be read."""
    meta = store.meta()
    text = meta.get(SOURCE_META_KEY)
    if text:
        try:
            return SourceSpec.from_json(text)
        except ValueError as exc:
            raise ValueError(f"the session's saved source cannot be read: {exc}") from None
    flags = meta.get(LEGACY_FLAGS_META_KEY)
    if flags:
        return from_legacy_flags(flags, blocked=_blocked_of(store))
    return None


def _blocked_of(store: _MetaStore) -> Limb:
    try:
        return store.info().blocked or Limb.LEFT
    except Exception:  # noqa: BLE001 - only the simulated patient's side; the session keeps its own
        return Limb.LEFT


# ---- the flags older files kept -------------------------------------------------------------

# Exactly the flags `sympatherm record` wrote as ``record_source_flags``: the flag, and whether it takes a value.
_LEGACY_FLAGS = {"--demo": False, "--scenario": True, "--seed": True, "--speed": True,
                 "--port": True, "--baud": True, "--ble": True}
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,20}")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def from_legacy_flags(flags: str, *, blocked: Limb = Limb.LEFT) -> SourceSpec:
    """The spec of source flags as older files kept them (``--demo --scenario S --seed N --speed X``,
    ``--port P [--baud B]`` or ``--ble A[,B]``); ``blocked``: the session's side, which the flags never
    said. No argparse: a small parser for exactly these flags. ValueError in plain words."""
    def bad(why: str) -> ValueError:
        return ValueError(f"the session's saved source ({flags}) cannot be read: {why}")

    if not isinstance(flags, str):
        raise ValueError(f"saved source flags are text, not {type(flags).__name__}")
    if len(flags) > MAX_JSON:
        raise bad("it is too long to be real")
    try:
        words = shlex.split(flags)
    except ValueError as exc:
        raise bad(str(exc)) from None
    given: dict[str, str | None] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word not in _LEGACY_FLAGS:
            raise bad(f"{word!r} is not a source flag")
        if word in given:
            raise bad(f"{word} is given twice")
        if _LEGACY_FLAGS[word]:
            if i + 1 >= len(words) or words[i + 1] in _LEGACY_FLAGS:
                raise bad(f"{word} needs a value")
            given[word] = words[i + 1]
            i += 2
        else:
            given[word] = None
            i += 1
    chosen = [f for f in ("--demo", "--port", "--ble") if f in given]
    if len(chosen) != 1:
        raise bad("it must name exactly one source: --demo, --port or --ble")
    allowed = {"--demo": {"--demo", "--scenario", "--seed", "--speed"},
               "--port": {"--port", "--baud"}, "--ble": {"--ble"}}[chosen[0]]
    stray = [f for f in given if f not in allowed]
    if stray:
        raise bad(f"{', '.join(stray)} does not go with {chosen[0]}")
    try:
        if chosen[0] == "--demo":
            seed = _legacy_int(given.get("--seed", "1"), "--seed")
            speed = _legacy_float(given.get("--speed", "1"), "--speed")
            return SimulatedSpec(scenario=given.get("--scenario", "success-fast") or "", seed=seed, speed=speed,
                                 blocked=blocked)
        if chosen[0] == "--port":
            baud = given.get("--baud")
            return SerialSpec(port=given["--port"] or "", baud=None if baud is None else _legacy_int(baud, "--baud"))
        addresses = [a.strip() for a in (given["--ble"] or "").split(",") if a.strip()]
        if not 1 <= len(addresses) <= 2:
            raise ValueError("--ble takes one or two addresses: LEFT[,RIGHT]")
        return BleSpec(addresses=tuple(addresses))
    except ValueError as exc:
        raise bad(str(exc)) from None


def _legacy_int(text: str | None, flag: str) -> int:
    if text is None or not _WHOLE_NUMBER.fullmatch(text):
        raise ValueError(f"{flag} {text!r} is not a whole number")
    return int(text)


def _legacy_float(text: str | None, flag: str) -> float:
    if text is None or not _DECIMAL.fullmatch(text):
        raise ValueError(f"{flag} {text!r} is not a number")
    return float(text)


# ---- checks -----------------------------------------------------------------------------------

def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"the source description holds {name}, which is not a number")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            tuple: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _check_text(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {_json_type(value)}")
    if not value.strip():
        raise ValueError(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{what} is too long ({len(value)} characters)")
    if _CONTROL.search(value):
        raise ValueError(f"{what} {value!r} holds control characters")


def _number(value: object, what: str) -> float:
    if type(value) not in (int, float):
        raise ValueError(f"{what} must be a number, not {_json_type(value)}")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, not {number}")
    return number


def _limb(value: object) -> Limb:
    if isinstance(value, Limb):
        return value
    if value in ("left", "right"):
        return Limb(value)
    raise ValueError(f"the blocked side must be left or right, not {value!r}")
