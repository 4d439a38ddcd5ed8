"""Outside patients: an independent generator of block recordings, for checking the detector.

Why: the project's own evaluation (bench/evaluation.py) draws its patients from
monitor/simulation/physiology.py, the same shapes the detector was tuned on. A detector can
learn its simulator. These patients were written from the physiology (/work/shared/domain.md)
alone, deliberately NOT from the project's simulator, and nothing here imports monitor/: a
result on them is a check from outside. Do not tune these shapes to the detector.

The shapes: systemic warming is a sigmoid or a linear ramp; tape loosening is a mixing fraction
toward room that grows in irregular steps, a linear drift, or stops part-way; a hand is a
contact approach with its own release time constant and an AR(1) tremor; the block is a
logistic clipped to start at the injection; the other foot cools as a sigmoid or a line.

Each case gives, per foot, noise-free skin S(t) and noise-free probe reading P(t) as functions
of t, so the truth is computed from S and "reads skin" from |P - S| (bench/outside/evaluate.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

OBSERVE_AFTER_S = 3000.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


@dataclass
class Systemic:
    kind: str  # sigmoid | ramp
    onset_s: float
    amp_c: float
    dur_s: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        if self.kind == "ramp":
            return self.amp_c * np.clip((t - self.onset_s) / self.dur_s, 0.0, 1.0)
        # 10 %..90 % over dur_s, centred dur_s/2 + a bit after onset; zeroed before onset
        w = self.dur_s / (2 * math.log(9.0))
        mid = self.onset_s + w * math.log(49.0)
        v = _sigmoid((t - mid) / w)
        v0 = float(_sigmoid(np.array((self.onset_s - mid) / w)))
        return self.amp_c * np.where(t > self.onset_s, (v - v0) / (1 - v0), 0.0)


@dataclass
class BlockRise:
    rise_c: float
    t50_s: float
    k: float
    inj_s: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        l0 = float(_sigmoid(np.array(self.k * (self.inj_s - self.t50_s))))
        v = (_sigmoid(self.k * (t - self.t50_s)) - l0) / (1 - l0)
        return self.rise_c * np.where(t > self.inj_s, v, 0.0)


@dataclass
class OtherCooling:
    kind: str  # none | sigmoid | linear
    amount_c: float  # total cooling over 30 min (>= 0)
    start_s: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        if self.kind == "none" or self.amount_c == 0:
            return np.zeros_like(t)
        if self.kind == "linear":
            return -self.amount_c * np.clip((t - self.start_s) / 1800.0, 0.0, 1.0)
        w = 1800.0 / 8.0
        v = _sigmoid((t - self.start_s - 900.0) / w)
        v0 = float(_sigmoid(np.array(-900.0 / w)))
        return -self.amount_c * np.where(t > self.start_s, (v - v0) / (1 - v0), 0.0)


@dataclass
class Loosening:
    """Mixing fraction f(t) of room temperature in the probe's reading (0: on skin, 1: in air)."""
    kind: str  # steps | drift | lift
    start_s: float
    # steps: times and cumulative f after each step; drift: duration and final f; lift: tau, share
    step_times: list[float] = field(default_factory=list)
    step_f: list[float] = field(default_factory=list)
    step_tau_s: float = 2.0
    dur_s: float = 0.0
    f_end: float = 1.0
    tau_s: float = 5.0
    retape_s: float | None = None
    retape_tau_s: float = 40.0

    def frac(self, t: np.ndarray) -> np.ndarray:
        f = self._raw(t)
        if self.retape_s is not None:
            at = float(self._raw(np.array([float(self.retape_s)]))[0])
            f = np.where(t >= self.retape_s, at * np.exp(-np.maximum(t - self.retape_s, 0) / self.retape_tau_s), f)
        return np.clip(f, 0.0, 1.0)

    def _raw(self, t: np.ndarray) -> np.ndarray:
        if self.kind == "steps":
            f = np.zeros_like(t)
            prev = 0.0
            for ts, fs in zip(self.step_times, self.step_f, strict=True):
                f = f + np.where(t >= ts, (fs - prev) * (1 - np.exp(-np.maximum(t - ts, 0) / self.step_tau_s)), 0.0)
                prev = fs
        elif self.kind == "drift":
            f = self.f_end * np.clip((t - self.start_s) / self.dur_s, 0.0, 1.0)
        else:  # lift
            f = np.where(t >= self.start_s, self.f_end * (1 - np.exp(-np.maximum(t - self.start_s, 0) / self.tau_s)), 0.0)
        return f


