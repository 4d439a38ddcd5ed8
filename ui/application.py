"""Creating the QApplication once, with the settings every entry point needs."""

from __future__ import annotations

import sys
import traceback

import pyqtgraph as pg
from PyQt6.QtCore import QCoreApplication, Qt
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QApplication


def get_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        # High-DPI: Qt 6 scales by default; pass fractional factors through so 150 % screens are sharp.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    QCoreApplication.setOrganizationName("SympaTherm")
    QCoreApplication.setApplicationName("sympatherm")
    pg.setConfigOptions(antialias=False, background="#15171A", foreground="#E6E6E6")
    _keep_running_on_errors()
    return app  # type: ignore[return-value]


def _keep_running_on_errors() -> None:
    """PyQt ends the program on an exception in a slot unless sys.excepthook is replaced. A bug
    behind one button must not stop a recording: print it and say so, then carry on."""
    if getattr(sys.excepthook, "_sympatherm", False):
        return

    def hook(exc_type, exc, tb) -> None:
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        try:
            from PyQt6.QtWidgets import QMessageBox

            box = QMessageBox(QMessageBox.Icon.Warning, "SympaTherm: program error",
                              f"{exc_type.__name__}: {exc}\n\nThe recording continues. Please report this.")
            box.setModal(False)
            box.show()
            _open_reports.append(box)
        except Exception:  # noqa: S110 - reporting must never raise
            pass

    hook._sympatherm = True  # type: ignore[attr-defined]
    sys.excepthook = hook


_open_reports: list = []
