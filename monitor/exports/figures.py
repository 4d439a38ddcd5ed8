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

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.exports.session_data import SessionData
from monitor.model import Limb
from monitor.pipeline import CRITERIA_PRESETS, BlockPipeline
from monitor.pipeline.attempts import Attempt
from monitor.pipeline.glossary import criterion_in_plain_words
from monitor.pipeline.timefmt import format_relative, format_session_time
from monitor.procedure.minutes import MinuteRow, counted, minute_table, peak_after, round_c, rows_at
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
class CriterionMet:
    """One criterion in one attempt: whether and when it was met, as the core judged it."""

    attempt: int
    injection_s: float | None  # the attempt's injection; None: none marked, nothing was judged
    met_at_s: float | None  # session time; None = not met
    # The other foot's course when it was met, as the core gives it (PipelineSnapshot
    # .criteria_other_rise_c / .criteria_notes): its rise from its baseline as Di − Dc counted it,
    # and those words ("…; both feet warming: systemic, not a block sign" beside a rise-only preset).
    other_rise_c: float | None = None
    note: str = ""

    @property
    def after_injection_s(self) -> float | None:
        """Seconds from the attempt's injection to when it was met (None: not met)."""
        return None if self.met_at_s is None or self.injection_s is None else self.met_at_s - self.injection_s


@dataclass
class CriterionRow:
    name: str
    threshold: str
    source: str
    met_at_s: float | None  # session time in the attempt the session's verdict stands for; None = not met
    plain: str = ""  # the criterion in force in a nurse's words (monitor.pipeline.glossary)
    # Every attempt's, oldest first; the criterion in force is met when that attempt's verdict
    # says confirmed (for the primary attempt, the moment page 1's headline gives).
    met: list[CriterionMet] = field(default_factory=list)
    criterion_id: str = ""  # the preset's id (monitor.pipeline.CRITERIA_PRESETS); "" for early warming


class _BothFeet:
    """The blocked foot's and the other foot's figures, for anything that holds ``limbs``."""

    limbs: dict[Limb, LimbFigures]

    @property
    def blocked(self) -> LimbFigures | None:
        return next((f for f in self.limbs.values() if f.blocked), None)

    @property
    def contralateral(self) -> LimbFigures | None:
        return next((f for f in self.limbs.values() if not f.blocked), None)


@dataclass
class AttemptFigures(_BothFeet):
    """One attempt (a baseline and the injection given against it) as the report prints it.

    Its minutes count from its own injection and stop when the next attempt's baseline began;
    its peak is the highest counted reading in that span; every rise is from its own baseline."""

    number: int
    injection_s: float | None
    injections_s: tuple[float, ...]
    ended_s: float | None  # the next attempt's baseline start; None: the last attempt
    baseline_window_s: tuple[float, float]
    limbs: dict[Limb, LimbFigures]
    verdict_state: str
    verdict_message: str
    confirmed_at_s: float | None
    outcome: str  # monitor.pipeline.Attempt.outcome
    outcome_words: str
    di_minus_dc_c: float | None = None  # at the attempt's end (minute rule)
    kinetics: dict[str, float | None] = field(default_factory=dict)  # seconds after its injection
    kinetics_withheld: str | None = None  # why 50 % / 95 % of peak have no time (the core's words)
    criteria_met_at_s: dict[str, float | None] = field(default_factory=dict)
    late_injection: str | None = None  # the core's words, if marked after the foot began to warm

    @property
    def confirmed_after_injection_s(self) -> float | None:
        """Seconds from this attempt's injection to its confirmation (None: not confirmed)."""
        if self.confirmed_at_s is None or self.injection_s is None:
            return None
        return self.confirmed_at_s - self.injection_s


@dataclass(frozen=True)
class Confirmation:
    """The confirmation the session's verdict stands for, and the injection it counts from: the
    primary attempt's (see :func:`primary_attempt`) when there was a repeat injection."""

    at_s: float  # session time
    injection_s: float  # the injection of the attempt it confirmed
    attempt: int | None  # that attempt's number; None: a session with one attempt

    @property
    def after_injection_s(self) -> float:
        """The time to confirmation: the report's headline, FHIR's and HL7's time-to-confirmation."""
        return self.at_s - self.injection_s


