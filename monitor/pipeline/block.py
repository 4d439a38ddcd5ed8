"""BlockPipeline: readings in, block verdict out. Qt-free, numpy throughout.

Readings are appended to per-limb growable buffers (cheap) and processed lazily, in one
vectorised chunk, whenever a result is asked for. Criteria are judged on a 1 s grid of
"ticks"; a tick is judged once data has arrived ``finalise_lag_s`` beyond it, so that a
touch or lift recognised a few seconds late has already been dated back over it. Every
result is therefore a function of the readings alone, whatever their chunking: the live
path and the offline batch path agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from monitor.model import Limb, Marker, MarkerKind, Reading
from monitor.pipeline.artefacts import (
    FLAG_SETTLING,
    ArtefactKind,
    ArtefactSegment,
    OpenSegment,
)
from monitor.pipeline.buffers import GrowableArray
from monitor.pipeline.config import CRITERIA_PRESETS, Criteria, PipelineConfig, resolve_criteria
from monitor.pipeline.difference import BaselineOffsets, DifferenceSeries, DifferenceTracker
from monitor.pipeline.limb import STATUS_CODE, LimbTrack, run_starts
from monitor.pipeline.verdict import BlockVerdict, VerdictState

# Artefacts whose readings are smoothed: the smoothing window after them is tainted too.
_SMOOTHED_KINDS = (ArtefactKind.PROBE_LIFTED, ArtefactKind.TOUCH, ArtefactKind.SETTLING, ArtefactKind.FROZEN)


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
class BaselineInfo:
    celsius: float | None
    window_start_s: float
    window_end_s: float
    readings_used: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Kinetics:
    """Course after the injection (times in seconds after the first injection mark)."""

    time_to_plus_1c_s: float | None = None
    time_to_50pct_peak_s: float | None = None
    time_to_95pct_peak_s: float | None = None
    peak_rise_c: float | None = None
    time_to_peak_s: float | None = None
    max_slope_c_per_min: float | None = None
    peak_rise_contralateral_c: float | None = None
    max_di_minus_dc_c: float | None = None


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


class _Ticks:
    """Per-tick limb values on the 1 s grid (independent of markers)."""

    def __init__(self) -> None:
        self.t = GrowableArray(np.float64)
        self.val = {limb: GrowableArray(np.float64, fill=np.nan) for limb in Limb}
        self.ok = {limb: GrowableArray(np.bool_) for limb in Limb}
        self.bad_cum = {limb: GrowableArray(np.int64) for limb in Limb}  # not-ok ticks up to and incl.
        # The time of the reading each tick holds, and whether its probe reports slowly (its
        # no-data limit is beyond gap_s): a slow probe's slope is taken between reading times.
        self.read_t = {limb: GrowableArray(np.float64, fill=np.nan) for limb in Limb}
        self.slow = {limb: GrowableArray(np.bool_) for limb in Limb}
        self.next_index: int | None = None  # grid index (time / tick_s) of the next tick to judge
        self.pending: dict[Limb, list[OpenSegment]] = {limb: [] for limb in Limb}
        self.seen: dict[Limb, int] = {limb: 0 for limb in Limb}


class BlockPipeline:
    """Detects a sympathetic block from both feet's readings.

    ``blocked`` is the side that was injected; ``criteria`` a preset id from
    :data:`CRITERIA_PRESETS` or a :class:`Criteria`; ``core_c`` is needed by ``core-3``.
    """

    def __init__(self, blocked: Limb, criteria: str | Criteria = "default", config: PipelineConfig | None = None,
                 core_c: float | None = None) -> None:
        self.blocked = Limb.parse(blocked) if isinstance(blocked, str) else blocked
        self.criteria = resolve_criteria(criteria)
        self.config = config or PipelineConfig()
        self.core_c = core_c
        if self.criteria.needs_core and core_c is None:
            raise ValueError(f"criteria {self.criteria.id!r} needs a core temperature (core_c)")
        self._tracks = {limb: LimbTrack(limb, self.config) for limb in Limb}
        self._now: float | None = None
        self._markers: list[Marker] = []
        self._ticks = _Ticks()
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
            self._ticks = _Ticks()
            self._difference = DifferenceTracker(self.blocked, self.config)
            self._reset_evaluation()
            self._dirty = True

    def _rebuilt_track(self, track: LimbTrack, checks: list[float]) -> LimbTrack:
        fresh = LimbTrack(track.limb, self.config)
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
        lag = 0.0 if self._finished else self.config.finalise_lag_s
        self._extend_ticks(math.floor((self._now - lag) / self.config.tick_s + 1e-9))
        self._evaluate()

    def _extend_ticks(self, last_index: int) -> None:
        cfg = self.config
        tk = self._ticks
        if tk.next_index is None:
            firsts = [float(tr.t.view[0]) for tr in self._tracks.values() if len(tr.t)]
            tk.next_index = math.ceil(min(firsts) / cfg.tick_s - 1e-9)
        i0 = tk.next_index
        if last_index < i0:
            return
        tk.next_index = last_index + 1
        T = self._grid(i0, last_index)
        if T.size == 0:
            return
        tk.t.extend(T)
        for limb, track in self._tracks.items():
            t = track.t.view
            if t.shape[0] == 0:  # this probe has not reported yet
                idx = np.zeros(T.shape, dtype=np.int64)
                ok = np.zeros(T.shape, dtype=bool)
                tk.read_t[limb].extend(np.full(T.shape, np.nan))
                tk.slow[limb].extend(ok)
            else:
                idx = np.searchsorted(t, T, side="right") - 1
                has = idx >= 0
                idx = np.maximum(idx, 0)
                # A reading stays current for the silence its probe's rhythm allows (gap_s, or
                # longer for a slow BLE thermometer), a limit fixed when the reading arrived.
                ok = has & track.valid.view[idx] & (T - t[idx] <= track.gap_after.view[idx])
                tk.read_t[limb].extend(t[idx])
                tk.slow[limb].extend(track.gap_after.view[idx] > cfg.gap_s)
            # Artefact segments break the hold; pull in the newly detected ones.
            pending = tk.pending[limb]
            pending.extend(track.segments[tk.seen[limb]:])
            tk.seen[limb] = len(track.segments)
            keep = []
            for seg in pending:
                if seg.kind is ArtefactKind.NO_DATA:
                    # Judged by reading age above (older than its limit: not ok). The segment is only
                    # known when data resumes, too late for ticks already judged live.
                    continue
                extra = cfg.smoothing_window_s if seg.kind in _SMOOTHED_KINDS else 0.0
                end = np.inf if seg.end_s is None else seg.end_s + extra
                lo = np.searchsorted(T, seg.excluded_from_s, side="left")
                hi = np.searchsorted(T, end, side="right")
                if hi > lo:
                    ok[lo:hi] = False
                if seg.end_s is None or end >= T[-1]:
                    keep.append(seg)
            tk.pending[limb] = keep
            val = np.where(ok, track.smooth.view[idx], np.nan) if t.shape[0] else np.full(T.shape, np.nan)
            tk.val[limb].extend(val)
            tk.ok[limb].extend(ok)
            prev = tk.bad_cum[limb].last() if len(tk.bad_cum[limb]) else 0
            tk.bad_cum[limb].extend(prev + np.cumsum(~ok))

    def _grid(self, i0: int, i1: int) -> np.ndarray:
        """Tick times for grid indices i0..i1, except during long silences.

        A tick is judged only if some reading (either foot) is at most ``judge_silence_s`` old:
        a recording with hours of silence, or a file with a mistyped time, would otherwise ask
        for millions of empty ticks. The rule depends on the data only, so live and offline
        agree.
        """
        cfg = self.config
        keep = cfg.judge_silence_s
        if i1 - i0 < 100_000:
            T = np.arange(i0, i1 + 1, dtype=np.float64) * cfg.tick_s
            last = np.full(T.shape, -np.inf)
            for tr in self._tracks.values():
                t = tr.t.view
                if t.size:
                    j = np.searchsorted(t, T, side="right") - 1
                    last = np.maximum(last, np.where(j >= 0, t[np.maximum(j, 0)], -np.inf))
            return T[T - last <= keep]
        # A huge range: build it from the readings' own [t, t + keep] intervals instead.
        times = [tr.t.view[np.searchsorted(tr.t.view, i0 * cfg.tick_s - keep):
                            np.searchsorted(tr.t.view, i1 * cfg.tick_s, side="right")] for tr in self._tracks.values()]
        t = np.unique(np.concatenate(times))
        lo = np.maximum(np.ceil(t / cfg.tick_s - 1e-9).astype(np.int64), i0)
        hi = np.minimum(np.floor((t + keep) / cfg.tick_s + 1e-9).astype(np.int64), i1)
        keep_mask = hi >= lo
        lo, hi = lo[keep_mask], np.maximum.accumulate(hi[keep_mask]) if keep_mask.any() else hi[keep_mask]
        if lo.size == 0:
            return np.empty(0)
        # Merge the overlapping [lo, hi] intervals (lo is sorted), then list their indices.
        starts = np.concatenate(([True], lo[1:] > hi[:-1] + 1))
        ends = np.concatenate((np.flatnonzero(starts)[1:] - 1, [lo.size - 1]))
        idx = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo[starts].tolist(), hi[ends].tolist(), strict=True)])
        return idx.astype(np.float64) * cfg.tick_s

    # ---- criteria and verdict (depends on markers; recomputed from scratch when they change) ----
    def _reset_evaluation(self) -> None:
        self._eval_done = 0  # ticks judged so far
        self._state = VerdictState.WAITING_FOR_BASELINE
        self._verdict = BlockVerdict(VerdictState.WAITING_FOR_BASELINE,
                                     "Waiting for settled readings on both feet to take a baseline.",
                                     criteria_id=self.criteria.id)
        self._changes: list[tuple[float, BlockVerdict]] = []
        self._epochs: list[_Epoch] | None = None  # the baseline plan, derived from the markers
        self._epoch_base: list[dict[Limb, BaselineInfo] | None] = []
        self._baselines: dict[Limb, BaselineInfo] | None = None  # the latest captured (in force)
        self._hold_since: dict[str, float | None] = {cid: None for cid in self._judged}
        self._hold_epoch: int | None = None  # the epoch whose hold runs are carried between chunks
        self._met_at: dict[str, float | None] = {cid: None for cid in self._judged}
        self._early_at: float | None = None
        self._not_confirmed_at: float | None = None
        self._kinetics_cache: _KineticsState | None = None

    def _injections(self) -> list[float]:
        return sorted(m.session_s for m in self._markers if m.kind is MarkerKind.INJECTION)

    def _plan(self) -> list[_Epoch]:
        """Which baseline is taken when, and which ticks are judged against it (markers only).

        A "Baseline start" marker at b starts a window of ``baseline_window_s`` at b, clipped at
        the next injection (or the next "Baseline start"). Without one before the first
        injection, the window is the one that ends at that injection. A "Baseline start" after an
        injection captures a new baseline: the hold restarts after the injection that follows it,
        or, if none does, once its window ends.
        """
        if self._epochs is not None:
            return self._epochs
        width = self.config.baseline_window_s
        inj = self._injections()
        starts = sorted(m.session_s for m in self._markers if m.kind is MarkerKind.BASELINE)
        epochs: list[_Epoch] = []
        if not inj:
            if starts:
                b = starts[-1]
                epochs.append(_Epoch(b, b + width, b, False, math.inf, math.inf, -math.inf))
        else:
            first = inj[0]
            before = [b for b in starts if b < first]
            after = [b for b in starts if b >= first]
            if before:
                b = before[-1]
                epochs.append(_Epoch(b, min(b + width, first), b, False, first,
                                     after[0] if after else math.inf, -math.inf))
            else:
                epochs.append(_Epoch(first - width, first, None, False, first,
                                     after[0] if after else math.inf, -math.inf))
            for k, b in enumerate(after):
                next_start = after[k + 1] if k + 1 < len(after) else math.inf
                next_inj = next((i for i in inj if i > b), math.inf)
                end = min(b + width, next_inj, next_start)
                judge_from = next_inj if next_inj < next_start else end
                epochs.append(_Epoch(b, end, b, True, judge_from, next_start, end))
        self._epochs = epochs
        self._epoch_base = [None] * len(epochs)
        return epochs

    def _set_state(self, at: float, verdict: BlockVerdict) -> None:
        if verdict == self._verdict and self._changes:
            return  # nothing new to say
        self._state = verdict.state
        self._verdict = verdict
        self._changes.append((at, verdict))

    def _evaluate(self) -> None:
        tk = self._ticks
        n = len(tk.t)
        i0 = self._eval_done
        if n <= i0:
            return
        self._eval_done = n
        times = tk.t.view[:n]
        epochs = self._plan()
        inj = self._injections()
        # Before any "Baseline start" (or injection): "baseline captured" once both probes settled.
        if epochs and epochs[0].marker_s is not None:
            auto_end = int(np.searchsorted(times, epochs[0].marker_s, side="left"))
        elif inj:
            auto_end = int(np.searchsorted(times, inj[0], side="right"))
        else:
            auto_end = n
        if auto_end > i0:
            self._check_captured(times[i0:auto_end], i0, auto_end)

        def first_tick(at: float, side: str = "left") -> int | None:
            """Index of the first tick at (or after, side="right") ``at``, if it is in this chunk."""
            j = int(np.searchsorted(times, at, side=side))
            return j if i0 <= j < n else None

        # Events: (time, order at equal times, what, epoch); applied in time order below.
        events: list[tuple[float, int, str, int]] = []
        for k, ep in enumerate(epochs):
            if ep.marker_s is not None and (j := first_tick(ep.marker_s)) is not None:
                events.append((float(times[j]), 0, "capturing", k))
            if (j := first_tick(ep.window_end_s)) is not None:
                # Data up to finalise_lag_s beyond the window's end is in: its flags are final.
                self._epoch_base[k] = {limb: self._baseline(limb, ep) for limb in Limb}
                self._baselines = self._epoch_base[k]
                if ep.marker_s is not None and ep.judge_from_s > ep.window_end_s:
                    events.append((float(times[j]), 1, "captured", k))
            if math.isinf(ep.judge_from_s):
                continue
            lo = int(np.searchsorted(times, ep.judge_from_s, side="right"))
            hi = int(np.searchsorted(times, ep.judge_until_s, side="left"))
            if i0 <= lo < min(hi, n):
                events.append((float(times[lo]), 2, "monitoring", k))
            lo, hi = max(lo, i0), min(hi, n)
            if hi > lo and _usable(self._epoch_base[k]):
                self._judge(k, lo, hi, events)
        if inj and self._state is not VerdictState.CONFIRMED:
            last_inj = inj[-1]
            nc_at = last_inj + self.config.not_confirmed_after_min * 60.0
            if times[-1] >= nc_at and (self._not_confirmed_at is None or self._not_confirmed_at < last_inj):
                self._not_confirmed_at = float(times[int(np.searchsorted(times, nc_at, side="left"))])
                events.append((self._not_confirmed_at, 4, "not_confirmed", 0))
        for at, _, what, k in sorted(events):
            if self._state is VerdictState.CONFIRMED:
                break
            self._apply(at, what, epochs[k], self._epoch_base[k])

    def _judge(self, k: int, lo: int, hi: int, events: list[tuple[float, int, str, int]]) -> None:
        """Criteria, hold and early warming on ticks lo..hi, against epoch k's baseline."""
        tk = self._ticks
        base = self._epoch_base[k]
        assert base is not None
        base_b, base_c = base[self.blocked].celsius, base[self.blocked.other].celsius
        T = tk.t.view[lo:hi]
        vb = tk.val[self.blocked].view[lo:hi]
        vc = tk.val[self.blocked.other].view[lo:hi]
        both = tk.ok[self.blocked].view[lo:hi] & tk.ok[self.blocked.other].view[lo:hi]
        if self._hold_epoch != k:  # a new baseline: every hold starts afresh
            self._hold_since = {cid: None for cid in self._judged}
            self._hold_epoch = k
        with np.errstate(invalid="ignore"):
            rise_b = vb - base_b
            didc = rise_b - (vc - base_c)
            for cid, crit in self._judged.items():
                if self._met_at[cid] is not None:
                    continue
                cond = both.copy()
                if crit.min_rise_c is not None:
                    cond &= rise_b >= crit.min_rise_c
                if crit.min_di_minus_dc_c is not None:
                    cond &= didc >= crit.min_di_minus_dc_c
                if crit.core_within_c is not None:
                    cond &= (self.core_c - vb) <= crit.core_within_c
                starts = run_starts(cond, T, self._hold_since[cid])
                done = np.flatnonzero(cond & (T - starts >= crit.hold_s - 1e-9))
                if done.size:
                    self._met_at[cid] = float(T[done[0]])
                    if cid == self.criteria.id:
                        events.append((self._met_at[cid], 5, "confirmed", k))
                else:
                    self._hold_since[cid] = float(starts[-1]) if cond[-1] else None
            if self._early_at is None:
                slope = self._slopes(lo, hi)
                near = np.zeros(T.shape[0], dtype=bool)
                for inj in self._injections():
                    near |= (T > inj) & (T <= inj + self.config.early_window_s)
                hit = np.flatnonzero(near & (slope >= self.config.early_slope_c_per_min))
                if hit.size:
                    self._early_at = float(T[hit[0]])
                    events.append((self._early_at, 3, "early", k))

    def _apply(self, at: float, what: str, ep: _Epoch, base: dict[Limb, BaselineInfo] | None) -> None:
        """One event of the verdict state machine (never after a confirmation)."""
        cid = self.criteria.id
        new = "new " if ep.after_injection else ""
        if what == "capturing":
            self._set_state(at, BlockVerdict(
                VerdictState.WAITING_FOR_BASELINE,
                f"Taking the {new}baseline from {format_session_time(ep.window_start_s)} to "
                f"{format_session_time(ep.window_end_s)}: keep both probes on and the feet still.", criteria_id=cid))
        elif what in ("captured", "monitoring") and not _usable(base):
            self._set_state(at, BlockVerdict(VerdictState.WAITING_FOR_BASELINE, _no_baseline(ep), criteria_id=cid))
        elif what == "captured":
            nxt = "next injection" if ep.after_injection else "injection"
            self._set_state(at, BlockVerdict(
                VerdictState.BASELINE_CAPTURED,
                f"{_capitalised(_describe_baseline(ep, base))}. Mark the {nxt} when it is given.", criteria_id=cid))
        elif what == "monitoring":
            self._set_state(at, BlockVerdict(
                VerdictState.MONITORING,
                f"Monitoring against the {_describe_baseline(ep, base)}; watching for the blocked foot to warm.",
                criteria_id=cid))
        elif what == "early" and self._state is VerdictState.MONITORING:
            self._set_state(at, BlockVerdict(
                VerdictState.EARLY_WARMING,
                f"Early warming: the blocked foot is rising ≥ {self.config.early_slope_c_per_min:g} °C/min "
                "(an early sign, not a confirmation).", criteria_id=cid))
        elif what == "not_confirmed" and self._state in (VerdictState.MONITORING, VerdictState.EARLY_WARMING,
                                                          VerdictState.NOT_CONFIRMED_YET):
            minutes = self.config.not_confirmed_after_min
            self._set_state(at, BlockVerdict(
                VerdictState.NOT_CONFIRMED_YET,
                f"Not confirmed yet, {minutes:g} min after injection (information only: a block can "
                "still develop).", criteria_id=cid))
        elif what == "confirmed":
            crit = self.criteria
            given = [i for i in self._injections() if i < at]
            when = f"{_fmt_clock(at - given[0])} after injection"
            if len(given) > 1:
                when = (f"{_fmt_clock(at - given[0])} after the first injection "
                        f"({_fmt_clock(at - given[-1])} after the latest)")
            self._set_state(at, BlockVerdict(
                VerdictState.CONFIRMED,
                f"Block confirmed at {when}: {crit.describe()} ({crit.id}).",
                confirmed_at_s=at, criteria_met=crit.conditions(), criteria_id=crit.id))

    def _check_captured(self, T: np.ndarray, i0: int, n: int) -> None:
        """Baseline captured: both feet valid, each settled for a whole baseline window."""
        if self._state is not VerdictState.WAITING_FOR_BASELINE:
            return
        tk = self._ticks
        ready = tk.ok[Limb.LEFT].view[i0:n] & tk.ok[Limb.RIGHT].view[i0:n]
        for track in self._tracks.values():
            settling = [seg for seg in track.segments if seg.kind is ArtefactKind.SETTLING]
            if not settling:
                return
            starts = np.array([seg.start_s for seg in settling])
            ends = np.array([np.inf if seg.end_s is None else seg.end_s for seg in settling])
            last = np.searchsorted(starts, T, side="right") - 1
            ready &= (last >= 0) & (ends[np.maximum(last, 0)] <= T - self.config.baseline_window_s)
        hit = np.flatnonzero(ready)
        if hit.size:
            self._set_state(float(T[hit[0]]), BlockVerdict(
                VerdictState.BASELINE_CAPTURED,
                "Baseline captured: both probes settled. Mark the injection when it is given.",
                criteria_id=self.criteria.id))

    def _slopes(self, a: int, n: int) -> np.ndarray:
        """2-minute slope of the blocked side (°C/min) at ticks a..n, NaN where not clean."""
        tk = self._ticks
        times = tk.t.view[:n]
        idx = np.arange(a, n)
        window = self.config.slope_window_s
        back = np.searchsorted(times, times[a:n] - window - 1e-6, side="left")
        out = np.full(n - a, np.nan)
        # The tick exactly one window back must exist (none is missing from a judged stretch).
        good = (back < idx) & (np.abs(times[np.minimum(back, n - 1)] - (times[a:n] - window)) < 1e-6)
        if not good.any():
            return out
        val = tk.val[self.blocked].view
        bad = tk.bad_cum[self.blocked].view
        ok = tk.ok[self.blocked].view
        i, j = idx[good], back[good]
        clean = ok[i] & ok[j] & (bad[i] - bad[j] == 0)
        minutes = np.full(i.shape, self.config.slope_window_s / 60.0)
        # A slowly reporting probe holds each reading for up to a minute or so: over a 2-minute
        # window that staircase would misstate the slope by up to a whole step, so its slope
        # is taken between the times of the two readings themselves.
        slow = tk.slow[self.blocked].view
        read_t = tk.read_t[self.blocked].view
        by_reading = slow[i] | slow[j]
        if by_reading.any():
            span = read_t[i] - read_t[j]
            minutes = np.where(by_reading, span / 60.0, minutes)
            clean &= ~by_reading | (span >= 0.5 * window)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[good] = np.where(clean, (val[i] - val[j]) / minutes, np.nan)
        return out

    def _baseline(self, limb: Limb, ep: _Epoch) -> BaselineInfo:
        cfg = self.config
        track = self._tracks[limb]
        start_s, end_s = ep.window_start_s, ep.window_end_s
        length = end_s - start_s
        # Valid readings only, spike-filtered (median of 5), so one wild reading cannot shift it.
        vt = track.vt.view
        lo, hi = np.searchsorted(vt, start_s, side="left"), np.searchsorted(vt, end_s, side="right")
        flags = track.flags.view[track.vidx.view[lo:hi]]
        values = track.vmed.view[lo:hi]
        tw = vt[lo:hi]
        eligible = flags == 0
        warnings = []
        if length < _SHORT_WINDOW_S:
            # The same words on both feet: collected once where the warnings are listed.
            warnings.append(f"baseline window only {length:.0f} s long (from {format_session_time(start_s)} to "
                            f"{format_session_time(end_s)}): at least 1 minute is advised")
        name = f"{limb} foot"
        # Settled, valid readings only. Never a probe's settling climb: a baseline taken from it
        # overstates every later rise (both feet), so a rise-only criterion would "confirm" a
        # failed block. Without one the nurse is asked for a new Baseline start (B).
        use = eligible
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
        return BaselineInfo(float(y.mean()), start_s, end_s, int(x.size), tuple(warnings))

    # ---- results -------------------------------------------------------------------------
    @property
    def verdict(self) -> BlockVerdict:
        self._update()
        return self._verdict

    @property
    def verdict_changes(self) -> list[tuple[float, BlockVerdict]]:
        self._update()
        return list(self._changes)

    @property
    def baselines(self) -> dict[Limb, BaselineInfo] | None:
        self._update()
        return self._baselines

    @property
    def criteria_met_at(self) -> dict[str, float | None]:
        self._update()
        return dict(self._met_at)

    @property
    def early_warming_at_s(self) -> float | None:
        self._update()
        return self._early_at

    @property
    def warm_start(self) -> bool:
        self._update()
        if not self._baselines:
            return False
        b = self._baselines[self.blocked].celsius
        return b is not None and b >= self.config.warm_start_c

    def series(self, limb: Limb) -> LimbSeries:
        self._update()
        tr = self._tracks[limb]
        return LimbSeries(limb, tr.t.view, tr.raw.view, tr.smooth.view, tr.valid.view, tr.flags.view)

    def difference_series(self) -> DifferenceSeries:
        """Di − Dc over the whole session on a common time base (both feet's reading times), for
        probes that report at different times and rates; see :class:`DifferenceSeries`. Cheap to
        call at every redraw: only the last ``finalise_lag_s`` seconds are recomputed."""
        self._update()
        return self._difference.series(self._tracks, self._baseline_offsets(), self._finished)

    def _baseline_offsets(self) -> BaselineOffsets | None:
        """Blocked minus contralateral baseline per epoch, from when each is in force (None: no
        baseline captured yet, so the difference series is the plain one)."""
        epochs = self._plan()
        if not any(_usable(base) for base in self._epoch_base):
            return None
        return tuple((ep.in_force_from_s, base[self.blocked].celsius - base[self.blocked.other].celsius
                      if _usable(base) else None) for ep, base in zip(epochs, self._epoch_base, strict=True))

    @property
    def artefacts(self) -> list[ArtefactSegment]:
        self._update()
        out: list[ArtefactSegment] = []
        for limb, tr in self._tracks.items():
            out.extend(seg.freeze(limb) for seg in tr.segments)
            last = tr.last_t
            if last is not None and self._now is not None and self._now - last > tr.gap_after.last():
                end = self._now if self._finished else None
                out.append(ArtefactSegment(limb, ArtefactKind.NO_DATA, last, end, ArtefactKind.NO_DATA.plain))
        out.sort(key=lambda s: (s.start_s, str(s.limb), str(s.kind), -1.0 if s.end_s is None else s.end_s))
        return out

    def judged_enough(self) -> bool:
        """True if, after the injection, both feet had valid data for at least one hold period
        on ticks judged against a baseline."""
        self._update()
        tk = self._ticks
        n = len(tk.t)
        times = tk.t.view[:n]
        both = tk.ok[Limb.LEFT].view[:n] & tk.ok[Limb.RIGHT].view[:n]
        count = 0
        for ep in self._plan():
            if math.isinf(ep.judge_from_s):
                continue
            lo = int(np.searchsorted(times, ep.judge_from_s, side="right"))
            hi = int(np.searchsorted(times, ep.judge_until_s, side="left"))
            count += int(both[lo:hi].sum()) if hi > lo else 0
        return count * self.config.tick_s >= self.criteria.hold_s

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
        return [base for base in self._epoch_base if base is not None]

    def kinetics(self) -> Kinetics:
        """The course after the first injection; each tick's rise is taken from the baseline in
        force at that tick (a new baseline counts from the end of its window).

        Kept up to date incrementally (running maxima over the ticks judged so far), so asking
        for it costs the same at minute 5 and at hour 8; it restarts when the injection or a
        baseline changes."""
        self._update()
        inj = self._injections()
        if not inj or not self._baselines:
            return Kinetics()
        tk = self._ticks
        n = len(tk.t)
        epochs = self._plan()
        key = (inj[0], tuple(epochs), tuple(None if base is None else tuple(base[limb] for limb in Limb)
                                          for base in self._epoch_base))
        st = self._kinetics_cache
        if st is None or st.key != key:
            a = int(np.searchsorted(tk.t.view[:n], inj[0], side="right"))
            st = self._kinetics_cache = _KineticsState(key, a)
        if st.done < n:
            self._extend_kinetics(st, max(st.done, st.a), n, epochs)
            st.done = n
            st.result = self._kinetics_result(st, inj[0])
        return st.result

    def _extend_kinetics(self, st: _KineticsState, a: int, n: int, epochs: list[_Epoch]) -> None:
        tk = self._ticks
        T = tk.t.view[a:n]
        if T.size == 0:
            return
        base_b, base_c = np.full(T.shape, np.nan), np.full(T.shape, np.nan)
        for k, (ep, base) in enumerate(zip(epochs, self._epoch_base, strict=True)):
            if not _usable(base):
                continue
            until = epochs[k + 1].in_force_from_s if k + 1 < len(epochs) else math.inf
            lo, hi = np.searchsorted(T, ep.in_force_from_s, side="left"), np.searchsorted(T, until, side="left")
            base_b[lo:hi] = base[self.blocked].celsius
            base_c[lo:hi] = base[self.blocked.other].celsius
        okb = tk.ok[self.blocked].view[a:n] & np.isfinite(base_b)
        okc = tk.ok[self.blocked.other].view[a:n] & np.isfinite(base_c)
        rise_b = tk.val[self.blocked].view[a:n] - base_b
        rise_c = tk.val[self.blocked.other].view[a:n] - base_c
        rb = np.where(okb, rise_b, -np.inf)
        st.runmax_b.extend(np.maximum.accumulate(np.concatenate(([st.peak], rb)))[1:])
        st.peak = float(st.runmax_b.last())
        st.any_okb |= bool(okb.any())
        if okc.any():
            st.any_okc = True
            st.max_rise_c = max(st.max_rise_c, float(rise_c[okc].max()))
        both = okb & okc
        if both.any():
            st.max_didc = max(st.max_didc, float((rise_b - rise_c)[both].max()))
        if okb.any():
            slope = self._slopes(a, n)
            if np.isfinite(slope).any():
                top = float(np.nanmax(slope))
                st.max_slope = top if st.max_slope is None else max(st.max_slope, top)

    def _kinetics_result(self, st: _KineticsState, inj0: float) -> Kinetics:
        if not (st.any_okb or st.any_okc):
            return Kinetics()
        T = self._ticks.t.view[st.a:st.done]
        runmax = st.runmax_b.view
        result = Kinetics()
        if st.any_okb:
            peak = st.peak

            def first_at(level: float) -> float | None:
                i = int(np.searchsorted(runmax, level, side="left"))  # the running maximum only grows
                return float(T[i] - inj0) if i < runmax.shape[0] else None

            result = Kinetics(
                time_to_plus_1c_s=first_at(1.0),
                time_to_50pct_peak_s=first_at(0.5 * peak) if peak > 0 else None,
                time_to_95pct_peak_s=first_at(0.95 * peak) if peak > 0 else None,
                peak_rise_c=peak,
                time_to_peak_s=first_at(peak),
                max_slope_c_per_min=st.max_slope,
            )
        return Kinetics(**{**result.__dict__,
                           "peak_rise_contralateral_c": st.max_rise_c if st.any_okc else None,
                           "max_di_minus_dc_c": st.max_didc if st.max_didc > -math.inf else None})

    def snapshot(self, now_s: float | None = None) -> PipelineSnapshot:
        """The current state. ``now_s`` (the session clock) dates how old each reading is; by
        default the newest reading's time, which cannot show that both probes went quiet."""
        self._update()
        clock = now_s if now_s is not None else self._now
        raw, smooth, age, status = {}, {}, {}, {}
        for limb, tr in self._tracks.items():
            n = len(tr.t)
            raw[limb] = smooth[limb] = age[limb] = None
            if n:
                r = float(tr.raw.view[n - 1])
                raw[limb] = r if tr.valid.view[n - 1] else None
                age[limb] = max(0.0, (clock or 0.0) - float(tr.t.view[n - 1]))
            if len(tr.vt):
                smooth[limb] = float(tr.vsmooth.view[-1])
            kind = tr.current_kind()
            if age[limb] is not None and age[limb] > tr.gap_after.last():
                status[limb] = f"no data for {age[limb]:.0f} s"
            elif n == 0:
                status[limb] = "no data yet"
            else:
                status[limb] = kind.plain if kind else "OK"
        base = {limb: (self._baselines[limb].celsius if self._baselines else None) for limb in Limb}
        rise = {limb: (smooth[limb] - base[limb] if smooth[limb] is not None and base[limb] is not None else None)
                for limb in Limb}
        b, c = self.blocked, self.blocked.other
        didc = rise[b] - rise[c] if rise[b] is not None and rise[c] is not None else None
        warnings: list[str] = []
        if self._baselines:
            for info in self._baselines.values():
                warnings.extend(w for w in info.warnings if w not in warnings)  # shared words once
        if self.warm_start:
            warnings.append("Warm start, limited headroom: the blocked foot started at "
                            f"{base[b]:.1f} °C, so a complete block may warm it only a little.")
        return PipelineSnapshot(
            now_s=clock, blocked=b, criteria_id=self.criteria.id, raw_c=raw, smooth_c=smooth,
            reading_age_s=age, limb_status=status, baseline_c=base, rise_c=rise, di_minus_dc_c=didc,
            slope_c_per_min=self._current_slope(), verdict=self._verdict, warnings=tuple(warnings),
            early_warming_at_s=self._early_at, warm_start=self.warm_start,
            injection_s=(self._injections() or [None])[0], criteria_met_at_s=dict(self._met_at),
            kinetics=self.kinetics(), baseline_note=self._baseline_note(),
            baseline_window_s=self._current_window(),
        )

    def _current_window(self) -> tuple[float, float] | None:
        begun = [ep for ep in self._plan() if self._now is not None and ep.window_start_s <= self._now]
        return (begun[-1].window_start_s, begun[-1].window_end_s) if begun else None

    def _baseline_note(self) -> str | None:
        """The baseline in force in plain words, e.g. "baseline captured from 10:02 to 12:02: ..."."""
        for ep, base in zip(reversed(self._plan()), reversed(self._epoch_base), strict=True):
            if base is not None:
                return _describe_baseline(ep, base) if _usable(base) else _no_baseline(ep)
        return None

    def _current_slope(self) -> float | None:
        tr = self._tracks[self.blocked]
        if not len(tr.vt) or tr.current_kind() is not None:
            return None
        vt = tr.vt.view
        j = int(np.searchsorted(vt, vt[-1] - self.config.slope_window_s, side="left"))
        if vt[-1] - vt[j] < 0.9 * self.config.slope_window_s:
            return None
        vs = tr.vsmooth.view
        return float((vs[-1] - vs[j]) / ((vt[-1] - vt[j]) / 60.0))


