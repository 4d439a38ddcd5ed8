"""`sympatherm record`: headless recording from a serial probe, BLE thermometers or the simulator.

``--resume FILE`` continues a session a crash left unfinished: its session time goes on from
where the file stopped plus the time that passed, and the interruption is recorded.

Markers can be typed while it runs, one per line on standard input: ``injection``,
``baseline``, ``needle``, ``note TEXT`` or ``checked left`` / ``checked right`` (the nurse
checked that foot's probe: it is on the skin). SIGINT (Ctrl-C) and SIGTERM end the session
cleanly: the file is checkpointed into one self-contained file.
"""

from __future__ import annotations

import argparse
import queue
import re
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from monitor.commands._common import (
    SubParsers,
    add_blocked_flag,
    add_out_flag,
    add_simulation_flags,
    baud,
    core_c,
    duration_s,
    room_c,
    session_time_s,
    status_every_s,
)
from monitor.commands._signals import StopRequests

if TYPE_CHECKING:
    from monitor.model import Limb, SessionInfo
    from monitor.pipeline import BlockPipeline
    from monitor.procedure import Procedure
    from monitor.procedure.alarms import AlarmChange
    from monitor.procedure.events import LogEntry
    from monitor.procedure.recorder import ResumePlan, SessionRecorder
    from monitor.procedure.source_spec import SourceSpec
    from monitor.publish.station import StationPublisher
    from monitor.sources.base import ConnectionEvent, ProbeSource
    from monitor.store import SessionStore

# A session ready to record: (store, source, pipeline, where to place the injection mark, the
# resume plan if it goes on from a file), or the exit code when it cannot be opened.
_Opened: TypeAlias = "tuple[SessionStore, ProbeSource, BlockPipeline, float | None, ResumePlan | None] | int"

STATUS_EVERY_S = 5.0
MARKER_WORDS = ("injection", "baseline", "needle", "note", "checked")


def register(sub: SubParsers) -> None:
    p = sub.add_parser(
        "record", help="record a session without the GUI",
        description="Record a session headless to one crash-safe file. Type markers on standard input while "
                    "it runs: 'injection', 'baseline', 'needle', 'note TEXT', or 'checked left' / 'checked right' "
                    "(you checked that foot's probe: it is on the skin). Ctrl-C ends the session cleanly.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--port", metavar="PATH|auto", help="a serial probe on this port, or 'auto' to find it")
    src.add_argument("--ble", metavar="LEFT[,RIGHT]", help="BLE thermometer address(es), left foot first")
    src.add_argument("--demo", action="store_true", help="record the simulated patient (marked SIMULATED)")
    p.add_argument("--baud", type=baud, default=None, help="serial baud rate (default: the probe's)")
    add_simulation_flags(p)
    add_out_flag(p, "the session file to write (default: a new file in the user's data folder)")
    p.add_argument("--resume", metavar="FILE",
                   help="continue an unfinished (interrupted) session in FILE, with the same source flags as "
                        "when it was started; see `sympatherm sessions`")
    p.add_argument("--duration", type=duration_s, metavar="SECONDS",
                   help="stop after this much session time, at most 48 h (default: until Ctrl-C or SIGTERM)")
    add_blocked_flag(p)
    p.add_argument("--patient-id", default="", metavar="ID", help="patient identifier, as written in the chart")
    p.add_argument("--operator", default="", help="the physician")
    p.add_argument("--nurse", default="", help="the nurse")
    p.add_argument("--levels", default="", help="vertebral levels, e.g. L2-L3")
    p.add_argument("--drug", default="", help="drug and volume, e.g. 7 mL ropivacaine 0.5 %%")
    p.add_argument("--criteria", default="default", help="named criteria preset (default: default)")
    p.add_argument("--core-c", type=core_c, metavar="C",
                   help="core temperature in °C, 30 to 42 (needed by --criteria core-3)")
    p.add_argument("--room-c", type=room_c, metavar="C", help="room temperature in °C, 10 to 40, for the report")
    p.add_argument("--injection-at", type=session_time_s, metavar="SECONDS",
                   help="place the injection mark at this session time (with --demo the default is the "
                        "simulated physician's injection time)")
    p.add_argument("--status-every", type=status_every_s, default=STATUS_EVERY_S, metavar="SECONDS",
                   help=f"print a status line this often, in real seconds (default: {STATUS_EVERY_S:g})")
    from monitor.publish.flags import add_publish_flags

    add_publish_flags(p)
    p.set_defaults(func=run)


