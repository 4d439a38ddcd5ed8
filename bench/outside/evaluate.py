"""Run the block detector on the outside patients (bench/outside/patients.py) and judge it.

An independent check: the patients are written from the physiology (/work/shared/domain.md), not
from the project's simulator, and the truth here is computed from the patients' own noise-free
skin, not from bench/evaluation.py. Per case:

- *truth*: the first moment the noise-free skin had met the default criterion (blocked foot
  +2.0 °C and Di − Dc ≥ 1.5 °C over their 2-minute pre-injection baselines) for 60 s;
- *truth with data*: the same, on seconds where both noise-free probe readings were within
  0.3 °C of the skin under them (10 s before, 15 s after: the detector's smoothing and lag);
- for a confirmation where the truth never came, whether it was a *block's twin*: the readings up
  to it are also those of a working block (the other foot never fell faster than a foot cools
  after a block, never warmed and turned back, the blocked probe never rose faster than skin
  can warm). Such a false confirmation no detector could avoid from these two probes.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from bench.outside.patients import CLASSES, OBSERVE_AFTER_S, Case, make_case
from monitor.model import Limb
from monitor.pipeline import PipelineConfig
from monitor.pipeline.batch import analyze_arrays

MIN_RISE, MIN_DIDC, HOLD, BASE_W = 2.0, 1.5, 60.0, 120.0
SMOOTH, LAG = 10, 15
ON_SKIN_C = 0.3  # a probe within this of the skin under it reads the skin
BORDER = 0.1  # a truth margin below the probes' accuracy: when it was met no measurement can pin down
SLOW_S = 90.0  # confirmed this long after the truth with data is listed as SLOW


def _all_within(mask: np.ndarray, before: int, after: int) -> np.ndarray:
    bad = np.concatenate(([0], np.cumsum(~mask)))
    i = np.arange(mask.shape[0])
    lo, hi = np.maximum(i - before, 0), np.minimum(i + after + 1, mask.shape[0])
    return (bad[hi] - bad[lo]) == 0


def truth(case: Case, with_data: bool) -> tuple[float | None, float]:
    """When the noise-free skin met the criterion for 60 s (None: never), and the best margin (°C)."""
    inj = case.inj_s
    t = np.arange(np.floor(inj - BASE_W), inj + OBSERVE_AFTER_S, 1.0)
    sb, sc = case.skin(case.blocked, t), case.skin(case.other, t)
    pre = (t >= inj - BASE_W) & (t <= inj)
    rb, rc = sb - sb[pre].mean(), sc - sc[pre].mean()
    slack = np.minimum(rb - MIN_RISE, rb - rc - MIN_DIDC)
    after = t > inj
    cond = after & (slack >= 0)
    if with_data:
        skin = np.ones(t.shape, bool)
        for limb, s in ((case.blocked, sb), (case.other, sc)):
            skin &= np.abs(case.probe(limb, t) - s) <= ON_SKIN_C
        cond &= _all_within(skin, SMOOTH, LAG)
    margin = float(slack[after].max())
    start = None
    for ti, c in zip(t.tolist(), cond.tolist(), strict=True):
        if not c:
            start = None
            continue
        if start is None:
            start = ti
        if ti - start >= HOLD:
            return ti, margin
    return None, margin


def twin(case: Case, confirm_s: float) -> dict[str, Any]:
    """Are the two noise-free readings up to the confirmation those of a working block?"""
    inj = case.inj_s
    t = np.arange(np.floor(inj - BASE_W), np.floor(confirm_s) + 1.0, 1.0)
    pre = t <= inj
    pc = case.probe(case.other, t)
    pb = case.probe(case.blocked, t)
    other = pc - pc[pre].mean()
    reasons = []
    for w in (60, 120, 300, 600, 1200, 1800):
        high = np.array([other[max(0, i - w):i + 1].max() for i in range(other.size)])
        # a foot cools after a block by at most ~1 °C in 30 min (domain.md), plus the probes' noise
        excess = high - other - (0.15 + min(2.0 / 1800 * w, 1.0))
        if excess.max() > 0:
            reasons.append(f"fell {float((high - other).max()):.2f} °C within {w} s")
    highest = np.maximum.accumulate(other)
    tb = (highest >= 0.25) & (highest - other >= 0.25)
    if tb.any():
        reasons.append(f"warmed +{float(highest.max()):.2f} then turned back {float((highest - other).max()):.2f}")
    slope = float((pb[60:] - pb[:-60]).max()) if t.size > 60 else 0.0
    if slope > 2.5:
        reasons.append(f"blocked probe rose {slope:.2f} °C/min")
    return {"twin": not reasons, "why_not": reasons, "other_min_c": float(other.min()), "other_max_c": float(other.max()),
            "other_end_c": float(other[-1]),
            "other_skin_end_c": float(case.skin(case.other, t[-1:])[0] - case.skin(case.other, t[pre]).mean()),
            "blocked_end_c": float(pb[-1] - pb[pre].mean()), "blocked_max_slope": slope}


def run_one(cls: str, seed: int, rate: float, config: PipelineConfig | None = None) -> dict[str, Any]:
    """One case through the detector (default criteria): its result beside the truths, as a JSON row."""
    case = make_case(cls, seed)
    limbs: dict[Limb, tuple[np.ndarray, ...]] = {Limb(limb): case.readings(limb, rate) for limb in ("left", "right")}
    res = analyze_arrays(limbs, Limb(case.blocked), case.inj_s, config=config)
    tr, margin = truth(case, False)
    trd, _ = truth(case, True)
    conf = res.confirmed_at_s
    row: dict[str, Any] = {
        "cls": cls, "seed": seed, "rate": rate, "blocked": case.blocked, "succeeds": case.succeeds,
        "inj": case.inj_s, "truth": tr, "truth_data": trd, "margin": margin, "confirm": conf,
        "outcome": res.outcome, "desc": case.desc, "sys_rate": case.systemic_max_rate(),
        "artefacts": [[str(a.limb), str(a.kind), round(a.start_s - case.inj_s, 1),
                       None if a.end_s is None else round(a.end_s - case.inj_s, 1), a.reason]
                      for a in res.artefacts if a.kind != "settling" or a.start_s > 60]}
    if conf is not None and tr is None:
        row["twin"] = twin(case, conf)
    return row


def evaluate(seeds: int = 100, rates: tuple[float, ...] = (1.0,), classes: list[str] | None = None,
             config: PipelineConfig | None = None) -> list[dict[str, Any]]:
    """Every class × seeds 1..``seeds`` × rate, one row each (:func:`run_one`)."""
    return [run_one(cls, seed, rate, config) for rate in rates for cls in (classes or CLASSES)
            for seed in range(1, seeds + 1)]


def _false(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rs if r["confirm"] is not None and r["truth"] is None]


def _missed(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rs if r["truth_data"] is not None and r["confirm"] is None]


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per class and rate: counts of truths, confirmations, false ones (twin or not), misses, delays."""
    out = []
    for cls, rate in _keys(rows):
        rs = [r for r in rows if r["cls"] == cls and r["rate"] == rate]
        metd = [r for r in rs if r["truth_data"] is not None]
        false = _false(rs)
        delays = [r["confirm"] - r["truth_data"] for r in metd if r["confirm"] is not None and r["margin"] >= BORDER]
        out.append({
            "cls": cls, "rate": rate, "n": len(rs), "truth_met": sum(r["truth"] is not None for r in rs),
            "truth_met_data": len(metd), "confirmed": sum(r["confirm"] is not None for r in rs),
            "false": len(false), "false_twin": sum(r["twin"]["twin"] for r in false),
            "missed": len(_missed(rs)),
            "delay_median_s": statistics.median(delays) if delays else None,
            "delay_worst_s": max(delays) if delays else None,
            "borderline": sum(r["margin"] < BORDER for r in metd)})
    return out


