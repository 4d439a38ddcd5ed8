"""One foot's tile in the set-up's side check: its probe's °C and what the check sees of it.

It only shows a :class:`~monitor.procedure.side_check.ProbeCheck`; whether it lights up is the
core's :class:`~monitor.procedure.side_check.SideCheck` verdict. Lit green: this probe responded
as it should; lit amber: this probe responded although the other one was to be warmed. The tile is never
smaller than its lines need (the status wraps onto a second), so nothing is clipped.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout

from monitor.model import Limb
from monitor.procedure.side_check import ProbeCheck, SideCheckPhase
from ui import theme

_LIT = {SideCheckPhase.CONFIRMED: ("#1F5130", "#7CFC9A", "RESPONDED ✓"),
        SideCheckPhase.SWAPPED: ("#5A4A00", theme.ALARM_MEDIUM, "RESPONDED")}


_LIT_BORDER_PX = 6


class SideCheckTile(QFrame):
    def __init__(self, limb: Limb, parent=None) -> None:
        super().__init__(parent)
        self.limb = limb
        self.setObjectName("checktile")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._lit: SideCheckPhase | None = None
        colour = theme.LIMB_TEXT_COLOURS[limb]
        self.side_label = _label(f"{limb.letter}  {theme.limb_name(limb)} FOOT", 15, f"color: {colour};", bold=True)
        self.temp_label = _label("--.- °C", 28, f"color: {colour};", bold=True)
        self.status_label = _label("press Check sides", 14, "", wrap=True)
        self.lit_label = _label("", 14, "", bold=True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 6, 14, 6)
        lay.setSpacing(2)
        for label in self.labels:
            lay.addWidget(label)
        # Room for every line (the status on two), however small the dialog: a squeezed tile
        # would paint its lines over each other.
        lines = [label.fontMetrics().height() for label in self.labels]
        lines.append(self.status_label.fontMetrics().height())
        self.setMinimumSize(230, sum(lines) + lay.spacing() * len(lines) + 16 + 2 * _LIT_BORDER_PX)
        self._apply_frame()

    @property
    def labels(self) -> tuple[QLabel, ...]:
        return (self.side_label, self.temp_label, self.status_label, self.lit_label)

    @property
    def highlighted(self) -> bool:
        return self._lit is not None

    @property
    def lit(self) -> SideCheckPhase | None:
        """CONFIRMED (green) or SWAPPED (amber) when this probe responded; None when not lit."""
        return self._lit

    def show_probe(self, probe: ProbeCheck | None, lit: SideCheckPhase | None = None) -> None:
        """``probe`` None: no check running."""
        self._lit = lit if lit in _LIT else None
        if probe is None:
            self.temp_label.setText("--.- °C")
            self.status_label.setText("press Check sides")
        else:
            self.temp_label.setText("--.- °C" if probe.celsius is None else f"{probe.celsius:.1f}\u00a0°C")
            self.status_label.setText(_status_words(probe))
        self.lit_label.setText(_LIT[self._lit][2] if self._lit is not None else "")
        self.lit_label.setVisible(self._lit is not None)
        self._apply_frame()

    def _apply_frame(self) -> None:
        bg, border, width = theme.PANEL, "#3A3F45", 2
        if self._lit is not None:
            bg, border, _words = _LIT[self._lit]
            width = _LIT_BORDER_PX
        style = (f"QFrame#checktile {{ background-color: {bg}; border: {width}px solid {border}; "
                 f"border-radius: 10px; }} QFrame#checktile QLabel {{ background: transparent; }}")
        if style != self.styleSheet():  # restyling is costly: only when it changes
            self.setStyleSheet(style)


def _status_words(probe: ProbeCheck) -> str:
    if probe.problem:
        return probe.problem
    if probe.change_c is not None:
        shown = round(probe.change_c, 1) + 0.0
        return "no change" if shown == 0.0 else f"{'warmed' if shown > 0 else 'cooled'} {shown:+.1f}\u00a0°C"
    if probe.settled:
        return "steady"
    if probe.rate_c_per_min is None:
        return "settling"
    return f"settling ({abs(probe.rate_c_per_min):.1f}\u00a0°C/min)"


def _label(text: str, px: int, style: str, bold: bool = False, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    font = QFont(label.font())
    font.setPixelSize(px)
    font.setBold(bold)
    label.setFont(font)
    if style:
        label.setStyleSheet(style)
    return label