def _error(text: str) -> None:
    print(f"sympatherm record: {text}", file=sys.stderr, flush=True)


def parse_marker_line(line: str) -> tuple[str, str] | None:
    """(marker kind value, text) or None for an empty line; ValueError otherwise.

    The kind is 'injection', 'baseline', 'needle', 'note' or 'probe_checked' (typed as
    ``checked left`` or ``checked right``; the text is then the foot)."""
    text = line.strip()
    if not text:
        return None
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word not in MARKER_WORDS:
        raise ValueError(f"unknown marker {word!r}: type one of injection, baseline, needle, note TEXT, "
                         "checked left or checked right")
    if word == "note" and not rest.strip():
        raise ValueError("a note needs text: note TEXT")
    if word == "checked":
        foot = rest.strip().lower()
        if foot not in ("left", "right"):
            raise ValueError("say which probe you checked: checked left, or checked right")
        return "probe_checked", foot
    return word, rest.strip()


def _read_stdin(lines: queue.Queue[str]) -> None:
    try:
        for line in sys.stdin:
            lines.put(line)
    except (OSError, ValueError):
        pass


def stamp(session_s: float) -> str:
    """The session time that starts each line `record` prints, in the one time format, padded so
    that the lines align: "[   7:44]", "[1:15:00]"."""
    from monitor.pipeline.timefmt import format_session_time  # the pipeline's import waits for a command

    return f"[{format_session_time(session_s):>7}]"


def status_line(procedure: Procedure) -> str:
    """Both temperatures, rises, Di − Dc, the verdict and the systemic-warming notice, in one line
    (the core's values)."""
    from monitor.pipeline.timefmt import format_session_time

    snapshot = procedure.snapshot()
    # The time of the newest reading, not the clock: after --duration the clock runs on.
    now = procedure.now() if snapshot.now_s is None else snapshot.now_s
    parts = [stamp(now)]
    silent_s = _silent_for_s(procedure)
    if silent_s is not None:
        # The last temperatures would look current: say how long nothing has come instead.
        parts.append(f"NO DATA for {format_session_time(silent_s)}")
    else:
        for limb in ("left", "right"):
            temp = _lookup(snapshot.smooth_c or snapshot.raw_c or {}, limb)
            rise = _lookup(snapshot.rise_c or {}, limb)
            text = f"{limb[0].upper()} " + ("  --.- °C" if temp is None else f"{temp:6.2f} °C")
            if rise is not None:
                text += f" ({rise:+.2f})"
            parts.append(text)
        if snapshot.di_minus_dc_c is not None:
            parts.append(f"Di−Dc {snapshot.di_minus_dc_c:+.2f}")
    parts.append(snapshot.verdict.message)
    if snapshot.systemic_warming:
        # Both feet warming together is no block sign: the core's words, as every view shows them.
        parts.append(snapshot.systemic_warming)
    parts.append(f"stored {procedure.readings_received}")
    line = procedure.line_health().words()
    if line:
        parts.append(line)
    if procedure.write_error is not None:
        parts.append(f"NOT SAVED: {procedure.store.pending_count} held in memory")
    return "  ".join(parts)


def _silent_for_s(procedure: Procedure) -> float | None:
    """Seconds since the newest reading when every foot has been silent longer than its probe's
    rhythm allows (an outage); None while readings come, or before the first one."""
    ages = procedure.reading_ages()
    allowed = procedure.no_data_after_s()
    if any(age is None for age in ages.values()):
        return None
    if all(age is not None and age > allowed[limb] for limb, age in ages.items()):
        return min(age for age in ages.values() if age is not None)
    return None


