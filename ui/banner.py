"""The status banner (verdict and Di − Dc), the SIMULATED strip and the alarm bar."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from monitor.pipeline.glossary import TERMS
from ui import theme
from ui.fit_text import FitLabel, tooltip_text

# Banner colours by verdict kind. Confirmation is information (green), never an alarm colour.
_KIND_STYLE = {
    "waiting": ("#2A2E33", theme.TEXT),
    "baseline": ("#23364A", theme.TEXT),
    "monitoring": ("#23364A", theme.TEXT),
    "early": ("#2D4A3A", theme.TEXT),
    "confirmed": (theme.INFO_COLOUR, "#FFFFFF"),
    "not_confirmed": ("#4A3A2A", theme.TEXT),
    "review": ("#2A2E33", theme.TEXT),
    "ended": ("#3A3D42", theme.TEXT),
}

# The Di − Dc number's tooltip: its words from the one glossary (tiles, F1, criteria, report).
DIFFERENCE_EXPLANATION = tooltip_text(f"Di − Dc: {dict(TERMS)['Di − Dc']}")


def _px_font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


class ElidedLabel(QLabel):
    """One line, cut with "…" to the width it has, the whole text in its tooltip: a long detail
    never pushes the plot off a small screen. ``text()`` is the whole text."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setText(text)

    def setText(self, text: str | None) -> None:  # noqa: N802 (Qt's name)
        self._full = text or ""
        self.setToolTip(self._full if self._full else "")
        self._elide()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        return QSize(0, hint.height())  # it may shrink to nothing: the text is elided

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(10, self.width()))
        if QLabel.text(self) != shown:
            super().setText(shown)


class StatusBanner(QFrame):
    """The verdict in plain words, with Di − Dc beside it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        # The title takes at most two lines (its font shrinks first, then "…" with the whole
        # text in the tooltip): a long state never squeezes the plot off a small screen.
        self.title = FitLabel("Waiting for baseline", min_px=16, max_lines=2)
        self.detail = ElidedLabel("")
        self.diff = QLabel("Di − Dc  --")
        self.diff.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.title)
        left.addWidget(self.detail)
        self._lay = lay = QHBoxLayout(self)
        lay.addLayout(left, 1)
        lay.addWidget(self.diff)
        self.set_scale(1.0)
        self.kind = "waiting"
        self.set_status("waiting", "Waiting for baseline", "", None)

    def set_scale(self, scale: float) -> None:
        """Text sizes for the window's height (1.0 at 1000 px and up; smaller on a small screen)."""
        self.title.set_px(round(30 * scale), bold=True, min_px=max(14, round(18 * scale)))
        self.detail.setFont(_px_font(max(13, round(17 * scale))))
        self.diff.setFont(_px_font(round(30 * scale), bold=True))
        self.diff.setMinimumWidth(round(260 * scale))
        self._lay.setContentsMargins(16, round(8 * scale), 16, round(8 * scale))

    def set_status(self, kind: str, title: str, detail: str, di_minus_dc: float | None,
                   withheld: str | None = None) -> None:
        """``withheld``: why the core gives no Di − Dc now (a flagged or silent probe)."""
        if kind != self.kind or not self.styleSheet():
            bg, fg = _KIND_STYLE.get(kind, _KIND_STYLE["waiting"])
            self.setStyleSheet(f"QFrame#banner {{ background-color: {bg}; border-radius: 8px; }}"
                               f"QLabel {{ color: {fg}; background: transparent; }}")
        self.kind = kind
        _set_text(self.title, title)
        _set_text(self.detail, detail)
        self.detail.setVisible(bool(detail))
        if di_minus_dc is None:
            _set_text(self.diff, "Di − Dc  —")
        else:
            _set_text(self.diff, f"Di − Dc  {round(di_minus_dc, 1) + 0.0:+.1f} °C")  # never "−0.0"
        tip = DIFFERENCE_EXPLANATION + (f"\nNot shown now: {withheld}." if withheld and di_minus_dc is None else "")
        if self.diff.toolTip() != tip:
            self.diff.setToolTip(tip)


class SimulatedStrip(QLabel):
    """Shown across the top of the window for every simulated session."""

    def __init__(self, parent=None) -> None:
        super().__init__("SIMULATED PATIENT  ·  NOT REAL PATIENT DATA  ·  SIMULATED", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_scale(1.0)

    def set_scale(self, scale: float) -> None:
        """Text size for the window's height (1.0 at 1000 px and up)."""
        self.setFont(_px_font(max(14, round(22 * scale)), bold=True))
        self.setStyleSheet(f"background-color: {theme.SIMULATED_COLOUR}; color: white; "
                           f"padding: {max(1, round(4 * scale))}px;")


class AlarmBar(QFrame):
    """Active technical alarms. Medium priority: yellow, flashing; low: cyan, steady."""

    acknowledgeRequested = pyqtSignal()  # noqa: N815 (Qt signal naming)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmbar")
        # At most two lines, however many alarms or however long (the font shrinks first, then
        # "…" with every alarm's whole words in the tooltip).
        self.text = FitLabel("", min_px=13, max_lines=2)
        self.ack = QPushButton("Silence (A)")
        self.ack.clicked.connect(self.acknowledgeRequested)
        self._lay = lay = QHBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.ack)
        self.set_scale(1.0)
        self.setVisible(False)
        self.priority: str | None = None

    def set_scale(self, scale: float) -> None:
        """Text sizes for the window's height (1.0 at 1000 px and up)."""
        want = max(17, round(22 * scale))  # an alarm is read from across the room: cut before tiny
        self.text.set_px(want, bold=True, min_px=want - 2)
        self.ack.setFont(_px_font(max(12, round(16 * scale)), bold=True))
        self._lay.setContentsMargins(14, round(6 * scale), 14, round(6 * scale))

    def show_alarms(self, priority: str | None, lines: list[str], flash_on: bool, all_acknowledged: bool) -> None:
        self.priority = priority
        if priority is None:
            self.setVisible(False)
            return
        self.setVisible(True)
        silenced = "   (sound silenced)" if all_acknowledged else ""
        _set_text(self.text, "\n".join(lines) + silenced)  # one line each (fitted and cut on its own)
        self.ack.setEnabled(not all_acknowledged)
        # Said on the button too: the end of a long alarm line may be cut with "…".
        _set_text(self.ack, "Silenced" if all_acknowledged else "Silence (A)")
        if priority == "medium":
            bg = theme.ALARM_MEDIUM if flash_on else "#5A4A00"
            fg = "#000000" if flash_on else theme.ALARM_MEDIUM
        else:
            bg, fg = theme.ALARM_LOW, "#000000"
        style = (f"QFrame#alarmbar {{ background-color: {bg}; border-radius: 6px; }}"
                 f"QLabel {{ color: {fg}; background: transparent; }}"
                 "QPushButton { color: black; background: #EEEEEE; }")
        if style != self.styleSheet():
            self.setStyleSheet(style)


def _set_text(label: QLabel | QPushButton, text: str) -> None:
    """Set only a changed text (an unchanged one would still relayout and repaint)."""
    if label.text() != text:
        label.setText(text)
