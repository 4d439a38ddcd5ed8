"""The numbers of the chart report, computed once and shared by the PDF, FHIR and CSV exports.

The session is judged again by :func:`monitor.procedure.replay.replay_session` (the same
pipeline that ran live, the same replay as the review window and ``analyze``), and every number
is read from that one pipeline:

* the detector's figures (baselines, which criteria were met and when, the verdict, kinetics);
* every temperature "at a minute" (the 0, 5, 10, 20, 30-minute columns, the CSV minute summary)
  from :func:`monitor.procedure.minutes.minute_table`, the rule the screen's table follows;
* the peak from the readings themselves: the highest counted reading of each foot after the
  injection, and its rise from the baseline the report prints (never a baseline plus a rise
  measured from another one);
* the rise and Di − Dc "at the end" from the value that stands for the end of the recording
  by the same minute rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.exports.session_data import SessionData
from monitor.model import Limb
from monitor.pipeline import CRITERIA_PRESETS, BlockPipeline
from monitor.procedure.minutes import MinuteRow, minute_table, peak_after, round_c, rows_at
from monitor.procedure.replay import replay_session

REPORT_MINUTES = (0, 5, 10, 20, 30)


@dataclass
class LimbFigures:
    limb: Limb
    blocked: bool
    baseline_c: float | None = None
    at_minutes: dict[int, float | None] = field(default_factory=dict)
    latest_c: float | None = None  # the value standing for the end of the recording (minute rule)
    rise_c: float | None = None  # ΔT at the end of the session (or now, if still recording), same rule
    peak_c: float | None = None  # the highest counted reading after the injection (0.1 °C)
    peak_rise_c: float | None = None  # peak_c − baseline_c, the baseline printed beside it
    time_to_peak_s: float | None = None  # after the injection mark, of that reading
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
    analysis: dict[str, Any] = field(default_factory=dict)  # the pipeline's AnalysisResult.to_json_dict(), if any
    origin_s: float = 0.0  # minutes count from here: the injection, or the session start without one
    minutes: list[MinuteRow] = field(default_factory=list)  # every whole minute (the CSV minute summary)

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
    limbs = {limb: LimbFigures(limb, limb is blocked) for limb in Limb}
    figures = ReportFigures(inj, limbs, origin_s=inj if inj is not None else 0.0)
    final = data.final_verdict()
    if final is not None:
        figures.verdict_state = final.state
        figures.verdict_message = final.message
        figures.confirmed_at_s = final.detail.get("confirmed_at_s")
    if data.readings:
        _add_pipeline_figures(data, figures, replay_session(data))
    return figures


def _add_pipeline_figures(data: SessionData, figures: ReportFigures, pipeline: BlockPipeline) -> None:
    """Fill in every figure from the replayed pipeline."""
    snap = pipeline.snapshot()
    kin = snap.kinetics
    baselines = pipeline.baselines or {}
    inj, end = figures.injection_s, data.duration_s
    figures.minutes = minute_table(pipeline, figures.origin_s, end)
    by_minute = {row.minute: row for row in figures.minutes}
    [at_end] = rows_at(pipeline, [end], figures.origin_s, end)
    for limb, fig in figures.limbs.items():
        info = baselines.get(limb)
        fig.baseline_c = round_c(info.celsius) if info else None
        if inj is not None:
            fig.at_minutes = {m: (by_minute[m].celsius[limb] if m in by_minute else None) for m in REPORT_MINUTES}
        fig.latest_c = at_end.celsius[limb]
        fig.rise_c = at_end.rise_c[limb]
        peak = peak_after(pipeline, limb, inj) if inj is not None else None
        if inj is not None and peak is not None:
            fig.peak_c = round_c(peak[1])  # counted readings are finite: never None here
            fig.time_to_peak_s = peak[0] - inj
            if fig.peak_c is not None and fig.baseline_c is not None:
                fig.peak_rise_c = round_c(fig.peak_c - fig.baseline_c)
        if limb is pipeline.blocked:
            fig.max_slope_c_per_min = kin.max_slope_c_per_min
    figures.di_minus_dc_c = at_end.di_minus_dc_c
    figures.kinetics = {"+1 °C": kin.time_to_plus_1c_s, "50 % of peak": kin.time_to_50pct_peak_s,
                        "95 % of peak": kin.time_to_95pct_peak_s}
    figures.warnings = list(snap.warnings)
    if len(pipeline.baseline_history) > 1:
        figures.warnings.append("A new baseline was captured after the injection: the baseline, peak rise and "
                                "rise at the end are from the latest one; the detector judged each moment "
                                "against the baseline in force then.")
    crit = pipeline.criteria
    figures.criteria_label = crit.label
    figures.criteria_source = crit.source
    met = snap.criteria_met_at_s
    rows = [CriterionRow(f"{crit.label} (in force)", crit.describe(), crit.source, met.get(crit.id))]
    for cid, other in CRITERIA_PRESETS.items():
        if cid != crit.id and cid in met:
            rows.append(CriterionRow(f"{other.label} (for comparison)", other.describe(), other.source, met[cid]))
    cfg = pipeline.config
    rows.append(CriterionRow("Early warming (a sign, not a confirmation)",
                             f"≥ {cfg.early_slope_c_per_min:g} °C/min within {cfg.early_window_s / 60:g} min "
                             "of injection", "Park/Nahm et al., Anaesthesia 2010", snap.early_warming_at_s))
    figures.criteria = rows
    if not data.verdicts:
        figures.verdict_state = str(snap.verdict.state)
        figures.verdict_message = snap.verdict.message
    if figures.confirmed_at_s is None:
        figures.confirmed_at_s = met.get(crit.id) if figures.verdict_state == "confirmed" else None
    figures.analysis = {"criteria_id": crit.id, "verdict": str(snap.verdict.state),
                        "confirmed_at_s": snap.verdict.confirmed_at_s,
                        # as `analyze` decides "insufficient data": too little judged after injection
                        "judged_enough": pipeline.judged_enough(),
                        "hold_s": crit.hold_s}