def _lookup(mapping: Mapping[Limb, float | None], limb: str) -> float | None:
    for key, value in dict(mapping).items():
        if str(key) == limb:
            return None if value is None else float(value)
    return None


def _new_session(args: argparse.Namespace) -> _Opened:
    """(store, source, pipeline, injection_at, None) for a new recording, or an exit code."""
    from monitor.commands.sources import build_source, spec_from_args
    from monitor.model import Limb, SessionInfo
    from monitor.pipeline import BlockPipeline
    from monitor.store import SessionStore, StoreError

    blocked = Limb.parse(args.blocked) if args.blocked else None
    if blocked is None:
        if not args.demo:
            _error("say which side was blocked: --blocked left or --blocked right")
            return 2
        blocked = Limb.LEFT
    info = SessionInfo(patient_id=args.patient_id, blocked=blocked, operator=args.operator, nurse=args.nurse,
                       levels=args.levels, drug=args.drug, simulated=bool(args.demo), core_c=args.core_c,
                       room_c=args.room_c)
    try:
        spec = spec_from_args(args, blocked=blocked)
        source = build_source(spec)
        pipeline = BlockPipeline(blocked, criteria=args.criteria, core_c=args.core_c)
    except (ValueError, ImportError) as exc:
        _error(str(exc))
        return 2
    try:
        store = SessionStore.create(info, args.out, source_description=source.identity.name)
    except StoreError as exc:
        _error(str(exc))
        return 1
    _keep_spec(store, spec)
    injection_at = args.injection_at
    if injection_at is None and args.demo:
        injection_at = _suggested_injection_s(source)
    return store, source, pipeline, injection_at, None


def _suggested_injection_s(source: ProbeSource) -> float | None:
    """The simulated physician's injection time (``--demo``: the source is the simulated patient)."""
    from monitor.simulation.source import SimulatedSource

    return source.suggested_injection_s if isinstance(source, SimulatedSource) else None


def _keep_spec(store: SessionStore, spec: SourceSpec) -> None:
    """The source in the file, so the session can be resumed (and `sympatherm sessions` shows how)."""
    from monitor.procedure.source_spec import store_spec
    from monitor.store import StoreError

    try:
        store_spec(store, spec)
    except StoreError:
        pass  # written with the first commit; a store that cannot write says so then


