"""The detector's figures for a stored session: replay its readings and markers through
:class:`monitor.pipeline.BlockPipeline` (the same code that ran live) and read the results."""

from __future__ import annotations

from monitor.exports.figures import CriterionRow, ReportFigures
from monitor.exports.session_data import SessionData
from monitor.model import Limb
from monitor.pipeline import CRITERIA_PRESETS, BlockPipeline, Criteria


def _criteria_of(data: SessionData) -> Criteria:
    stored = data.criteria or {}
    preset = CRITERIA_PRESETS.get(str(stored.get("id", "default")))
    fields = {k: stored[k] for k in ("id", "label", "source", "min_rise_c", "min_di_minus_dc_c", "core_within_c",
                                     "hold_s") if k in stored}
    if preset is not None and all(getattr(preset, k) == v for k, v in fields.items()):
        return preset
    try:
        return Criteria(**fields)  # an adjusted preset, recorded with its own thresholds
    except (TypeError, ValueError):
        return CRITERIA_PRESETS["default"]


def replay_pipeline(data: SessionData) -> BlockPipeline:
    criteria = _criteria_of(data)
    core = data.info.core_c
    if criteria.needs_core and core is None:
        criteria = CRITERIA_PRESETS["default"]
    pipeline = BlockPipeline(data.info.blocked or Limb.LEFT, criteria=criteria, core_c=core)
    pipeline.push_many(sorted(data.readings, key=lambda r: r.session_s))
    pipeline.set_markers(data.markers)
    if data.status == "closed":
        pipeline.finish()
    return pipeline


def replay_pipeline_figures(data: SessionData, figures: ReportFigures) -> None:
    if not data.readings:
        return
    pipeline = replay_pipeline(data)
    snap = pipeline.snapshot()
    kin = snap.kinetics
    baselines = pipeline.baselines or {}
    for limb, fig in figures.limbs.items():
        info = baselines.get(limb)
        fig.baseline_c = info.celsius if info else None
        fig.rise_c = snap.rise_c.get(limb)
        is_blocked = limb is pipeline.blocked
        peak = kin.peak_rise_c if is_blocked else kin.peak_rise_contralateral_c
        fig.peak_rise_c = peak
        fig.peak_c = fig.baseline_c + peak if peak is not None and fig.baseline_c is not None else None
        if is_blocked:
            fig.time_to_peak_s = kin.time_to_peak_s
            fig.max_slope_c_per_min = kin.max_slope_c_per_min
    figures.di_minus_dc_c = snap.di_minus_dc_c
    figures.kinetics = {"+1 °C": kin.time_to_plus_1c_s, "50 % of peak": kin.time_to_50pct_peak_s,
                        "95 % of peak": kin.time_to_95pct_peak_s}
    figures.warnings = list(snap.warnings)
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