def format_table(summary: list[dict[str, Any]]) -> str:
    """The per-class table in Markdown."""
    lines = ["| class | rate | n | truth met (skin) | truth met with probes on skin | confirmed | false conf. (twin / not) "
             "| missed (data showed it) | delay after truth-with-data median / worst (s), clear | borderline |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        d = "–" if s["delay_median_s"] is None else f"{s['delay_median_s']:.0f} / {s['delay_worst_s']:.0f}"
        lines.append(f"| {s['cls']} | {s['rate']:g} Hz | {s['n']} | {s['truth_met']} | {s['truth_met_data']} "
                     f"| {s['confirmed']} | {s['false']} ({s['false_twin']} / {s['false'] - s['false_twin']}) "
                     f"| {s['missed']} | {d} | {s['borderline']} |")
    return "\n".join(lines)


def _keys(rows: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return sorted({(r["cls"], r["rate"]) for r in rows}, key=lambda k: (k[0], -k[1]))


def tagged(rows: list[dict[str, Any]], everything: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """FALSE and MISSED cases; with ``everything`` also SLOW, EARLY and CONF-NO-DATA-TRUTH ones."""
    out: list[tuple[str, dict[str, Any]]] = []
    for cls, rate in _keys(rows):
        rs = [r for r in rows if r["cls"] == cls and r["rate"] == rate]
        out += [("FALSE", r) for r in _false(rs)] + [("MISSED", r) for r in _missed(rs)]
        if not everything:
            continue
        for r in rs:
            if r["truth_data"] is not None and r["confirm"] is not None:
                if r["confirm"] - r["truth_data"] > SLOW_S:
                    out.append(("SLOW", r))
                if r["confirm"] < r["truth_data"] - 1:
                    out.append(("EARLY", r))
        out += [("CONF-NO-DATA-TRUTH", r) for r in rs
                if r["truth"] is not None and r["truth_data"] is None and r["confirm"] is not None]
    return out


def _min(r: dict[str, Any], key: str) -> float | None:
    return None if r[key] is None else round((r[key] - r["inj"]) / 60, 1)


def format_case(tag: str, r: dict[str, Any]) -> str:
    """One case's lines: times in minutes after the injection, the scenario, twin test, artefacts."""
    lines = [f"{tag} {r['cls']} seed {r['seed']} {r['rate']:g} Hz blocked {r['blocked']}: confirm "
             f"{_min(r, 'confirm')} min, truth {_min(r, 'truth')}, truth-data {_min(r, 'truth_data')}, "
             f"margin {r['margin']:.2f}, systemic max {r.get('sys_rate', 0):.2f} °C/min", "    " + r["desc"]]
    tw = r.get("twin")
    if tw:
        lines.append(f"    twin: {tw['twin']} {tw['why_not']} "
                     f"{ {k: round(v, 2) for k, v in tw.items() if isinstance(v, float)} }")
    lines += [f"    art: {a}" for a in r["artefacts"]]
    return "\n".join(lines)
