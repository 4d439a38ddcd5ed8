"""The offline path: a whole recording analysed at once, with the live pipeline's results.

It feeds the same :class:`BlockPipeline` whole arrays instead of single readings; every
stage is vectorised over the chunk it is given, so this is fast and gives exactly what
live processing of the same readings gives (tests/monitor/pipeline checks this).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.csvio import InterchangeRecording
from monitor.model import Limb, Marker, MarkerKind, Reading
from monitor.pipeline.artefacts import ArtefactSegment
from monitor.pipeline.baseline import BaselineInfo
from monitor.pipeline.block import BlockPipeline
from monitor.pipeline.config import Criteria, PipelineConfig
from monitor.pipeline.kinetics import Kinetics
from monitor.pipeline.timefmt import format_session_time
from monitor.pipeline.verdict import BlockVerdict, VerdictState


@dataclass(frozen=True)
class AnalysisResult:
    blocked: Limb
    injection_s: float
    criteria: Criteria
    core_c: float | None
    verdict: BlockVerdict
    outcome: str  # confirmed | not_confirmed | insufficient_data
    baselines: dict[Limb, BaselineInfo]
    kinetics: Kinetics
    early_warming_at_s: float | None
    warm_start: bool
    artefacts: list[ArtefactSegment]
    criteria_met_at_s: dict[str, float | None]
    verdict_changes: list[tuple[float, BlockVerdict]] = field(default_factory=list)
    end_s: float | None = None

    @property
    def confirmed_at_s(self) -> float | None:
        return self.verdict.confirmed_at_s if self.outcome == "confirmed" else None

    @property
    def baseline_warnings(self) -> list[str]:
        """Both feet's baseline warnings, words shared by both (a short window) said once."""
        return list(dict.fromkeys(w for info in self.baselines.values() for w in info.warnings))

    def to_json_dict(self) -> dict[str, Any]:
        """The `sympatherm analyze --json` object (schema in docs/detector.md, "--json")."""
        k = self.kinetics
        return {
            "verdict": self.outcome,
            "confirmed_at_s": _num(self.confirmed_at_s),
            "criteria": self.criteria.id,
            "baseline_c": {str(limb): _num(self.baselines[limb].celsius) for limb in Limb},
            "peak_rise_c": {"blocked": _num(k.peak_rise_c), "contralateral": _num(k.peak_rise_contralateral_c)},
            "max_di_minus_dc_c": _num(k.max_di_minus_dc_c),
            "early_warming_at_s": _num(self.early_warming_at_s),
            "warm_start": self.warm_start,
            "artifacts": [a.to_json_dict() for a in self.artefacts],
            # Extras beyond the contract:
            "blocked": str(self.blocked),
            "injection_s": _num(self.injection_s),
            "core_c": _num(self.core_c),
            "criteria_label": self.criteria.label,
            "criteria_source": self.criteria.source,
            "criteria_met": list(self.verdict.criteria_met) if self.outcome == "confirmed" else [],
            "criteria_met_at_s": {cid: _num(v) for cid, v in self.criteria_met_at_s.items()},
            "message": self.verdict.message,
            "baseline_warnings": self.baseline_warnings,
            "baseline_window_s": {"start": _num(self.baselines[self.blocked].window_start_s),
                                  "end": _num(self.baselines[self.blocked].window_end_s)},
            "kinetics": {
                "time_to_plus_1c_s": _num(k.time_to_plus_1c_s),
                "time_to_50pct_peak_s": _num(k.time_to_50pct_peak_s),
                "time_to_95pct_peak_s": _num(k.time_to_95pct_peak_s),
                "time_to_peak_s": _num(k.time_to_peak_s),
                "max_slope_c_per_min": _num(k.max_slope_c_per_min),
            },
            "verdict_changes": [{"at_s": _num(at), "state": str(v.state)} for at, v in self.verdict_changes],
        }

    def summary(self) -> str:
        """A short human summary (what `sympatherm analyze` prints without --json)."""
        b = self.baselines
        lines = [
            f"Blocked side: {self.blocked}; injection at {format_session_time(self.injection_s)}; "
            f"criteria {self.criteria.id} ({self.criteria.describe()}).",
            # The same verdict word as --json, then the detail in plain words.
            f"Verdict: {self.outcome.replace('_', ' ')}. {self.verdict.message}",
            "Baseline: " + ", ".join(f"{limb} {_fmt(b[limb].celsius, '°C')}" for limb in Limb)
            + f" (from {format_session_time(b[self.blocked].window_start_s)} to {format_session_time(b[self.blocked].window_end_s)}).",
            f"Peak rise: blocked {_fmt(self.kinetics.peak_rise_c, '°C')}, contralateral "
            f"{_fmt(self.kinetics.peak_rise_contralateral_c, '°C')}; max Di − Dc "
            f"{_fmt(self.kinetics.max_di_minus_dc_c, '°C')}.",
        ]
        if self.early_warming_at_s is not None:
            lines.append(f"Early warming seen at {format_session_time(self.early_warming_at_s)}.")
        if self.warm_start:
            lines.append("Warm start, limited headroom: a complete block may warm this foot only a little.")
        for w in self.baseline_warnings:
            lines.append(f"Warning: {w}")
        if self.artefacts:
            lines.append(f"Artefacts: {len(self.artefacts)} flagged segment(s), excluded from baseline and criteria:")
            shown = _SUMMARY_ARTEFACTS
            for a in self.artefacts[:shown]:
                until = "still going at the end" if a.end_s is None else f"to {format_session_time(a.end_s)}"
                lines.append(f"  {a.limb} foot, {format_session_time(a.start_s)} {until}: {a.reason}")
            if len(self.artefacts) > shown:
                lines.append(f"  … and {len(self.artefacts) - shown} more (all of them with --json).")
        lines.append("SympaTherm supports clinical judgement; it is not a certified medical device.")
        return "\n".join(lines)