@dataclass
class Hand:
    start_s: float
    end_s: float
    hand_c: float
    share: float
    tau_s: float
    release_tau_s: float
    tremor_c: float
    seed: int

    def apply(self, t: np.ndarray, v: np.ndarray) -> np.ndarray:
        on = (t >= self.start_s) & (t < self.end_s)
        after = t >= self.end_s
        out = v.copy()
        out[on] += (self.hand_c - v[on]) * self.share * (1 - np.exp(-(t[on] - self.start_s) / self.tau_s))
        reached = self.share * (1 - math.exp(-(self.end_s - self.start_s) / self.tau_s))
        out[after] += (self.hand_c - v[after]) * reached * np.exp(-(t[after] - self.end_s) / self.release_tau_s)
        if self.tremor_c > 0:
            # AR(1) tremor (a hand's pressure wobble), on a 1 s lattice, interpolated
            rng = np.random.default_rng([self.seed, 4242])
            n = int(self.end_s - self.start_s) + 2
            e = rng.normal(0, self.tremor_c * math.sqrt(1 - 0.8 ** 2), n)
            ar = np.zeros(n)
            for i in range(1, n):
                ar[i] = 0.8 * ar[i - 1] + e[i]
            lat = self.start_s + np.arange(n)
            out[on] += np.interp(t[on], lat, ar) * np.minimum(1.0, (t[on] - self.start_s) / max(self.tau_s, 1.0))
        return out


@dataclass
class Foot:
    base_c: float
    settle_tau_s: float
    block: BlockRise | None = None
    small_rise: BlockRise | None = None  # failed block's little rise
    cooling: OtherCooling | None = None
    share: float = 1.0


