"""The numbers of the chart report, computed once and shared by the PDF, FHIR and CSV exports.

The detector's own figures (baselines, rises, Di − Dc, kinetics, which criteria were met and
when) come from re-running :class:`monitor.pipeline.BlockPipeline` over the stored readings
and markers, so the report says what the live session said. The table of temperatures at
0, 5, 10, 20 and 30 minutes after injection is read from the valid readings themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from monitor.exports.session_data import SessionData
from monitor.model import Limb

REPORT_MINUTES = (0, 5, 10, 20, 30)
_WINDOW_S = 20.0  # readings within ± this many seconds of each report minute


@dataclass
class LimbFigures:
    limb: Limb
    blocked: bool
    baseline_c: float | None = None
    at_minutes: dict[int, float | None] = field(default_factory=dict)
    latest_c: float | None = None
    rise_c: float | None = None  # ΔT at the end of the session (or now, if still recording)
    peak_c: float | None = None
    peak_rise_c: float | None = None
    time_to_peak_s: float | None = None  # after the injection mark
    max_slope_c_per_min: float | None = None


@dataclass
class CriterionRow:
    name: str
    threshold: str
    source: str
    met_at_s: float | None  # session time; None = not met


@dataclass
class ReportFigures:
    injection_s: float | None
    limbs: dict[Limb, LimbFigures]
    di_minus_dc_c: float | None = None
    verdict_state: str = ""
    verdict_message: str = ""
    confirmed_at_s: float | None = None
    criteria_label: str = ""
    criteria_source: str = ""
    criteria: list[CriterionRow] = field(default_factory=list)
    kinetics: dict[str, float | None] = field(default_factory=dict)  # e.g. "+1 °C": seconds after injection
    warnings: list[str] = field(default_factory=list)
    analysis: dict = field(default_factory=dict)  # the pipeline's AnalysisResult.to_json_dict(), if any

    @property
    def blocked(self) -> LimbFigures | None:
        return next((f for f in self.limbs.values() if f.blocked), None)

    @property
    def contralateral(self) -> LimbFigures | None:
        return next((f for f in self.limbs.values() if not f.blocked), None)


@dataclass(frozen=True)
class Outcome:
    """What the report leads with: a headline and a sentence, in plain words.

    ``code``: confirmed | not_confirmed | not_judged | in_progress (a session still being recorded
    or interrupted: the verdict so far)."""

    code: str
    headline: str
    message: str


def _min_s(seconds: float) -> str:
    whole = int(round(seconds))
    sign, whole = ("-", -whole) if whole < 0 else ("", whole)
    return f"{sign}{whole // 60} min {whole % 60:02d} s"


def session_outcome(data: SessionData, figures: ReportFigures) -> Outcome:
    """The verdict a chart filer reads: for a finished session the outcome, never a state such as
    "monitoring" that sounds as if the procedure were still going on."""
    state = figures.verdict_state or ""
    words = state.replace("_", " ")
    if figures.confirmed_at_s is not None:
        after = figures.confirmed_at_s - figures.injection_s if figures.injection_s is not None else None
        # Minutes and seconds, as the live banner says it ("9.3 min" reads as 9 min 30 s to some).
        when = f" at {_min_s(after)} after injection" if after is not None else ""
        return Outcome("confirmed", f"Block CONFIRMED{when}", figures.verdict_message)
    if data.status != "closed":
        return Outcome("in_progress", f"Verdict so far: {words or 'none yet'}",
                       "The session is still being recorded, or its recording was interrupted. "
                       + (figures.verdict_message or ""))
    if figures.injection_s is None:
        return Outcome("not_judged", "Not judged: no injection was marked",
                       "The criteria are judged from the injection mark, and none was placed in this session.")
    if state in ("", "waiting_for_baseline"):
        return Outcome("not_judged", "Not judged: no baseline could be taken", figures.verdict_message
                       or "No settled readings on both feet before the injection.")
    if figures.analysis.get("judged_enough") is False:
        hold = figures.analysis.get("hold_s")
        held = f" for at least {hold:g} s" if hold else ""
        return Outcome("not_judged", "Not judged: too little data after the injection",
                       f"Both feet need valid readings against their baseline{held} after the injection to "
                       "apply the criteria; this recording does not have them.")
    recorded_min = max(0.0, (data.duration_s - figures.injection_s) / 60.0)
    criteria = f" ({figures.criteria_label})" if figures.criteria_label else ""
    return Outcome("not_confirmed", "Block NOT CONFIRMED by the end of the recording",
                   f"The criteria in force{criteria} were not met in the {recorded_min:.0f} min recorded after the "
                   "injection. Information only: a block can still develop after the recording ended.")


def compute_figures(data: SessionData) -> ReportFigures:
    inj = data.injection_s
    blocked = data.info.blocked
    artefacts = [e for e in data.events if e.kind == "artefact"]
    limbs: dict[Limb, LimbFigures] = {}
    for limb in Limb:
        arr = data.limb(limb)
        ok = arr.valid & np.isfinite(arr.celsius)
        for e in artefacts:
            if e.limb in (None, limb):
                end = e.end_s if e.end_s is not None else math.inf
                ok &= ~((arr.t_s >= e.start_s) & (arr.t_s <= end))
        t, c = arr.t_s[ok], arr.celsius[ok]
        fig = LimbFigures(limb, limb is blocked)
        if c.size:
            fig.latest_c = float(c[-1])
        if inj is not None:
            for minute in REPORT_MINUTES:
                at = inj + 60.0 * minute
                near = np.abs(t - at) <= _WINDOW_S
                fig.at_minutes[minute] = float(np.median(c[near])) if near.any() else None
        limbs[limb] = fig
    figures = ReportFigures(inj, limbs)
    final = data.final_verdict()
    if final is not None:
        figures.verdict_state = final.state
        figures.verdict_message = final.message
        figures.confirmed_at_s = final.detail.get("confirmed_at_s")
    _add_pipeline_figures(data, figures)
    return figures


def _add_pipeline_figures(data: SessionData, figures: ReportFigures) -> None:
    """Fill in the detector's figures by replaying the session through the pipeline."""
    from monitor.exports.replay_analysis import replay_pipeline_figures

    replay_pipeline_figures(data, figures)
