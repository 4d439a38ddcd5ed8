"""What the display reads from the pipeline: the state at one moment (:class:`PipelineSnapshot`)
with each foot's latest reading, its age and status, and each foot's whole series."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitor.model import Limb
from monitor.pipeline.attempts import Attempt, LateInjection
from monitor.pipeline.baseline import FeetBaseline
from monitor.pipeline.kinetics import Kinetics
from monitor.pipeline.limb import LimbTrack
from monitor.pipeline.verdict import BlockVerdict


@dataclass(frozen=True)
class LimbSeries:
    """Views of one limb's whole history (valid until more readings arrive)."""

    limb: Limb
    t_s: np.ndarray
    raw_c: np.ndarray  # NaN where the probe gave no temperature
    smooth_c: np.ndarray  # NaN for invalid readings
    valid: np.ndarray  # a temperature in range from a working, fresh probe
    flags: np.ndarray  # bit set of monitor.pipeline.artefacts.FLAG_*


@dataclass(frozen=True)
class PipelineSnapshot:
    now_s: float | None
    blocked: Limb
    criteria_id: str
    raw_c: dict[Limb, float | None]
    smooth_c: dict[Limb, float | None]
    reading_age_s: dict[Limb, float | None]
    limb_status: dict[Limb, str]
    baseline_c: dict[Limb, float | None]
    rise_c: dict[Limb, float | None]
    di_minus_dc_c: float | None
    slope_c_per_min: float | None
    verdict: BlockVerdict
    warnings: tuple[str, ...]
    early_warming_at_s: float | None
    warm_start: bool
    injection_s: float | None
    criteria_met_at_s: dict[str, float | None] = field(default_factory=dict)
    kinetics: Kinetics = field(default_factory=Kinetics)
    baseline_note: str | None = None  # the baseline in force in plain words
    # The latest baseline window the markers call for that has begun (being taken, or in force).
    baseline_window_s: tuple[float, float] | None = None
    # Why a foot's rise (and so Di − Dc) is not given now although a baseline is in force: its
    # newest reading is flagged (lifted, touched, frozen, a fault) or too old. None: it is given.
    rise_withheld: dict[Limb, str | None] = field(default_factory=dict)
    # (seconds held, seconds required) while the chosen criteria are met and being held; None otherwise.
    holding: tuple[float, float] | None = None
    # The current attempt (a new baseline for a repeat injection starts the next), its injection,
    # and every earlier attempt with its outcome (``Attempt.outcome_words``).
    attempt: int = 1
    attempt_injection_s: float | None = None
    earlier_attempts: tuple[Attempt, ...] = ()
    # The current attempt's injection was marked after the blocked foot had begun to warm.
    late_injection: LateInjection | None = None
    # Both feet warming together (sedation, blankets, a warm room), in words for every view
    # ("Both feet warming: systemic, not a block sign …"); None when they are not. Also the last
    # of ``warnings`` while it lasts.
    systemic_warming: str | None = None
    # The other foot's rise as Di − Dc counted it (its highest of the last 30 min) when each
    # preset was met, and that in words beside each met preset (a rise-only preset met while both
    # feet warmed says so): what the report shows beside the criteria.
    criteria_other_rise_c: dict[str, float | None] = field(default_factory=dict)
    criteria_notes: dict[str, str] = field(default_factory=dict)
    # Di − Dc as the criteria judge it: ΔTb minus the other foot's highest rise of the last 30 min
    # (never more than ``di_minus_dc_c``); with words in ``warnings`` when it is lower by 0.1 °C.
    di_minus_dc_judged_c: float | None = None

    @property
    def di_minus_dc_withheld(self) -> str | None:
        """Why Di − Dc is not given now (the foot it depends on, and why), or None."""
        reasons = [f"{limb.letter} {why}" for limb, why in sorted(self.rise_withheld.items()) if why]
        return "; ".join(reasons) or None


def limb_series(track: LimbTrack) -> LimbSeries:
    return LimbSeries(track.limb, track.t.view, track.raw.view, track.smooth.view, track.valid.view,
                      track.flags.view)


@dataclass(frozen=True)
class LimbReadout:
    """One foot's latest raw and smoothed value, how old its reading is, and its status words."""

    raw_c: float | None
    smooth_c: float | None
    age_s: float | None
    status: str


