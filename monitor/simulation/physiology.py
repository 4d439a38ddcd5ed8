"""A physiological model of both feet during a lumbar sympathetic block.

Built from ``shared/domain.md``: baselines in the mid-20s to low 30s °C; probes settle
after being taped on; room and sedation drift is shared by both feet; onset 2–20 min
after injection; successful blocks rise 3–9 °C (capped near 35 °C) with a fast
(≈1.1 °C/min, Tran 2000) or slow (+1 °C at 17 min, 50 % at 25 min, 95 % at 40 min,
Frank 2000) course; failed blocks rise under 1 °C; the other foot stays flat or cools
(Irazuzta 1992). Artefacts: probe lifted, touched, dropouts, open and shorted sensors; and
(the "varied" classes, each drawing room temperature, probe noise and the size and onset of
systemic warming per seed) the other foot's probe lifting within seconds or loosening over
minutes, with or without systemic warming or a real block, and a hand resting on either foot.

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
    # Room temperature, probe noise and systemic warming (onset, size, how equally the feet share
    # it) drawn per seed over wider ranges: the classes that test the other foot and a resting hand.
    varied: bool = False


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
        Scenario("systemic-quick-lift", "Failed block while both feet warm together; the other foot's probe "
                 "lifts off within seconds (re-taped after minutes, or never)", False, "none",
                 systemic_warming=True, artefacts=("other-lift",), varied=True),
        Scenario("systemic-slow-lift", "Failed block while both feet warm together; the other foot's tape "
                 "loosens over minutes (re-taped, or never)", False, "none", systemic_warming=True,
                 artefacts=("other-loosen",), varied=True),
        Scenario("block-other-lift", "Successful block (fast or slow); the other foot's probe lifts or loosens "
                 "while the blocked foot warms, and is re-taped", True, "either",
                 artefacts=("other-lift-during-rise",), varied=True),
        Scenario("block-systemic", "Successful block (fast or slow) while both feet warm together (sedation, "
                 "blankets); the other foot also cools a little after the block", True, "either",
                 systemic_warming=True, varied=True),
        Scenario("sustained-hand", "Failed block; a hand rests on one foot (either) for 4-20 min, holding its "
                 "probe near the hand's 33-35.5 °C", False, "none", artefacts=("hand",), varied=True),
        Scenario("slow-loosening", "Failed block, no systemic warming; the other foot's tape loosens over "
                 "minutes (re-taped, or never)", False, "none", artefacts=("other-loosen",), varied=True),
    )
}


@dataclass(frozen=True)
class ArtefactEvent:
    limb: Limb
    kind: str  # lift | touch | hand | dropout | open | short
    start_s: float
    end_s: float  # inf: never re-taped / never lifted
    # lift: the reading moves ``share`` of the way to room temperature with time constant
    # ``tau_s`` (40 s: lifted off; minutes: tape loosening). hand: ``share`` of the way to the
    # hand's ``level_c`` within ``tau_s``, with a tremor of ``tremor_c`` (see _tremor).
    tau_s: float = 40.0
    share: float = 1.0
    level_c: float = 35.5
    tremor_c: float = 0.0


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
    room_c: float = ROOM_C
    # How much of the systemic warming each foot gets (1.0: both the same).
    systemic_share: dict[Limb, float] = field(default_factory=dict)
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

        # The varied classes draw their own conditions from a stream of their own, so the
        # original scenarios keep their patients seed for seed.
        vary = np.random.default_rng([seed, _stable_hash(sc.name), 5]) if sc.varied else None
        course = sc.course
        if course == "either":
            course = "fast" if vary is None or vary.random() < 0.5 else "slow"
        base_lo, base_hi = (32.0, 32.8) if sc.warm_start else (24.0, 30.5)
        b_base = float(rng.uniform(base_lo, base_hi))
        c_base = float(np.clip(b_base + rng.normal(0.0, 1.0), 23.5, 33.0))
        onset_s = inj + float(rng.uniform(120.0, 480.0) if course == "fast" else rng.uniform(300.0, 900.0))

        if sc.block_succeeds:
            headroom = SKIN_CAP_C - b_base
            rise = min(float(rng.uniform(3.0, 9.0)), headroom - float(rng.uniform(0.1, 0.4)))
            if course == "fast":
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
        if vary is not None:
            # Perfused skin is warmer than the air around it: the room at least 1 °C below both feet.
            coolest = min(f.baseline_c for f in feet.values())
            model.room_c = min(float(vary.uniform(22.5, 24.5)), coolest - 1.0)
            model.noise_c = float(vary.uniform(0.02, 0.06))
            if sc.systemic_warming:
                # Onset from the injection to 15 min after; 1.5-3.5 °C over 5-15 min; a foot may
                # take up to 7 % more or less of it (never so much that skin alone would meet Di − Dc).
                model.systemic = (inj + float(vary.uniform(0.0, 900.0)), float(vary.uniform(1.5, 3.5)),
                                  float(vary.uniform(300.0, 900.0)))
                model.systemic_share = {limb: float(vary.uniform(0.93, 1.07)) for limb in Limb}
        model.artefacts = _place_artefacts(sc, blocked, inj, rng)
        if vary is not None:
            model.artefacts += _place_varied(model, vary)
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
            amp *= self.systemic_share.get(limb, 1.0)
            value = value + np.where(t > start, amp * (1.0 - np.exp(-(t - start) / tau)), 0.0)
        return np.minimum(value, SKIN_CAP_C + 0.3)

    def truth(self, limb: Limb, t: np.ndarray | float) -> np.ndarray:
        """What a perfect, noise-free probe reports: skin plus the settling climb after taping."""
        t = np.asarray(t, dtype=float)
        f = self.feet[limb]
        skin = self.skin(limb, t)
        return skin + (self.room_c - skin) * np.exp(-np.maximum(t, 0.0) / f.settle_tau_s)

    # ---- what the probe reports --------------------------------------------------------
    def measure(self, limb: Limb, t: float) -> tuple[float | None, ProbeStatus] | None:
        """One probe report at session time ``t``: (°C or None, status), or None for no data."""
        value, status, present = self.probe_reads(limb, np.array([float(t)]))
        if not present[0]:
            return None
        if status[0]:
            return None, PROBE_STATUS_CODES[int(status[0])]
        rng = self._rng.setdefault(limb, np.random.default_rng([self.seed, 7, 0 if limb is Limb.LEFT else 1]))
        return round(float(value[0]) + float(rng.normal(0.0, self.noise_c)), 2), ProbeStatus.OK

    def measure_series(self, limb: Limb, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`measure` at many ascending times at once (for evaluation and benchmarks).

        Returns (celsius with NaN where the probe gave none, status as indices into
        ``PROBE_STATUS_CODES``, present: False where there was no data). It continues the
        same noise stream as :meth:`measure`.
        """
        t = np.asarray(t, dtype=float)
        value, status, present = self.probe_reads(limb, t)
        ok = present & (status == 0)
        rng = self._rng.setdefault(limb, np.random.default_rng([self.seed, 7, 0 if limb is Limb.LEFT else 1]))
        celsius = np.full(t.shape, np.nan)
        celsius[ok] = np.round(value[ok] + rng.normal(0.0, self.noise_c, size=int(ok.sum())), 2)
        return celsius, status, present

    def probe_reads(self, limb: Limb, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the probe reads without noise, artefacts included: (°C, status index, present)."""
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
            elif ev.kind in ("lift", "touch", "hand"):
                m = ~decided & (t >= ev.start_s)
                pull = {"lift": self._lift_array, "touch": _touch_array, "hand": _hand_array}[ev.kind]
                value[m] = pull(value[m], t[m], ev)
        return value, status, present

    def reads_skin(self, limb: Limb, t: np.ndarray, tolerance_c: float = 0.3) -> np.ndarray:
        """True where the probe reports the skin under it (within ``tolerance_c``, about probe
        accuracy): data present, no fault, and no lift, loosening or hand pulling it away."""
        value, status, present = self.probe_reads(limb, t)
        return present & (status == 0) & (np.abs(value - self.truth(limb, t)) <= tolerance_c)

    def _lift_array(self, value: np.ndarray, t: np.ndarray, ev: ArtefactEvent) -> np.ndarray:
        # Off the skin the probe moves toward room temperature; re-taped, it settles back (tau 60 s).
        at_end = ev.share * (1.0 - math.exp(-(ev.end_s - ev.start_s) / ev.tau_s))
        on = value + (self.room_c - value) * ev.share * (1.0 - np.exp(-(t - ev.start_s) / ev.tau_s))
        if not math.isfinite(ev.end_s):
            return on
        after = value + (self.room_c - value) * at_end * np.exp(-(t - ev.end_s) / 60.0)
        return np.where(t < ev.end_s, on, after)

    def describe(self) -> str:
        return f"{self.scenario.name} (seed {self.seed}): {self.scenario.description}"


def _touch_array(value: np.ndarray, t: np.ndarray, ev: ArtefactEvent) -> np.ndarray:
    hand = 35.5
    at_end = (1.0 - math.exp(-(ev.end_s - ev.start_s) / 4.0)) * 0.9
    on = value + (hand - value) * (1.0 - np.exp(-(t - ev.start_s) / 4.0)) * 0.9
    after = value + (hand - value) * at_end * np.exp(-(t - ev.end_s) / 25.0)
    return np.where(t < ev.end_s, on, after)


def _hand_array(value: np.ndarray, t: np.ndarray, ev: ArtefactEvent) -> np.ndarray:
    """A hand resting on the probe: ``share`` of the way to the hand's temperature within
    ``tau_s`` (seconds), with the small irregular variation of a living hand (pressure, tremor,
    _tremor), and back toward skin over ~25 s once it is lifted."""
    grip = ev.share * (1.0 - np.exp(-(np.minimum(t, ev.end_s) - ev.start_s) / ev.tau_s))
    pull = (ev.level_c - value) * grip + grip * _tremor(t, ev)
    if math.isfinite(ev.end_s):
        pull = np.where(t < ev.end_s, pull, pull * np.exp(-(t - ev.end_s) / 25.0))
    return value + pull


def _tremor(t: np.ndarray, ev: ArtefactEvent) -> np.ndarray:
    # Three incommensurate slow oscillations (periods 3-20 s) with phases fixed by the event, so
    # every sampling of the model sees the same hand.
    phase = (ev.start_s * 0.731) % 1.0
    return ev.tremor_c * (np.sin(2 * np.pi * (t / 3.1 + phase)) * 0.5 + np.sin(2 * np.pi * (t / 7.3 + 2 * phase)) * 0.3
                          + np.sin(2 * np.pi * (t / 19.7 + 3 * phase)) * 0.2)


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


def _place_varied(model: PatientModel, vary: np.random.Generator) -> list[ArtefactEvent]:
    """The varied classes' artefacts: the other foot's probe lifting (seconds) or loosening
    (minutes), or a hand resting on one foot; times, rates and sizes drawn per seed."""
    sc, inj, other = model.scenario, model.injection_s, model.blocked.other
    never = vary.random() < 0.3  # some probes are never re-taped
    events = []
    for kind in sc.artefacts:
        if kind in ("other-lift", "other-loosen"):
            quick = kind == "other-lift"
            around = model.systemic[0] if model.systemic is not None else inj + float(vary.uniform(120.0, 1500.0))
            start = around + float(vary.uniform(-300.0, 1200.0) if model.systemic is not None else 0.0)
            start = max(start, inj + 60.0)  # after the baseline: the probe was on the skin for it
            tau = float(vary.uniform(5.0, 40.0) if quick else vary.uniform(120.0, 900.0))
            end = math.inf if never else start + float(vary.uniform(120.0, 1200.0))
            events.append(ArtefactEvent(other, "lift", start, end, tau_s=tau, share=float(vary.uniform(0.5, 1.0))))
        elif kind == "other-lift-during-rise":
            f = model.feet[model.blocked]
            t5, t80 = f.t50_s - math.log(19.0) / f.k_per_s, f.t50_s + math.log(4.0) / f.k_per_s
            start = t5 + float(vary.random()) * (t80 - t5)
            quick = vary.random() < 0.5
            tau = float(vary.uniform(5.0, 40.0) if quick else vary.uniform(120.0, 900.0))
            events.append(ArtefactEvent(other, "lift", start, start + float(vary.uniform(120.0, 600.0)), tau_s=tau,
                                        share=float(vary.uniform(0.5, 1.0))))
        elif kind == "hand":
            foot = model.blocked if vary.random() < 0.5 else other
            start = inj + float(vary.uniform(120.0, 1800.0))
            end = math.inf if never else start + float(vary.uniform(240.0, 1200.0))
            events.append(ArtefactEvent(foot, "hand", start, end, tau_s=float(vary.uniform(2.0, 25.0)),
                                        share=float(vary.uniform(0.7, 1.0)), level_c=float(vary.uniform(33.0, 35.5)),
                                        tremor_c=float(vary.uniform(0.02, 0.15))))
    return events


def _stable_hash(text: str) -> int:
    # hash() is salted per process; seeds must be reproducible across runs.
    h = 2166136261
    for b in text.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h