def _resumed_session(args: argparse.Namespace) -> _Opened:
    """(store, source, pipeline, injection_at, plan) to continue ``args.resume``, or an exit code.

    The session's own side, patient and criteria are kept; flags that contradict them are refused."""
    from monitor.commands.sources import build_source, spec_from_args
    from monitor.model import Limb, MarkerKind
    from monitor.pipeline import BlockPipeline
    from monitor.pipeline.timefmt import format_session_time
    from monitor.procedure.criteria_record import criteria_from_record
    from monitor.procedure.recorder import plan_resume
    from monitor.store import STATUS_CLOSED, SessionStore, StoreBusyError, StoreError, StoreWriteError

    path = Path(args.resume)
    if args.out:
        _error("--resume continues FILE itself; --out is only for a new recording")
        return 2
    try:
        old = SessionStore.open_read_only(path)
    except StoreError as exc:
        _error(str(exc))
        return 1
    try:
        status, info, criteria = old.status, old.info(), old.criteria()
        injections = [m.session_s for m in old.markers() if m.kind is MarkerKind.INJECTION]
        plan = plan_resume(old, speed=args.speed if args.demo else 1.0)
    finally:
        old.close()
    if status == STATUS_CLOSED:
        _error(f"{path} was closed normally, so it is complete and cannot be resumed; start a new recording")
        return 1
    blocked = info.blocked or Limb.LEFT
    if args.blocked and Limb.parse(args.blocked) is not blocked:
        _error(f"this session's blocked side is {blocked}; leave out --blocked or give --blocked {blocked}")
        return 2
    if args.patient_id and args.patient_id != info.patient_id:
        _error(f"this session belongs to patient {info.patient_id!r}, not {args.patient_id!r}")
        return 2
    if bool(args.demo) != info.simulated:
        _error("a simulated session is resumed with --demo" if info.simulated
               else "this session was recorded from real probes; resume it with --port or --ble, not --demo")
        return 2
    try:
        spec = spec_from_args(args, blocked=blocked)
        # The simulated patient goes on where it was, probes long settled: its time is session
        # time. Its physiology keeps the scenario's own injection, as in the first run (a typed
        # or --injection-at mark is only a marker there too). start_at_s means nothing to real probes.
        source = build_source(spec, start_at_s=plan.offset_s if spec.simulated else 0.0)
        pipeline = BlockPipeline(blocked, criteria=criteria_from_record(criteria) if criteria else args.criteria,
                                 core_c=info.core_c)
    except (ValueError, ImportError) as exc:
        _error(str(exc))
        return 2
    try:
        store = SessionStore.open(path, resume=True)
    except StoreBusyError as exc:
        _error(str(exc))
        return 1
    except StoreWriteError as exc:
        # Not the recorder's "held in memory": nothing was recorded, so nothing is held anywhere.
        _error(f"{path} cannot be resumed: it cannot be written ({exc.__cause__ or exc}). Nothing was recorded "
               "and the file is unchanged; copy it to a folder you can write to and resume the copy.")
        return 1
    except StoreError as exc:
        _error(str(exc))
        return 1
    _keep_spec(store, spec)
    injection_at = None
    if injections and args.injection_at is not None:
        _error(f"this session already has its injection mark at session time {format_session_time(injections[0])}; "
               "--injection-at is ignored "
               "(type 'injection' to add another)")
    if not injections:
        injection_at = args.injection_at if args.injection_at is not None else (
            _suggested_injection_s(source) if args.demo else None)
    return store, source, pipeline, injection_at, plan


def _times_disagree(args: argparse.Namespace) -> str | None:
    """Why the time flags cannot all be honoured (checked before any file is created), or None."""
    if args.injection_at is not None and args.duration is not None and args.injection_at > args.duration:
        return (f"--injection-at {args.injection_at:g} is after the end of the session (--duration "
                f"{args.duration:g}): the mark would never be placed")
    return None


class ShownTime:
    """The session time `record`'s status lines show: never earlier than one already shown.

    A status line shows the newest reading's time, or the clock's before the first reading; a
    sped-up simulator's clock runs ahead of its readings, so the second line could show an earlier
    time than the first ([0:02], then [0:00]). A line is never stamped earlier than the one before."""

    _STAMP = re.compile(r"\[\s*(?:(\d+):)?(\d+):(\d\d)\]")

    def __init__(self) -> None:
        self.latest_s = 0

    def restamp(self, line: str) -> str:
        """``line`` (a :func:`status_line`) with its leading ``[m:ss]`` no earlier than any shown before."""
        found = self._STAMP.match(line)
        if found is None:
            return line
        hours, minutes, seconds = int(found[1] or 0), int(found[2]), int(found[3])
        self.latest_s = max(self.latest_s, 3600 * hours + 60 * minutes + seconds)
        return stamp(self.latest_s) + line[found.end():]


