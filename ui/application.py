"""Creating the QApplication once, with the settings every entry point needs."""

from __future__ import annotations

import sys
import traceback

import pyqtgraph as pg
from PyQt6.QtCore import (
    QCoreApplication,
    QMessageLogContext,
    Qt,
    QtMsgType,
    qFormatLogMessage,
    qInstallMessageHandler,
)
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
    _drop_known_harmless_qt_warnings()
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

# Qt warnings known to be harmless, dropped word for word (everything else is passed on):
# the offscreen platform (snapshots, tests) warns on every window shown that it cannot pass
# size hints to a window system it does not have.
HARMLESS_QT_WARNINGS = frozenset({"This plugin does not support propagateSizeHints()"})

_message_handler_installed = False


def _drop_known_harmless_qt_warnings() -> None:
    """Install, once, a Qt message handler that drops only :data:`HARMLESS_QT_WARNINGS` and hands
    every other message to the handler that was there before (Qt's own: printed to stderr)."""
    global _message_handler_installed
    if _message_handler_installed:
        return
    previous = None

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str | None) -> None:
        if mode == QtMsgType.QtWarningMsg and message in HARMLESS_QT_WARNINGS:
            return
        if previous is not None:
            previous(mode, context, message)
        else:  # Qt's default handler: the formatted message on stderr
            sys.stderr.write(qFormatLogMessage(mode, context, message) + "\n")
            sys.stderr.flush()

    previous = qInstallMessageHandler(handler)
    _message_handler_installed = True
