"""One room on the central's grid, readable from across a nurses' station.

The room and bed, the blocked side, both feet's temperature and rise, the verdict with the time
since injection (m:ss) and the active technical alarms in IEC 60601-1-8 colours and flashing
(high red, flashing at 2 Hz; medium yellow, at 0.6 Hz; low cyan, steady; the room's own colours
from ``ui.theme``). A room the
central cannot hear is one big NO COMMUNICATION, with why and since when; its last values are
not shown as if they were live. Every value is the station's own (its published state).

:func:`tile_text` says what the tile shows in words (tested without pixels); :class:`RoomTile`
draws it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent, QMouseEvent
from PyQt6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from monitor.central import Communication, Room
from monitor.model import Limb
from monitor.pipeline.timefmt import format_relative
from monitor.publish.messages import posix_of
from ui import theme
from ui.banner import _KIND_STYLE as VERDICT_STYLE  # the room's banner colours, one place
from ui.fit_text import FitLabel

# IEC 60601-1-8 high priority is red; the room's core raises medium and low only today, so
# ui.theme has no red yet (this is the one place it is named until it does).
ALARM_HIGH = "#E0201B"
ALARM_BACKGROUND = {"high": "#5A1410", "medium": "#5A4A00", "low": "#0B4146"}
ALARM_COLOUR = {"high": ALARM_HIGH, "medium": theme.ALARM_MEDIUM, "low": theme.ALARM_LOW}
NO_COMMUNICATION = "NO COMMUNICATION"
# IEC 60601-1-8 flashing frequencies: high 1.4–2.8 Hz, medium 0.4–0.8 Hz (0.6, as the room's own
# window flashes medium), low steady. NO COMMUNICATION flashes as medium.
FLASH_HZ = {"high": 2.0, "medium": 0.6}

# The verdict's state code (monitor.pipeline.verdict.VerdictState) → the banner's kind and title.
VERDICT_KIND = {"waiting_for_baseline": "waiting", "baseline_captured": "baseline", "monitoring": "monitoring",
                "early_warming": "early", "confirmed": "confirmed", "not_confirmed_yet": "not_confirmed"}
VERDICT_TITLE = {"waiting": "Waiting for baseline", "baseline": "Baseline captured", "monitoring": "Monitoring",
                 "early": "Early warming", "confirmed": "Block CONFIRMED", "not_confirmed": "Not confirmed yet",
                 "ended": "Session ended"}


@dataclass(frozen=True)
class FootText:
    celsius: str  # "33.4 °C" or "--.- °C"
    rise: str  # "rise +3.6 °C" / "rise — (probe flagged)" / "rise: no baseline yet"
    blocked: bool
    valid: bool
    why: str = ""  # the station's words for a withheld rise (the tooltip)


def withheld_words(reason: str) -> str:
    """A withheld value's reason in two words for the tile (the whole reason is in its tooltip), as
    the room's own foot tiles say it."""
    return "no data" if reason.startswith("no data") else "probe flagged"


@dataclass(frozen=True)
class TileText:
    """What a tile shows, in words."""

    name: str  # "room-1 · bed 2"; "north/room-1 · bed 2" with the site
    side: str  # "BLOCKED: L LEFT"
    communication: Communication
    feet: dict[Limb, FootText] = field(default_factory=dict)
    verdict_kind: str = "waiting"
    verdict: str = ""  # "Monitoring · 12:34 since injection"
    verdict_words: str = ""  # the core's own words (tooltip)
    difference: str = ""  # "Di − Dc +3.4 °C" / "Di − Dc — (withheld)"
    difference_why: str = ""  # the station's words for a withheld Di − Dc (the tooltip)
    alarms: tuple[str, ...] = ()  # medium first
    alarm_priority: str | None = None
    no_communication: str = ""  # why, and since when
    footer: str = ""  # "SIMULATED · 2 messages not understood"


def _signed(value: float) -> str:
    return f"{round(value, 1) + 0.0:+.1f} °C".replace("-", "−")  # a real minus sign; never "−0.0"