@dataclass
class ReportFigures(_BothFeet):
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
    kinetics_withheld: str | None = None  # why 50 % / 95 % of peak have no time (the core's words)
    warnings: list[str] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)  # the pipeline's AnalysisResult.to_json_dict(), if any
    origin_s: float = 0.0  # minutes count from here: the injection, or the session start without one
    minutes: list[MinuteRow] = field(default_factory=list)  # every whole minute (the CSV minute summary)
    attempts: list[AttemptFigures] = field(default_factory=list)  # every attempt, oldest first

    @property
    def confirmation(self) -> Confirmation | None:
        """The session's confirmation and its time after the injection it counts from (the one
        owner of confirmation − injection for every export); None when not confirmed."""
        if self.confirmed_at_s is None:
            return None
        if len(self.attempts) > 1:
            primary = primary_attempt(self)
            if primary is None or primary.injection_s is None:
                return None
            return Confirmation(self.confirmed_at_s, primary.injection_s, primary.number)
        return None if self.injection_s is None else Confirmation(self.confirmed_at_s, self.injection_s, None)


@dataclass(frozen=True)
class Outcome:
    """What the report leads with: a headline and a sentence, in plain words.

    ``code``: confirmed | not_confirmed | not_judged | in_progress (a session still being recorded
    or interrupted: the verdict so far)."""

    code: str
    headline: str
    message: str


def _min_s(seconds: float) -> str:
    """A duration as m:ss ("the 32:26 (m:ss) recorded after the injection")."""
    return format_session_time(0.0 if round(seconds) == 0 else seconds)


def session_outcome(data: SessionData, figures: ReportFigures) -> Outcome:
    """The verdict a chart filer reads: for a finished session the outcome, never a state such as
    "monitoring" that sounds as if the procedure were still going on."""
    state = figures.verdict_state or ""
    words = state.replace("_", " ")
    if len(figures.attempts) > 1:
        return _attempts_outcome(data, figures)
    if figures.confirmed_at_s is not None:
        confirmation = figures.confirmation
        # +m:ss after the injection, as the live banner says it ("9.3 min" reads as 9 min 30 s to some).
        when = f" at {format_relative(confirmation.after_injection_s)} after the injection" if confirmation else ""
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
    recorded = _min_s(max(0.0, data.duration_s - figures.injection_s))
    criteria = f" ({figures.criteria_label})" if figures.criteria_label else ""
    return Outcome("not_confirmed", "Block NOT CONFIRMED by the end of the recording",
                   f"The criteria in force{criteria} were not met in the {recorded} (m:ss) recorded after the "
                   "injection. Information only: a block can still develop after the recording ended.")