def run(args: argparse.Namespace) -> int:
    from monitor.pipeline.timefmt import format_session_time
    from monitor.procedure import Procedure
    from monitor.publish.config import PublishConfigError
    from monitor.publish.flags import config_from_args, start_publishing

    problem = _times_disagree(args)
    if problem:
        _error(problem)
        return 2
    try:
        publish = config_from_args(args)  # checked before any file is created
    except PublishConfigError as exc:
        _error(str(exc))
        return 2
    opened = _resumed_session(args) if args.resume else _new_session(args)
    if isinstance(opened, int):
        return opened
    store, source, pipeline, injection_at, plan = opened
    procedure = Procedure(source, store.info(), store, criteria=pipeline.criteria, resume_plan=plan,
                          stop_at_s=args.duration)
    _print_events(procedure)
    if injection_at is not None:
        # A demo's injection comes from the scenario unless the user gives --injection-at or types it.
        procedure.schedule_injection(injection_at, automatic=args.demo and args.injection_at is None)

    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_stdin, args=(lines,), name="record-stdin", daemon=True).start()

    sim = " (SIMULATED)" if args.demo else ""
    shown = ShownTime()
    # Handlers go in before the first line a caller may wait for, so an early Ctrl-C or SIGTERM
    # also ends the session cleanly instead of killing the process.
    publisher: StationPublisher | None = None
    with StopRequests() as stops:
        try:
            if plan is not None:
                print(f"Resuming{sim} {store.path}: {plan.message}; session time goes on at "
                      f"{format_session_time(procedure.time_offset_s)}.", flush=True)
            else:
                print(f"Recording{sim} to {store.path}", flush=True)
            if injection_at is not None:
                print(f"Injection mark will be placed at session time {format_session_time(injection_at)}.",
                      flush=True)
            publisher = start_publishing(publish, procedure)
            procedure.start()
            _record_until_stopped(args, procedure, lines, stops, shown, publisher)
        finally:
            reason = "stopped by a signal" if stops.requested else "recording finished"
            return_code = _finish(procedure, reason, stops, shown)
            if publisher is not None:
                _stop_publishing(publisher)
    return return_code


def _stop_publishing(publisher: StationPublisher) -> None:
    """The last state and "offline" to the broker (waiting a few seconds at most), then disconnect."""
    if not publisher.close():
        _error(f"the central station may not have the end of the session: {publisher.pending} message(s) "
               "were not taken by the broker (the session file has everything)")
    for notice in publisher.notices():
        print(f"publish: {notice}", flush=True)


def _print_events(procedure: Procedure) -> None:
    """`record` is a view too: it prints what the procedure core tells it."""

    def on_connection(event: ConnectionEvent) -> None:
        print(f"{stamp(event.session_s)}  connection {event.state}: {event.reason}", flush=True)

    def on_alarms(change: AlarmChange) -> None:
        active = {a.condition.key: a.condition for a in change.active}
        for key in change.raised:
            if key in active:
                cond = active[key]
                print(f"{stamp(cond.start_s)}  ALARM ({cond.priority}): {cond.text}", flush=True)
        for key in change.ended:
            print(f"{stamp(procedure.now())}  alarm ended: {key.split(':')[0].replace('_', ' ')}", flush=True)

    def on_write_error(text: str | None) -> None:
        if text is None:
            print("Writing works again: everything held in memory is now saved.", flush=True)
        else:
            _error(text)

    procedure.events.connection.connect(on_connection)
    procedure.events.alarms.connect(on_alarms)
    procedure.events.write_error.connect(on_write_error)
    def on_log(entry: LogEntry) -> None:
        if "automatic injection" in entry.text:
            print(entry.text, flush=True)

    procedure.events.log.connect(on_log)


def _record_until_stopped(args: argparse.Namespace, procedure: Procedure, lines: queue.Queue[str],
                          stops: StopRequests, shown: ShownTime, publisher: StationPublisher | None = None) -> None:
    next_status = time.monotonic() + min(args.status_every, 1.0)
    while not stops.requested:
        procedure.pump()
        if publisher is not None:
            publisher.tick()  # never waits on the network
            for notice in publisher.notices():
                print(f"publish: {notice}", flush=True)
        while not lines.empty():
            _typed_marker(procedure, lines.get_nowait())
        if time.monotonic() >= next_status:
            print(shown.restamp(status_line(procedure)), flush=True)
            next_status = time.monotonic() + args.status_every
        if args.duration is not None and _duration_reached(procedure.recorder, args.duration):
            return
        stops.wait(0.1, since=0)