_SUMMARY_ARTEFACTS = 12  # listed one per line in the text summary


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 4)


def _fmt(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:.2f} {unit}"


def analyze_arrays(limbs: dict[Limb, tuple[np.ndarray, ...]], blocked: Limb, injection_s: float | None, criteria: str | Criteria = "default",
                   core_c: float | None = None, markers: Sequence[Marker] = (),
                   config: PipelineConfig | None = None) -> AnalysisResult:
    """Analyse arrays per limb: ``{limb: (t_s, celsius, status[, sequence])}`` (NaN celsius: no temperature).

    ``injection_s`` replaces the injection marks in ``markers``; None keeps them (several allowed)."""
    pipe = BlockPipeline(blocked, criteria, config, core_c)
    for limb, arrays in limbs.items():
        pipe.push_arrays(limb, *arrays)
    return _finish(pipe, list(markers), injection_s)


def analyze(data: InterchangeRecording | Iterable[Reading], blocked: Limb, injection_s: float | None = None,
            criteria: str | Criteria = "default", core_c: float | None = None, markers: Sequence[Marker] = (),
            config: PipelineConfig | None = None) -> AnalysisResult:
    """Analyse a whole recording. ``injection_s`` overrides the recording's injection marks (for a
    recording: its ``# marker: injection,...`` lines, else its ``injection_s`` metadata)."""
    pipe = BlockPipeline(blocked, criteria, config, core_c)
    all_markers = list(markers)
    if isinstance(data, InterchangeRecording):
        for limb, arr in data.limbs.items():
            pipe.push_arrays(limb, arr.t_s, arr.celsius, arr.status, arr.sequence)
        all_markers += data.markers
        # The file's injection marks (there may be several) win over its single injection_s line.
        if injection_s is None and not any(m.kind is MarkerKind.INJECTION for m in data.markers):
            injection_s = data.injection_s
    else:
        pipe.push_many(data)
    return _finish(pipe, all_markers, injection_s)


def _finish(pipe: BlockPipeline, all_markers: list[Marker], injection_s: float | None) -> AnalysisResult:
    core_c = pipe.core_c
    if injection_s is not None:
        all_markers = [m for m in all_markers if m.kind is not MarkerKind.INJECTION]
        all_markers.append(Marker(MarkerKind.INJECTION, float(injection_s), "injection"))
    injections = sorted(m.session_s for m in all_markers if m.kind is MarkerKind.INJECTION)
    if not injections:
        raise ValueError("no injection time: give one (--injection-at) or put 'injection_s' in the file")
    pipe.set_markers(all_markers)
    pipe.finish()
    verdict = pipe.verdict
    baselines = pipe.baselines or {}
    if not baselines:
        baselines = {limb: BaselineInfo(None, injections[0], injections[0], 0,
                                        ("no readings",)) for limb in Limb}
    if verdict.state is VerdictState.CONFIRMED:
        outcome = "confirmed"
    elif any(b.celsius is None for b in baselines.values()) or not pipe.judged_enough():
        outcome = "insufficient_data"
    else:
        outcome = "not_confirmed"
    return AnalysisResult(
        blocked=pipe.blocked, injection_s=injections[0], criteria=pipe.criteria, core_c=core_c, verdict=verdict,
        outcome=outcome, baselines=baselines, kinetics=pipe.kinetics(), early_warming_at_s=pipe.early_warming_at_s,
        warm_start=pipe.warm_start, artefacts=pipe.artefacts, criteria_met_at_s=pipe.criteria_met_at,
        verdict_changes=pipe.verdict_changes, end_s=pipe.snapshot().now_s,
    )
