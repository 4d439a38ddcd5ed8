"""Plain `sympatherm`: recovery offer, set-up flow, then the live window; repeat or quit.

Probes come from the core's discovery; the simulated patient is always offered and is
picked when no probe is attached.

The GUI builds no source itself: the command line hands :class:`AppController` its
``build_source`` (a :class:`~monitor.procedure.source_spec.SourceBuilder`) and the simulated
scenarios as plain data. Every session the GUI records keeps its source in the file as a
:class:`~monitor.procedure.source_spec.SourceSpec` (``store_spec``), so an unfinished one can be
resumed from the GUI (``stored_spec`` and the builder) or headless (``sympatherm sessions``
prints the command).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PyQt6.QtWidgets import QMessageBox, QWidget

from monitor.clock import SimulatedClock
from monitor.model import Limb, SessionInfo
from monitor.outbox.courier import OutboxCourier
from monitor.procedure.source_spec import (
    BleSpec,
    SerialSpec,
    SimulatedSpec,
    SourceBuilder,
    SourceSpec,
    store_spec,
    stored_spec,
)
from monitor.sources.base import ProbeSource
from monitor.store import DamagedSession, SessionStore, StoreError
from ui.candidates import (
    ProbeCandidate,
    candidate_from_discovery,
    pair_candidates,
    simulated_candidate,
    simulated_spec,
)
from ui.setup_dialog import SetupDialog, SetupResult

_candidate_from_discovery = candidate_from_discovery  # the name tests and older callers use

__all__ = ["AppController", "ProbeCandidate", "ResumeChoice", "discover_candidates", "offer_recovery",
           "pair_candidates", "report_damaged_sessions", "resume_choice", "resumed_source", "run_application",
           "simulated_candidate", "source_for", "spec_for"]


def discover_candidates(build_source: SourceBuilder, *, ble: bool = False, ble_timeout_s: float = 3.0,
                        show_all_ports: bool = False) -> list[ProbeCandidate]:
    """Probes found by the core's discovery (serial ports at once; Bluetooth thermometers only when
    ``ble``, since that is a scan of a few seconds), then the simulated patient (built by
    ``build_source`` when chosen). Built-in serial ports without USB IDs only with ``show_all_ports``."""
    from monitor.sources import discovery

    found: list[ProbeCandidate] = []
    try:
        probes = discovery.discover(serial=True, ble=ble, ble_timeout_s=ble_timeout_s,
                                    show_all_ports=show_all_ports)
    except Exception as exc:  # discovery trouble must not stop the simulated patient being offered
        probes = []
        found.append(ProbeCandidate("Probe search", f"failed: {exc}", "unavailable", usable=False))
    found.extend(candidate_from_discovery(p) for p in probes)
    found.append(simulated_candidate(build_source))
    return found


def source_for(result: SetupResult, clock: SimulatedClock | None = None) -> ProbeSource:
    """The source the user chose; ``clock`` (simulated patient only) lets tests step time by hand."""
    c = result.candidate
    if c.make_source is None:  # the set-up offers no such row; said plainly if one gets here
        raise ValueError(f"{c.name} cannot be opened ({c.state})")
    if c.simulated:
        return c.make_source(False, result.scenario, result.speed, result.info.blocked, clock)
    return c.make_source(result.swap_sides)


def spec_for(result: SetupResult, source) -> SourceSpec | None:
    """The spec that reaches the chosen source again (kept in the session file); None if none can."""
    c = result.candidate
    try:
        if c.simulated:
            return simulated_spec(c, result.scenario, result.speed, result.info.blocked or Limb.LEFT)
        if c.kind == "serial":
            port = getattr(source, "port_name", None) or c.extra.get("address") or "auto"
            return SerialSpec(port=port)
        addresses = tuple(getattr(source, "addresses", ()))
        if c.kind == "ble" and addresses:
            # The source's addresses are in foot order (left first) once a swap is applied.
            return BleSpec(addresses=addresses)
    except ValueError:
        pass  # a port or address no file can keep: the session is recorded, but cannot be resumed
    return None


@dataclass(frozen=True)
class ResumeChoice:
    """An unfinished session whose source can be reached again."""

    path: Path
    spec: SourceSpec
    info: SessionInfo
    description: str  # the source, in plain words


def resume_choice(path: Path) -> ResumeChoice | str:
    """How ``path`` can be resumed, or why it cannot (plain words)."""
    try:
        with SessionStore.open_read_only(path, check_integrity=False) as ro:
            info = ro.info()
            try:
                spec = stored_spec(ro)
            except ValueError as exc:
                return str(exc)
    except StoreError as exc:
        return str(exc)
    if spec is None:
        return "the file does not say which probes recorded it"
    if spec.simulated != info.simulated:
        return "the file's source does not match the session (simulated or real)"
    if isinstance(spec, SimulatedSpec):
        what = f"the simulated patient ({spec.scenario})"
    elif isinstance(spec, SerialSpec):
        if not spec.auto and not Path(spec.port).exists():
            return f"the serial probe on {spec.port} is not connected"
        what = "the serial probe" + ("" if spec.auto else f" on {spec.port}")
    elif isinstance(spec, BleSpec):
        what = "the Bluetooth thermometer(s) " + ",".join(spec.addresses)
    else:
        return f"the file's source ({spec.kind}) cannot be reached from here"
    return ResumeChoice(Path(path), spec, info, what)


def resumed_source(build_source: SourceBuilder, choice: ResumeChoice, plan, clock: SimulatedClock | None = None):
    """The session's source, built again from its saved spec (``clock``: tests step a manual one)."""
    spec = choice.spec
    if not isinstance(spec, SimulatedSpec):
        return build_source(spec)
    # As `sympatherm record --resume --demo`: the simulated patient goes on where it was, probes
    # long settled (its time is session time), on the session's own blocked side. Its physiology
    # keeps the scenario's own injection, as in the first run; an injection mark in the file stays
    # a marker.
    blocked = choice.info.blocked or Limb.LEFT
    if spec.blocked is not blocked:
        spec = replace(spec, blocked=blocked)
    return build_source(spec, clock=clock or SimulatedClock(spec.speed), start_at_s=plan.offset_s)


