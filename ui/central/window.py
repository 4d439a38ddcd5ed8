"""The central station's window: every room a tile; a selected room's last 60 minutes.

It shows :class:`monitor.central.CentralModel` and nothing else: a 10 Hz timer takes what the
broker sent (``model.pump``), then redraws the tiles of the rooms that changed. The central
only shows — silencing and markers stay in the room, where the patient is — so there is no
button here but "back to all rooms".
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QFont, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.central import CentralConnection, CentralModel, LinkChange, NotUnderstood, Room, RoomKey
from ui import theme
from ui.central.room_view import RoomView
from ui.central.tile import FLASH_HZ, RoomTile

PUMP_INTERVAL_MS = 100
TILE_MIN_WIDTH = 330
TILE_MIN_HEIGHT = 200
TILE_ASPECT = 1.5  # width : height a tile reads best at


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


class CentralWindow(QMainWindow):
    def __init__(self, model: CentralModel, connection: CentralConnection | None = None, *,
                 run_timer: bool = True, where: str = "") -> None:
        super().__init__()
        self.model = model
        self.connection = connection
        self.setWindowTitle("SympaTherm central station")
        self.setStyleSheet(theme.STYLESHEET)
        self.tiles: dict[RoomKey, RoomTile] = {}
        self._dirty: set[RoomKey] = set()
        self._flash_on = dict.fromkeys(FLASH_HZ, True)
        self.frames = 0

        self.heading = QLabel("SympaTherm central")
        self.heading.setFont(_font(22, bold=True))
        self.link = QLabel("")
        self.link.setFont(_font(17, bold=True))
        self.link.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.not_understood = QLabel("")
        self.not_understood.setFont(_font(15))
        self.not_understood.setStyleSheet(f"color: {theme.ALARM_LOW};")
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.not_understood)
        top.addSpacing(16)
        top.addWidget(self.link)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(10)
        self.empty = QLabel("No room heard yet. Each station publishes with\n"
                            "sympatherm record … --publish mqtts://HOST:PORT --room NAME")
        self.empty.setFont(_font(20))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.grid.addWidget(self.empty, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.room_view = RoomView()
        self.room_view.closed.connect(self.close_room)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.scroll)
        self.pages.addWidget(self.room_view)

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(10, 8, 10, 6)
        lay.addLayout(top)
        lay.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(
            f"{where + ' · ' if where else ''}The central only shows: silencing alarms and placing markers "
            "stay in the room, where the patient is.")
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.close_room)

        model.events.room_added.connect(self._room_added)
        model.events.room_changed.connect(lambda room: self._dirty.add(room.key))
        model.events.link.connect(self._show_link)
        model.events.not_understood.connect(self._show_not_understood)
        for room in model.sorted_rooms():
            self._room_added(room)
        self._show_link(None)

        self.timer = QTimer(self)
        self.timer.setInterval(PUMP_INTERVAL_MS)
        self.timer.timeout.connect(self.tick)
        # One timer per flashing priority (high 2 Hz, medium 0.6 Hz): on and off each half period.
        self.flash_timers: dict[str, QTimer] = {}
        for priority, hz in FLASH_HZ.items():
            flash = self.flash_timers[priority] = QTimer(self)
            flash.setInterval(round(500 / hz))
            flash.timeout.connect(lambda p=priority: self._toggle_flash(p))
        if run_timer:
            self.timer.start()
            for flash in self.flash_timers.values():
                flash.start()

    # ---- each frame --------------------------------------------------------------------------
    def tick(self) -> None:
        """Take what arrived, time each room's silence, redraw the rooms that changed."""
        if self.connection is not None:
            self.model.pump(self.connection.inbox)
        else:
            self.model.check_communication()
        self.refresh()

    def refresh(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for key in dirty:
            tile = self.tiles.get(key)
            if tile is not None:
                tile.show_room(self.model.rooms[key])
        shown = self.room_view.room
        if self.pages.currentIndex() == 1 and shown is not None and shown.key in dirty:
            self.room_view.show_room(shown)
        self.frames += 1

    def _toggle_flash(self, priority: str) -> None:
        self._flash_on[priority] = on = not self._flash_on[priority]
        for tile in self.tiles.values():
            tile.set_flash(priority, on)

    # ---- rooms -------------------------------------------------------------------------------
    def _room_added(self, room: Room) -> None:
        if room.key in self.tiles:
            return
        tile = RoomTile(room)
        for priority, on in self._flash_on.items():
            tile.set_flash(priority, on)  # in step with the other tiles
        tile.opened.connect(self.open_room)
        self.tiles[room.key] = tile
        self._dirty.add(room.key)
        self._layout_tiles()
        self._name_sites()
        if self.isVisible():
            tile.show()  # a widget added to a window already shown is hidden until told

    def _name_sites(self) -> None:
        """Every tile names its site once rooms of more than one site are heard (the same room
        name may stand at two sites); with one site the room name alone is shorter to read."""
        several = len({key.site for key in self.tiles}) > 1
        for key, tile in self.tiles.items():
            if tile.show_site != several:
                tile.show_site = several
                self._dirty.add(key)

    def _columns(self) -> int:
        """The columns that give the largest tiles of about 3 : 2 (at least the minimum width)."""
        n = len(self.tiles)
        if n <= 1:
            return 1
        width = max(self.scroll.viewport().width(), TILE_MIN_WIDTH)
        height = max(self.scroll.viewport().height(), TILE_MIN_HEIGHT)
        best, best_size = 1, -1.0
        for cols in range(1, n + 1):
            tile_w = (width - (cols - 1) * self.grid.spacing()) / cols
            if tile_w < TILE_MIN_WIDTH and cols > 1:
                break
            rows = -(-n // cols)
            tile_h = max(TILE_MIN_HEIGHT, (height - (rows - 1) * self.grid.spacing()) / rows)
            size = min(tile_w / TILE_ASPECT, tile_h)
            if size > best_size + 1e-6:
                best, best_size = cols, size
        return best

    def _layout_tiles(self) -> None:
        self.empty.setVisible(not self.tiles)
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        cols = self._columns()
        for i, key in enumerate(sorted(self.tiles)):
            self.grid.addWidget(self.tiles[key], i // cols, i % cols)
        rows = -(-len(self.tiles) // cols) if self.tiles else 0
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)
        self.grid_host.setMinimumHeight(rows * TILE_MIN_HEIGHT + max(0, rows - 1) * self.grid.spacing())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._layout_tiles()

    def open_room(self, key: RoomKey) -> None:
        room = self.model.rooms.get(key)
        if room is None:
            return
        self.room_view.show_room(room)
        self.pages.setCurrentIndex(1)
        self.room_view.setFocus()

    def close_room(self) -> None:
        if self.pages.currentIndex() == 1:
            key = self.room_view.room.key if self.room_view.room is not None else None
            self.pages.setCurrentIndex(0)
            if key in self.tiles:
                self.tiles[key].setFocus()

    # ---- the central's own state ---------------------------------------------------------------
    def _show_link(self, _change: LinkChange | None) -> None:
        if self.model.link_up:
            self.link.setText(self.model.link_words)
            self.link.setStyleSheet(f"color: {theme.TEXT_DIM};")
        else:
            self.link.setText(f"NO LINK TO THE BROKER: {self.model.link_words}")
            self.link.setStyleSheet(f"color: {theme.ALARM_MEDIUM};")

    def _show_not_understood(self, entry: NotUnderstood) -> None:
        total = self.model.not_understood_total()
        self.not_understood.setText(f"{total} message{'s' if total != 1 else ''} not understood")
        lines = [f"{e.topic}: {e.count} × — {e.reason}" for e in
                 sorted(self.model.not_understood.values(), key=lambda e: -e.count)[:15]]
        self.not_understood.setToolTip("\n".join(lines))

    # ---- closing ---------------------------------------------------------------------------------
    def stop(self) -> None:
        self.timer.stop()
        for flash in self.flash_timers.values():
            flash.stop()
        if self.connection is not None:
            self.connection.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.stop()
        super().closeEvent(event)


def snapshot(path: Path, window: CentralWindow, size: tuple[int, int] = (1600, 1000),
             room: RoomKey | None = None) -> Path:
    """Render ``window`` (its model as it is now) to ``path`` (PNG); ``room``: with that room open."""
    window.resize(*size)
    window.show()
    QApplication.processEvents()
    window._layout_tiles()
    window.tick()
    if room is not None:
        window.open_room(room)
    QApplication.processEvents()
    window.refresh()
    QApplication.processEvents()
    pixmap = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path
