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
