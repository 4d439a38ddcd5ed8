"""`sympatherm demo`'s window: the whole live display against the simulated patient.

The command line (``monitor.commands.demo``) builds the simulated patient, the session store
and the procedure core; here the live window is made on it (:func:`demo_window`), rendered to a PNG
(:func:`snapshot`) or shown (:func:`run_demo`). Live: the simulated clock runs ``speed`` times
faster than real time and the window pumps it from its 10 Hz timer. Snapshot: a manual clock
is stepped to ``after`` seconds of simulated time, the window is laid out offscreen and
grabbed to a PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.procedure import Procedure
    from ui.main_window import MainWindow

SNAPSHOT_SIZE = (1600, 1000)


def demo_window(procedure: Procedure, *, manual: bool) -> MainWindow:
    """The live window on a procedure with a simulated source; started.

    ``manual``: the source's clock is stepped by hand (tests, snapshots): no timer, and the
    window's layout is not remembered."""
    from ui.main_window import MainWindow

    window = MainWindow(procedure, simulated=True, run_timer=not manual, persist_layout=not manual)
    procedure.start()
    return window


def snapshot(path: Path, window, after_s: float, size: tuple[int, int] = SNAPSHOT_SIZE,
             difference: bool = False) -> Path:
    """Render ``window`` (a demo window on a manual clock) after ``after_s`` simulated seconds to
    ``path`` (PNG); the window's session is finished and the window closed afterwards."""
    from PyQt6.QtWidgets import QApplication

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
        dispose(window)
    return path


def dispose(window) -> None:
    """Delete ``window``'s Qt objects now, while the QApplication still exists.

    The window is held in reference cycles (its lambdas and slots refer to it), so Python frees
    it only at a later garbage collection, after the command has let go of the QApplication.
    Releasing the QApplication then made PyQt delete the window itself, in its sweep over every
    live wrapper, and that sweep crashed now and then (SIGSEGV in release_QApplication →
    cleanup_qobject, seen under load). The cycles are collected too: pyqtgraph's menus of
    the plots (Qt objects without a parent) go with them."""
    import gc

    from PyQt6.QtCore import QEvent
    from PyQt6.QtWidgets import QApplication

    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def run_demo(window, difference: bool = False) -> int:
    """Show the live demo ``window`` (made after the QApplication) until it is closed."""
    from ui.application import get_application

    app = get_application()
    window.confirm_close = True
    if difference and not window.actions_by_name["difference"].isChecked():
        window.actions_by_name["difference"].trigger()
    window.resize(1400, 900)
    window.show()
    code = app.exec()
    dispose(window)  # before the caller lets go of the QApplication
    return code