def _foot(room: Room, limb: Limb) -> FootText:
    blocked = room.state is not None and room.state.blocked_side == limb.value
    foot = room.state.feet.get(limb.value) if room.state is not None else None
    if foot is None:
        return FootText("--.- °C", "", blocked, False)
    celsius = "--.- °C" if foot.celsius is None else f"{foot.celsius:.1f} °C"
    if foot.rise_c is not None:
        rise = f"rise {_signed(foot.rise_c)}"
    elif foot.rise_withheld:
        rise = f"rise — ({withheld_words(foot.rise_withheld)})"
    elif foot.baseline_c is None:
        rise = "rise: no baseline yet"
    else:
        rise = "rise —"
    return FootText(celsius, rise, blocked, foot.valid, foot.rise_withheld or "")


def _verdict(room: Room) -> tuple[str, str, str]:
    st = room.state
    if st is None:
        return "waiting", "Station online, no procedure yet", ""
    kind = "ended" if st.finished else VERDICT_KIND.get(st.verdict.state, "waiting")
    title = VERDICT_TITLE[kind]
    if st.attempt > 1:
        title = f"Attempt {st.attempt} · {title}"
    since = room.since_injection_s
    if since is not None and kind not in ("waiting", "ended"):
        title += f" · {format_relative(since)} after the injection"
    elif since is None and kind in ("baseline", "monitoring"):
        title += " · no injection marked"
    return kind, title, st.verdict.words


def _difference(room: Room) -> str:
    st = room.state
    if st is None:
        return ""
    if st.di_minus_dc_c is not None:
        return f"Di − Dc {_signed(st.di_minus_dc_c)}"
    return "Di − Dc — (withheld)" if st.di_minus_dc_withheld else "Di − Dc —"


def _heard(room: Room) -> str:
    """When the station sent its newest state or readings (its own clock; not the will's time,
    which is when the station connected)."""
    sent = [m.sent_at for m in (room.state, room.readings) if m is not None]
    if not sent:
        return ""
    try:
        newest = max(posix_of(s) for s in sent)
    except ValueError:
        return ""
    return f"last heard {time.strftime('%H:%M:%S', time.localtime(newest))}"


def tile_text(room: Room, show_site: bool = False) -> TileText:
    """What ``room``'s tile says; ``show_site``: its name says the site too (several sites heard)."""
    st = room.state
    bed = f" · bed {room.bed}" if room.bed else ""
    where = str(room.key) if show_site else room.key.room
    side = ""
    if st is not None:
        limb = Limb(st.blocked_side)
        side = f"BLOCKED: {limb.letter} {theme.limb_name(limb)}"
    footer = []
    if room.simulated:
        footer.append("SIMULATED")
    if room.not_understood:
        footer.append(f"{room.not_understood} message{'s' if room.not_understood != 1 else ''} not understood")
    if room.lost_events:
        footer.append(f"{room.lost_events} event message{'s' if room.lost_events != 1 else ''} missing")
    alarms = room.active_alarms()
    kind, verdict, words = _verdict(room)
    why = ""
    if room.communication is Communication.NO_COMMUNICATION:
        why = " · ".join(t for t in (room.why_no_communication, _heard(room)) if t)
    return TileText(
        name=f"{where}{bed}", side=side, communication=room.communication,
        feet={limb: _foot(room, limb) for limb in Limb}, verdict_kind=kind, verdict=verdict, verdict_words=words,
        difference=_difference(room),
        difference_why=(room.state.di_minus_dc_withheld or "") if room.state is not None else "", alarms=tuple(f"{a.text}" for a in alarms),
        alarm_priority=alarms[0].priority if alarms else None, no_communication=why, footer=" · ".join(footer))


