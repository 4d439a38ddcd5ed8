"""Qt tests share one QApplication per worker: each test leaves no window or timer behind.

Windows a test made are closed, deferred deletions run and Python's garbage is collected while
the QApplication is still alive, so a later test never meets a half-deleted Qt object (seen as a
segmentation fault inside pyqtgraph when test order changed under pytest-xdist)."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _no_qt_leftovers(qapp):
    yield
    from PyQt6.QtCore import QCoreApplication, QEvent

    for widget in qapp.topLevelWidgets():
        widget.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def demo(qtbot, tmp_path):
    """``demo(auto_injection=True)``: a demo window (success-fast, seed 1, left blocked) on a manual
    clock, recording into ``tmp_path``; finished at the end of the test."""
    from monitor.commands.demo import build_demo_window
    from monitor.model import Limb

    made = []

    def make(auto_injection: bool = True):
        window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, auto_injection=auto_injection,
                                   session_path=tmp_path / f"demo{len(made)}.sympatherm")
        qtbot.addWidget(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.finish()