def _attempts_outcome(data: SessionData, figures: ReportFigures) -> Outcome:
    """The headline of a session with a repeat injection: the primary attempt's outcome, and every
    attempt's in the sentence below it (a confirmation in one attempt is never hidden by another)."""
    primary = primary_attempt(figures)
    assert primary is not None
    each = "; ".join(f"attempt {a.number}: {a.outcome_words}" for a in figures.attempts)
    message = f"{len(figures.attempts)} attempts (a new baseline was taken for a repeat injection) — {each}."
    confirmation = figures.confirmation
    if confirmation is not None:
        after = format_relative(confirmation.after_injection_s)
        return Outcome("confirmed", f"Block CONFIRMED in attempt {confirmation.attempt} at {after} after its "
                       "injection", message)
    if data.status != "closed":
        return Outcome("in_progress", f"Verdict so far, attempt {figures.attempts[-1].number}: "
                       f"{figures.attempts[-1].outcome_words}", message)
    if primary.outcome == "not_confirmed":
        return Outcome("not_confirmed", "Block NOT CONFIRMED in any attempt by the end of the recording",
                       message + " Information only: a block can still develop after the recording ended.")
    return Outcome("not_judged", "Not judged: no attempt had enough valid data after its injection", message)


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
    figures.kinetics_withheld = kin.peak_fractions_withheld
    figures.warnings = list(snap.warnings)
    if len(pipeline.baseline_history) > 1:
        figures.warnings.append("A new baseline was taken for a repeat injection: each attempt is judged and "
                                "reported against its own baseline (the attempt tables); the baseline in force "
                                "at each moment is the one its rises are from.")
    crit = pipeline.criteria
    figures.criteria_label = crit.label
    figures.criteria_source = crit.source
    if not data.verdicts:
        figures.verdict_state = str(snap.verdict.state)
        figures.verdict_message = snap.verdict.message
    if figures.confirmed_at_s is None:
        met = snap.criteria_met_at_s
        figures.confirmed_at_s = met.get(crit.id) if figures.verdict_state == "confirmed" else None
    attempts = pipeline.attempts()
    figures.attempts = [_attempt_figures(data, pipeline, a) for a in attempts]
    _outcome_from_primary_attempt(data, figures)
    figures.criteria = _criteria_rows(figures, pipeline, attempts)
    figures.analysis = {"criteria_id": crit.id, "verdict": str(snap.verdict.state),
                        "confirmed_at_s": snap.verdict.confirmed_at_s,
                        # as `analyze` decides "insufficient data": too little judged after injection
                        "judged_enough": pipeline.judged_enough(),
                        "hold_s": crit.hold_s}


def _criteria_rows(figures: ReportFigures, pipeline: BlockPipeline, attempts: list[Attempt]) -> list[CriterionRow]:
    """The criterion in force, every other preset judged, and early warming: each one per attempt.

    The criterion in force is met in an attempt when that attempt's verdict confirmed it (for
    the primary attempt, when page 1's headline says), so page 1 and page 2 never disagree.
    Beside each met preset, the other foot's course then, as the core kept it for that attempt."""
    crit, cfg = pipeline.criteria, pipeline.config
    primary = primary_attempt(figures)

    # The other foot's course beside the criterion in force and every rise-only preset: those
    # are met by warming that moves both feet (a Di − Dc preset subtracts it already).
    beside = {crit.id} | {cid for cid, c in CRITERIA_PRESETS.items() if c.min_di_minus_dc_c is None}

    def met(a: Attempt, cid: str) -> CriterionMet:
        at = met_at(a, cid)
        if at is None or cid not in beside:
            return CriterionMet(a.number, a.injection_s, at)
        return CriterionMet(a.number, a.injection_s, at, a.criteria_other_rise_c.get(cid),
                            a.criteria_notes.get(cid, ""))

    def met_at(a: Attempt, cid: str) -> float | None:
        if a.injection_s is None:
            return None
        if cid == crit.id:
            return figures.confirmed_at_s if primary is not None and a.number == primary.number else a.confirmed_at_s
        return a.criteria_met_at_s.get(cid) if cid else a.early_warming_at_s

    def row(name: str, threshold: str, source: str, cid: str, plain: str = "") -> CriterionRow:
        each = [met(a, cid) for a in attempts]
        chosen = next((m.met_at_s for m in each if primary is not None and m.attempt == primary.number), None)
        return CriterionRow(name, threshold, source, chosen, plain, each, cid)

    rows = [row(f"{crit.label} (in force)", crit.describe(), crit.source, crit.id, criterion_in_plain_words(crit))]
    judged = {cid for a in attempts for cid in a.criteria_met_at_s}
    rows += [row(f"{other.label} (for comparison)", other.describe(), other.source, cid)
             for cid, other in CRITERIA_PRESETS.items() if cid != crit.id and cid in judged]
    rows.append(row("Early warming (a sign, not a confirmation)",
                    f"≥ {cfg.early_slope_c_per_min:g} °C/min within {cfg.early_window_s / 60:g} min of injection",
                    "Park/Nahm et al., Anaesthesia 2010", ""))
    return rows