# Damaged files already reported in this run (by resolved path): the warning is not repeated.
_damaged_reported: set[Path] = set()

_DAMAGE_PREFIX = " cannot be read as a SympaTherm session: "
_DAMAGE_ADVICE = "It has been left exactly as it was; keep a copy before trying anything else."


def _short_reason(entry: DamagedSession) -> str:
    """The store's reason without the path and advice the warning says once for all files."""
    reason = entry.reason
    head = f"{entry.path}{_DAMAGE_PREFIX}"
    if reason.startswith(head):
        reason = reason[len(head):]
    reason = reason.replace(_DAMAGE_ADVICE, "").strip()
    return reason if len(reason) <= 160 else reason[:157].rstrip() + "…"


def report_damaged_sessions(parent: QWidget | None = None) -> list[DamagedSession]:
    """One warning listing the session files that cannot be opened (damaged, not a session, or from
    a newer SympaTherm), each with a short reason; files already reported in this run are not
    reported again. They are never offered for resuming or review. Returns the entries shown."""
    from monitor import store as store_mod

    damaged = [d for d in store_mod.find_damaged_sessions() if d.path.resolve() not in _damaged_reported]
    if not damaged:
        return []
    _damaged_reported.update(d.path.resolve() for d in damaged)
    lines = [f"• {d.path.name} (in {d.path.parent}): {_short_reason(d)}" for d in damaged]
    one = len(damaged) == 1
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Damaged session file" if one else "Damaged session files")
    box.setText(("This session file cannot be opened:" if one else "These session files cannot be opened:")
                + "\n\n" + "\n".join(lines) + "\n\n"
                + ("It was left untouched. Keep a copy of it before trying anything else."
                   if one else "They were left untouched. Keep a copy of each before trying anything else."))
    box.setDetailedText("\n\n".join(d.reason for d in damaged))
    box.addButton(QMessageBox.StandardButton.Ok)
    box.exec()
    return damaged


