"""A physiological model of both feet during a lumbar sympathetic block.

Built from ``shared/domain.md``: baselines in the mid-20s to low 30s °C; probes settle
after being taped on; room and sedation drift is shared by both feet; onset 2–20 min
after injection; successful blocks rise 3–9 °C (capped near 35 °C) with a fast
(≈1.1 °C/min, Tran 2000) or slow (+1 °C at 17 min, 50 % at 25 min, 95 % at 40 min,
Frank 2000) course; failed blocks rise under 1 °C; the other foot stays flat or cools
(Irazuzta 1992). Artefacts: probe lifted, touched, dropouts, open and shorted sensors.

The model is pure and deterministic for a given seed. ``truth()`` is the noise-free
skin temperature (what the evaluation compares against); ``measure()`` is what a probe
would report at a time, including noise, quantisation and artefacts. The simulator
sources (in-process, pseudo-terminal, BLE) all sample this model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from monitor.model import PROBE_STATUS_CODES, Limb, ProbeStatus

ROOM_C = 23.0
SKIN_CAP_C = 35.0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    # The true outcome the detector should reach: True = the block works.
    block_succeeds: bool
    course: str = "fast"  # fast | slow | none
    warm_start: bool = False
    systemic_warming: bool = False
    artefacts: tuple[str, ...] = ()  # lift | touch | dropout | sensor-fault
    # One thermometer per foot (e.g. two Bluetooth probes) rather than one two-channel probe:
    # the in-process simulator then loses only the dropped foot's data, not whole frames.
    per_foot_probes: bool = False


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("success-fast", "Successful block, fast course (about 1 °C/min, Tran 2000)", True, "fast"),
        Scenario("success-slow", "Successful block, slow course (+1 °C at 17 min, 95 % at 40 min, Frank 2000)",
                 True, "slow"),
        Scenario("failed", "Failed block: the blocked foot rises under 1 °C", False, "none"),
        Scenario("systemic-warming", "Failed block while both feet warm together (blankets, sedation)",
                 False, "none", systemic_warming=True),
        Scenario("warm-start", "Successful block on a foot that starts warm (≥ 32 °C): limited headroom",
                 True, "fast", warm_start=True),
        Scenario("probe-lift", "Failed block; the other foot's probe lifts off for a few minutes",
                 False, "none", artefacts=("lift",)),
        Scenario("touch", "Failed block; a warm hand rests on the blocked foot's probe", False, "none",
                 artefacts=("touch",)),
        Scenario("dropout", "Successful block; each foot's own thermometer drops out now and then (3-40 s), "
                 "one foot at a time", True, "fast", artefacts=("dropout",), per_foot_probes=True),
        Scenario("sensor-fault", "Successful block; the blocked probe goes open-circuit, the other shorts",
                 True, "slow", artefacts=("sensor-fault",)),
    )
}


@dataclass(frozen=True)
class ArtefactEvent:
    limb: Limb
    kind: str  # lift | touch | dropout | open | short
    start_s: float
    end_s: float


@dataclass
class FootParams:
    baseline_c: float
    settle_tau_s: float
    rise_c: float  # final rise above baseline due to the block (negative: cooling)
    t50_s: float  # time of half rise, session seconds
    k_per_s: float  # logistic steepness


@dataclass
class PatientModel:
    """One simulated patient. Use :meth:`from_scenario`."""

    scenario: Scenario
    seed: int
    blocked: Limb
    injection_s: float
    feet: dict[Limb, FootParams]
    drift_c_per_s: float
    systemic: tuple[float, float, float] | None  # (start_s, amplitude_c, tau_s)
    artefacts: list[ArtefactEvent] = field(default_factory=list)
    noise_c: float = 0.03
    _rng: dict[Limb, np.random.Generator] = field(default_factory=dict, repr=False)

    @classmethod
    def from_scenario(cls, scenario: Scenario | str, seed: int = 1, blocked: Limb | str = Limb.LEFT,
                      injection_s: float | None = None) -> PatientModel:
        sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
        blocked = Limb.parse(blocked) if isinstance(blocked, str) else blocked
        rng = np.random.default_rng([seed, _stable_hash(sc.name)])
        # Drawn even when the injection time is given, so that the seed gives the same patient
        # (baseline, course, artefacts relative to the injection) whatever the injection time.
        suggested = float(rng.uniform(420.0, 540.0))
        inj = float(injection_s) if injection_s is not None else suggested

        base_lo, base_hi = (32.0, 32.8) if sc.warm_start else (24.0, 30.5)
        b_base = float(rng.uniform(base_lo, base_hi))
        c_base = float(np.clip(b_base + rng.normal(0.0, 1.0), 23.5, 33.0))
        onset_s = inj + float(rng.uniform(120.0, 480.0) if sc.course == "fast" else rng.uniform(300.0, 900.0))

        if sc.block_succeeds:
            headroom = SKIN_CAP_C - b_base
            rise = min(float(rng.uniform(3.0, 9.0)), headroom - float(rng.uniform(0.1, 0.4)))
            if sc.course == "fast":
                slope = float(rng.uniform(0.7, 1.5)) / 60.0  # °C/s at the steepest point
                k = 4.0 * slope / rise
                t50 = onset_s + math.log(19.0) / k  # 5 % of the rise at onset
            else:
                k = math.log(19.0) / float(rng.uniform(780.0, 1020.0))  # 50 %→95 % in ~15 min
                t50 = inj + float(rng.uniform(1320.0, 1680.0))  # 50 % at ~25 min
        else:
            rise = float(rng.uniform(0.0, 0.8))
            k = math.log(19.0) / 600.0
            t50 = onset_s + 600.0
        # The other foot: flat or slightly cooling (Irazuzta 1992).
        c_rise = -float(rng.uniform(0.0, 0.6))
        feet = {
            blocked: FootParams(b_base, float(rng.uniform(50.0, 80.0)), rise, t50, k),
            blocked.other: FootParams(c_base, float(rng.uniform(50.0, 80.0)), c_rise,
                                      inj + float(rng.uniform(600.0, 1200.0)), math.log(19.0) / 600.0),
        }
        drift = float(rng.uniform(-0.15, 0.15)) / 3600.0  # shared room/sedation drift
        systemic = None
        if sc.systemic_warming:
            systemic = (inj + float(rng.uniform(120.0, 600.0)), float(rng.uniform(2.0, 3.0)),
                        float(rng.uniform(400.0, 700.0)))
        model = cls(sc, seed, blocked, inj, feet, drift, systemic)
        model.artefacts = _place_artefacts(sc, blocked, inj, rng)
        return model

    # ---- noise-free skin temperature ---------------------------------------------------
    def skin(self, limb: Limb, t: np.ndarray | float) -> np.ndarray:
        """Skin temperature under the probe's site, without probe settling or artefacts."""
        t = np.asarray(t, dtype=float)
        f = self.feet[limb]
        value = f.baseline_c + self.drift_c_per_s * t
        value = value + f.rise_c / (1.0 + np.exp(-f.k_per_s * (t - f.t50_s)))
        # The logistic is not exactly zero before injection; remove its pre-injection level so
        # the baseline stays flat.
        value = value - f.rise_c / (1.0 + np.exp(-f.k_per_s * (self.injection_s - f.t50_s)))
        if self.systemic is not None:
            start, amp, tau = self.systemic
            value = value + np.where(t > start, amp * (1.0 - np.exp(-(t - start) / tau)), 0.0)
        return np.minimum(value, SKIN_CAP_C + 0.3)

    def truth(self, limb: Limb, t: np.ndarray | float) -> np.ndarray:
        """What a perfect, noise-free probe reports: skin plus the settling climb after taping."""
        t = np.asarray(t, dtype=float)
        f = self.feet[limb]
        skin = self.skin(limb, t)
        return skin + (ROOM_C - skin) * np.exp(-np.maximum(t, 0.0) / f.settle_tau_s)

    # ---- what the probe reports --------------------------------------------------------
    def measure(self, limb: Limb, t: float) -> tuple[float | None, ProbeStatus] | None:
        """One probe report at session time ``t``: (°C or None, status), or None for no data."""
        value = float(self.truth(limb, t))
        for ev in self.artefacts:
            if ev.limb is not limb:
                continue
            if ev.kind == "dropout" and ev.start_s <= t < ev.end_s:
                return None
            if ev.kind in ("open", "short") and ev.start_s <= t < ev.end_s:
                return None, ProbeStatus.OPEN_CIRCUIT if ev.kind == "open" else ProbeStatus.SHORT_CIRCUIT
            if ev.kind == "lift" and t >= ev.start_s:
                value = _lift(value, t, ev)
            if ev.kind == "touch" and t >= ev.start_s:
                value = _touch(value, t, ev)
        rng = self._rng.setdefault(limb, np.random.default_rng([self.seed, 7, 0 if limb is Limb.LEFT else 1]))
        value += float(rng.normal(0.0, self.noise_c))
        return round(value, 2), ProbeStatus.OK

    def measure_series(self, limb: Limb, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`measure` at many ascending times at once (for evaluation and benchmarks).

        Returns (celsius with NaN where the probe gave none, status as indices into
        ``PROBE_STATUS_CODES``, present: False where there was no data). It continues the
        same noise stream as :meth:`measure`; values agree with it to the 0.01 °C rounding.
        """
        t = np.asarray(t, dtype=float)
        value = np.array(self.truth(limb, t), dtype=float)
        decided = np.zeros(t.shape, dtype=bool)
        present = np.ones(t.shape, dtype=bool)
        status = np.zeros(t.shape, dtype=np.int8)
        for ev in self.artefacts:
            if ev.limb is not limb:
                continue
            during = ~decided & (t >= ev.start_s) & (t < ev.end_s)
            if ev.kind == "dropout":
                present[during] = False
                decided |= during
            elif ev.kind in ("open", "short"):
                code = ProbeStatus.OPEN_CIRCUIT if ev.kind == "open" else ProbeStatus.SHORT_CIRCUIT
                status[during] = PROBE_STATUS_CODES.index(code)
                decided |= during
            elif ev.kind in ("lift", "touch"):
                m = ~decided & (t >= ev.start_s)
                value[m] = (_lift_array if ev.kind == "lift" else _touch_array)(value[m], t[m], ev)
        ok = present & (status == 0)
        rng = self._rng.setdefault(limb, np.random.default_rng([self.seed, 7, 0 if limb is Limb.LEFT else 1]))
        celsius = np.full(t.shape, np.nan)
        celsius[ok] = np.round(value[ok] + rng.normal(0.0, self.noise_c, size=int(ok.sum())), 2)
        return celsius, status, present

    def describe(self) -> str:
        return f"{self.scenario.name} (seed {self.seed}): {self.scenario.description}"


def _lift(value: float, t: float, ev: ArtefactEvent) -> float:
    # Off the skin the probe falls toward room temperature (tau 40 s); re-taped, it settles back.
    if t < ev.end_s:
        return value + (ROOM_C - value) * (1.0 - math.exp(-(t - ev.start_s) / 40.0))
    at_end = 1.0 - math.exp(-(ev.end_s - ev.start_s) / 40.0)
    return value + (ROOM_C - value) * at_end * math.exp(-(t - ev.end_s) / 60.0)


def _touch(value: float, t: float, ev: ArtefactEvent) -> float:
    # A warm hand (≈ 35.5 °C) on the probe: a step within seconds, then a decay after release.
    hand = 35.5
    if t < ev.end_s:
        return value + (hand - value) * (1.0 - math.exp(-(t - ev.start_s) / 4.0)) * 0.9
    at_end = (1.0 - math.exp(-(ev.end_s - ev.start_s) / 4.0)) * 0.9
    return value + (hand - value) * at_end * math.exp(-(t - ev.end_s) / 25.0)


def _lift_array(value: np.ndarray, t: np.ndarray, ev: ArtefactEvent) -> np.ndarray:
    at_end = 1.0 - math.exp(-(ev.end_s - ev.start_s) / 40.0)
    on = value + (ROOM_C - value) * (1.0 - np.exp(-(t - ev.start_s) / 40.0))
    after = value + (ROOM_C - value) * at_end * np.exp(-(t - ev.end_s) / 60.0)
    return np.where(t < ev.end_s, on, after)


def _touch_array(value: np.ndarray, t: np.ndarray, ev: ArtefactEvent) -> np.ndarray:
    hand = 35.5
    at_end = (1.0 - math.exp(-(ev.end_s - ev.start_s) / 4.0)) * 0.9
    on = value + (hand - value) * (1.0 - np.exp(-(t - ev.start_s) / 4.0)) * 0.9
    after = value + (hand - value) * at_end * np.exp(-(t - ev.end_s) / 25.0)
    return np.where(t < ev.end_s, on, after)


def _place_artefacts(sc: Scenario, blocked: Limb, inj: float, rng: np.random.Generator) -> list[ArtefactEvent]:
    events: list[ArtefactEvent] = []
    for kind in sc.artefacts:
        if kind == "lift":
            start = inj + float(rng.uniform(600.0, 1200.0))
            events.append(ArtefactEvent(blocked.other, "lift", start, start + float(rng.uniform(120.0, 300.0))))
        elif kind == "touch":
            start = inj + float(rng.uniform(300.0, 1200.0))
            events.append(ArtefactEvent(blocked, "touch", start, start + float(rng.uniform(60.0, 120.0))))
        elif kind == "dropout":
            t = inj - 200.0
            while t < inj + 3000.0:
                limb = blocked if rng.random() < 0.5 else blocked.other
                length = float(rng.uniform(3.0, 40.0))
                events.append(ArtefactEvent(limb, "dropout", t, t + length))
                t += float(rng.uniform(120.0, 400.0))
        elif kind == "sensor-fault":
            start = inj + float(rng.uniform(300.0, 900.0))
            events.append(ArtefactEvent(blocked, "open", start, start + float(rng.uniform(30.0, 120.0))))
            start2 = inj + float(rng.uniform(300.0, 1500.0))
            events.append(ArtefactEvent(blocked.other, "short", start2, start2 + float(rng.uniform(20.0, 60.0))))
    return events


def _stable_hash(text: str) -> int:
    # hash() is salted per process; seeds must be reproducible across runs.
    h = 2166136261
    for b in text.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h