@dataclass
class Case:
    cls: str
    seed: int
    blocked: str  # "left" | "right"
    succeeds: bool
    inj_s: float
    room_c: float
    noise_c: float
    feet: dict[str, Foot]
    systemic: Systemic | None = None
    loosen: dict[str, Loosening] = field(default_factory=dict)
    hands: dict[str, Hand] = field(default_factory=dict)
    desc: str = ""

    @property
    def other(self) -> str:
        return "right" if self.blocked == "left" else "left"

    def skin(self, limb: str, t: np.ndarray) -> np.ndarray:
        f = self.feet[limb]
        v = np.full_like(t, f.base_c, dtype=float)
        if f.block is not None:
            v = v + f.block(t)
        if f.small_rise is not None:
            v = v + f.small_rise(t)
        if f.cooling is not None:
            v = v + f.cooling(t)
        if self.systemic is not None:
            v = v + f.share * self.systemic(t)
        # perfused skin saturates below core: a soft cap at 35.5 °C (34.5 + tanh)
        return np.where(v > 34.5, 34.5 + np.tanh(v - 34.5), v)

    def systemic_max_rate(self) -> float:
        """Steepest systemic warming of either foot, °C/min (0 without)."""
        if self.systemic is None:
            return 0.0
        t = np.arange(self.inj_s, self.inj_s + OBSERVE_AFTER_S, 1.0)
        s = self.systemic(t)
        return float(max(f.share for f in self.feet.values()) * (s[60:] - s[:-60]).max())

    def probe(self, limb: str, t: np.ndarray) -> np.ndarray:
        """Noise-free probe reading: settling after taping at t=0, loosening, hand."""
        s = self.skin(limb, t)
        f = self.feet[limb]
        # settling: two-phase approach from room (fast contact + slower equilibration)
        gap = (self.room_c - s)
        v = s + gap * (0.6 * np.exp(-t / (f.settle_tau_s / 3)) + 0.4 * np.exp(-t / f.settle_tau_s))
        if limb in self.loosen:
            fr = self.loosen[limb].frac(t)
            v = v + fr * (self.room_c - v)
        if limb in self.hands:
            v = self.hands[limb].apply(t, v)
        return v

    def readings(self, limb: str, rate_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.arange(0.0, self.inj_s + OBSERVE_AFTER_S, 1.0 / rate_hz)
        rng = np.random.default_rng([self.seed, CLASSES.index(self.cls), 1 if limb == "left" else 2, int(rate_hz * 100)])
        c = self.probe(limb, t) + rng.normal(0.0, self.noise_c, t.shape)
        c = np.round(c, 2)
        return t, c, np.zeros(t.shape, dtype=np.int8)


# ---------------------------------------------------------------------------------------------
def _feet_levels(rng: np.random.Generator, room: float) -> tuple[str, float, float]:
    kind = rng.choice(["cold", "normal", "warm"], p=[0.35, 0.4, 0.25])
    if kind == "cold":
        c = room + rng.uniform(1.0, 3.0)
        b = room + rng.uniform(1.0, 3.5)
    elif kind == "normal":
        c = max(room + 1.0, rng.uniform(24.0, 30.5))
        b = max(room + 1.0, c + rng.normal(0, 1.0))
    else:
        c = rng.uniform(31.0, 33.0)
        b = float(np.clip(c + rng.normal(0, 0.7), 30.5, 33.0))
    return str(kind), float(b), float(c)


def _systemic(rng: np.random.Generator, inj: float) -> Systemic:
    return Systemic(str(rng.choice(["sigmoid", "ramp"])), inj + rng.uniform(0, 1200), rng.uniform(1.5, 3.5),
                    rng.uniform(300, 1200))


def _block(rng: np.random.Generator, inj: float, base: float) -> tuple[BlockRise, str]:
    course = str(rng.choice(["fast", "slow"]))
    rise = min(rng.uniform(2.5, 9.0), 35.2 - base)
    rise = max(rise, 2.3)
    if course == "fast":
        slope = rng.uniform(0.5, 1.5) / 60.0
        k = 4 * slope / rise
        onset = inj + rng.uniform(60, 480)
        t50 = onset + math.log(19.0) / k
    else:
        k = math.log(19.0) / rng.uniform(600, 1200)
        t50 = inj + rng.uniform(1200, 1800)
    return BlockRise(rise, t50, k, inj), course


def _failed_rise(rng: np.random.Generator, inj: float) -> BlockRise:
    return BlockRise(rng.uniform(0.0, 0.5), inj + rng.uniform(600, 1500), math.log(19) / 600, inj)


def _cooling(rng: np.random.Generator, inj: float) -> OtherCooling:
    return OtherCooling(str(rng.choice(["none", "sigmoid", "linear"])), rng.uniform(0.0, 1.0), inj + rng.uniform(0, 600))


def _loosening(rng: np.random.Generator, kind: str, start: float, retape_p: float) -> Loosening:
    if kind == "steps":
        n = int(rng.integers(2, 7))
        span = rng.uniform(120, 900)
        times = sorted(start + rng.uniform(0, span, n))
        # jumps in °C are applied later (need the gap to room); store fractions of the gap
        L = Loosening("steps", start, step_times=list(times), step_tau_s=rng.uniform(1, 6))
    elif kind == "drift":
        L = Loosening("drift", start, dur_s=rng.uniform(180, 1200), f_end=1.0 if rng.random() < 0.5 else rng.uniform(0.4, 0.6))
    elif kind == "partial-steps":
        n = int(rng.integers(2, 5))
        times = sorted(start + rng.uniform(0, rng.uniform(120, 600), n))
        L = Loosening("steps", start, step_times=list(times), step_tau_s=rng.uniform(1, 6))
        L.f_end = 0.5
    else:  # lift (seconds)
        L = Loosening("lift", start, tau_s=rng.uniform(2, 20), f_end=rng.uniform(0.6, 1.0))
    if rng.random() < retape_p:
        end = (L.step_times[-1] if L.kind == "steps" else start + (L.dur_s if L.kind == "drift" else 0))
        L.retape_s = end + rng.uniform(30, 480)
        L.retape_tau_s = rng.uniform(15, 90)
    return L


def _fill_steps(case: Case, limb: str, L: Loosening, rng: np.random.Generator) -> None:
    """Step sizes 0.2–1 °C toward room, as fractions of the skin-room gap at each step time."""
    if L.kind != "steps":
        return
    fs, f = [], 0.0
    cap = L.f_end if L.f_end < 1.0 else 1.0
    for ts in L.step_times:
        gap = max(float(case.skin(limb, np.array([ts]))[0]) - case.room_c, 0.3)
        f = min(cap, f + rng.uniform(0.2, 1.0) / gap)
        fs.append(f)
    L.step_f = fs


def _hand(rng: np.random.Generator, start: float, seed: int) -> Hand:
    dur = rng.uniform(120, 900)
    return Hand(start, start + dur, rng.uniform(33.0, 35.5), rng.uniform(0.5, 1.0), rng.uniform(2, 30),
                rng.uniform(10, 60), rng.uniform(0.0, 0.08), seed)


CLASSES = ["sys-only", "sys-loose-steps", "sys-loose-drift", "loose-nosys", "hand-failed",
           "block", "block-other-lift", "hand-block"]


def make_case(cls: str, seed: int) -> Case:
    """One patient of class ``cls`` (one of :data:`CLASSES`); the same seed always gives the same case."""
    rng = np.random.default_rng([seed, CLASSES.index(cls), 31337])
    blocked = "left" if seed % 2 else "right"
    other = "right" if blocked == "left" else "left"
    room = float(rng.uniform(20.0, 26.0))
    inj = float(rng.uniform(360, 720))
    kind, b, c = _feet_levels(rng, room)
    noise = float(rng.uniform(0.02, 0.1))
    succeeds = cls.startswith("block") or cls == "hand-block"
    feet = {blocked: Foot(b, rng.uniform(20, 90)), other: Foot(c, rng.uniform(20, 90))}
    desc = [f"{kind} feet b={b:.1f} c={c:.1f} room={room:.1f}"]
    if succeeds:
        rise, course = _block(rng, inj, b)
        cooling = _cooling(rng, inj)
        feet[blocked].block, feet[other].cooling = rise, cooling
        desc.append(f"{course} block +{rise.rise_c:.1f}; other cools {cooling.kind} {cooling.amount_c:.2f}")
    else:
        feet[blocked].small_rise = _failed_rise(rng, inj)
        if rng.random() < 0.5:
            cooling = _cooling(rng, inj)
            cooling.amount_c *= 0.5
            feet[other].cooling = cooling
    case = Case(cls, seed, blocked, succeeds, inj, room, noise, feet, desc="")
    with_sys = cls.startswith("sys") or (cls in ("block", "block-other-lift", "hand-block") and rng.random() < 0.5) \
        or (cls == "hand-failed" and rng.random() < 0.3)
    if with_sys:
        s = case.systemic = _systemic(rng, inj)
        for limb in feet:
            feet[limb].share = float(rng.uniform(0.85, 1.15))
        desc.append(f"systemic {s.kind} +{s.amp_c:.1f} over {s.dur_s / 60:.0f} min from inj+{(s.onset_s - inj) / 60:.1f} min "
                    f"(shares b {feet[blocked].share:.2f} c {feet[other].share:.2f})")
    if cls in ("sys-loose-steps", "sys-loose-drift"):
        assert case.systemic is not None  # every sys-* class has one
        start = case.systemic.onset_s + rng.uniform(-300, 900)
        lk = "steps" if cls == "sys-loose-steps" else ("drift" if rng.random() < 0.7 else "partial-steps")
        L = _loosening(rng, lk, max(start, inj + 30), 0.4)
        case.loosen[other] = L
    elif cls == "loose-nosys":
        lk = str(rng.choice(["steps", "drift", "partial-steps"]))
        L = _loosening(rng, lk, inj + rng.uniform(60, 1500), 0.4)
        case.loosen[other] = L
    elif cls == "block-other-lift":
        blk = feet[blocked].block
        assert blk is not None  # a succeeding block's class
        # lift while the blocked foot rises (5–80 % of its rise)
        lo = blk.t50_s - math.log(19) / blk.k
        hi = blk.t50_s + math.log(4) / blk.k
        L = _loosening(rng, "lift", float(rng.uniform(lo, hi)), 1.0)
        L.retape_s = L.start_s + rng.uniform(30, 480)
        case.loosen[other] = L
    elif cls == "hand-failed":
        on = str(rng.choice([blocked, other]))
        case.hands[on] = _hand(rng, inj + rng.uniform(60, 1800), seed)
    elif cls == "hand-block":
        on = str(rng.choice([blocked, other]))
        blk = feet[blocked].block
        assert blk is not None  # a succeeding block's class
        lo = blk.t50_s - math.log(19) / blk.k
        hi = blk.t50_s + math.log(4) / blk.k
        case.hands[on] = _hand(rng, float(rng.uniform(lo, hi)), seed)
    for limb, L in case.loosen.items():
        _fill_steps(case, limb, L, rng)
        if L.kind == "steps":
            desc.append(f"{'other' if limb == other else 'blocked'} tape peels in {len(L.step_times)} steps "
                        f"from inj+{(L.step_times[0] - inj) / 60:.1f} min to f={L.step_f[-1]:.2f}")
        elif L.kind == "drift":
            desc.append(f"other tape drifts to f={L.f_end:.2f} over {L.dur_s / 60:.1f} min from inj+{(L.start_s - inj) / 60:.1f}")
        else:
            desc.append(f"other probe lifts (tau {L.tau_s:.0f} s, f={L.f_end:.2f}) at inj+{(L.start_s - inj) / 60:.1f} min")
        if L.retape_s is not None:
            desc.append(f"re-taped at inj+{(L.retape_s - inj) / 60:.1f} min")
    for limb, h in case.hands.items():
        desc.append(f"hand {h.hand_c:.1f} °C share {h.share:.2f} tau {h.tau_s:.0f} s on the "
                    f"{'blocked' if limb == blocked else 'other'} foot inj+{(h.start_s - inj) / 60:.1f}..+{(h.end_s - inj) / 60:.1f} min")
    desc.append(f"noise {noise:.2f}")
    case.desc = "; ".join(desc)
    return case