class _FootBox(QFrame):
    """One foot: the temperature big, its rise under it; the blocked foot framed in its colour."""

    def __init__(self, limb: Limb) -> None:
        super().__init__()
        self.limb = limb
        self.setObjectName("foot")
        colour = theme.LIMB_TEXT_COLOURS[limb]
        self.letter = FitLabel(limb.letter, min_px=12, fill_height=True)
        self.temp = FitLabel("--.- °C", min_px=12, fill_height=True)
        self.rise = FitLabel("", min_px=9, fill_height=True)
        for label in (self.letter, self.temp):
            label.setStyleSheet(f"color: {colour}; background: transparent;")
        self.rise.setStyleSheet(f"color: {theme.TEXT}; background: transparent;")
        self.temp.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.rise.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        lay = QGridLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        lay.setSpacing(0)
        lay.addWidget(self.letter, 0, 0, 2, 1)
        lay.addWidget(self.temp, 0, 1)
        lay.addWidget(self.rise, 1, 1)
        lay.setRowStretch(0, 3)
        lay.setRowStretch(1, 2)
        lay.setColumnStretch(1, 1)
        self._style = ""

    def show_foot(self, foot: FootText) -> None:
        self.temp.setText(foot.celsius)
        self.rise.setText(foot.rise)
        self.rise.set_explanation(f"Withheld by the station: {foot.why}" if foot.why else "")
        border = f"3px solid {theme.LIMB_COLOURS[self.limb]}" if foot.blocked else "1px solid #3A3F45"
        style = f"QFrame#foot {{ border: {border}; border-radius: 6px; background: transparent; }}"
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)

    def rescale(self, px: int) -> None:
        self.letter.set_px(int(px * 0.8), bold=True)
        self.temp.set_px(px, bold=True)
        self.rise.set_px(max(11, int(px * 0.45)))


