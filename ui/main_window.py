"""The live procedure window: tiles, status banner, alarms, plot, 1-minute table, markers.

The window is a view of a :class:`monitor.procedure.Procedure`: a 10 Hz timer asks the core to
pump (source → pipeline → store), and the window renders what the core's events tell it
(readings, markers, alarms, verdict, the 1-minute table). It never writes the session file,
never swaps the pipeline and computes no clinical number. The plot redraws only when new
readings arrived or the view changed. With a manual simulated clock, :meth:`advance_to` steps
the session instead (tests, ``--snapshot``).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import Protocol, runtime_checkable

from PyQt6.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QFont, QKeySequence
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMenuBar,
    QMessageBox,
    QSplitter,
    QStatusBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from monitor.model import Limb, MarkerKind
from monitor.pipeline.glossary import glossary_lines
from monitor.pipeline.timefmt import format_relative
from monitor.procedure import MarkerRefused, Procedure
from monitor.procedure.alarms import AlarmChange, Priority
from monitor.store import StoreError
from ui import theme
from ui.banner import AlarmBar, ElidedLabel, SimulatedStrip, StatusBanner
from ui.dim_overlay import DimOverlay
from ui.plot import SessionPlot
from ui.plot_buffer import DEFAULT_GAP_S
from ui.screensaver import ScreenAwake
from ui.sound import SoundPlayer
from ui.summary import MinuteTable
from ui.tiles import LimbTile, TileState
from ui.waker import ArrivalWaker

REDRAW_INTERVAL_MS = 100  # at most 10 Hz
# With the arrival waker (ui/waker.py) bringing each reading in, the timer only follows the
# clock and notices silence: four times a second is enough.
CLOCK_INTERVAL_MS = 250
NUMERIC_INTERVAL_S = 0.5
# Flashing frequency for medium priority (IEC 60601-1-8: 0.4–0.8 Hz).
MEDIUM_FLASH_HZ = 0.6
# A medium alarm repeats its tone this often (seconds of real time) until acknowledged.
MEDIUM_REPEAT_S = 15.0
# Text and tiles are full size from this window height down to SMALLEST_SCALE (a 700 px screen),
# in steps, so a small screen still shows the banner, alarms, tiles, a readable plot, the minute
# table and the status bar at once.
FULL_SIZE_HEIGHT = 1000
SMALLEST_SCALE = 0.7
# The plot (with its axes) is never squeezed below this height on a screen of 700 px or more.
PLOT_MIN_HEIGHT = 200

# Verdict state name (pipeline VerdictState) → banner style.
_VERDICT_KIND = {
    "WAITING_FOR_BASELINE": "waiting",
    "BASELINE_CAPTURED": "baseline",
    "MONITORING": "monitoring",
    "EARLY_WARMING": "early",
    "CONFIRMED": "confirmed",
    "NOT_CONFIRMED_YET": "not_confirmed",
}


def settings() -> QSettings:
    return QSettings("SympaTherm", "sympatherm")



@runtime_checkable
class _ManualSource(Protocol):
    """A source stepped by hand (the simulated patient or a replay on a manual clock)."""

    def step_to(self, session_s: float) -> int: ...


class MainWindow(QMainWindow):
    sessionClosed = pyqtSignal()  # noqa: N815 (Qt signal naming)

    def __init__(self, session: Procedure, *, simulated: bool = False,
                 run_timer: bool = True, persist_layout: bool = True) -> None:
        super().__init__()
        self.session = session
        self.simulated = simulated
        self.setWindowTitle(("SIMULATED — " if simulated else "") + "SympaTherm — live session")
        self.setStyleSheet(theme.STYLESHEET)
        self.sound = SoundPlayer()
        # The core raises, stores and ends the alarms; the window shows them and sounds the tone.
        self.alarms = session.alarms
        self._last_tone_real = -1e9
        self.screen_awake = ScreenAwake()
        self._flash_on = True
        self._last_verdict_state: str | None = None
        self.confirmed_chimed = False
        self.frames_drawn = 0
        # Interactive runs ask before a close ends the recording; scripted ones (tests) do not.
        self.confirm_close = False
        # Off for --snapshot: a rendering neither uses nor changes the user's saved layout.
        self.persist_layout = persist_layout
        self._numbers_shown_at = 0.0
        self._error_text: str | None = None
        self._error_printed: str | None = None
        # Replaces "recording to FILE" in the status bar when the file is not the user's to
        # keep (``--snapshot`` records to a temporary file deleted after the picture).
        self.recording_note: str | None = None
        self._alarms_changed = False

        blocked = session.info.blocked
        self.tiles = {limb: LimbTile(limb) for limb in Limb}
        for limb, tile in self.tiles.items():
            tile.set_blocked(limb is blocked)
        self.banner = StatusBanner()
        self.alarm_bar = AlarmBar()
        self.alarm_bar.acknowledgeRequested.connect(self.acknowledge_alarms)
        self.plot = SessionPlot()
        self.plot.set_simulated(simulated)
        # Every new reading is drawn at once (the waker brings it within one 30 Hz frame).
        self.plot.min_frame_interval_s = 0.0
        # The core's Di − Dc series (the pipeline may be replaced when the criteria change).
        self.plot.difference_source = lambda: self.session.pipeline.difference_series()
        self.plot.markerMoved.connect(self._marker_dragged)
        self.plot.followChanged.connect(self._follow_changed)
        self.table = MinuteTable()

        central = QWidget()
        self._outer = outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)
        self.sim_strip: SimulatedStrip | None = None
        if simulated:
            self.sim_strip = SimulatedStrip()
            outer.addWidget(self.sim_strip)
        outer.addWidget(self.banner)
        outer.addWidget(self.alarm_bar)
        tiles_row = QHBoxLayout()
        tiles_row.setSpacing(8)
        tiles_row.addWidget(self.tiles[Limb.LEFT], 1)  # the two feet always share the row equally
        tiles_row.addWidget(self.tiles[Limb.RIGHT], 1)
        tiles_box = QWidget()
        tiles_box.setLayout(tiles_row)
        tiles_row.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.vsplit = QSplitter(Qt.Orientation.Vertical)
        self.vsplit.addWidget(tiles_box)
        self.vsplit.addWidget(self.splitter)
        self.vsplit.setStretchFactor(0, 2)
        self.vsplit.setStretchFactor(1, 3)
        self.vsplit.setChildrenCollapsible(False)  # a drag can shrink the tiles or the plot, never hide them
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setMinimumHeight(PLOT_MIN_HEIGHT)
        # The data area sits in its own container so the night veil can cover it (a splitter
        # would take the veil for one more pane).
        self.data_area = QWidget()
        data_lay = QVBoxLayout(self.data_area)
        data_lay.setContentsMargins(0, 0, 0, 0)
        data_lay.addWidget(self.vsplit)
        outer.addWidget(self.data_area, 1)
        self.setCentralWidget(central)
        self.night = DimOverlay(self.data_area)

        # One line, cut with "…" and whole in its tooltip: a long message never widens the window.
        self.status_label = ElidedLabel("")
        f = QFont()
        f.setPixelSize(14)
        self.status_label.setFont(f)
        status_bar = QStatusBar()  # made here: Qt's statusBar() is typed as maybe None
        self.setStatusBar(status_bar)
        status_bar.addWidget(self.status_label, 1)
        self._build_actions()
        self._scale: float | None = None
        self._fit_to_window()
        self._split_shared = False  # the tiles/plot split is set once, when first shown
        if persist_layout:
            self._restore_layout()

        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_INTERVAL_MS)
        self.timer.timeout.connect(self.tick)
        self.flash_timer = QTimer(self)
        self.flash_timer.setInterval(int(500 / MEDIUM_FLASH_HZ))  # on/off each half period
        self.flash_timer.timeout.connect(self._toggle_flash)
        self.waker: ArrivalWaker | None = None
        if run_timer:
            self.timer.start()
            self.flash_timer.start()
            self.waker = ArrivalWaker(session.wait_for_readings, self.tick, parent=self)
            self.waker.start()
            self.timer.setInterval(CLOCK_INTERVAL_MS)
        self.screen_awake.inhibit()
        if session.markers:  # a resumed session: its marks are on the plot from the start
            self.plot.set_markers(session.markers)
        events = session.events
        events.readings.connect(self._on_readings)
        events.markers.connect(self._on_markers)
        events.alarms.connect(self._on_alarms)
        events.minutes.connect(self._on_minutes)
        self.update_display()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_to_window()
        self._fit_toolbars()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._split_shared:
            self._split_shared = True
            self._share_split()

    def _share_split(self) -> None:
        """The first split between tiles and plot (Qt would squeeze the tiles to their minimum):
        two fifths for the tiles, at most 320 px; QSplitter then shares any resize 2 : 3."""
        self._outer.activate()  # the central widget's layout
        total = sum(self.vsplit.sizes())
        if total <= 0:
            return
        tiles = min(320, max(self.tiles[Limb.LEFT].minimumHeight(), int(total * 0.4)))
        self.vsplit.setSizes([tiles, total - tiles])

    def _fit_to_window(self) -> None:
        """Text, tiles and spacing for the window's height: everything fits a 1024×700 screen
        (banner, alarms, tiles, a plot of at least PLOT_MIN_HEIGHT, the table, the status bar)."""
        steps = round(min(1.0, max(SMALLEST_SCALE, self.height() / FULL_SIZE_HEIGHT)) * 20)
        scale = steps / 20  # in steps of 5 %: dragging the window's edge does not restyle every pixel
        if scale == self._scale:
            return
        self._scale = scale
        if self.sim_strip is not None:
            self.sim_strip.set_scale(scale)
        self.banner.set_scale(scale)
        self.alarm_bar.set_scale(scale)
        self.table.set_scale(scale)
        for tile in self.tiles.values():
            tile.setMinimumSize(round(280 * scale), round(210 * scale))
        gap = max(4, round(6 * scale))
        self._outer.setContentsMargins(8, gap, 8, gap)
        self._outer.setSpacing(gap)
        f = QFont(self.status_label.font())
        f.setPixelSize(max(12, round(14 * scale)))
        self.status_label.setFont(f)
        # The toolbar buttons: their text and padding shrink with the rest (theme's rule is the full size).
        button = (f"QToolButton {{ font-size: {max(12, round(17 * scale))}px; "
                  f"padding: {round(6 * scale)}px {round(7 * scale)}px; }}")
        for bar in (self.marker_toolbar, self.toolbar):
            bar.setStyleSheet(button)

    def _fit_toolbars(self) -> None:
        """Both toolbars on one row when the window is wide enough, else the second on a row below."""
        need = self.marker_toolbar.sizeHint().width() + self.toolbar.sizeHint().width() + 8
        split = self.toolBarBreak(self.toolbar)
        if need > self.width() and not split:
            self.insertToolBarBreak(self.toolbar)
        elif need <= self.width() and split:
            self.removeToolBarBreak(self.toolbar)

    # ---- actions and keys --------------------------------------------------------------
    def _build_actions(self) -> None:
        # Two toolbars side by side, on two rows when the window is too narrow for both
        # (_fit_toolbars): no button, least of all End, ever hides behind an overflow arrow.
        self.marker_toolbar = QToolBar("Markers")
        self.toolbar = QToolBar("Procedure")
        for bar_, name_ in ((self.marker_toolbar, "marker_toolbar"), (self.toolbar, "procedure_toolbar")):
            bar_.setObjectName(name_)
            bar_.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            bar_.setMovable(False)
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar_)
        tb = self.marker_toolbar
        self.actions_by_name: dict[str, QAction] = {}
        bar = QMenuBar(self)  # made here: Qt's menuBar() and addMenu(title) are typed as maybe None
        self.setMenuBar(bar)
        menus: dict[str, QMenu] = {}
        for name, title in (("session", "&Session"), ("markers", "&Markers"), ("view", "&View"),
                            ("settings", "Se&ttings"), ("help", "&Help")):
            menus[name] = QMenu(title, bar)
            bar.addMenu(menus[name])

        def add(name: str, text: str, key: str, slot, menu: str, checkable: bool = False,
                on_toolbar: bool = True) -> QAction:
            # The toolbar shows the key beside the word ("Baseline  B"); menus and F1 show the word
            # once, with the key in their own column (not "B  Baseline  B").
            label = text[: -len(key)].rstrip() if text.endswith(f"  {key}") else text
            act = QAction(label, self)
            act.setIconText(text)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.setCheckable(checkable)
            act.triggered.connect(slot)
            act.setToolTip(f"{label}  [{QKeySequence(key).toString()}]")
            self.addAction(act)
            menus[menu].addAction(act)
            if on_toolbar:
                tb.addAction(act)  # the toolbar being filled (``tb`` is rebound between the groups)
            self.actions_by_name[name] = act
            return act

        add("baseline", "Baseline  B", "B", lambda: self.mark(MarkerKind.BASELINE), "markers")
        add("needle", "Needle  N", "N", lambda: self.mark(MarkerKind.NEEDLE), "markers")
        add("injection", "Injection  I", "I", lambda: self.mark(MarkerKind.INJECTION), "markers")
        add("note", "Note  T", "T", lambda: self.add_note(), "markers")
        # The nurse re-taped or checked a probe: the detector trusts that foot again from now on.
        checked = (add("checked_left", "Left probe checked  L", "L", lambda: self.mark_probe_checked(Limb.LEFT),
                       "markers"),
                   add("checked_right", "Right probe checked  R", "R",
                       lambda: self.mark_probe_checked(Limb.RIGHT), "markers"))
        for act, short in zip(checked, ("L checked", "R checked"), strict=True):
            act.setIconText(short)  # the toolbar's word; the menu and tooltip keep the full one
        add("markers", "Markers  M", "M", self.edit_markers, "markers")
        tb = self.toolbar
        follow = add("follow", "Follow  F", "F", lambda on: self.plot.set_follow(bool(on)), "view", checkable=True)
        follow.setChecked(True)
        add("whole", "All  W", "W", self.plot.show_everything, "view")
        add("difference", "Difference  V", "V", self._toggle_difference, "view", checkable=True, on_toolbar=False)
        wall = add("wall", "Clock  C", "C", self._toggle_wall_clock, "view", checkable=True)
        wall.setChecked(False)
        add("night", "Night (dimmer)", "D", self.set_night, "view", checkable=True, on_toolbar=False)
        add("fullscreen", "Full screen", "F11", self._toggle_full_screen, "view", on_toolbar=False)
        tb.addSeparator()
        add("ack", "Silence  A", "A", self.acknowledge_alarms, "session")
        add("export", "Export…  X", "X", self.export, "session")
        add("review", "Review a past session…", "Ctrl+O", self.review_past, "session", on_toolbar=False)
        add("relocate", "Save recording elsewhere…", "Ctrl+Shift+S", self.save_elsewhere, "session",
            on_toolbar=False)
        add("stop", "End  Ctrl+E", "Ctrl+E", self.end_session, "session")
        add("criteria", "Criteria…  K", "K", self.edit_criteria, "settings", on_toolbar=False)
        add("calibration", "Probe calibration…", "Ctrl+K", self.calibrate, "settings", on_toolbar=False)
        add("settings", "Settings…", "Ctrl+,", self.edit_settings, "settings", on_toolbar=False)
        add("keys", "Keys and about", "F1", self.show_keys, "help", on_toolbar=False)
        add("quit", "Quit", "Ctrl+Q", self.close, "session", on_toolbar=False)  # asks first while recording

    # ---- dialogs -------------------------------------------------------------------------
    def export(self) -> None:
        from ui.export_dialog import ExportDialog

        if self.session.store is None:
            return
        if not self.session.finished:
            self.session.recorder.commit()  # export what is recorded up to now
        ExportDialog(self.session.store.path, self).exec()

    def review_past(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        from monitor.paths import sessions_dir
        from ui.review import open_review_window

        name, _ = QFileDialog.getOpenFileName(self, "Review a past session", str(sessions_dir()),
                                              "SympaTherm sessions (*.sympatherm)")
        if name:
            window = open_review_window(Path(name), self)
            if window is not None:
                self._reviews = [*getattr(self, "_reviews", []), window]  # keep it alive
                window.show()

    def edit_criteria(self) -> None:
        from ui.criteria_dialog import CriteriaDialog

        dlg = CriteriaDialog(self.session.pipeline.criteria, self.session.info.core_c, self)
        if dlg.exec():
            try:
                self.session.set_criteria(dlg.chosen())
            except RuntimeError as exc:
                QMessageBox.warning(self, "Criteria not changed", str(exc))
            self.update_display()

    def calibrate(self) -> None:
        from ui.calibration_dialog import CalibrationDialog

        registry = _registry()
        if registry is None:
            return
        ident = self.session.source.identity
        devices = [(ident.key, ident.name)] + [(r.key, r.name or r.key) for r in registry.devices()
                                                if r.key != ident.key]
        CalibrationDialog(registry, devices, self).exec()

    def edit_settings(self) -> None:
        from ui.settings_dialog import SettingsDialog, alarm_volume, follow_minutes

        if SettingsDialog(self).exec():
            self.sound.set_volume(alarm_volume())
            self.plot.follow_window_s = follow_minutes() * 60.0
            self.plot.mark_dirty()

    def show_keys(self) -> None:
        lines = [f"{a.shortcut().toString():>8}   {a.text()}" for a in self.actions_by_name.values()]
        words = "\n".join(glossary_lines())  # the criteria's words, from the one glossary
        QMessageBox.information(self, "Keys", "SympaTherm supports clinical judgement and is not a certified "
                                "medical device.\n\n" + "\n".join(lines) + "\n\n" + words)

    def mark(self, kind: MarkerKind, text: str = "") -> None:
        if self.session.finished:
            return
        try:
            marker = self.session.add_marker(kind, text=text)
        except MarkerRefused as refused:
            # A baseline after the injection starts a new attempt: only with the user's explicit yes.
            ask = kind is MarkerKind.BASELINE and self.isVisible()
            if not ask or QMessageBox.question(
                    self, "New baseline for a repeat injection?", str(refused),
                    defaultButton=QMessageBox.StandardButton.No) != QMessageBox.StandardButton.Yes:
                self.status_label.setText(f"Not marked: {refused}")
                return
            marker = self.session.add_marker(kind, text=text, rebaseline=True)
        self.update_display()
        late = self.session.snapshot().late_injection if kind is MarkerKind.INJECTION else None
        if late is not None and marker.id is not None:
            # The core's finding; the window only offers its one correction: the time the warming began.
            back = theme.format_mmss(late.warming_since_s)
            if self.isVisible() and QMessageBox.question(
                    self, "Was the injection earlier?", f"{late.words}\n\nSet the injection mark back to {back}?",
                    defaultButton=QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes:
                self.session.move_marker(marker.id, late.warming_since_s,
                                         reason="set back: the blocked foot was already warming")
                self.update_display()
            else:  # the banner's detail keeps the core's words too
                self.status_label.setText(f"{late.words} Edit markers (M) to set it back to {back}.")

    def mark_probe_checked(self, limb: Limb) -> None:
        """The nurse says: I checked this foot's probe; it is on the skin."""
        self.mark(MarkerKind.PROBE_CHECKED, text=str(limb))

    def add_note(self, text: str | None = None) -> None:
        if self.session.finished:
            # Never dropped without a word: after the end the file takes no more notes.
            why = ("The session has ended, so this note cannot be added to it. "
                   "Write it in the chart, next to the exported report.")
            if self.isVisible() and text is None:
                QMessageBox.information(self, "Session ended", why)
            self.status_label.setText(f"Note not added: {why}")
            return
        if text is None:
            at = self.session.now()  # the note belongs to when the key was pressed, not when typed
            text, ok = QInputDialog.getText(self, "Note", "Note for the session log:")
            if not ok:
                return
            self.session.add_marker(MarkerKind.NOTE, session_s=at, text=text.strip())
        else:
            self.session.add_marker(MarkerKind.NOTE, text=text)

    def edit_markers(self) -> None:
        from ui.marker_dialog import MarkerDialog
        dlg = MarkerDialog(self.session, self)
        if dlg.exec():
            self.update_display()

    def _marker_dragged(self, marker_id: int, new_s: float) -> None:
        self.session.move_marker(marker_id, max(0.0, new_s), reason="dragged on the plot")
        self.update_display()

    def _follow_changed(self, on: bool) -> None:
        act = self.actions_by_name["follow"]
        if act.isChecked() != on:
            act.setChecked(on)

    def _toggle_wall_clock(self, on: bool) -> None:
        self.plot.set_wall_clock(self.session.clock.wall() - self.session.clock.now(), bool(on))
        self.plot.mark_dirty()

    def _toggle_difference(self, on: bool) -> None:
        self.plot.show_difference(bool(on))
        if self.persist_layout:
            settings().setValue("display/difference", "true" if on else "false")

    def set_night(self, on: bool) -> None:
        """Dim tiles, plot and table further for a darkened room (alarms and banner stay bright)."""
        self.night.setVisible(bool(on))
        self.night.raise_()
        if self.actions_by_name["night"].isChecked() != bool(on):
            self.actions_by_name["night"].setChecked(bool(on))
        if self.persist_layout:
            settings().setValue("display/night", "true" if on else "false")

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def acknowledge_alarms(self) -> None:
        self.session.acknowledge_alarms()
        self._update_alarm_display()

    # ---- the loop ------------------------------------------------------------------------
    def tick(self) -> None:
        """Timer: pump the session, then redraw if anything changed (≤ 10 Hz).

        An exception here must not end the program (PyQt aborts on an exception in a slot) and
        so the recording: it is shown as a medium alarm and printed once, and the next tick tries
        again."""
        if self.session.finished:
            return
        try:
            self.process()
            self.redraw()
        except Exception as exc:
            self._report_error(exc)
            return
        if self._error_text is not None:  # a tick that gets through ends the alarm
            self._error_text = None
            self.session.set_program_error(None)
            self._update_alarm_display()
        self._repeat_tone()

    def _report_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text != self._error_printed:
            traceback.print_exception(exc, file=sys.stderr)
            self._error_printed = text
        self._error_text = text
        try:
            self.session.set_program_error(text)
            self._update_alarm_display()
        except Exception:  # noqa: S110 - the report itself must never take the program down
            pass

    def advance_to(self, session_s: float, step_s: float = 5.0) -> None:
        """Manual clock: step the simulated source to ``session_s``, processing as a live run would."""
        source = self.session.source
        if not isinstance(source, _ManualSource):
            raise TypeError(f"{type(source).__name__} runs on its own clock; advance_to needs a manual one")
        t = self.session.now()
        while t < session_s:
            t = min(session_s, t + step_s)
            source.step_to(t - self.session.time_offset_s)  # the source's own clock
            self.process()
        self.redraw()

    def process(self) -> None:
        """One pump of the core; its events update the plot, markers, alarms and table."""
        self._alarms_changed = False
        self.session.pump()
        self.plot.note_time(self.session.now())
        # Numbers refresh twice a second, as patient monitors do (a 10 Hz flicker of the last
        # digit helps nobody and costs CPU); alarms and a stepped clock show at once.
        if (self.session.manual or self._alarms_changed
                or time.monotonic() - self._numbers_shown_at >= NUMERIC_INTERVAL_S):
            self.update_display()

    # ---- what the core tells the window ------------------------------------------------------
    def _on_readings(self, points) -> None:
        pipeline = self.session.pipeline
        for limb, p in points.items():
            # A pause is a gap on the plot when the pipeline calls it one: after 5 s, or after
            # its own rhythm for a probe that reports slowly (a line, not scattered points).
            self.plot.buffers[limb].gap_s = max(DEFAULT_GAP_S, pipeline.allowed_gap_s(limb))
            self.plot.append(limb, p.t, p.celsius, p.valid)

    def _on_minutes(self, rows) -> None:
        # The core counts the rows from the injection once there is one, from the session start before.
        self.table.set_rows(rows, from_injection=self.session.injection_s() is not None)

    def _on_markers(self, markers) -> None:
        self.plot.set_markers(markers)

    def _on_alarms(self, change: AlarmChange) -> None:
        self._alarms_changed = True
        if change.new_priority is not None and not self.alarms.all_acknowledged:
            self._last_tone_real = time.monotonic()
            self.sound.play(str(change.new_priority))

    def _repeat_tone(self) -> None:
        """A medium alarm not yet acknowledged sounds again every MEDIUM_REPEAT_S."""
        unacked = [a for a in self.alarms.active.values() if not a.acknowledged]
        if (any(a.condition.priority is Priority.MEDIUM for a in unacked)
                and time.monotonic() - self._last_tone_real >= MEDIUM_REPEAT_S):
            self._last_tone_real = time.monotonic()
            self.sound.play("medium")

    def redraw(self) -> bool:
        drawn = self.plot.refresh()
        if drawn:
            self.frames_drawn += 1
        return drawn

    # ---- display -------------------------------------------------------------------------
    def update_display(self) -> None:
        self._numbers_shown_at = time.monotonic()
        snap = self.session.snapshot()
        ages = self.session.reading_ages()
        inj = self.session.injection_s()
        if inj is not None:
            self.plot.set_origin(inj)
        line_text = self.session.line_health().words()  # "" while the line is clean
        for limb, tile in self.tiles.items():
            live = self.session.state[limb]
            status = live.status
            if status is None:
                probe_text = "waiting for the probe"
            elif status.is_fault:
                probe_text = status.plain
            else:
                words = snap.limb_status.get(limb, "OK")
                probe_text = "probe OK" if words == "OK" else words
            prio = self.alarms.limb_priority(limb)
            ok = status is not None and not status.is_fault
            # No rise shown from a faulty probe: the last smoothed value would look current.
            tile.set_state(TileState(live.celsius, snap.rise_c.get(limb) if ok else None, ages[limb], probe_text,
                                     ok, prio, self._flash_on, self.session.no_data_after_s()[limb],
                                     snap.rise_withheld.get(limb), line_text))
        self._update_banner(snap, inj)
        # The window being taken or in use, as the pipeline defines it (a "Baseline start" mark
        # opens one; a new one after an injection replaces it).
        self.plot.set_baseline_window(snap.baseline_window_s)
        self.plot.set_difference_threshold(self.session.pipeline.criteria.min_di_minus_dc_c)
        self.plot.set_artefacts(self.session.artefacts)
        self._update_alarm_display()
        self._update_status_bar()

    def _update_banner(self, snap, inj: float | None) -> None:
        attempt = getattr(snap, "attempt", 1)
        if attempt > 1:
            inj = snap.attempt_injection_s  # times in a repeat attempt count from its own injection
        verdict = snap.verdict
        state = getattr(verdict.state, "name", str(verdict.state))
        kind = _VERDICT_KIND.get(state, "monitoring")
        message = getattr(verdict, "message", "") or ""
        title = message
        detail = ""
        criteria = self.session.criteria
        which = "the repeat injection" if attempt > 1 else "the injection"  # as the verdict names it
        if kind == "confirmed" and verdict.confirmed_at_s is not None:
            rel = verdict.confirmed_at_s - (inj or 0.0)
            met = ", ".join(str(c) for c in (verdict.criteria_met or ()))
            # The verdict sentence's words ("Block confirmed at +6:58 after the injection: …").
            title = (f"BLOCK CONFIRMED at {format_relative(rel)} after {which}" if inj is not None
                     else f"BLOCK CONFIRMED at {theme.format_mmss(rel)}")
            detail = (f"Criteria met: {met}, held {criteria.hold_s:g} s · {criteria.short_source} (K: the criteria)"
                      if met else message)
        elif kind in ("waiting", "baseline", "monitoring", "early", "not_confirmed"):
            title = {"waiting": "Waiting for baseline", "baseline": "Baseline captured",
                     "monitoring": "Monitoring", "early": "Early warming",
                     "not_confirmed": "Not confirmed yet"}[kind]
            if kind == "waiting" and snap.baseline_window_s is not None:
                title = "Taking the baseline"  # a "Baseline start" mark opened the window
            if kind == "baseline" and inj is None and not self.session.finished:
                # The step the nurse must not miss: without the mark no rise is ever judged.
                title = "Baseline captured  ·  press I when the drug goes in"
            if snap.holding is not None:
                held, needed = snap.holding
                title = (f"Criteria met, holding {theme.format_mmss(held)} of {theme.format_mmss(needed)}"
                         f"  ·  {', '.join(criteria.conditions())}")
            detail = message
            if inj is not None and kind != "waiting":
                title += f"  ·  {format_relative(self.session.now() - inj)} after {which}"
        if snap.warnings and kind != "confirmed":
            detail = (detail + "  ·  " if detail else "") + snap.warnings[-1]
        flagged = sorted({(Limb(seg.limb).letter, str(seg.kind).replace("_", " "))
                          for seg in self.session.artefacts
                          if seg.end_s is None and str(seg.kind) != "settling"})
        if flagged and kind != "confirmed":
            # The core withholds the flagged foot's rise and Di − Dc, as the criteria leave it out.
            which = ", ".join(f"{letter} {what}" for letter, what in flagged)
            detail = f"Flagged now: {which} (left out of baseline and criteria)" + ("  ·  " + detail if detail else "")
        if attempt > 1:
            title = f"Attempt {attempt} · {title}"
            earlier = "; ".join(f"attempt {a.number}: {a.outcome_words}" for a in snap.earlier_attempts)
            detail = (detail + "  ·  " if detail else "") + f"Earlier: {earlier}"
        self.banner.set_status(kind, title, detail, snap.di_minus_dc_c, snap.di_minus_dc_withheld)
        if state != self._last_verdict_state:
            if kind == "confirmed" and not self.confirmed_chimed:
                self.confirmed_chimed = True
                self.sound.play("info")  # information, not an alarm
            self._last_verdict_state = state

    def _update_status_bar(self) -> None:
        src = self.session.source
        store = self.session.store
        where = f" · recording to {store.path.name}" if store is not None else " · not recorded"
        if self.recording_note:
            where = f" · {self.recording_note}"
        if self.session.resumed:
            where += " (resumed after an interruption)"
        hint = ""
        planned = self.session.planned_injection_s
        if planned is not None:
            hint = f" · the simulated physician injects at {theme.format_mmss(planned)}"
        error = self.session.write_error
        if error:
            where = f" · NOT SAVED: {error}"
        text = f"session {theme.format_mmss(self.session.now())} · {src.identity.name}{hint}{where}"
        if text != self.status_label.text():
            self.status_label.setText(text)

    def _update_alarm_display(self) -> None:
        self.alarm_bar.show_alarms(self.alarms.priority, self.alarms.lines(self.session.now()), self._flash_on,
                                   self.alarms.all_acknowledged)

    def _toggle_flash(self) -> None:
        self._flash_on = not self._flash_on
        if self.alarms.priority == "medium":
            self._update_alarm_display()
            for limb, tile in self.tiles.items():
                st = tile.state
                st.alarm_visible = self._flash_on
                st.alarm = self.alarms.limb_priority(limb)
                tile.set_state(st)

    # ---- closing ---------------------------------------------------------------------------
    def end_session(self) -> None:
        if self.session.finished:
            return
        if self.isVisible() and QMessageBox.question(
                self, "End session", "End the session and close the recording?") != QMessageBox.StandardButton.Yes:
            return
        self.finish()
        if self.isVisible() and self.session.store is not None:
            self.export()  # the chart report is the next thing a nurse needs

    def finish(self, reason: str = "closed normally") -> None:
        self.timer.stop()
        if self.waker is not None:
            self.waker.stop()
        self.flash_timer.stop()
        while True:
            try:
                self.session.stop(reason)
                break
            except StoreError as exc:
                # Nothing is lost yet: everything is in memory. Ask where to save it instead.
                if not self.confirm_close or not self._save_elsewhere(f"The session could not be written: {exc}"):
                    raise
        self.screen_awake.release()
        self._show_ended()
        self.setWindowTitle(self.windowTitle().replace("live session", "session ended"))
        self.status_label.setText(f"Session ended and saved: {self.session.store.path}" if self.session.store
                                  else "Session ended.")
        self.sessionClosed.emit()

    def _show_ended(self) -> None:
        """An ended session must not look live: the banner says so, the tiles grey out and the
        markers are off (the review and export controls stay)."""
        ended = time.strftime("%H:%M", time.localtime(self.session.clock.wall()))
        snap = self.session.snapshot()
        self.banner.set_status("ended", f"SESSION ENDED at {ended}", "Nothing more is recorded. "
                               "Export (X) the report; Ctrl+O reviews a past session.", snap.di_minus_dc_c)
        self.alarm_bar.show_alarms(None, [], True, True)
        for tile in self.tiles.values():
            st = tile.state
            st.alarm = None
            tile.set_state(st)
            tile.detail_label.setText(f"session ended at {ended} · nothing more is recorded")
            tile.setEnabled(False)
        for name in ("baseline", "needle", "injection", "note", "checked_left", "checked_right", "ack", "criteria",
                     "stop"):
            self.actions_by_name[name].setEnabled(False)

    def save_elsewhere(self) -> None:
        """Session menu: keep recording into another file (e.g. when the disk is full)."""
        self._save_elsewhere("Choose where to keep recording this session.")

    def _save_elsewhere(self, why: str) -> bool:
        from PyQt6.QtWidgets import QFileDialog

        if self.session.store is None:
            return False
        QMessageBox.warning(self, "Save the session elsewhere", why)
        name, _ = QFileDialog.getSaveFileName(self, "Save the session as", str(self.session.store.path),
                                              "SympaTherm sessions (*.sympatherm)")
        if not name:
            return False
        try:
            self.session.relocate(Path(name))
        except StoreError as exc:
            QMessageBox.critical(self, "Not saved", str(exc))
            return False
        self._update_status_bar()
        return True

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if not self.session.finished and self.confirm_close and QMessageBox.question(
                self, "Close SympaTherm", "A session is recording. End it and close the window?"
        ) != QMessageBox.StandardButton.Yes:
            event.ignore()
            return
        if self.persist_layout:
            self._save_layout()
        if not self.session.finished:
            self.finish("window closed")
        super().closeEvent(event)

    def _save_layout(self) -> None:
        s = settings()
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("main/splitter", self.splitter.saveState())
        s.setValue("main/vsplit", self.vsplit.saveState())

    def _restore_layout(self) -> None:
        s = settings()
        for key, fn in (("main/geometry", self.restoreGeometry), ("main/state", self.restoreState),
                        ("main/splitter", self.splitter.restoreState), ("main/vsplit", self.vsplit.restoreState)):
            value = s.value(key)
            if value is not None:
                fn(value)
                self._split_shared = self._split_shared or key == "main/vsplit"  # the user's own split
        from ui.settings_dialog import alarm_volume, follow_minutes, wall_clock_default

        self.sound.set_volume(alarm_volume())
        self.plot.follow_window_s = follow_minutes() * 60.0
        if str(settings().value("display/difference", "false")) == "true":
            self.actions_by_name["difference"].setChecked(True)
            self._toggle_difference(True)
        if str(settings().value("display/night", "false")) == "true":
            self.set_night(True)
        if wall_clock_default():
            self.actions_by_name["wall"].setChecked(True)
            self._toggle_wall_clock(True)


def _registry():
    from monitor.sources.registry import DeviceRegistry

    try:
        return DeviceRegistry()
    except (OSError, ValueError):
        return None
