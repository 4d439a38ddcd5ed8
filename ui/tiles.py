"""One large tile per limb: current °C, rise from baseline, age of last reading, probe state.

Sized to be read from across the room: the temperature uses most of the tile's height.
The blocked side carries a "BLOCKED SIDE" label and a thick border, not only colour.
Every line fits its tile at any window size: its font shrinks to the tile's width and height,
and only below a readable floor is the text cut with "…" (the whole text in the tooltip).
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import QEvent, QSize, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from monitor.model import Limb
from monitor.pipeline.glossary import glossary_lines
from ui import theme
from ui.fit_text import FitLabel, tooltip_text


@dataclass
class TileState:
    celsius: float | None = None
    rise_c: float | None = None
    age_s: float | None = None
    probe_text: str = "waiting for the probe"
    probe_ok: bool = False
    alarm: str | None = None  # None | "low" | "medium"
    alarm_visible: bool = True  # flashing phase for medium priority
    stale_after_s: float = 10.0  # older than this is "NO DATA" (longer for a slowly reporting probe)
    rise_withheld: str | None = None  # why the core gives no rise now (a flagged or silent probe)
    line_text: str = ""  # the link's troubles in words (Procedure.line_health().words()), "" when none


# The rise line's tooltip: the criteria's words from the one glossary (the criteria dialog, F1 and
# the report's legend say the same).
RISE_EXPLANATION = tooltip_text("\n".join(glossary_lines()))
# A reading older than this is called stale on the tile (a flat line must not look frozen).
STALE_AFTER_S = 10.0
# The thickest border a tile gets (lit in the side check); the others are padded to match it.
_WIDEST_BORDER_PX = 8
_ENDED_TEXT = "#6B7075"  # an ended session's tiles: every line grey
_BOLD = "font-weight: bold; "


class LimbTile(QFrame):
    def __init__(self, limb: Limb, parent=None, *, rise_from: str = "since baseline",
                 no_rise_text: str = "rise: waiting for baseline") -> None:
        """``rise_from``/``no_rise_text``: what the rise is measured from (the set-up's side check
        shows the rise since the check began, not from a baseline)."""
        super().__init__(parent)
        self.limb = limb
        self._rise_from = rise_from
        self._no_rise_text = no_rise_text
        self.setObjectName("tile")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(280, 210)
        self._blocked = False
        self._highlight = False
        self._state = TileState()
        colour = theme.LIMB_TEXT_COLOURS[limb]

        self.side_label = _OpaqueLabel(f"{limb.letter}  {theme.limb_name(limb)} FOOT", min_px=11)
        self.blocked_label = _OpaqueLabel("", min_px=10)
        self.blocked_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.side_label, 3)
        top.addWidget(self.blocked_label, 2)

        self.temp_label = _OpaqueLabel("--.- °C", min_px=20)
        self.temp_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.rise_label = _OpaqueLabel(no_rise_text, min_px=11)
        self.rise_label.set_explanation(RISE_EXPLANATION)
        self.rise_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_label = _OpaqueLabel("", min_px=10)
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Each label paints the tile's background colour itself (opaque): a changed number then
        # repaints only its label, not the tile, the splitter and the window under it.
        self._label_styles = {self.side_label: f"color: {colour}; font-weight: bold;",
                              self.blocked_label: "font-weight: bold;",
                              self.temp_label: f"color: {colour}; font-weight: bold;",
                              self.rise_label: "",
                              self.detail_label: f"color: {theme.TEXT_DIM};"}
        self._label_bg: str | None = None
        self._restyle_labels()

        # Rows share the tile's height by these stretches alone (the labels ignore their own
        # height hints), so a long line never steals height from the temperature.
        self._lay = lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 6, 14, 6)
        lay.setSpacing(2)
        lay.addLayout(top, 2)
        lay.addWidget(self.temp_label, 6)
        lay.addWidget(self.rise_label, 2)
        lay.addWidget(self.detail_label, 2)
        self._apply_frame()
        self._rescale_fonts()

    # ---- state ----------------------------------------------------------------------
    def set_blocked(self, blocked: bool) -> None:
        self._blocked = blocked
        self.blocked_label.setText("BLOCKED SIDE" if blocked else "other side")
        self._label_styles[self.blocked_label] = f"font-weight: bold; color: {theme.TEXT if blocked else theme.TEXT_DIM};"
        self._restyle_labels()
        self._apply_frame()

    def set_highlight(self, on: bool) -> None:
        """Side check: the tile whose probe is being warmed lights up."""
        self._highlight = on
        self._apply_frame()

    @property
    def highlighted(self) -> bool:
        return self._highlight

    def set_state(self, st: TileState) -> None:
        self._state = st
        _set_text(self.temp_label, "--.- °C" if st.celsius is None else f"{st.celsius:.1f} °C")
        if st.rise_c is None and st.rise_withheld:
            rise = "rise: — (no data)" if st.rise_withheld.startswith("no data") else "rise: — (probe flagged)"
        elif st.rise_c is None:
            rise = self._no_rise_text if st.probe_ok or st.age_s is None else "rise: —"
        else:
            rise = _rise_words(st.rise_c, self._rise_from)
        _set_text(self.rise_label, rise)
        if st.age_s is None:
            age = "no reading yet"
        elif st.age_s >= max(STALE_AFTER_S, st.stale_after_s):
            age = f"NO DATA for {int(st.age_s)} s"
        else:
            age = f"last reading {st.age_s:.0f} s ago"
        line = f" · {st.line_text}" if st.line_text else ""
        _set_text(self.detail_label, f"{st.probe_text} · {age}{line}")
        self._apply_frame()

    @property
    def state(self) -> TileState:
        return self._state

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:  # an ended session's tiles are grey
            self._restyle_labels()
            self._apply_frame()

    def _restyle_labels(self) -> None:
        for label, style in self._label_styles.items():
            label.setStyleSheet(style if self.isEnabled() else f"{_BOLD if 'bold' in style else ''}color: {_ENDED_TEXT};")

    def _apply_frame(self) -> None:
        border_colour = theme.LIMB_COLOURS[self.limb] if self._blocked else "#3A3F45"
        width = 6 if self._blocked else 2
        bg = theme.PANEL
        st = self._state
        if not self.isEnabled():
            border_colour = "#3A3F45"  # ended: no colour, no alarm (the thick border still marks the side)
        elif st.alarm == "medium" and st.alarm_visible:
            bg = "#5A4A00"
            border_colour, width = theme.ALARM_MEDIUM, 6
        elif st.alarm == "low":
            bg = "#0B4146"
            border_colour, width = theme.ALARM_LOW, 6
        if self._highlight and self.isEnabled():
            bg = "#1F5130"
            border_colour, width = "#7CFC9A", 8
        style = f"QFrame#tile {{ background-color: {bg}; border: {width}px solid {border_colour}; border-radius: 10px; }}"
        if style != getattr(self, "_style", None):  # restyling is costly: only when it changes
            self._style = style
            self.setStyleSheet(style)
            # The border sits inside the tile: a thinner one gets more margin, so both feet's
            # lines have the same room and the same sizes whatever the border.
            pad = _WIDEST_BORDER_PX - width
            self._lay.setContentsMargins(14 + pad, 6 + pad, 14 + pad, 6 + pad)
        if bg != self._label_bg:
            self._label_bg = bg
            for label in self._label_styles:
                label.set_background(bg)

    # ---- readable from across the room -------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._rescale_fonts()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        # The same for both feet whatever their text: the two tiles share the row equally.
        return QSize(420, 220)

    def _rescale_fonts(self) -> None:
        """The sizes each line would like; each label then shrinks its own to fit."""
        h = max(self.height(), 120)
        w = max(self.width(), 240)
        big = max(28, min(int(h * 0.42), int(w * 0.17)))
        self.temp_label.set_px(big, bold=True)
        self.rise_label.set_px(max(15, int(big * 0.36)))
        self.detail_label.set_px(max(12, int(big * 0.24)))
        self.side_label.set_px(max(14, int(big * 0.30)), bold=True)
        self.blocked_label.set_px(max(13, int(big * 0.26)), bold=True)


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:  # a repaint only when what is shown changes
        label.setText(text)


class _OpaqueLabel(FitLabel):
    """A line of the tile: it fills its own background (the tile's colour) and tells Qt so, so a
    changed number repaints this label alone, not the tile, the splitter and the window under
    it; and it always fits (:class:`ui.fit_text.FitLabel`: the font shrinks, then "…")."""

    def __init__(self, text: str = "", *, min_px: int = 10) -> None:
        super().__init__(text, min_px=min_px, fill_height=True)
        self._bg = QColor(theme.PANEL)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def set_background(self, colour: str) -> None:
        self._bg = QColor(colour)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._bg)
        painter.end()
        super().paintEvent(event)


def _rise_words(rise_c: float, since: str) -> str:
    """A rise in a nurse's words: "warmed +4.7 °C since baseline", "cooled −0.2 °C …", "no change …"
    (rounded to the 0.1 °C shown; never "−0.0")."""
    shown = round(rise_c, 1) + 0.0
    if shown == 0.0:
        return f"no change (±0.0 °C) {since}"
    return f"{'warmed' if shown > 0 else 'cooled'} {shown:+.1f} °C {since}"