class RoomTile(QFrame):
    """A room's tile; a click, Enter or Space opens the room (``opened``)."""

    opened = pyqtSignal(object)  # the RoomKey

    def __init__(self, room: Room, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = room.key
        self.show_site = False  # the window says so once it hears a second site
        self.setObjectName("roomtile")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(280, 190)
        self.text: TileText | None = None
        self._flash_on = dict.fromkeys(FLASH_HZ, True)  # each flashing priority's phase
        self._style = ""

        self.name = FitLabel("", min_px=12, fill_height=True)
        self.side = FitLabel("", min_px=10, fill_height=True)
        self.side.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head = QHBoxLayout()
        head.addWidget(self.name, 3)
        head.addWidget(self.side, 2)

        self.feet = {limb: _FootBox(limb) for limb in Limb}
        feet_row = QHBoxLayout()
        feet_row.setSpacing(8)
        for limb in Limb:
            feet_row.addWidget(self.feet[limb], 1)
        self.verdict = FitLabel("", min_px=10, fill_height=True)
        self.verdict.setObjectName("verdict")
        self.verdict.setContentsMargins(8, 0, 8, 0)
        self.difference = FitLabel("", min_px=11, fill_height=True)
        self.difference.setStyleSheet(f"color: {theme.DIFFERENCE_COLOUR}; background: transparent;")
        live = QWidget()
        live.setObjectName("tilebody")
        live_lay = QVBoxLayout(live)
        live_lay.setContentsMargins(0, 0, 0, 0)
        live_lay.setSpacing(4)
        live_lay.addLayout(feet_row, 5)
        live_lay.addWidget(self.verdict, 2)
        live_lay.addWidget(self.difference, 1)

        self.no_comm = FitLabel(NO_COMMUNICATION, min_px=12, fill_height=True)
        self.no_comm.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_comm_why = FitLabel("", min_px=9, max_lines=2, fill_height=True)
        self.no_comm_why.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lost = QWidget()
        lost.setObjectName("tilebody")
        lost_lay = QVBoxLayout(lost)
        lost_lay.setContentsMargins(0, 0, 0, 0)
        lost_lay.addWidget(self.no_comm, 3)
        lost_lay.addWidget(self.no_comm_why, 2)

        self.body = QStackedLayout()
        self.body.addWidget(live)
        self.body.addWidget(lost)
        self.alarms = FitLabel("", min_px=9, max_lines=2, fill_height=True)
        self.alarms.setObjectName("alarms")
        self.footer = FitLabel("", min_px=9, fill_height=True)
        self.footer.setStyleSheet(f"color: {theme.TEXT_DIM}; background: transparent;")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(4)
        lay.addLayout(head, 2)
        lay.addLayout(self.body, 8)
        lay.addWidget(self.alarms, 2)
        lay.addWidget(self.footer, 1)
        self.show_room(room)

    # ---- what it shows ---------------------------------------------------------------------
    def show_room(self, room: Room) -> None:
        self.text = t = tile_text(room, self.show_site)
        self.name.setText(t.name)
        self.side.setText(t.side)
        lost = t.communication is Communication.NO_COMMUNICATION
        self.body.setCurrentIndex(1 if lost else 0)
        for limb, foot in t.feet.items():
            self.feet[limb].show_foot(foot)
        self.verdict.setText(t.verdict)
        self.verdict.set_explanation(t.verdict_words)
        self.difference.setText(t.difference)
        self.difference.set_explanation(f"Withheld by the station: {t.difference_why}" if t.difference_why else "")
        self.no_comm_why.setText(t.no_communication)
        self.alarms.setText("\n".join(t.alarms))
        self.alarms.setVisible(bool(t.alarms) and not lost)
        self.footer.setText(t.footer)
        self._apply_style()

    def set_flash(self, priority: str, on: bool) -> None:
        """One flashing priority's phase (``FLASH_HZ``; NO COMMUNICATION flashes as medium)."""
        if on != self._flash_on[priority]:
            self._flash_on[priority] = on
            if priority == self._flashing_as():
                self._apply_style()

    def _flashing_as(self) -> str | None:
        """The priority whose flashing this tile shows now (None: steady)."""
        t = self.text
        if t is None:
            return None
        if t.communication is Communication.NO_COMMUNICATION:
            return "medium"
        return t.alarm_priority if t.alarm_priority in FLASH_HZ else None

    def _apply_style(self) -> None:
        t = self.text
        if t is None:
            return
        bg, border = theme.PANEL, "2px solid #3A3F45"
        lost = t.communication is Communication.NO_COMMUNICATION
        flashing = self._flashing_as()
        shown = flashing is None or self._flash_on[flashing]
        if lost:
            bg = ALARM_BACKGROUND["medium"] if shown else theme.PANEL
            border = f"6px solid {theme.ALARM_MEDIUM}"
        elif t.alarm_priority is not None:
            bg = ALARM_BACKGROUND[t.alarm_priority] if shown else theme.PANEL
            border = f"6px solid {ALARM_COLOUR[t.alarm_priority]}"
        elif t.communication is Communication.ENDED:
            bg = "#1B1D20"
        verdict_bg, verdict_fg = VERDICT_STYLE.get(t.verdict_kind, VERDICT_STYLE["waiting"])
        alarm_colour = ALARM_COLOUR.get(t.alarm_priority or "", theme.TEXT)
        style = (f"QFrame#roomtile {{ background-color: {bg}; border: {border}; border-radius: 10px; }}"
                 f"QFrame#roomtile:focus {{ border: 6px solid #56B4E9; }}"
                 f"QLabel {{ background: transparent; color: {theme.TEXT}; }}"
                 f"QWidget#tilebody {{ background: transparent; }}"
                 f"QLabel#verdict {{ background-color: {verdict_bg}; color: {verdict_fg}; border-radius: 5px; }}"
                 f"QLabel#alarms {{ color: {alarm_colour}; font-weight: bold; }}")
        if lost:
            style += f"QLabel {{ color: {theme.ALARM_MEDIUM}; }}"
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)

    # ---- readable from across the room ------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        h, w = max(self.height(), 160), max(self.width(), 240)
        big = max(18, min(int(h * 0.17), int(w * 0.095)))
        self.name.set_px(int(big * 0.75), bold=True)
        self.side.set_px(int(big * 0.55), bold=True)
        for box in self.feet.values():
            box.rescale(big)
        self.verdict.set_px(int(big * 0.5), bold=True)
        self.difference.set_px(int(big * 0.42))
        self.no_comm.set_px(int(big * 0.95), bold=True)
        self.no_comm_why.set_px(int(big * 0.42))
        self.alarms.set_px(int(big * 0.42), bold=True)
        self.footer.set_px(max(10, int(big * 0.33)))

    # ---- opening the room -------------------------------------------------------------------
    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self.opened.emit(self.key)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.opened.emit(self.key)
            return
        super().keyPressEvent(event)