def offer_recovery(parent: QWidget | None = None,
                   resume: Callable[[ResumeChoice], object] | None = None) -> list[Path]:
    """Unfinished sessions found at start-up: resume recording (when ``resume`` is given and the
    session's source can be reached again), review them, or mark them finished. Returns reviewed paths."""
    from monitor import store as store_mod

    reviewed: list[Path] = []
    for path in store_mod.find_unfinished_sessions():
        choice = resume_choice(path) if resume is not None else None
        box = QMessageBox(parent)
        box.setWindowTitle("Unfinished session found")
        text = (f"The session {path.name} was not closed (the program or computer stopped while it was "
                "recording). Everything written until then is in the file.")
        if isinstance(choice, ResumeChoice):
            text += (f"\n\nResume recording continues this session from {choice.description}: its time goes "
                     "on after the interruption, which is recorded.")
        elif isinstance(choice, str):
            text += f"\n\nIt cannot be resumed here: {choice}."
        box.setText(text)
        go_on = None
        resumable = choice if isinstance(choice, ResumeChoice) and resume is not None else None
        if resumable is not None:
            go_on = box.addButton("Resume recording", QMessageBox.ButtonRole.AcceptRole)
        review = box.addButton("Review and export", QMessageBox.ButtonRole.AcceptRole)
        close = box.addButton("Mark as finished", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(go_on or review)
        box.exec()
        clicked = box.clickedButton()
        if resume is not None and resumable is not None and go_on is not None and clicked is go_on:
            try:
                resume(resumable)
            except Exception as exc:  # noqa: BLE001 - start-up goes on; the file is left as it was
                QMessageBox.warning(parent, "Session not resumed",
                                    f"{path.name} could not be resumed: {exc}\nIt is kept as it is.")
        elif clicked is review:
            store_mod.close_unfinished(path)
            reviewed.append(path)
        elif clicked is close:
            store_mod.close_unfinished(path)
    return reviewed


class AppController:
    """Keeps the windows of the real application alive."""

    def __init__(self, build_source: SourceBuilder, *, scenarios: Sequence[tuple[str, str]] = (),
                 simulated_clock_factory=None) -> None:
        """``build_source``: builds every source the GUI records from (the command line's);
        ``scenarios``: the simulated patient's (name, description) pairs, offered in the set-up."""
        self.windows: list[QWidget] = []
        self.build_source = build_source
        self.scenarios = list(scenarios)
        self.registry = _registry()
        # Tests pass a factory of manual SimulatedClocks; the app runs the simulator in real time × speed.
        self.simulated_clock_factory = simulated_clock_factory

    def start(self) -> bool:
        report_damaged_sessions()
        for path in offer_recovery(resume=self.resume_session):
            self.open_review(path)
        if any(getattr(w, "session", None) is not None for w in self.windows):
            return True  # a resumed recording is under way; a new one can be started from it later
        return self.new_session()

    def new_session(self) -> bool:
        dlg = SetupDialog(discover_candidates(self.build_source), self.registry,
                          rescan=lambda show_all_ports=False: discover_candidates(
                              self.build_source, ble=True, show_all_ports=show_all_ports),
                          scan_in_background=True,
                          review=self.choose_review, scenarios=self.scenarios)
        if not dlg.exec() or dlg.result_value is None:
            return bool(self.windows)
        self.start_session(dlg.result_value)
        return True

    def start_session(self, result: SetupResult):
        from monitor.procedure import Procedure

        clock = None
        if result.candidate.simulated and self.simulated_clock_factory is not None:
            clock = self.simulated_clock_factory()
        source = source_for(result, clock)
        store = SessionStore.create(result.info, source_description=source.identity.name)
        spec = spec_for(result, source)
        if spec is not None:
            store_spec(store, spec)  # so the session can be resumed after a crash
        session = Procedure(source, result.info, store, criteria=result.criteria)
        return self._show_live(session)

    def resume_session(self, choice: ResumeChoice):
        """Continue recording an unfinished session into its own file, from its own source."""
        from monitor.procedure import Procedure
        from monitor.procedure.criteria_record import criteria_from_record
        from monitor.procedure.recorder import plan_resume

        spec = choice.spec
        with SessionStore.open_read_only(choice.path, check_integrity=False) as ro:
            plan = plan_resume(ro, speed=spec.speed if isinstance(spec, SimulatedSpec) else 1.0)
            criteria = criteria_from_record(ro.criteria())
        clock = None
        if spec.simulated and self.simulated_clock_factory is not None:
            clock = self.simulated_clock_factory()
        source = resumed_source(self.build_source, choice, plan, clock)
        store = SessionStore.open(choice.path, resume=True)
        try:
            session = Procedure(source, store.info(), store, criteria=criteria, resume_plan=plan)
        except Exception:
            store.close(status="recording", end_reason="resume failed")  # still unfinished, nothing lost
            raise
        return self._show_live(session)

    def _show_live(self, session):
        from ui.main_window import MainWindow

        # In the application the user marks the injection (only `sympatherm demo` marks it by itself).
        manual = session.manual
        window = MainWindow(session, simulated=session.info.simulated, run_timer=not manual)
        session.start()
        window.confirm_close = not manual
        self._publish(session, window)
        window.resize(1400, 900)
        window.show()
        self.windows.append(window)
        return window

    def _publish(self, session, window) -> None:
        """Publish to the central station if Settings turned it on (off by default)."""
        from PyQt6.QtCore import QTimer
        from PyQt6.QtWidgets import QMessageBox

        from monitor.publish.saved import publish_from_saved_settings

        publisher, problem = publish_from_saved_settings(session)
        window.publisher = publisher
        if problem is not None:
            QMessageBox.warning(window, "Central station", problem + "\n\nThe recording itself goes on as usual.")
        if publisher is not None:
            # The room's state at least once a second, whether or not readings arrive.
            ticker = QTimer(window)
            ticker.setInterval(500)
            ticker.timeout.connect(publisher.tick)
            ticker.start()

    def choose_review(self, parent: QWidget | None = None) -> None:
        """Pick a session file from the sessions folder and open it for review."""
        from PyQt6.QtWidgets import QFileDialog

        from monitor.paths import sessions_dir

        name, _ = QFileDialog.getOpenFileName(parent, "Review a past session", str(sessions_dir()),
                                              "SympaTherm sessions (*.sympatherm)")
        if name:
            self.open_review(Path(name))

    def open_review(self, path: Path):
        from ui.review import open_review_window

        window = open_review_window(path)
        if window is not None:
            window.show()
            self.windows.append(window)
        return window


def _registry():
    try:
        from monitor.sources.registry import DeviceRegistry
        return DeviceRegistry()
    except Exception:  # a damaged registry is reported by the registry itself; keep going
        return None


def run_application(build_source: SourceBuilder, scenarios: Sequence[tuple[str, str]] = ()) -> int:
    """The application: ``build_source`` builds every source it records from, ``scenarios`` are the
    simulated patient's (name, description) pairs (both from the command line)."""
    from ui.application import get_application

    app = get_application()
    # Results the hospital's receiver could not take yet go on being retried while the app is open.
    courier = OutboxCourier().start()
    try:
        controller = AppController(build_source, scenarios=scenarios)
        if not controller.start():
            return 0
        return app.exec()
    finally:
        courier.stop()
