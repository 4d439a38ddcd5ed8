"""`sympatherm demo`: the whole live display against the simulated patient.

Live: the simulated clock runs ``speed`` times faster than real time and the window pumps it
from its 10 Hz timer. ``--snapshot``: a manual clock is stepped to ``after`` seconds of
simulated time, the window is laid out offscreen and grabbed to a PNG.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from monitor.clock import SimulatedClock
from monitor.model import Limb, SessionInfo
from monitor.simulation.source import SimulatedSource
from monitor.store import SessionStore

SNAPSHOT_SIZE = (1600, 1000)


def demo_info(scenario: str, blocked: Limb) -> SessionInfo:
    return SessionInfo(patient_id=f"DEMO-{scenario}", blocked=blocked, operator="Demo operator",
                       nurse="Demo nurse", simulated=True, notes="simulated patient (sympatherm demo)")


def build_demo_window(scenario: str, seed: int, speed: float, blocked: Limb, *, manual: bool,
                      session_path: Path | None = None, rate_hz: float = 1.0):
    """The live window on a simulated patient, recording to ``session_path`` (or the sessions folder)."""
    from ui.live_session import LiveSession
    from ui.main_window import MainWindow

    clock = SimulatedClock(speed, manual=manual)
    source = SimulatedSource(scenario, seed=seed, speed=speed, blocked=blocked, clock=clock, rate_hz=rate_hz)
    info = demo_info(scenario, blocked)
    store = SessionStore.create(info, session_path, source_description=source.identity.name)
    if rate_hz == 1.0:  # what `sympatherm record --demo` can reproduce: a crashed demo can be resumed
        from monitor.commands.record import source_flags

        store.set_meta("record_source_flags", source_flags(argparse.Namespace(
            demo=True, scenario=scenario, seed=seed, speed=speed, port=None, baud=None, ble=None)))
    session = LiveSession(source, info, store=store)
    window = MainWindow(session, simulated=True, auto_injection_s=source.suggested_injection_s,
                        run_timer=not manual, persist_layout=not manual)
    session.start()
    return window


def snapshot(path: Path, scenario: str, seed: int, blocked: Limb, after_s: float, rate_hz: float = 1.0,
             size: tuple[int, int] = SNAPSHOT_SIZE, difference: bool = False) -> Path:
    """Render the demo window after ``after_s`` simulated seconds to ``path`` (PNG)."""
    from PyQt6.QtWidgets import QApplication

    with tempfile.TemporaryDirectory(prefix="sympatherm-snapshot-") as tmp:
        window = build_demo_window(scenario, seed, 1.0, blocked, manual=True,
                                   session_path=Path(tmp) / "snapshot.sympatherm", rate_hz=rate_hz)
        window.recording_note = "picture made by sympatherm demo --snapshot: nothing saved"
        try:
            if difference:
                window.actions_by_name["difference"].trigger()
            window.resize(*size)
            window.show()
            QApplication.processEvents()
            window.advance_to(after_s)
            window.update_display()
            QApplication.processEvents()
            window.plot.refresh(force=True)
            QApplication.processEvents()
            pixmap = window.grab()
            path.parent.mkdir(parents=True, exist_ok=True)
            if not pixmap.save(str(path), "PNG"):
                raise OSError(f"could not write {path}")
        finally:
            window.finish("snapshot taken")
            window.close()
    return path


def run_demo(scenario: str, seed: int, speed: float, blocked: Limb, rate_hz: float = 1.0,
             difference: bool = False) -> int:
    from ui.application import get_application

    app = get_application()
    window = build_demo_window(scenario, seed, speed, blocked, manual=False, rate_hz=rate_hz)
    window.confirm_close = True
    if difference and not window.actions_by_name["difference"].isChecked():
        window.actions_by_name["difference"].trigger()
    window.resize(1400, 900)
    window.show()
    return app.exec()
