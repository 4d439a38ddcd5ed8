"""Review a past session: open the file, scroll and zoom the whole record, replay it at speed,
export it again. Read-only: the file is never written from here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStatusBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from monitor.exports.session_data import load_session
from monitor.model import Limb, MarkerKind
from monitor.pipeline.timefmt import format_relative
from monitor.procedure.minutes import minute_table
from monitor.procedure.replay import replay_session
from monitor.store import StoreError
from ui import theme
from ui.banner import SimulatedStrip, StatusBanner
from ui.plot import SessionPlot
from ui.summary import MinuteTable

REPLAY_TICK_MS = 100


class ReviewWindow(QMainWindow):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        session = load_session(self.path)  # read-only
        self.info = session.info
        self.simulated = session.simulated
        self.markers = session.markers
        self.artefacts = [e for e in session.events if e.kind == "artefact"]
        self.verdicts = session.verdicts
        # The core judges the record again (the one replay, as the report and analyze do).
        self.pipeline = replay_session(session)
        arrays = {limb: session.limb(limb) for limb in Limb}
        self.data = {limb: (a.t_s, np.where(a.valid, a.celsius, np.nan)) for limb, a in arrays.items()}
        self.end_s = max((float(t[-1]) for t, _ in self.data.values() if t.size), default=0.0)
        self.setWindowTitle(("SIMULATED — " if self.simulated else "") + f"SympaTherm — review {self.path.name}")
        self.setStyleSheet(theme.STYLESHEET)

        self.banner = StatusBanner()
        self.plot = SessionPlot(thin_old_data=False)  # the whole file is in memory here anyway
        self.plot.set_simulated(self.simulated)
        self.table = MinuteTable()
        central = QWidget()
        lay = QVBoxLayout(central)
        if self.simulated:
            lay.addWidget(SimulatedStrip())
        lay.addWidget(self.banner)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setStretchFactor(0, 4)
        lay.addWidget(split, 1)
        self.setCentralWidget(central)
        self.status = QLabel("")
        status_bar = QStatusBar()  # made here: Qt's statusBar() is typed as maybe None
        self.setStatusBar(status_bar)
        status_bar.addWidget(self.status, 1)

        tb = QToolBar("Review")
        tb.setObjectName("review_toolbar")
        self.addToolBar(tb)
        self.speed = QComboBox()
        for s in (10, 60, 300, 1200):
            self.speed.addItem(f"{s}× speed", s)
        self.speed.setCurrentIndex(1)
        self.replay_action = self._action(tb, "Replay  R", "R", self.toggle_replay)
        tb.addWidget(self.speed)
        self._action(tb, "All  W", "W", self.show_all)
        self.difference_action = self._action(tb, "Difference  V", "V", self.toggle_difference)
        self.difference_action.setCheckable(True)
        self.plot.difference_source = self.pipeline.difference_series
        self.plot.set_difference_threshold(self.pipeline.criteria.min_di_minus_dc_c)
        self._action(tb, "Export…  E", "E", self.export)
        self._action(tb, "Close  Ctrl+W", "Ctrl+W", self.close)

        self.replay_timer = QTimer(self)
        self.replay_timer.setInterval(REPLAY_TICK_MS)
        self.replay_timer.timeout.connect(self._replay_tick)
        self.replay_s = 0.0
        self.show_all()

    def _action(self, tb: QToolBar, text: str, key: str, slot) -> QAction:
        act = QAction(text, self)
        act.setShortcut(QKeySequence(key))
        act.triggered.connect(slot)
        tb.addAction(act)
        self.addAction(act)
        return act

    # ---- showing ---------------------------------------------------------------------------
    def _show_until(self, until_s: float) -> None:
        self.plot.clear_data()
        for limb, (t, c) in self.data.items():
            n = int(np.searchsorted(t, until_s, side="right"))
            self.plot.append(limb, t[:n], c[:n])
        self.plot.note_time(until_s)
        marks = [m for m in self.markers if m.session_s <= until_s]
        self.plot.set_markers(marks)
        inj = [m.session_s for m in marks if m.kind is MarkerKind.INJECTION]
        self.plot.set_origin(min(inj) if inj else 0.0)
        self.plot.set_artefacts([_Seg(e.limb, e.subkind, e.start_s, e.end_s) for e in self.artefacts
                                 if e.start_s <= until_s and e.limb is not None])
        # The banner shows what was shown live (the recorded verdict changes), dated from the injection.
        verdicts = [v for v in self.verdicts if v.session_s <= until_s]
        who = f"{self.info.patient_id or 'no patient ID'} · blocked side {self.info.blocked or '?'}"
        didc = self.pipeline.snapshot().di_minus_dc_c if until_s >= self.end_s else None
        if verdicts:
            v = verdicts[-1]
            kind = "confirmed" if str(v.state).lower() == "confirmed" else "review"
            when = (f"{format_relative(v.session_s - min(inj))} after the injection" if inj
                    else f"{theme.format_mmss(v.session_s)} into the session")
            self.banner.set_status(kind, v.message or str(v.state), f"recorded {when} · {who}", didc)
        else:
            self.banner.set_status("review", "Review", who, didc)
        window = self.pipeline.snapshot().baseline_window_s
        if window is not None and window[1] <= until_s:
            self.plot.set_baseline_window(window)
        # The rows as far as the replay has got (the rule has no look-ahead: each row is final).
        rows = minute_table(self.pipeline, min(inj) if inj else 0.0, until_s)
        self.table.set_rows(rows, from_injection=bool(inj))
        self.status.setText(f"{self.path} · {theme.format_mmss(until_s)} of {theme.format_mmss(self.end_s)}")

    def show_all(self) -> None:
        self.replay_timer.stop()
        self._show_until(self.end_s)
        self.plot.refresh(force=True)
        self.plot.show_everything()

    def toggle_difference(self) -> None:
        """The session's Di − Dc under the plot (the same pipeline series as live, key V)."""
        self.plot.show_difference(self.difference_action.isChecked())
        self.plot.refresh(force=True)

    def toggle_replay(self) -> None:
        if self.replay_timer.isActive():
            self.replay_timer.stop()
            return
        self.replay_s = 0.0
        self.plot.set_follow(True)
        self.replay_timer.start()

    def _replay_tick(self) -> None:
        self.replay_s = min(self.end_s, self.replay_s + self.speed.currentData() * REPLAY_TICK_MS / 1000.0)
        self._show_until(self.replay_s)
        self.plot.refresh()
        if self.replay_s >= self.end_s:
            self.replay_timer.stop()

    def export(self) -> None:
        from ui.export_dialog import ExportDialog

        ExportDialog(self.path, self).exec()


class _Seg:
    def __init__(self, limb, kind, start_s, end_s) -> None:
        self.limb, self.kind, self.start_s, self.end_s = limb, kind, start_s, end_s


def open_review_window(path: Path, parent=None) -> ReviewWindow | None:
    try:
        return ReviewWindow(path)
    except (StoreError, OSError) as exc:
        QMessageBox.warning(parent, "Cannot open the session", str(exc))
        return None
