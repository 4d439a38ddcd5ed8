"""The criteria judged on the tick grid: each one's hold, when it was met, and early warming.

Every preset is judged alongside the chosen criteria (for the report); only the chosen one's
confirmation becomes a verdict event. A criterion is met once its conditions have held on
consecutive ticks, both feet valid, for ``hold_s``; a hold still running at the end of a
chunk of ticks is carried into the next, and restarts with each new baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from monitor.model import Limb
from monitor.pipeline.baseline import Epoch, FeetBaseline
from monitor.pipeline.config import Criteria, PipelineConfig
from monitor.pipeline.limb import run_starts
from monitor.pipeline.recent_high import RecentHigh
from monitor.pipeline.ticks import Ticks
from monitor.pipeline.verdict import Event, event


@dataclass(frozen=True)
class TurnedBack:
    """The other foot warmed, then fell back: not counted from ``from_s`` until a probe check."""

    from_s: float
    until_s: float | None
    words: str


def turned_back_words(high_c: float, fall_c: float) -> str:
    return (f"the other foot's probe may be loose: that foot warmed {high_c:+.1f} °C with the body, then fell "
            f"{fall_c:.1f} °C back, which skin warming with the body does not do; Di − Dc leaves it out until "
            "its probe is checked")


class CriteriaJudge:
    """Judges ``judged`` (criteria by id) on the blocked foot's ticks; ``chosen_id`` drives the verdict."""

    def __init__(self, judged: dict[str, Criteria], chosen_id: str, blocked: Limb, cfg: PipelineConfig,
                 core_c: float | None) -> None:
        self.judged = judged
        self.chosen_id = chosen_id
        self.blocked = blocked
        self.cfg = cfg
        self.core_c = core_c
        self.hold_since: dict[str, float | None] = {cid: None for cid in judged}
        self.hold_epoch: int | None = None  # the epoch whose hold runs are carried between chunks
        self.met_at: dict[str, float | None] = {cid: None for cid in judged}
        self.early_at: float | None = None
        self.judged_until_s: float | None = None  # the last tick judged (final: the finalise lag behind)
        # The other foot's highest rise over the last 30 min of valid ticks judged (see _other_rise),
        # its latest value, and its value when each criterion was met (for the report).
        self.other_high = RecentHigh(60.0, max(1, round(cfg.other_depth_window_s / 60.0)))
        self.other_high_c: float | None = None
        self.other_rise_at_met: dict[str, float | None] = {cid: None for cid in judged}
        self._known = np.empty(0)  # the other foot's latest known highest rise at each tick of a chunk
        # The other foot warmed and then turned back (see _turned_back): (from, until or None, words).
        self.turned_back: list[TurnedBack] = []
        self._checks_done = 0  # the other foot's probe checks reached so far
        # The other foot's highest rise since it was last trusted (the attempt's start, the end of an
        # artefact on it, a probe check), whether its last tick was valid, and when the current run
        # of turned-back ticks began.
        self._trusted_high: float | None = None
        self._other_was_ok = False
        self._turn_since: float | None = None

    def judge(self, ticks: Ticks, k: int, base: FeetBaseline, lo: int, hi: int, injections: Sequence[float],
              events: list[Event], other_checks: Sequence[float] = ()) -> None:
        """Criteria, hold and early warming on ticks lo..hi against epoch k's baseline ``base``;
        a confirmation (chosen criteria) or early warming is added to ``events``. ``other_checks``:
        the nurse's probe checks of the other foot (times, ascending); each ends a turn-back."""
        if self.hold_epoch != k:  # a new baseline: every hold starts afresh
            self.hold_since = {cid: None for cid in self.judged}
            self.hold_epoch = k
            self._restart_other()
            self.turned_back = []
            self._checks_done = sum(1 for at in other_checks if at < ticks.t.view[lo]) if hi > lo else 0
        times = ticks.t.view
        while self._checks_done < len(other_checks) and hi > lo:
            at = other_checks[self._checks_done]
            cut = int(np.searchsorted(times[lo:hi], at, side="left")) + lo
            if cut >= hi:
                break
            self._judge_range(ticks, k, base, lo, cut, injections, events)
            self._probe_checked(at)
            lo = cut
        self._judge_range(ticks, k, base, lo, hi, injections, events)

    def _restart_other(self) -> None:
        self.other_high.reset()
        self.other_high_c = None
        self._trusted_high = None
        self._turn_since = None

    def _probe_checked(self, at: float) -> None:
        """The nurse checked the other foot's probe at ``at``: it reads skin again, so a turn-back
        ends there and its rise is judged afresh."""
        self._checks_done += 1
        if self.turned_back and self.turned_back[-1].until_s is None:
            self.turned_back[-1] = replace(self.turned_back[-1], until_s=at)
        self._restart_other()

    def _judge_range(self, ticks: Ticks, k: int, base: FeetBaseline, lo: int, hi: int, injections: Sequence[float],
                     events: list[Event]) -> None:
        if hi <= lo:
            return
        b, c = self.blocked, self.blocked.other
        base_b, base_c = base[b].celsius, base[c].celsius
        assert base_b is not None and base_c is not None
        T = ticks.t.view[lo:hi]
        if T.size:
            self.judged_until_s = float(T[-1])
        vb = ticks.val[b].view[lo:hi]
        vc = ticks.val[c].view[lo:hi]
        ok_b, ok_c = ticks.ok[b].view[lo:hi], ticks.ok[c].view[lo:hi]
        with np.errstate(invalid="ignore"):
            rise_b = vb - base_b
            other = self._other_rise(T, vc - base_c, ok_c)
            didc = rise_b - other
            both = ok_b & ok_c & ~self._turned_back(T, vc - base_c, ok_c)
            for cid, crit in self.judged.items():
                if self.met_at[cid] is None:
                    # A criterion that does not use the other foot does not need it valid.
                    valid = both if crit.min_di_minus_dc_c is not None else ok_b
                    self._hold(cid, crit, T, valid, vb, rise_b, didc, k, events)
            if self.early_at is None:
                self._early(ticks, T, lo, hi, injections, k, events)

    def _other_rise(self, T: np.ndarray, rise_c: np.ndarray, ok_c: np.ndarray) -> np.ndarray:
        """The other foot's rise as Di − Dc counts it: its highest over the last 30 min (whole
        minutes) of valid ticks since the injection, not just its latest. After a unilateral block
        that foot warms only with the whole body and cools by at most ~1 °C in 30 min; a probe
        that loosens while both feet warm can hold its reading flat, or let it sink slowly, while
        the skin under it warms on. Counting the highest rise subtracts the systemic warming both
        feet showed in full. On a flat or cooling other foot it is about its baseline, and
        ΔTb ≥ 2.0 °C decides as before."""
        out = np.full(T.shape, np.nan)
        before = self.other_high_c
        if ok_c.any():
            out[ok_c] = self.other_high.many(T[ok_c], rise_c[ok_c])
            self.other_high_c = float(out[ok_c][-1])
        # The latest known value at every tick (while the other foot is flagged: its last), for the report.
        last = np.maximum.accumulate(np.where(ok_c, np.arange(T.shape[0]), -1))
        self._known = np.where(last >= 0, out[np.maximum(last, 0)], np.nan if before is None else before)
        return out

    def _turned_back(self, T: np.ndarray, rise_c: np.ndarray, ok_c: np.ndarray) -> np.ndarray:
        """Ticks on which the other foot cannot stand for its skin: from the moment it had warmed at
        least ``other_turnback_rise_c`` since the baseline (with the body: after a unilateral block
        that foot does not warm) and then stayed ``other_turnback_fall_c`` or more below that highest
        rise for ``other_turnback_hold_s``, until the nurse checks its probe (and, shorter than that,
        while it lasts). Skin warmed with the
        whole body does not cool back within minutes while it lasts; a probe loosening as it warms
        does, and its reading then hides how far the skin under it warmed. The highest rise counts
        from when that foot was last trusted, so a hand lifted off it (a quick fall the artefact
        rules flag) is not taken for a turn-back."""
        cfg = self.cfg
        if self.turned_back and self.turned_back[-1].until_s is None:
            return T >= self.turned_back[-1].from_s
        high = self._trusted_highs(rise_c, ok_c)
        cand = ok_c & (high >= cfg.other_turnback_rise_c) & (high - rise_c >= cfg.other_turnback_fall_c)
        starts = run_starts(cand, T, self._turn_since)
        done = np.flatnonzero(cand & (T - starts >= cfg.other_turnback_hold_s - 1e-9))
        self._turn_since = float(starts[-1]) if cand.size and cand[-1] else None
        if not done.size:
            return cand  # not counted while it lasts, however briefly (a confirmation must not slip in)
        i = int(done[0])
        self.turned_back.append(TurnedBack(float(T[i]), None, turned_back_words(float(high[i]),
                                                                               float(high[i] - rise_c[i]))))
        return cand | (T >= T[i])

    def _trusted_highs(self, rise_c: np.ndarray, ok_c: np.ndarray) -> np.ndarray:
        """At each tick the other foot's highest rise over its valid ticks since it was last
        trusted (a run of valid ticks starts afresh after an artefact; NaN on invalid ticks)."""
        out = np.full(rise_c.shape, np.nan)
        edges = np.flatnonzero(np.diff(np.concatenate(([self._other_was_ok], ok_c)).astype(np.int8)))
        bounds = np.concatenate(([0], edges, [ok_c.size])).astype(np.int64)
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            if b <= a or not ok_c[a]:
                continue
            carried = self._trusted_high if a == 0 and self._other_was_ok else None
            run = np.maximum.accumulate(rise_c[a:b])
            out[a:b] = run if carried is None else np.maximum(run, carried)
        if ok_c.size:
            self._other_was_ok = bool(ok_c[-1])
            self._trusted_high = float(out[-1]) if ok_c[-1] else None
        return out

    def _conditions(self, crit: Criteria, both: np.ndarray, vb: np.ndarray, rise_b: np.ndarray,
                    didc: np.ndarray) -> np.ndarray:
        """Ticks on which every threshold of ``crit`` is met, on ``both`` (the feet it uses valid)."""
        cond = both.copy()
        if crit.min_rise_c is not None:
            cond &= rise_b >= crit.min_rise_c
        if crit.min_di_minus_dc_c is not None:
            cond &= didc >= crit.min_di_minus_dc_c
        if crit.core_within_c is not None:
            assert self.core_c is not None  # BlockPipeline judges core criteria only with a core_c
            cond &= (self.core_c - vb) <= crit.core_within_c
        return cond

    def _hold(self, cid: str, crit: Criteria, T: np.ndarray, both: np.ndarray, vb: np.ndarray,
              rise_b: np.ndarray, didc: np.ndarray, k: int, events: list[Event]) -> None:
        cond = self._conditions(crit, both, vb, rise_b, didc)
        starts = run_starts(cond, T, self.hold_since[cid])
        done = np.flatnonzero(cond & (T - starts >= crit.hold_s - 1e-9))
        if done.size:
            met = self.met_at[cid] = float(T[done[0]])
            other = self._known[done[0]]
            self.other_rise_at_met[cid] = None if np.isnan(other) else float(other)
            if cid == self.chosen_id:
                events.append(event(met, "confirmed", k))
        else:
            self.hold_since[cid] = float(starts[-1]) if cond[-1] else None

    def _early(self, ticks: Ticks, T: np.ndarray, lo: int, hi: int, injections: Sequence[float], k: int,
               events: list[Event]) -> None:
        """Early warming: the blocked foot's slope reached ``early_slope_c_per_min`` within
        ``early_window_s`` after an injection (an early sign, not a confirmation)."""
        slope = ticks.slopes(self.blocked, lo, hi)
        near = np.zeros(T.shape[0], dtype=bool)
        for inj in injections:
            near |= (T > inj) & (T <= inj + self.cfg.early_window_s)
        hit = np.flatnonzero(near & (slope >= self.cfg.early_slope_c_per_min))
        if hit.size:
            self.early_at = float(T[hit[0]])
            events.append(event(self.early_at, "early", k))


def holding(judge: CriteriaJudge, crit: Criteria) -> tuple[float, float] | None:
    """(seconds held so far, seconds required) while the chosen criteria are met but not yet for
    ``hold_s``; None otherwise (not met now, or already confirmed)."""
    since = judge.hold_since.get(judge.chosen_id)
    if since is None or judge.met_at.get(judge.chosen_id) is not None or judge.judged_until_s is None:
        return None
    return max(0.0, judge.judged_until_s - since), crit.hold_s


def judged_enough(ticks: Ticks, epochs: Sequence[Epoch], hold_s: float) -> bool:
    """True if, after the injection, both feet had valid data for at least ``hold_s`` on ticks
    judged against a baseline."""
    n = len(ticks.t)
    times = ticks.t.view[:n]
    both = ticks.ok[Limb.LEFT].view[:n] & ticks.ok[Limb.RIGHT].view[:n]
    count = 0
    for ep in epochs:
        if math.isinf(ep.judge_from_s):
            continue
        lo = int(np.searchsorted(times, ep.judge_from_s, side="right"))
        hi = int(np.searchsorted(times, ep.judge_until_s, side="left"))
        count += int(both[lo:hi].sum()) if hi > lo else 0
    return count * ticks.cfg.tick_s >= hold_s
