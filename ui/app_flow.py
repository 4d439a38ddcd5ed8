"""Plain `sympatherm`: recovery offer, set-up flow, then the live window; repeat or quit.

Probes come from the core's discovery; the simulated patient is always offered and is
picked when no probe is attached.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QMessageBox, QWidget

from monitor.clock import SimulatedClock
from monitor.model import Limb
from monitor.sources.simulated import SimulatedSource
from monitor.store import SessionStore
from ui.setup_dialog import ProbeCandidate, SetupDialog, SetupResult


def simulated_candidate(seed: int = 1) -> ProbeCandidate:
    def make(swap: bool = False, scenario: str = "success-fast", speed: float = 10.0,
             blocked: Limb = Limb.LEFT, clock=None) -> SimulatedSource:
        return SimulatedSource(scenario, seed=seed, speed=speed, blocked=blocked,
                               clock=clock or SimulatedClock(speed))

    return ProbeCandidate("Simulated patient", "always available (not a real patient)", "simulated",
                          key="simulated", make_source=make)


def discover_candidates(*, ble: bool = False, ble_timeout_s: float = 3.0) -> list[ProbeCandidate]:
    """Probes found by the core's discovery (serial ports at once; Bluetooth thermometers only when
    ``ble``, since that is a scan of a few seconds), then the simulated patient."""
    from monitor.sources import discovery

    found: list[ProbeCandidate] = []
    try:
        probes = discovery.discover(serial=True, ble=ble, ble_timeout_s=ble_timeout_s)
    except Exception as exc:  # discovery trouble must not stop the simulated patient being offered
        probes = []
        found.append(ProbeCandidate("Probe search", f"failed: {exc}", "unavailable", usable=False))
    found.extend(_candidate_from_discovery(p) for p in probes)
    found.append(simulated_candidate())
    return found


def _candidate_from_discovery(probe) -> ProbeCandidate:
    def factory(swap: bool = False, scenario: str = "", speed: float = 1.0, blocked: Limb = Limb.LEFT,
                clock=None):
        return probe.make_source(swap_sides=swap)

    # Only a recognised probe is picked by default; an unknown serial port (a built-in UART, a
    # modem) stays in the list for the user to choose deliberately.
    known = probe.kind == "ble" or (probe.kind == "serial" and probe.state.startswith("SympaTherm probe"))
    return ProbeCandidate(probe.name, probe.state, probe.kind, key=probe.key, usable=probe.usable,
                          make_source=factory, extra={"known": known})


def source_for(result: SetupResult, clock=None):
    """The source the user chose; ``clock`` (simulated patient only) lets tests step time by hand."""
    c = result.candidate
    if c.simulated:
        return c.make_source(False, result.scenario, result.speed, result.info.blocked, clock)
    return c.make_source(result.swap_sides)


def offer_recovery(parent: QWidget | None = None) -> list[Path]:
    """Unfinished sessions found at start-up: review them, or mark them finished. Returns reviewed paths."""
    from monitor import store as store_mod

    reviewed: list[Path] = []
    for path in store_mod.find_unfinished_sessions():
        box = QMessageBox(parent)
        box.setWindowTitle("Unfinished session found")
        box.setText(f"The session {path.name} was not closed (the program or computer stopped while it was "
                    "recording). Everything written until then is in the file.")
        review = box.addButton("Review and export", QMessageBox.ButtonRole.AcceptRole)
        close = box.addButton("Mark as finished", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is review:
            store_mod.close_unfinished(path)
            reviewed.append(path)
        elif box.clickedButton() is close:
            store_mod.close_unfinished(path)
    return reviewed


class AppController:
    """Keeps the windows of the real application alive."""

    def __init__(self, simulated_clock_factory=None) -> None:
        self.windows: list[QWidget] = []
        self.registry = _registry()
        # Tests pass a factory of manual SimulatedClocks; the app runs the simulator in real time × speed.
        self.simulated_clock_factory = simulated_clock_factory

    def start(self) -> bool:
        for path in offer_recovery():
            self.open_review(path)
        return self.new_session()

    def new_session(self) -> bool:
        dlg = SetupDialog(discover_candidates(), self.registry,
                          rescan=lambda: discover_candidates(ble=True), scan_in_background=True,
                          review=self.choose_review)
        if not dlg.exec() or dlg.result_value is None:
            return bool(self.windows)
        self.start_session(dlg.result_value)
        return True

    def start_session(self, result: SetupResult):
        from ui.live_session import LiveSession
        from ui.main_window import MainWindow

        clock = None
        if result.candidate.simulated and self.simulated_clock_factory is not None:
            clock = self.simulated_clock_factory()
        source = source_for(result, clock)
        store = SessionStore.create(result.info, source_description=source.identity.name)
        session = LiveSession(source, result.info, store=store, criteria=result.criteria)
        # In the application the user marks the injection (only `sympatherm demo` marks it by itself).
        manual = bool(getattr(source.clock, "manual", False))
        window = MainWindow(session, simulated=result.info.simulated, run_timer=not manual)
        session.start()
        window.confirm_close = not manual
        window.resize(1400, 900)
        window.show()
        self.windows.append(window)
        return window

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
        from monitor.registry import DeviceRegistry
        return DeviceRegistry()
    except Exception:  # a damaged registry is reported by the registry itself; keep going
        return None


def run_application() -> int:
    from ui.application import get_application

    app = get_application()
    controller = AppController()
    if not controller.start():
        return 0
    return app.exec()
