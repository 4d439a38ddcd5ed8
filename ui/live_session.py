"""The GUI's handle on one running session: source → pipeline and store, pumped from a Qt timer.

The core does the work: :class:`monitor.recorder.SessionRecorder` drains the source into the
:class:`monitor.pipeline.BlockPipeline` and the :class:`monitor.store.SessionStore`
(committing at least once a second, so closing or killing the window loses nothing
committed). The display only reads what the core computed: the pipeline snapshot and
artefact segments, and the readings themselves (observed on their way to the recorder) to
plot. Nothing here timestamps: every time is session time, from the recorder's clock (the
source's clock, moved on past the old part of a resumed session).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading, SessionInfo
from monitor.pipeline import BlockPipeline, Criteria
from monitor.recorder import ResumePlan, SessionRecorder
from monitor.sources.base import ProbeSource
from monitor.store import SessionStore


@dataclass
class NewPoints:
    """Readings of one limb that arrived since the last pump, as arrays for the plot."""

    t: np.ndarray
    celsius: np.ndarray  # NaN where the probe gave no temperature
    valid: np.ndarray


@dataclass
class LimbLive:
    status: ProbeStatus | None = None
    celsius: float | None = None
    last_s: float | None = None


@dataclass
class LogEntry:
    session_s: float
    text: str


@dataclass
class LiveSessionState:
    limbs: dict[Limb, LimbLive] = field(default_factory=lambda: {Limb.LEFT: LimbLive(), Limb.RIGHT: LimbLive()})


class ObservedSource:
    """The real source, seen through: the recorder drains it as usual and the display gets a
    copy of each batch (to plot and to know each probe's latest status)."""

    def __init__(self, inner: ProbeSource) -> None:
        self._inner = inner
        self.seen: list[Reading] = []
        # A resumed session's readings are shifted into session time by the recorder; the
        # display's copy is shifted the same way.
        self.offset_s = 0.0

    def drain(self, max_items: int | None = None) -> list[Reading]:
        readings = self._inner.drain(max_items)
        if self.offset_s:
            self.seen.extend(replace(r, session_s=r.session_s + self.offset_s) for r in readings)
        else:
            self.seen.extend(readings)
        return readings

    def take_seen(self) -> list[Reading]:
        out, self.seen = self.seen, []
        return out

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class LiveSession:
    """Owns a running source, the pipeline and (usually) the recorder writing the session file."""

    def __init__(self, source: ProbeSource, info: SessionInfo, *, store=None,
                 criteria: str | Criteria = "default", resume_plan: ResumePlan | None = None) -> None:
        if info.blocked is None:
            raise ValueError("the blocked side must be chosen before the session starts")
        self.source = source
        self.observed = ObservedSource(source)
        self.info = info
        self.store = store
        self.criteria = criteria
        self.pipeline = BlockPipeline(info.blocked, criteria, core_c=info.core_c)
        self.markers: list[Marker] = []
        # Session time the recording resumed at: the file's older readings are plotted but are
        # not "the last reading" of a tile, and no-data ages count from here.
        self.resumed_at_s: float | None = None
        if store is None:
            self.recorder = None
            self.clock = source.clock
        elif resume_plan is None:
            self.recorder = SessionRecorder(self.observed, store, self.pipeline)
            self.clock = self.recorder.clock
        else:
            # The file's readings go to the display once, as the first batch it plots.
            self.observed.seen.extend(store.iter_readings())
            self.markers = list(store.markers())
            self.recorder = SessionRecorder.resume(self.observed, store, self.pipeline, plan=resume_plan)
            self.observed.offset_s = self.recorder.time_offset_s
            self.resumed_at_s = self.recorder.time_offset_s
            # Session time goes on past the interruption: the source's clock plus the offset.
            self.clock = self.recorder.clock
        self.state = LiveSessionState()
        self.log: list[LogEntry] = []
        self._next_local_marker_id = max((m.id or 0 for m in self.markers), default=0) + 1
        self.started = False
        self.finished = False
        self.total_readings = 0

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        self.source.start()
        self.started = True

    def stop(self, reason: str = "closed normally") -> None:
        """Stop the source, write everything left and close the session file.

        If the last write fails (disk full, folder gone) the core's StoreWriteError is raised and
        the session stays open with everything in memory: relocate it, then call stop again.
        """
        if self.finished:
            return
        if self.recorder is not None:
            self.recorder.finish(reason)
            self._take_seen()
        else:
            self.source.stop()
            self.pump()
        self.finished = True
        self.pipeline.finish()

    def relocate(self, new_path) -> None:
        """Keep recording into another file (the whole session so far is copied there)."""
        if self.store is None:
            raise RuntimeError("this session is not being recorded")
        self.store.relocate(new_path)

    def now(self) -> float:
        return self.clock.now()

    @property
    def time_offset_s(self) -> float:
        """Session time minus the source's own time (non-zero once a session was resumed)."""
        return self.recorder.time_offset_s if self.recorder is not None else 0.0

    @property
    def manual(self) -> bool:
        """The source runs on a manual clock (tests step it with ``source.step_to``)."""
        return bool(getattr(self.source.clock, "manual", False))

    @property
    def resumed(self) -> bool:
        return self.recorder is not None and self.recorder.resume_plan is not None

    # ---- data -----------------------------------------------------------------------------
    def pump(self) -> dict[Limb, NewPoints]:
        """Move what the source received into the pipeline and the store; return it for the plot."""
        if self.recorder is not None:
            if not self.recorder.finished:
                self.recorder.pump()
        else:
            self.pipeline.push_many(self.observed.drain())
        return self._take_seen()

    def _take_seen(self) -> dict[Limb, NewPoints]:
        readings = self.observed.take_seen()
        self.total_readings += len(readings)
        out: dict[Limb, NewPoints] = {}
        for limb in Limb:
            rs = [r for r in readings if r.limb is limb]
            if not rs:
                continue
            fresh = rs if self.resumed_at_s is None else [r for r in rs if r.session_s >= self.resumed_at_s]
            if fresh:
                last = fresh[-1]
                live = self.state.limbs[limb]
                live.status = last.status
                live.last_s = last.session_s
                live.celsius = last.celsius if last.has_temperature else None
            t = np.fromiter((r.session_s for r in rs), float, len(rs))
            c = np.fromiter((r.celsius if r.celsius is not None else np.nan for r in rs), float, len(rs))
            ok = np.fromiter((r.has_temperature for r in rs), bool, len(rs))
            out[limb] = NewPoints(t, c, ok)
        return out

    def snapshot(self):
        return self.pipeline.snapshot()

    def reading_ages(self) -> dict[Limb, float | None]:
        now = self.now()
        since = self.resumed_at_s
        out: dict[Limb, float | None] = {}
        for limb, st in self.state.limbs.items():
            last = st.last_s if since is None else max(st.last_s if st.last_s is not None else since, since)
            out[limb] = None if last is None else max(0.0, now - last)
        return out

    @property
    def write_error(self) -> str | None:
        err = self.recorder.write_error if self.recorder is not None else None
        return None if err is None else str(err)

    # ---- markers ----------------------------------------------------------------------------
    def add_marker(self, kind: MarkerKind, session_s: float | None = None, text: str = "") -> Marker:
        placed = self.now()
        at = placed if session_s is None else float(session_s)
        if self.recorder is not None and not self.recorder.finished:
            mid = self.recorder.add_marker(kind, at, text)
            self.recorder.commit()  # a marker is precious: write it at once
        else:
            mid = self._next_local_marker_id
            self._next_local_marker_id += 1
        marker = Marker(kind, at, text, self._wall_at(at), placed, mid)
        if self.recorder is None:
            self.pipeline.add_marker(marker)
        self.markers.append(marker)
        what = f"{kind.label} ({text})" if kind is MarkerKind.PROBE_CHECKED else kind.label
        self.log.append(LogEntry(placed, f"{what} marked at {at:.1f} s"))
        return marker

    def move_marker(self, marker_id: int, new_s: float, reason: str = "moved on the plot") -> Marker:
        idx = next(i for i, m in enumerate(self.markers) if m.id == marker_id)
        old = self.markers[idx]
        new = Marker(old.kind, new_s, old.text, self._wall_at(new_s), old.placed_s, old.id)
        self.markers[idx] = new
        if self.recorder is not None and not self.recorder.finished:
            self.store.move_marker(marker_id, new_s, moved_at_s=self.now(), reason=reason)
            self.recorder.commit()
        # The pipeline re-derives its verdict from the corrected markers.
        self.pipeline.set_markers(self.markers)
        self.log.append(LogEntry(self.now(), f"{old.kind.label} moved from {old.session_s:.1f} s "
                                             f"to {new_s:.1f} s ({reason})"))
        return new

    # ---- criteria ------------------------------------------------------------------------
    def set_criteria(self, criteria: Criteria) -> None:
        """Judge the whole session with other criteria: a new pipeline is fed every reading so far
        (read back from the session file) and the markers; the change is written to the session."""
        old = self.pipeline.criteria
        if criteria == old:
            return
        new = BlockPipeline(self.info.blocked, criteria, core_c=self.info.core_c)
        if self.recorder is not None and self.store is not None:
            self.recorder.pump()
            if not self.recorder.commit():
                raise RuntimeError(f"the session file cannot be written: {self.recorder.write_error}")
            with SessionStore.open_read_only(self.store.path) as ro:
                new.push_many(ro.iter_readings())
        else:
            raise RuntimeError("criteria can only be changed on a recorded session")
        new.set_markers(self.markers)
        self.pipeline = new
        self.recorder.pipeline = new
        self.store.set_criteria(_criteria_dict(criteria))
        text = f"Criteria changed from {old.id} ({old.describe()}) to {criteria.id} ({criteria.describe()})"
        self.add_marker(MarkerKind.NOTE, text=text)

    def injection_s(self) -> float | None:
        inj = [m.session_s for m in self.markers if m.kind is MarkerKind.INJECTION]
        return min(inj) if inj else None

    def _wall_at(self, session_s: float) -> float:
        return self.clock.wall() - self.clock.now() + session_s


def _criteria_dict(c: Criteria) -> dict:
    return {"id": c.id, "label": c.label, "source": c.source, "min_rise_c": c.min_rise_c,
            "min_di_minus_dc_c": c.min_di_minus_dc_c, "core_within_c": c.core_within_c, "hold_s": c.hold_s}