def limb_readout(track: LimbTrack, clock: float | None) -> LimbReadout:
    """``track``'s latest values; ``clock`` (session seconds) dates how old its reading is."""
    n = len(track.t)
    raw = smooth = age = None
    if n:
        r = float(track.raw.view[n - 1])
        raw = r if track.valid.view[n - 1] else None
        age = max(0.0, (clock or 0.0) - float(track.t.view[n - 1]))
    if len(track.vt):
        smooth = float(track.vsmooth.view[-1])
    kind = track.current_kind()
    if age is not None and age > track.gap_after.last():
        status = f"no data for {age:.0f} s"
    elif n == 0:
        status = "no data yet"
    else:
        status = kind.plain if kind else "OK"
    return LimbReadout(raw, smooth, age, status)


def withheld_because(readout: LimbReadout) -> str | None:
    """Why this foot's current value must not stand for a rise now (its status words), or None."""
    return None if readout.status == "OK" else readout.status


def current_slope(track: LimbTrack, window_s: float) -> float | None:
    """The slope (°C/min) of ``track``'s smoothed valid readings over the last ``window_s``;
    None while an artefact is open or the readings span less than 90 % of the window."""
    if not len(track.vt) or track.current_kind() is not None:
        return None
    vt = track.vt.view
    j = int(np.searchsorted(vt, vt[-1] - window_s, side="left"))
    if vt[-1] - vt[j] < 0.9 * window_s:
        return None
    vs = track.vsmooth.view
    return float((vs[-1] - vs[j]) / ((vt[-1] - vt[j]) / 60.0))


def snapshot_warnings(baselines: FeetBaseline | None, warm_start_c: float | None) -> tuple[str, ...]:
    """The baseline's warnings (words shared by both feet once), then the warm-start notice if
    the blocked foot started at ``warm_start_c`` (None: not a warm start)."""
    warnings: list[str] = []
    if baselines:
        for info in baselines.values():
            warnings.extend(w for w in info.warnings if w not in warnings)  # shared words once
    if warm_start_c is not None:
        warnings.append("Warm start, limited headroom: the blocked foot started at "
                        f"{warm_start_c:.1f} °C, so a complete block may warm it only a little.")
    return tuple(warnings)


SYSTEMIC_WORDS = "Both feet warming: systemic, not a block sign"


def signed_c(value: float) -> str:
    """A change in °C to 0.1 with its sign, never "-0.0" (a foot 0.03 °C below its baseline is "+0.0")."""
    return f"{round(value, 1) + 0.0:+.1f}"


def systemic_words(blocked_rise_c: float | None, other_rise_c: float | None, min_rise_c: float) -> str | None:
    """The systemic-warming notice when both feet have risen at least ``min_rise_c`` since the
    baseline (the other foot's highest rise of the last 30 min: a loose probe cannot hide it)."""
    if blocked_rise_c is None or other_rise_c is None or min(blocked_rise_c, other_rise_c) < min_rise_c:
        return None
    return (f"{SYSTEMIC_WORDS} (the other foot has warmed {signed_c(other_rise_c)} °C too; Di − Dc subtracts it, "
            "a rise-only criterion does not).")


def criteria_notes(met_at: dict[str, float | None], other_rise: dict[str, float | None],
                   rise_only: set[str], min_rise_c: float) -> dict[str, str]:
    """Beside each met preset, the other foot's course then; a rise-only preset met while both
    feet warmed is marked as such."""
    notes = {}
    for cid, at in met_at.items():
        other = other_rise.get(cid)
        if at is None or other is None:
            continue
        words = f"the other foot {signed_c(other)} °C from its baseline then"
        if cid in rise_only and other >= min_rise_c:
            words += "; both feet warming: systemic, not a block sign"
        notes[cid] = words
    return notes


def judged_difference(blocked_rise_c: float | None, other_rise_c: float | None, other_high_c: float | None
                      ) -> tuple[float | None, str | None]:
    """Di − Dc as the criteria count it, and words when that is below the plain ΔTb − ΔTc: the
    other foot reads lower than its highest rise of the last 30 min."""
    if blocked_rise_c is None or other_rise_c is None:
        return None, None
    high = other_rise_c if other_high_c is None else max(other_high_c, other_rise_c)
    judged = blocked_rise_c - high
    if high - other_rise_c < 0.1:
        return judged, None
    return judged, (f"Di − Dc counted as {signed_c(judged)} °C: the other foot reads {signed_c(other_rise_c)} °C, below its "
                    f"highest rise of the last 30 min ({signed_c(high)} °C), and after a block that foot does not cool "
                    "back so fast (its probe may be loosening).")
