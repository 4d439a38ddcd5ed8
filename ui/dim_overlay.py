"""Night mode for a darkened fluoroscopy room: a translucent black veil over the data area.

The banner and alarm bar stay outside the veil, so alarms keep their full brightness.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QWidget

NIGHT_ALPHA = 120  # of 255: about half the brightness


class DimOverlay(QWidget):
    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setStyleSheet("background: transparent;")
        target.installEventFilter(self)
        self.setGeometry(target.rect())
        self.hide()

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 (Qt override)
        target = self.parentWidget()
        if event is not None and event.type() == QEvent.Type.Resize and target is not None:
            self.setGeometry(target.rect())
        return False

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, NIGHT_ALPHA))
