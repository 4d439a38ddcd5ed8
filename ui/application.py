"""Creating the QApplication once, with the settings every entry point needs."""

from __future__ import annotations

import sys

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
    return app  # type: ignore[return-value]