# A "Baseline start" shortly before the injection leaves a window this short: say so.
_SHORT_WINDOW_S = 60.0


@dataclass(frozen=True)
class _Epoch:
    """One baseline window and the ticks judged against it (derived from the markers only)."""

    window_start_s: float
    window_end_s: float
    marker_s: float | None  # the "Baseline start" marker; None: the default window before the injection
    after_injection: bool  # a new baseline captured after an injection
    judge_from_s: float  # criteria are judged on ticks after this (inf: not yet, no injection)
    judge_until_s: float  # ... and before this: the next "Baseline start"
    in_force_from_s: float  # rises are measured from this baseline from here on


class _KineticsState:
    """Running values of the course after the injection (see ``BlockPipeline.kinetics``)."""

    def __init__(self, key: tuple, a: int) -> None:
        self.key = key
        self.a = a  # the first tick after the injection
        self.done = a  # ticks folded in so far
        self.runmax_b = GrowableArray(np.float64)  # running maximum of the blocked rise (-inf: none yet)
        self.peak = -math.inf
        self.any_okb = self.any_okc = False
        self.max_rise_c = -math.inf
        self.max_didc = -math.inf
        self.max_slope: float | None = None
        self.result = Kinetics()


def _usable(base: dict[Limb, BaselineInfo] | None) -> bool:
    return base is not None and all(info.celsius is not None for info in base.values())


def _describe_baseline(ep: _Epoch, base: dict[Limb, BaselineInfo]) -> str:
    """E.g. "baseline captured from 10:02 to 12:02: left 25.9 °C, right 27.4 °C"."""
    which = "new baseline" if ep.after_injection else "baseline"
    how = "captured" if ep.marker_s is not None else "taken"
    values = ", ".join(f"{limb} {base[limb].celsius:.1f} °C" if base[limb].celsius is not None else f"{limb} none"
                       for limb in Limb)
    return f"{which} {how} from {format_session_time(ep.window_start_s)} to {format_session_time(ep.window_end_s)}: {values}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _no_baseline(ep: _Epoch) -> str:
    if ep.marker_s is None:
        return ("No valid baseline: no usable reading on both feet in the window before the injection mark "
                "(were the probes still settling?). Press \"Baseline start\" once both probes have settled.")
    return (f"No valid baseline: no usable reading on both feet from {format_session_time(ep.window_start_s)} to "
            f"{format_session_time(ep.window_end_s)}. Press \"Baseline start\" again once both probes read.")


def format_session_time(seconds: float) -> str:
    """Session time as m:ss (h:mm:ss past an hour), e.g. 602 -> "10:02"."""
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def _fmt_clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"
