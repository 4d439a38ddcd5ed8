"""The baseline: which window is taken when (from the markers), and its value per foot.

A baseline is the mean of a foot's settled, valid, spike-filtered readings over a window
(``baseline_window_s``) before the injection, or from a "Baseline start" marker. Each
window, with the ticks judged against it, is an :class:`Epoch`; :class:`Baselines` holds the
plan for the current markers and the baselines taken so far. Also here: the plain words
that describe a baseline, and when both probes first settled ("baseline captured").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

from monitor.model import Limb, Marker, MarkerKind
from monitor.pipeline.artefacts import FLAG_SETTLING, ArtefactKind
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.difference import BaselineOffsets
from monitor.pipeline.limb import LimbTrack
from monitor.pipeline.ticks import Ticks
from monitor.pipeline.timefmt import format_session_time

# A "Baseline start" shortly before the injection leaves a window this short: say so.
SHORT_WINDOW_S = 60.0


@dataclass(frozen=True)
class BaselineInfo:
    celsius: float | None
    window_start_s: float
    window_end_s: float
    readings_used: int
    warnings: tuple[str, ...]


# One baseline per foot; a foot's ``celsius`` is None if it had no usable reading.
FeetBaseline = dict[Limb, BaselineInfo]


@dataclass(frozen=True)
class Epoch:
    """One baseline window and the ticks judged against it (derived from the markers only)."""

    window_start_s: float
    window_end_s: float
    marker_s: float | None  # the "Baseline start" marker; None: the default window before the injection
    after_injection: bool  # a new baseline captured after an injection
    judge_from_s: float  # criteria are judged on ticks after this (inf: not yet, no injection)
    judge_until_s: float  # ... and before this: the next "Baseline start"
    in_force_from_s: float  # rises are measured from this baseline from here on


def injection_times(markers: Sequence[Marker]) -> list[float]:
    return sorted(m.session_s for m in markers if m.kind is MarkerKind.INJECTION)


def plan_epochs(markers: Sequence[Marker], width: float) -> list[Epoch]:
    """Which baseline is taken when, and which ticks are judged against it (markers only).

    Each epoch is one *attempt* (:mod:`monitor.pipeline.attempts`). A "Baseline start" marker
    at b starts a window of ``width`` s at b, clipped at the next injection (or the next
    "Baseline start"). Without one before the first injection, the window is the one that ends
    at that injection. A "Baseline start" after an injection starts a new attempt: its
    baseline is judged from the attempt's own injection (the first one after it) on; without
    one, the attempt is not judged. Of several "Baseline start" marks with no injection
    between them, the latest counts (as before the first injection).
    """
    inj = injection_times(markers)
    starts = sorted(m.session_s for m in markers if m.kind is MarkerKind.BASELINE)
    epochs: list[Epoch] = []
    if not inj:
        if starts:
            b = starts[-1]
            epochs.append(Epoch(b, b + width, b, False, math.inf, math.inf, -math.inf))
        return epochs
    first = inj[0]
    before = [b for b in starts if b < first]
    after: list[float] = []
    for b in (b for b in starts if b >= first):
        if after and not any(after[-1] < i <= b for i in inj):
            after[-1] = b  # no injection since the last one: this one replaces it
        else:
            after.append(b)
    until = after[0] if after else math.inf
    if before:
        b = before[-1]
        epochs.append(Epoch(b, min(b + width, first), b, False, first, until, -math.inf))
    else:
        epochs.append(Epoch(first - width, first, None, False, first, until, -math.inf))
    for k, b in enumerate(after):
        next_start = after[k + 1] if k + 1 < len(after) else math.inf
        next_inj = next((i for i in inj if i > b), math.inf)
        end = min(b + width, next_inj, next_start)
        judge_from = next_inj if next_inj < next_start else math.inf
        epochs.append(Epoch(b, end, b, True, judge_from, next_start, end))
    return epochs


def usable(base: FeetBaseline | None) -> TypeGuard[FeetBaseline]:
    """A baseline with a value on both feet."""
    return base is not None and all(info.celsius is not None for info in base.values())


def difference_of(base: FeetBaseline, blocked: Limb) -> float:
    """Blocked minus contralateral baseline of a :func:`usable` baseline."""
    b, c = base[blocked].celsius, base[blocked.other].celsius
    assert b is not None and c is not None
    return b - c


class Baselines:
    """The baseline plan for the current markers and the baselines taken so far (per epoch)."""

    def __init__(self, markers: Sequence[Marker], cfg: PipelineConfig) -> None:
        self.cfg = cfg
        self.epochs = plan_epochs(markers, cfg.baseline_window_s)
        self.taken: list[FeetBaseline | None] = [None] * len(self.epochs)
        self.in_force: FeetBaseline | None = None  # the latest taken

    def take(self, k: int, tracks: Mapping[Limb, LimbTrack]) -> None:
        """Take epoch k's baseline (its window's data is final) and put it in force."""
        self.taken[k] = {limb: take_baseline(tracks[limb], self.epochs[k], self.cfg) for limb in Limb}
        self.in_force = self.taken[k]

    @property
    def history(self) -> list[FeetBaseline]:
        return [base for base in self.taken if base is not None]

    def offsets(self, blocked: Limb) -> BaselineOffsets | None:
        """Blocked minus contralateral baseline per epoch, from when each is in force (None: no
        baseline captured yet, so the difference series is the plain one)."""
        if not any(usable(base) for base in self.taken):
            return None
        return tuple((ep.in_force_from_s, difference_of(base, blocked) if usable(base) else None)
                     for ep, base in zip(self.epochs, self.taken, strict=True))

    def note(self) -> str | None:
        """The baseline in force in plain words, e.g. "baseline captured from 10:02 to 12:02: ..."."""
        for ep, base in zip(reversed(self.epochs), reversed(self.taken), strict=True):
            if base is not None:
                return describe_baseline(ep, base) if usable(base) else no_baseline_words(ep)
        return None

    def current_window(self, now_s: float | None) -> tuple[float, float] | None:
        """The latest window that has begun by ``now_s`` (being taken, or in force)."""
        begun = [ep for ep in self.epochs if now_s is not None and ep.window_start_s <= now_s]
        return (begun[-1].window_start_s, begun[-1].window_end_s) if begun else None


def take_baseline(track: LimbTrack, ep: Epoch, cfg: PipelineConfig) -> BaselineInfo:
    """One foot's baseline over epoch ``ep``'s window, with its warnings."""
    start_s, end_s = ep.window_start_s, ep.window_end_s
    # Valid readings only, spike-filtered (median of 5), so one wild reading cannot shift it.
    vt = track.vt.view
    lo, hi = np.searchsorted(vt, start_s, side="left"), np.searchsorted(vt, end_s, side="right")
    flags = track.flags.view[track.vidx.view[lo:hi]]
    values = track.vmed.view[lo:hi]
    tw = vt[lo:hi]
    # Settled, valid readings only. Never a probe's settling climb: a baseline taken from it
    # overstates every later rise (both feet), so a rise-only criterion would "confirm" a
    # failed block. Without one the nurse is asked for a new Baseline start (B).
    use = flags == 0
    name = f"{track.limb} foot"
    warnings = _window_warnings(track, cfg, start_s, end_s, tw, use, int(lo), int(hi))
    if not use.any():
        settling = bool(((flags & ~np.uint16(FLAG_SETTLING)) == 0).any())
        warnings.append(f"{name}: no valid reading in the baseline window"
                        + (" (the probe was still settling after being taped on)" if settling else ""))
        return BaselineInfo(None, start_s, end_s, 0, tuple(warnings))
    x, y = tw[use], values[use]
    if x.size >= 3 and x[-1] - x[0] >= 30.0:
        slope = np.polyfit(x - x[0], y, 1)[0] * 60.0
        if abs(slope) > cfg.drift_warning_c_per_min:
            warnings.append(f"{name}: still drifting ({slope:+.2f} °C/min) during the baseline")
    return BaselineInfo(float(y.mean()), start_s, end_s, int(x.size), warnings=tuple(warnings))


def _window_warnings(track: LimbTrack, cfg: PipelineConfig, start_s: float, end_s: float, tw: np.ndarray,
                     eligible: np.ndarray, lo: int, hi: int) -> list[str]:
    """What may make a window's baseline doubtful: too short, mostly invalid, few readings, or
    a probe attached too shortly before it."""
    length = end_s - start_s
    warnings = []
    if length < SHORT_WINDOW_S:
        # The same words on both feet: collected once where the warnings are listed.
        warnings.append(f"baseline window only {length:.0f} s long (from {format_session_time(start_s)} to "
                        f"{format_session_time(end_s)}): at least 1 minute is advised")
    name = f"{track.limb} foot"
    # Coverage: share of slots in the window holding an eligible reading; a slot is 5 s, or
    # the probe's own typical interval if it reports more slowly (4 readings in 2 min from a
    # probe that reports every 30 s cover the window).
    slot_s = cfg.gap_s
    if hi > lo:
        rhythm = track.gap_after.view[track.vidx.view[hi - 1]] / cfg.rhythm_factor
        slot_s = max(cfg.gap_s, min(rhythm, cfg.max_gap_s))
    slots = max(1, int(round(length / slot_s)))
    filled = np.unique(np.clip(((tw[eligible] - start_s) // slot_s).astype(np.int64), 0, slots - 1)).size
    if filled < cfg.baseline_mostly_invalid_fraction * slots:
        warnings.append(f"{name}: the baseline window is mostly invalid ({100 * filled // slots} % usable)")
    elif 0 < int(eligible.sum()) < cfg.baseline_few_readings:
        warnings.append(f"{name}: only {int(eligible.sum())} readings back the baseline (a slowly reporting "
                        "probe): one odd reading weighs more")
    # When the probe was last put on (its latest settling began): a baseline taken less than
    # attached_warning_s after that may still be settling (domain.md).
    first = max((seg.start_s for seg in track.segments
                 if seg.kind is ArtefactKind.SETTLING and seg.start_s <= end_s), default=None)
    if first is not None and start_s - first < cfg.attached_warning_s:
        warnings.append(f"{name}: the probe was attached less than "
                        f"{cfg.attached_warning_s / 60:g} minutes before the baseline window")
    return warnings


def settled_at(ticks: Ticks, tracks: Mapping[Limb, LimbTrack], i0: int, n: int) -> float | None:
    """The first of ticks i0..n at which both feet are valid and each has been settled for a
    whole baseline window ("baseline captured" before any marker), or None."""
    T = ticks.t.view[i0:n]
    ready = ticks.ok[Limb.LEFT].view[i0:n] & ticks.ok[Limb.RIGHT].view[i0:n]
    for track in tracks.values():
        settling = [seg for seg in track.segments if seg.kind is ArtefactKind.SETTLING]
        if not settling:
            return None
        starts = np.array([seg.start_s for seg in settling])
        ends = np.array([np.inf if seg.end_s is None else seg.end_s for seg in settling])
        last = np.searchsorted(starts, T, side="right") - 1
        ready &= (last >= 0) & (ends[np.maximum(last, 0)] <= T - ticks.cfg.baseline_window_s)
    hit = np.flatnonzero(ready)
    return float(T[hit[0]]) if hit.size else None


def describe_baseline(ep: Epoch, base: FeetBaseline) -> str:
    """E.g. "baseline captured from 10:02 to 12:02: left 25.9 °C, right 27.4 °C"."""
    which = "new baseline" if ep.after_injection else "baseline"
    how = "captured" if ep.marker_s is not None else "taken"
    values = ", ".join(f"{limb} {base[limb].celsius:.1f} °C" if base[limb].celsius is not None else f"{limb} none"
                       for limb in Limb)
    return f"{which} {how} from {format_session_time(ep.window_start_s)} to {format_session_time(ep.window_end_s)}: {values}"


def no_baseline_words(ep: Epoch) -> str:
    """Why epoch ``ep`` has no valid baseline, and what to do."""
    if ep.marker_s is None:
        return ("No valid baseline: no usable reading on both feet in the window before the injection mark "
                "(were the probes still settling?). Press \"Baseline start\" once both probes have settled.")
    return (f"No valid baseline: no usable reading on both feet from {format_session_time(ep.window_start_s)} to "
            f"{format_session_time(ep.window_end_s)}. Press \"Baseline start\" again once both probes read.")