def _typed_marker(procedure: Procedure, line: str) -> None:
    """A marker typed on standard input, placed through the core (which may refuse it, in words)."""
    from monitor.model import MarkerKind
    from monitor.procedure import MarkerRefused

    try:
        parsed = parse_marker_line(line)
    except ValueError as exc:
        _error(str(exc))
        return
    if not parsed:
        return
    kind, text = parsed
    rebaseline = kind == "baseline" and text.lower() == "again"
    if rebaseline:
        text = ""
    try:
        procedure.add_marker(MarkerKind(kind), text=text, rebaseline=rebaseline)
    except MarkerRefused as refused:
        hint = " Type 'baseline again' to start the new attempt." if kind == "baseline" else ""
        _error(f"marker not placed: {refused}{hint}")
        return
    print(f"Marker placed: {_marker_words(kind, text)}", flush=True)


def _marker_words(kind: str, text: str) -> str:
    """A placed marker as the user would say it ("left probe checked", "note sedation given")."""
    if kind == "probe_checked":
        return f"{text} probe checked"
    return f"{kind} {text}" if text else kind


def _duration_reached(recorder: SessionRecorder, duration_s: float) -> bool:
    """The readings have reached ``duration_s`` (a sped-up simulator's worker trails its clock),
    or the clock is well past it and data has stopped coming."""
    newest = max((t for t in recorder.last_reading_s.values() if t is not None), default=None)
    if recorder.stop_reached or (newest is not None and newest >= duration_s):
        return True
    speed = float(getattr(recorder.clock, "speed", 1.0))
    return recorder.clock.now() >= duration_s + 10.0 * max(1.0, speed)


def _finish(procedure: Procedure, reason: str, stops: StopRequests, shown: ShownTime | None = None) -> int:
    """Close the session; if the disk refuses, retry until space returns or, on a further
    Ctrl-C, save everything to the user's data folder instead."""
    from monitor.store import StoreBusyError, StoreError, StoreWriteError, default_session_path

    store = procedure.store
    seen = stops.count
    while True:
        try:
            procedure.finish(reason)
            break
        except StoreWriteError as exc:
            if stops.count > seen:
                rescue = default_session_path(_info_of(store))
                rescue = rescue.with_name(rescue.stem + "-rescued" + rescue.suffix)
                try:
                    store.relocate(rescue)
                    procedure.finish(reason)
                except StoreError as again:
                    _error(f"{again} Unsaved readings: {store.pending_count}.")
                    return 1
                print(f"Saved the whole session to {rescue} instead.", flush=True)
                break
            remedy = "close the program that holds the file" if isinstance(exc, StoreBusyError) else "free some space"
            _error(f"{exc} Retrying every 2 s; {remedy}, or press Ctrl-C again to save the session "
                   "to your data folder instead.")
            # ``seen`` stays the count from before the first attempt, so a Ctrl-C pressed while
            # this advice was printing is not missed.
            stops.wait(2.0, since=seen)
    print((shown or ShownTime()).restamp(status_line(procedure)), flush=True)
    if procedure.readings_received == 0 and not procedure.resumed and _drop_if_empty(store.path):
        _error("no readings were received (is the probe connected, switched on and on the right port?); "
               "the empty session file was not kept.")
        return 1
    print(f"Session saved: {store.path} ({procedure.readings_received} readings)", flush=True)
    return 0


def _drop_if_empty(path: Path) -> bool:
    """Remove a just-closed new session file that holds no reading and no marker (nothing was
    recorded, so it is no procedure's record); True if removed."""
    from monitor.store import SessionStore, StoreError

    try:
        with SessionStore.open_read_only(path, check_integrity=False) as reader:
            if reader.reading_count() or reader.markers():
                return False
    except StoreError:
        return False
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    return True


def _info_of(store: SessionStore) -> SessionInfo:
    try:
        return store.info()
    except Exception:  # the file may be unreadable too; a name is all that is needed
        from monitor.model import SessionInfo

        return SessionInfo()
