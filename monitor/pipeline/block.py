"""BlockPipeline: readings in, block verdict out. Qt-free, numpy throughout.

Readings are appended to per-limb growable buffers (cheap) and processed lazily, in one
vectorised chunk, whenever a result is asked for. Criteria are judged on a 1 s grid of
"ticks"; a tick is judged once data has arrived ``finalise_lag_s`` beyond it, so that a
touch or lift recognised a few seconds late has already been dated back over it. Every
result is therefore a function of the readings alone, whatever their chunking: the live
path and the offline batch path agree exactly.

This module composes the stages: :mod:`.limb` (each foot's readings, smoothing and
artefacts), :mod:`.ticks` (the evaluation grid), :mod:`.baseline` (which baseline, and its
value), :mod:`.criteria` (holds and early warming), :mod:`.verdict` (the state machine),
:mod:`.kinetics` (the course after the injection) and :mod:`.snapshot` (what the display reads).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from monitor.model import Limb, Marker, MarkerKind, Reading
from monitor.pipeline.artefacts import (
    FLAG_LIFT,
    FLAG_SETTLING,
    ArtefactKind,
    ArtefactSegment,
    OpenSegment,
    within_spans,
)
from monitor.pipeline.attempts import Attempt, LateInjection, attempt_injections, late_injection
from monitor.pipeline.baseline import BaselineInfo, Baselines, injection_times, settled_at, usable
from monitor.pipeline.buffers import GrowableArray
from monitor.pipeline.config import CRITERIA_PRESETS, Criteria, PipelineConfig, resolve_criteria
from monitor.pipeline.criteria import CriteriaJudge, holding, judged_enough
from monitor.pipeline.difference import BaselineOffsets, DifferenceSeries, DifferenceTracker
from monitor.pipeline.kinetics import Kinetics, KineticsTracker
from monitor.pipeline.limb import STATUS_CODE, LimbTrack, run_starts
from monitor.pipeline.snapshot import (
    LimbSeries,
    PipelineSnapshot,
    criteria_notes,
    current_slope,
    judged_difference,
    limb_readout,
    limb_series,
    snapshot_warnings,
    systemic_words,
    withheld_because,
)
from monitor.pipeline.ticks import Ticks
from monitor.pipeline.timefmt import format_session_time
from monitor.pipeline.verdict import BlockVerdict, Event, VerdictMachine, VerdictState, event

__all__ = [
    "Attempt",
    "BaselineInfo",
    "BlockPipeline",
    "BlockVerdict",
    "CRITERIA_PRESETS",
    "Criteria",
    "DifferenceSeries",
    "Kinetics",
    "LimbSeries",
    "PipelineConfig",
    "PipelineSnapshot",
    "VerdictState",
    "format_session_time",
    "resolve_criteria",
    # importable from here before the split; they live in .artefacts, .buffers and .limb
    "FLAG_SETTLING",
    "GrowableArray",
    "OpenSegment",
    "run_starts",
]


class BlockPipeline:
    """Detects a sympathetic block from both feet's readings.

    ``blocked`` is the side that was injected; ``criteria`` a preset id from
    :data:`CRITERIA_PRESETS` or a :class:`Criteria`; ``core_c`` is needed by ``core-3``.
    """

    def __init__(self, blocked: Limb, criteria: str | Criteria = "default", config: PipelineConfig | None = None,
                 core_c: float | None = None) -> None:
        self.blocked = Limb.parse(blocked) if isinstance(blocked, str) else blocked
        self.criteria: Criteria = resolve_criteria(criteria)
        self.config = config or PipelineConfig()
        self.core_c = core_c
        if self.criteria.needs_core and core_c is None:
            raise ValueError(f"criteria {self.criteria.id!r} needs a core temperature (core_c)")
        self._tracks = {limb: LimbTrack(limb, self.config, other_foot=limb is self.blocked.other) for limb in Limb}
        self._now: float | None = None
        self._markers: list[Marker] = []
        self._ticks = Ticks(self.config)
        self._finished = False
        # Every preset is judged alongside (for the report); the chosen one drives the verdict.
        self._judged: dict[str, Criteria] = {
            cid: c for cid, c in CRITERIA_PRESETS.items() if not c.needs_core or core_c is not None
        }
        self._judged[self.criteria.id] = self.criteria
        self._dirty = False
        self._difference = DifferenceTracker(self.blocked, self.config)
        self._reset_evaluation()

    # ---- input ---------------------------------------------------------------------------
    def push(self, reading: Reading) -> None:
        if self._tracks[reading.limb].append(reading.session_s, reading.celsius, STATUS_CODE[reading.status],
                                             reading.sequence, reading.device_time_s):
            if self._now is None or reading.session_s > self._now:
                self._now = reading.session_s
            self._dirty = True

    def push_many(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            self.push(r)

    def push_arrays(self, limb: Limb, t_s: np.ndarray, celsius: np.ndarray, status: np.ndarray | None = None,
                    sequence: np.ndarray | None = None) -> None:
        """Append many readings of one limb at once (time-ordered; status as PROBE_STATUS_CODES indices)."""
        t_s = np.asarray(t_s, dtype=np.float64)
        if t_s.size == 0:
            return
        self._tracks[limb].append_arrays(t_s, np.asarray(celsius, dtype=np.float64), status, sequence)
        last = self._tracks[limb].last_t
        if last is not None and (self._now is None or last > self._now):
            self._now = last
        self._dirty = True

    def add_marker(self, marker: Marker) -> None:
        limb = marker.checked_limb  # validates a "probe checked" marker before anything changes
        self._markers.append(marker)
        if limb is not None:
            self._apply_checks()
        if marker.kind in (MarkerKind.INJECTION, MarkerKind.BASELINE):
            self._reset_evaluation()
            self._dirty = True

    def set_markers(self, markers: Sequence[Marker]) -> None:
        """Replace all markers (after one was moved or deleted); the verdict is re-derived."""
        for m in markers:
            m.checked_limb  # noqa: B018 -- validates "probe checked" markers before anything changes
        self._markers = list(markers)
        self._apply_checks()
        self._reset_evaluation()
        self._dirty = True

    def _apply_checks(self) -> None:
        """Give each foot its "probe checked" times. A check later than every reading processed so
        far simply waits for its readings; one dated among them (placed late, moved or removed)
        re-judges that foot's whole history, so the result is what the batch path gives."""
        rebuilt = False
        for limb in Limb:
            track = self._tracks[limb]
            checks = sorted(m.session_s for m in self._markers if m.checked_limb is limb)
            if checks == track.checks:
                continue
            old, new = set(track.checks), set(checks)
            changed = sorted(old ^ new)
            done_until = float(track.vt.view[track.v_done - 1]) if track.v_done else -math.inf
            if old <= new and changed[0] > done_until:
                track.checks = checks
                continue
            self._tracks[limb] = self._rebuilt_track(track, checks)
            rebuilt = True
        if rebuilt:
            # Ticks and the difference series hold values derived from the old artefacts.
            self._ticks = Ticks(self.config)
            self._difference = DifferenceTracker(self.blocked, self.config)
            self._reset_evaluation()
            self._dirty = True

    def _rebuilt_track(self, track: LimbTrack, checks: list[float]) -> LimbTrack:
        fresh = LimbTrack(track.limb, self.config, other_foot=track.other_foot)
        fresh.checks = checks
        fresh.append_arrays(track.t.view.copy(), track.raw.view.copy(), track.status.view.copy(),
                            track.seq.view.copy(), track.devt.view.copy())
        fresh.out_of_order = track.out_of_order
        return fresh

    def finish(self) -> None:
        """The recording has ended: judge the last ticks too (no more data can date back over them)."""
        self._finished = True
        self._dirty = True
        self._update()

    @property
    def markers(self) -> list[Marker]:
        return list(self._markers)

    # ---- processing ----------------------------------------------------------------------
    def _update(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for track in self._tracks.values():
            track.process()
        if self._now is None:
            return
        self._ticks.advance(self._tracks, self._now, self._finished)
        self._evaluate()

    # ---- criteria and verdict (depends on markers; recomputed from scratch when they change) ----
    def _reset_evaluation(self) -> None:
        self._eval_done = 0  # ticks judged so far
        self._bases = Baselines(self._markers, self.config)  # the baseline plan, from the markers
        epochs = self._bases.epochs
        inj = self._injections()
        # One verdict, criteria judge and kinetics per attempt (baseline epoch); at least one.
        self._runs = [_AttemptRun(k + 1, VerdictMachine(self.criteria, self.config, k + 1, ep),
                                  CriteriaJudge(self._judged, self.criteria.id, self.blocked, self.config, self.core_c),
                                  KineticsTracker(self.blocked), attempt_injections(epochs, k, inj))
                      for k, ep in enumerate(epochs)]
        if not self._runs:
            self._runs = [_AttemptRun(1, VerdictMachine(self.criteria, self.config),
                                      CriteriaJudge(self._judged, self.criteria.id, self.blocked, self.config,
                                                    self.core_c), KineticsTracker(self.blocked), tuple(inj))]

    @property
    def _current(self) -> _AttemptRun:
        return self._runs[-1]

    @property
    def _machine(self) -> VerdictMachine:
        return self._current.machine

    @property
    def _judge(self) -> CriteriaJudge:
        return self._current.judge

    def _injections(self) -> list[float]:
        return injection_times(self._markers)

    def _evaluate(self) -> None:
        """Judge the ticks added since the last call and apply their events to the verdict."""
        n = len(self._ticks.t)
        i0 = self._eval_done
        if n <= i0:
            return
        self._eval_done = n
        times = self._ticks.t.view[:n]
        inj = self._injections()
        self._check_settled(times, i0, n, inj)
        events = self._epoch_events(times, i0, n, inj)
        self._check_not_confirmed(times, inj, events)
        epochs, taken = self._bases.epochs, self._bases.taken
        for at, _, what, k in sorted(events):
            run = self._runs[k]
            if run.machine.state is not VerdictState.CONFIRMED:  # a confirmation stands
                run.machine.apply(at, what, epochs[k], taken[k], run.injections)

    def _check_settled(self, times: np.ndarray, i0: int, n: int, inj: list[float]) -> None:
        """Before any "Baseline start" (or injection): "baseline captured" once both probes settled."""
        epochs = self._bases.epochs
        machine = self._runs[0].machine
        if epochs and epochs[0].marker_s is not None:
            auto_end = int(np.searchsorted(times, epochs[0].marker_s, side="left"))
        elif inj:
            auto_end = int(np.searchsorted(times, inj[0], side="right"))
        else:
            auto_end = n
        if auto_end > i0 and machine.state is VerdictState.WAITING_FOR_BASELINE:
            at = settled_at(self._ticks, self._tracks, i0, auto_end)
            if at is not None:
                machine.settled(at)

    def _epoch_events(self, times: np.ndarray, i0: int, n: int, inj: list[float]) -> list[Event]:
        """Per baseline epoch, on ticks i0..n: its window begun and ended (the baseline is taken
        then), monitoring begun, and what the criteria found."""
        def first_tick(at: float) -> int | None:
            """Index of the first tick at or after ``at``, if it is in this chunk."""
            j = int(np.searchsorted(times, at, side="left"))
            return j if i0 <= j < n else None

        events: list[Event] = []
        for k, ep in enumerate(self._bases.epochs):
            if ep.marker_s is not None and (j := first_tick(ep.marker_s)) is not None:
                events.append(event(float(times[j]), "capturing", k))
                if ep.after_injection:  # the attempt before it ends here
                    events.append(event(float(times[j]), "superseded", k - 1))
            if (j := first_tick(ep.window_end_s)) is not None:
                # Data up to finalise_lag_s beyond the window's end is in: its flags are final.
                self._bases.take(k, self._tracks)
                if ep.marker_s is not None and ep.judge_from_s > ep.window_end_s:
                    events.append(event(float(times[j]), "captured", k))
            if math.isinf(ep.judge_from_s):
                continue
            lo = int(np.searchsorted(times, ep.judge_from_s, side="right"))
            hi = int(np.searchsorted(times, ep.judge_until_s, side="left"))
            if i0 <= lo < min(hi, n):
                events.append(event(float(times[lo]), "monitoring", k))
            lo, hi = max(lo, i0), min(hi, n)
            base = self._bases.taken[k]
            if hi > lo and usable(base):
                run = self._runs[k]
                run.judge.judge(self._ticks, k, base, lo, hi, list(run.injections), events,
                                self._tracks[self.blocked.other].checks)
        return events

    def _check_not_confirmed(self, times: np.ndarray, inj: list[float], events: list[Event]) -> None:
        """"Not confirmed yet" once ``not_confirmed_after_min`` have passed since the attempt's
        latest injection (while that attempt lasts)."""
        for k, run in enumerate(self._runs):
            if not run.injections or run.machine.state is VerdictState.CONFIRMED:
                continue
            last_inj = run.injections[-1]
            nc_at = last_inj + self.config.not_confirmed_after_min * 60.0
            until = self._bases.epochs[k].judge_until_s if self._bases.epochs else math.inf
            if (times[-1] >= nc_at and nc_at < until
                    and (run.not_confirmed_at is None or run.not_confirmed_at < last_inj)):
                at = run.not_confirmed_at = float(times[int(np.searchsorted(times, nc_at, side="left"))])
                events.append(event(at, "not_confirmed", k))

    # ---- results -------------------------------------------------------------------------
    @property
    def verdict(self) -> BlockVerdict:
        self._update()
        return self._machine.verdict

    @property
    def verdict_changes(self) -> list[tuple[float, BlockVerdict]]:
        """Every change of verdict of every attempt, in time order (each names its attempt); an
        attempt ends before the next one's first change, so the last is the current verdict."""
        self._update()
        merged = [(at, v) for run in self._runs for at, v in run.machine.changes]
        merged.sort(key=lambda change: (change[0], change[1].attempt))
        return merged

    @property
    def attempt(self) -> int:
        """The current attempt's number (1 until a new baseline for a repeat injection)."""
        return len(self._runs)

    def attempts(self) -> list[Attempt]:
        """Every attempt so far, oldest first; the last is the current one."""
        self._update()
        epochs = self._bases.epochs
        out = []
        for k, run in enumerate(self._runs):
            ep = epochs[k] if epochs else None
            window = (ep.window_start_s, ep.window_end_s) if ep else (math.nan, math.nan)
            until = ep.judge_until_s if ep else math.inf
            out.append(Attempt(
                number=run.number, baseline=self._bases.taken[k] if ep else None, baseline_window_s=window,
                injections_s=run.injections, ended_s=None if math.isinf(until) else until,
                verdict=run.machine.verdict, kinetics=self._attempt_kinetics(k),
                criteria_met_at_s=dict(run.judge.met_at), early_warming_at_s=run.judge.early_at,
                criteria_other_rise_c=dict(run.judge.other_rise_at_met), criteria_notes=self._notes(run.judge),
                judged_enough=judged_enough(self._ticks, epochs[k:k + 1], self.criteria.hold_s) if ep else False,
                late_injection=self._late_injection(k), recording_ended=self._finished))
        return out

    def _attempt_kinetics(self, k: int) -> Kinetics:
        run = self._runs[k]
        if not run.injections or not self._bases.epochs or not usable(self._bases.taken[k]):
            return Kinetics()
        return run.kinetics.update(self._ticks, run.injections[0], self._bases, self._bases.epochs[k].judge_until_s,
                                   self._turned_back_spans([run]))

    def _late_injection(self, k: int) -> LateInjection | None:
        """Attempt k's injection marked after the blocked foot had begun to warm, or None."""
        run = self._runs[k]
        if not run.injections:
            return None
        return late_injection(self._ticks, self.blocked, run.injections[0])

    @property
    def baselines(self) -> dict[Limb, BaselineInfo] | None:
        self._update()
        return self._bases.in_force

    @property
    def criteria_met_at(self) -> dict[str, float | None]:
        self._update()
        return dict(self._judge.met_at)

    @property
    def criteria_other_rise_c(self) -> dict[str, float | None]:
        """The other foot's rise as Di − Dc counted it when each preset was met (None: not met)."""
        self._update()
        return dict(self._judge.other_rise_at_met)

    @property
    def early_warming_at_s(self) -> float | None:
        self._update()
        return self._judge.early_at

    @property
    def warm_start(self) -> bool:
        self._update()
        base = self._bases.in_force
        if not base:
            return False
        b = base[self.blocked].celsius
        return b is not None and b >= self.config.warm_start_c

    def series(self, limb: Limb) -> LimbSeries:
        """``limb``'s whole history; on the other foot, the stretches the criteria left out as
        turned back (see CriteriaJudge._turned_back) carry the lift flag, as the artefacts list them."""
        self._update()
        series = limb_series(self._tracks[limb])
        spans = self._turned_back_spans() if limb is self.blocked.other else []
        if not spans:
            return series
        return replace(series, flags=series.flags | np.where(within_spans(series.t_s, spans), FLAG_LIFT, 0).astype(
            series.flags.dtype))

    def _turned_back_spans(self, runs: Sequence[_AttemptRun] | None = None) -> list[tuple[float, float]]:
        """[from, until) of every stretch the criteria left the other foot out (of ``runs``: all)."""
        return [(tb.from_s, math.inf if tb.until_s is None else tb.until_s)
                for run in (self._runs if runs is None else runs) for tb in run.judge.turned_back]

    def difference_series(self) -> DifferenceSeries:
        """Di − Dc over the whole session on a common time base (both feet's reading times), for
        probes that report at different times and rates; see :class:`DifferenceSeries`. Cheap to
        call at every redraw: only the last ``finalise_lag_s`` seconds are recomputed."""
        self._update()
        series = self._difference.series(self._tracks, self._baseline_offsets(), self._finished)
        spans = self._turned_back_spans()
        if not spans:
            return series
        return replace(series, di_minus_dc_c=np.where(within_spans(series.t_s, spans), np.nan, series.di_minus_dc_c))

    def _baseline_offsets(self) -> BaselineOffsets | None:
        """Blocked minus contralateral baseline per epoch, from when each is in force (None: no
        baseline captured yet, so the difference series is the plain one)."""
        return self._bases.offsets(self.blocked)

    @property
    def artefacts(self) -> list[ArtefactSegment]:
        """Every artefact segment of both feet, by start time (an open "no data" one included)."""
        self._update()
        out: list[ArtefactSegment] = []
        for limb, tr in self._tracks.items():
            out.extend(seg.freeze(limb) for seg in tr.segments)
            last = tr.last_t
            if last is not None and self._now is not None and self._now - last > tr.gap_after.last():
                end = self._now if self._finished else None
                out.append(ArtefactSegment(limb, ArtefactKind.NO_DATA, last, end, ArtefactKind.NO_DATA.plain))
        out.extend(self._turned_back_segments())
        out.sort(key=lambda s: (s.start_s, str(s.limb), str(s.kind), -1.0 if s.end_s is None else s.end_s))
        return out

    def _turned_back_segments(self) -> list[ArtefactSegment]:
        """The other foot left out of Di − Dc by the criteria (warmed, then fell back), every attempt's,
        as the lifted probe it most likely is (so it is stored, reported and raises the tape alarm)."""
        other = self.blocked.other
        seen: set[float] = set()
        out = []
        for run in self._runs:
            for tb in run.judge.turned_back:
                if tb.from_s not in seen:
                    seen.add(tb.from_s)
                    out.append(ArtefactSegment(other, ArtefactKind.PROBE_LIFTED, tb.from_s, tb.until_s, tb.words,
                                               ended_by_check=tb.until_s is not None))
        return out

    def judged_enough(self) -> bool:
        """True if, after the current attempt's injection, both feet had valid data for at least
        one hold period on ticks judged against its baseline."""
        self._update()
        return judged_enough(self._ticks, self._bases.epochs[-1:], self.criteria.hold_s)

    def allowed_gap_s(self, limb: Limb) -> float:
        """How long ``limb`` may stay silent after its latest reading before it counts as "no
        data": ``gap_s`` (5 s), or ``rhythm_factor`` × its typical interval for a probe that
        reports slowly (at most ``max_gap_s``). For alarms that should follow the probe's rhythm."""
        tr = self._tracks[limb]
        return float(tr.gap_after.last()) if len(tr.t) else self.config.gap_s

    def typical_interval_s(self, limb: Limb) -> float | None:
        """The limb's typical interval between readings (lower median of its latest ones)."""
        return self._tracks[limb].typical_interval_s()

    @property
    def baseline_history(self) -> list[dict[Limb, BaselineInfo]]:
        """Every baseline captured so far, oldest first (the last is the one in force)."""
        self._update()
        return self._bases.history

    def kinetics(self) -> Kinetics:
        """The course after the current attempt's injection (see :mod:`monitor.pipeline.kinetics`)."""
        self._update()
        return self._attempt_kinetics(len(self._runs) - 1)

    def snapshot(self, now_s: float | None = None) -> PipelineSnapshot:
        """The current state. ``now_s`` (the session clock) dates how old each reading is; by
        default the newest reading's time, which cannot show that both probes went quiet."""
        self._update()
        clock = now_s if now_s is not None else self._now
        readout = {limb: limb_readout(tr, clock) for limb, tr in self._tracks.items()}
        in_force = self._bases.in_force
        base = {limb: (in_force[limb].celsius if in_force else None) for limb in Limb}
        # A flagged or silent foot has no current rise: its last value would look valid and current
        # (a lifted probe's fall made a Di − Dc no reading supports). The criteria leave it out too.
        turned = self._judge.turned_back
        turned_words = turned[-1].words if turned and turned[-1].until_s is None else None
        other = self.blocked.other
        if turned_words is not None and readout[other].status == "OK":  # left out by the criteria: say so
            readout[other] = replace(readout[other], status=ArtefactKind.PROBE_LIFTED.plain)
        withheld = {limb: (withheld_because(readout[limb]) if base[limb] is not None else None) for limb in Limb}
        rise = {limb: None if withheld[limb] else _minus(readout[limb].smooth_c, base[limb]) for limb in Limb}
        b, c = self.blocked, self.blocked.other
        didc = _minus(rise[b], rise[c])
        warm = self.warm_start
        inj = self._injections()
        current = self._current
        late = self._late_injection(len(self._runs) - 1)
        warnings = snapshot_warnings(in_force, base[b] if warm else None)
        if late is not None:
            warnings += (late.words,)
        if turned_words is not None:
            warnings += (turned_words[:1].upper() + turned_words[1:] + ".",)
        judge = self._judge
        judged, judged_words = judged_difference(rise[b], rise[c], judge.other_high_c)
        if judged_words is not None:
            warnings += (judged_words,)
        systemic = systemic_words(rise[b], judge.other_high_c, self.config.systemic_rise_c)
        if systemic is not None:
            warnings += (systemic,)
        attempts = self.attempts() if len(self._runs) > 1 else []
        return PipelineSnapshot(
            now_s=clock, blocked=b, criteria_id=self.criteria.id,
            raw_c={limb: r.raw_c for limb, r in readout.items()},
            smooth_c={limb: r.smooth_c for limb, r in readout.items()},
            reading_age_s={limb: r.age_s for limb, r in readout.items()},
            limb_status={limb: r.status for limb, r in readout.items()},
            baseline_c=base, rise_c=rise, di_minus_dc_c=didc,
            slope_c_per_min=current_slope(self._tracks[b], self.config.slope_window_s),
            verdict=self._machine.verdict, warnings=warnings,
            early_warming_at_s=self._judge.early_at, warm_start=warm,
            injection_s=inj[0] if inj else None, criteria_met_at_s=dict(self._judge.met_at),
            kinetics=self.kinetics(), baseline_note=self._bases.note(),
            baseline_window_s=self._bases.current_window(self._now), rise_withheld=withheld,
            holding=holding(self._judge, self.criteria),
            attempt=current.number, attempt_injection_s=current.injections[0] if current.injections else None,
            earlier_attempts=tuple(attempts[:-1]), late_injection=late, systemic_warming=systemic,
            di_minus_dc_judged_c=judged,
            criteria_other_rise_c=dict(judge.other_rise_at_met),
            criteria_notes=self._notes(judge),
        )

    def _notes(self, judge: CriteriaJudge) -> dict[str, str]:
        """Beside each preset ``judge`` found met, the other foot's course then, in words."""
        rise_only = {cid for cid, crit in judge.judged.items() if crit.min_di_minus_dc_c is None}
        return criteria_notes(judge.met_at, judge.other_rise_at_met, rise_only, self.config.systemic_rise_c)


class _AttemptRun:
    """The live state of one attempt: its verdict, criteria judge, kinetics and injections."""

    def __init__(self, number: int, machine: VerdictMachine, judge: CriteriaJudge, kinetics: KineticsTracker,
                 injections: tuple[float, ...]) -> None:
        self.number = number
        self.machine = machine
        self.judge = judge
        self.kinetics = kinetics
        self.injections = injections
        self.not_confirmed_at: float | None = None


def _minus(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None