def _attempt_figures(data: SessionData, pipeline: BlockPipeline, attempt: Attempt) -> AttemptFigures:
    """Attempt ``attempt``'s figures from the replayed pipeline (see :class:`AttemptFigures`)."""
    inj = attempt.injection_s
    until = data.duration_s if attempt.ended_s is None else min(attempt.ended_s, data.duration_s)
    kin = attempt.kinetics
    base = attempt.baseline or {}
    limbs = {limb: LimbFigures(limb, limb is pipeline.blocked) for limb in Limb}
    fig = AttemptFigures(
        number=attempt.number, injection_s=inj, injections_s=attempt.injections_s, ended_s=attempt.ended_s,
        baseline_window_s=attempt.baseline_window_s, limbs=limbs, verdict_state=str(attempt.verdict.state),
        verdict_message=attempt.verdict.message, confirmed_at_s=attempt.confirmed_at_s, outcome=attempt.outcome,
        outcome_words=attempt.outcome_words, criteria_met_at_s=dict(attempt.criteria_met_at_s),
        kinetics={"+1 °C": kin.time_to_plus_1c_s, "50 % of peak": kin.time_to_50pct_peak_s,
                  "95 % of peak": kin.time_to_95pct_peak_s}, kinetics_withheld=kin.peak_fractions_withheld,
        late_injection=attempt.late_injection.words if attempt.late_injection else None)
    for limb, lf in limbs.items():
        info = base.get(limb)
        lf.baseline_c = round_c(info.celsius) if info else None
    if inj is None:
        return fig
    # The minute rule from this attempt's injection; minutes after it ended have no value here.
    rows = minute_table(pipeline, inj, until, minutes=REPORT_MINUTES)
    [at_end] = rows_at(pipeline, [until], inj, data.duration_s)
    for limb, lf in limbs.items():
        lf.at_minutes = {row.minute: row.celsius[limb] for row in rows}
        lf.latest_c = at_end.celsius[limb]
        lf.rise_c = at_end.rise_c[limb]
        peak = _peak_between(pipeline, limb, inj, until)
        if peak is not None:
            lf.peak_c = round_c(peak[1])
            lf.time_to_peak_s = peak[0] - inj
            if lf.peak_c is not None and lf.baseline_c is not None:
                lf.peak_rise_c = round_c(lf.peak_c - lf.baseline_c)
        if limb is pipeline.blocked:
            lf.max_slope_c_per_min = kin.max_slope_c_per_min
    fig.di_minus_dc_c = at_end.di_minus_dc_c
    return fig


def _peak_between(pipeline: BlockPipeline, limb: Limb, from_s: float, until_s: float) -> tuple[float, float] | None:
    """(session time, °C) of the highest counted reading of ``limb`` in [from_s, until_s]."""
    series = pipeline.series(limb)
    keep = counted(series) & (series.t_s >= from_s) & (series.t_s <= until_s)
    if not keep.any():
        return None
    t, c = series.t_s[keep], series.raw_c[keep]
    i = int(np.argmax(c))
    return float(t[i]), float(c[i])


def primary_attempt(figures: ReportFigures) -> AttemptFigures | None:
    """The attempt the session's verdict stands for: the first confirmed one (a confirmation is
    never lost to a later attempt), else the latest with an injection, else the latest."""
    attempts = figures.attempts
    confirmed = [a for a in attempts if a.confirmed_at_s is not None]
    injected = [a for a in attempts if a.injection_s is not None]
    chosen = confirmed or injected[-1:] or attempts[-1:]
    return chosen[0] if chosen else None


def _outcome_from_primary_attempt(data: SessionData, figures: ReportFigures) -> None:
    """With several attempts, the session's verdict is the primary attempt's, as logged live."""
    if len(figures.attempts) < 2:
        return
    primary = primary_attempt(figures)
    assert primary is not None
    logged = [v for v in data.verdicts if int(v.detail.get("attempt", 1)) == primary.number]
    if logged:
        figures.verdict_state, figures.verdict_message = logged[-1].state, logged[-1].message
        confirmed = logged[-1].detail.get("confirmed_at_s")
    else:
        figures.verdict_state, figures.verdict_message = primary.verdict_state, primary.verdict_message
        confirmed = primary.confirmed_at_s
    figures.confirmed_at_s = confirmed if isinstance(confirmed, int | float) and math.isfinite(confirmed) else None
