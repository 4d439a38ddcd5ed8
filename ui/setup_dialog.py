"""The set-up flow a nurse finishes in under a minute: probes, sides, session fields, Start.

Probes found automatically are listed with their state; the simulated patient is always
offered (and selected when no probe is attached). Bluetooth thermometers have a tick box:
tick two one-foot thermometers to use one per foot (one two-channel thermometer is simply
chosen). Built-in serial ports without USB IDs are listed only on request. Left/right can be swapped and checked
("warm the LEFT probe in your hand"): the core's :class:`~monitor.procedure.side_check.SideCheck`
judges, once both probes have settled, which probe responded, and the dialog only shows what it
says; the choice is kept in the device registry. Start returns at once and the caller begins
recording. Every control has its own Alt+letter (tests/ui/test_dialog_mnemonics.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from monitor.model import Limb, SessionInfo
from monitor.procedure.side_check import SideCheck, SideCheckPhase, SideCheckState
from monitor.sources.base import ProbeSource
from ui import theme
from ui.candidates import ProbeCandidate, pair_candidates
from ui.side_check_tile import SideCheckTile

CHECK_START, CHECK_STOP = "Chec&k sides", "Stop chec&k"
CHECK_HOW = ("Press Check sides, then do as it says",
             "Hands off both probes until they settle; then warm the LEFT probe in your hand: "
             "the LEFT tile must light up.")
_OFFER_STYLE = f"QPushButton {{ background: #5A4A00; border: 2px solid {theme.ALARM_MEDIUM}; }}"


class _ScanSignals(QObject):
    found = pyqtSignal(list)


@dataclass
class SetupResult:
    candidate: ProbeCandidate
    info: SessionInfo
    swap_sides: bool | None  # None: as the device registry remembers this probe
    scenario: str
    speed: float
    criteria: str = "default"


class ProbeSearch(Protocol):
    """Search again for probes; ``show_all_ports`` also lists the built-in serial ports."""

    def __call__(self, *, show_all_ports: bool = False) -> list[ProbeCandidate]: ...


class SetupDialog(QDialog):
    def __init__(self, candidates: list[ProbeCandidate], registry=None, parent=None,
                 rescan: ProbeSearch | None = None,
                 scan_in_background: bool = False, review: Callable[[QDialog], None] | None = None,
                 pair_ble: Callable[[ProbeCandidate, ProbeCandidate], ProbeCandidate] | None = None,
                 scenarios: Sequence[tuple[str, str]] = ()) -> None:
        """``scenarios``: the simulated patient's (name, description) pairs, from the command line."""
        super().__init__(parent)
        self._scan_signals = _ScanSignals()
        self._scan_signals.found.connect(self._scan_done)
        self._scanning = False
        self.setWindowTitle("SympaTherm — new session")
        self.setStyleSheet(theme.STYLESHEET)
        self.registry = registry
        self._rescan = rescan
        self.candidates: list[ProbeCandidate] = []
        # Ticked Bluetooth thermometers (rows, in the order ticked) and the pair they make.
        self._ticked: list[int] = []
        self._pair: ProbeCandidate | None = None
        self._pair_ble = pair_ble
        self.result_value: SetupResult | None = None
        self._check_source: ProbeSource | None = None
        self._check_last: dict[Limb, float | None] = {}  # each foot's newest °C in the check
        self.side_check: SideCheck | None = None
        self.side_check_state: SideCheckState | None = None

        big = QFont()
        big.setPixelSize(16)
        self.setFont(big)

        # 1. probes
        self.probe_list = QListWidget()
        self.probe_list.setMinimumHeight(86)  # four probes in view; the dialog fits a 1024×700 screen
        rescan_btn = QPushButton("&Find probes again")
        rescan_btn.clicked.connect(self.rescan)
        rescan_btn.setEnabled(rescan is not None)
        self.show_all_ports = QCheckBox("S&how all serial ports")
        self.show_all_ports.setToolTip("Also list the computer's built-in serial ports (no USB IDs); "
                                       "a probe is never one of them")
        self.show_all_ports.setEnabled(rescan is not None)
        self.show_all_ports.toggled.connect(lambda _on: self.rescan())
        self.pair_hint = QLabel("One thermometer per foot? Tick both Bluetooth thermometers.")
        self.pair_hint.setWordWrap(True)
        self.scenario = QComboBox()
        for name, description in scenarios:
            self.scenario.addItem(f"{name} — {description}" if description else name, name)
        self.scenario.setCurrentIndex(max(0, self.scenario.findData("success-fast")))  # as `sympatherm demo`
        _elide_long_choices(self.scenario)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(1.0, 600.0)
        self.speed.setValue(10.0)
        self.speed.setSuffix(" × real time")
        self.speed.setMinimumWidth(self.speed.fontMetrics().horizontalAdvance("600.00 × real time") + 30)
        self.sim_box = QGroupBox("Simulated patient")
        sim_row = QHBoxLayout(self.sim_box)  # one row: the set-up fits a 1024×700 screen
        for text, widget, stretch in (("&Scenario", self.scenario, 3), ("Spee&d", self.speed, 1)):
            label = QLabel(text)
            label.setBuddy(widget)
            sim_row.addWidget(label)
            sim_row.addWidget(widget, stretch)
        probes_box = QGroupBox("1. Probes")
        pl = QVBoxLayout(probes_box)
        pl.addWidget(self.probe_list)
        row = QHBoxLayout()
        row.addWidget(rescan_btn)
        row.addWidget(self.show_all_ports)
        row.addStretch(1)
        pl.addLayout(row)
        pl.addWidget(self.pair_hint)
        pl.addWidget(self.sim_box)

        # 2. sides
        self.swap = False
        self.swap_touched = False  # untouched: a known probe keeps the sides the registry remembers
        self.sides_label = QLabel()
        self.sides_label.setWordWrap(True)
        self.sides_label.setMinimumHeight(_lines_height(self.sides_label, 2))  # two names can be long
        self.swap_btn = QPushButton("S&wap left and right")
        self.swap_btn.clicked.connect(self.toggle_swap)
        self.check_btn = QPushButton(CHECK_START)
        self.check_btn.setCheckable(True)
        self.check_btn.toggled.connect(self._side_check_toggled)
        self.check_title = QLabel(CHECK_HOW[0])
        self.check_title.setWordWrap(True)
        title_font = QFont(big)
        title_font.setBold(True)
        self.check_title.setFont(title_font)
        self.check_detail = QLabel(CHECK_HOW[1])
        self.check_detail.setWordWrap(True)
        self.check_detail.setStyleSheet(f"color: {theme.TEXT_DIM};")
        detail_font = QFont(big)
        detail_font.setPixelSize(14)
        self.check_detail.setFont(detail_font)
        self.check_detail.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Room kept for what the check says (one line of title, two of detail), so the tiles never
        # jump or squeeze; every sentence the check says fits (tests/ui/test_setup_side_check.py).
        self.check_title.setMinimumHeight(_lines_height(self.check_title, 1))
        self.check_detail.setMinimumHeight(_lines_height(self.check_detail, 2))
        self.check_tiles = {limb: SideCheckTile(limb) for limb in Limb}
        sides_box = QGroupBox("2. Left and right")
        sl = QVBoxLayout(sides_box)
        sl.addWidget(self.sides_label)
        r1 = QHBoxLayout()
        r1.addWidget(self.swap_btn)
        r1.addWidget(self.check_btn)
        r1.addStretch(1)
        sl.addLayout(r1)
        sl.addWidget(self.check_title)
        sl.addWidget(self.check_detail)
        r2 = QHBoxLayout()
        r2.addWidget(self.check_tiles[Limb.LEFT])
        r2.addWidget(self.check_tiles[Limb.RIGHT])
        sl.addLayout(r2)
        self.check_timer = QTimer(self)
        self.check_timer.setInterval(200)
        self.check_timer.timeout.connect(self.update_side_check)

        # 3. session fields
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("e.g. hospital number")
        self.blocked_left = QRadioButton("&Left")
        self.blocked_right = QRadioButton("&Right")
        self.blocked_group = QButtonGroup(self)
        self.blocked_group.addButton(self.blocked_left)
        self.blocked_group.addButton(self.blocked_right)
        bl = QHBoxLayout()
        bl.addWidget(self.blocked_left)
        bl.addWidget(self.blocked_right)
        bl.addStretch(1)
        self.operator = QLineEdit()
        self.nurse = QLineEdit()
        self.procedure = QLineEdit("Lumbar sympathetic block")
        self.levels = QLineEdit()
        self.levels.setPlaceholderText("e.g. L2–L3")
        self.drug = QLineEdit()
        self.drug.setPlaceholderText("e.g. 7 mL ropivacaine 0.5 %")
        from monitor.pipeline import CRITERIA_PRESETS

        self.criteria = QComboBox()
        for c in CRITERIA_PRESETS.values():
            self.criteria.addItem(c.label, c.id)
        _elide_long_choices(self.criteria)
        self.room = _optional_temp(10.0, 40.0)
        self.core = _optional_temp(30.0, 42.0)
        fields = QGroupBox("3. Session")
        form = QFormLayout(fields)
        form.addRow("&Patient ID", self.patient)
        form.addRow("Blocked side", bl)  # no mnemonic: a layout has no buddy (Alt+L / Alt+R pick)
        form.addRow("&Operator", self.operator)
        form.addRow("&Nurse", self.nurse)
        form.addRow("Proced&ure", self.procedure)
        form.addRow("Le&vels", self.levels)
        form.addRow("Dru&g", self.drug)
        form.addRow("Roo&m °C", self.room)
        form.addRow("Cor&e °C", self.core)
        form.addRow("Cr&iteria", self.criteria)

        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {theme.ALARM_MEDIUM};")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        # Made here and added (Qt's addButton(text) may return None, as its stubs say).
        self.review_btn = QPushButton("Review &a past session…")
        self.buttons.addButton(self.review_btn, QDialogButtonBox.ButtonRole.ActionRole)
        self.review_btn.clicked.connect(self._review_clicked)
        self.review_btn.setVisible(review is not None)
        self._review = review
        self.start_btn = QPushButton("S&tart recording")
        self.buttons.addButton(self.start_btn, QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_btn.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(probes_box)
        left.addWidget(sides_box)
        cols = QHBoxLayout()
        cols.addLayout(left, 3)
        cols.addWidget(fields, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(cols)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)

        self.probe_list.currentRowChanged.connect(self._probe_changed)
        self.probe_list.itemChanged.connect(self._tick_changed)
        self.set_candidates(candidates)
        self._update_sides_label()
        if scan_in_background:
            self.rescan()

    # ---- probes --------------------------------------------------------------------------
    def set_candidates(self, candidates: list[ProbeCandidate]) -> None:
        self.candidates = list(candidates)
        self._ticked, self._pair = [], None
        self.probe_list.blockSignals(True)
        self.probe_list.clear()
        for c in self.candidates:
            item = QListWidgetItem(f"{c.name}  —  {c.state}")
            if not c.usable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            elif _pairable(c):
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
            self.probe_list.addItem(item)
        self.probe_list.blockSignals(False)
        self.pair_hint.setVisible(sum(1 for c in self.candidates if _pairable(c)) >= 2)
        # A recognised probe that is ready comes first; the simulated patient when none is.
        real = [i for i, c in enumerate(self.candidates) if c.usable and c.extra.get("known")]
        sim = [i for i, c in enumerate(self.candidates) if c.simulated]
        pick = real[0] if real else (sim[0] if sim else -1)
        self.probe_list.setCurrentRow(pick)
        self._probe_changed(pick)

    def rescan(self) -> None:
        """Find probes again (serial and Bluetooth) in a background thread; the list updates when done.
        The search function is called with ``show_all_ports`` (the tick box)."""
        if self._rescan is None or self._scanning:
            return
        self._scanning = True
        self.error.setText("Searching for probes (serial and Bluetooth)…")
        rescan, signals = self._rescan, self._scan_signals
        show_all = self.show_all_ports.isChecked()

        def work() -> None:
            try:
                signals.found.emit(rescan(show_all_ports=show_all))
            except Exception as exc:  # the dialog stays usable; say what went wrong
                signals.found.emit([ProbeCandidate("Probe search", f"failed: {exc}", "unavailable", usable=False)])

        threading.Thread(target=work, name="probe-search", daemon=True).start()

    def _scan_done(self, candidates: list) -> None:
        self._scanning = False
        self.error.setText("")
        keep = self.candidate
        ticked = [self.candidates[i].key for i in self._ticked]
        self.set_candidates(candidates)
        if keep is not None and keep.simulated is False:
            for i, c in enumerate(self.candidates):
                if c.name == keep.name:
                    self.probe_list.setCurrentRow(i)
        for i, c in enumerate(self.candidates):  # the thermometers ticked before stay ticked
            if c.key and c.key in ticked and _pairable(c):
                self.set_ticked(i, True)

    @property
    def candidate(self) -> ProbeCandidate | None:
        """The chosen probe: two ticked Bluetooth thermometers as one, else the selected row."""
        if self._pair is not None:
            return self._pair
        row = self.probe_list.currentRow()
        return self.candidates[row] if 0 <= row < len(self.candidates) else None

    def set_ticked(self, row: int, on: bool = True) -> None:
        """Tick (or untick) the Bluetooth thermometer in ``row``, as a click on its box does."""
        self._check_row(row, on)

    def _check_row(self, row: int, on: bool) -> None:
        item = self.probe_list.item(row)
        if item is not None:  # a row gone with a new search has no box to tick
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _tick_changed(self, item: QListWidgetItem) -> None:
        row = self.probe_list.row(item)
        on = item.checkState() == Qt.CheckState.Checked
        if on and row not in self._ticked:
            self._ticked.append(row)
            if len(self._ticked) > 2:  # a third one replaces the first ticked: two feet
                self.probe_list.blockSignals(True)
                self._check_row(self._ticked.pop(0), False)
                self.probe_list.blockSignals(False)
        elif not on and row in self._ticked:
            self._ticked.remove(row)
        self._pair = None
        self.error.setText("")
        if len(self._ticked) == 2:
            first, second = (self.candidates[i] for i in self._ticked)
            pair = self._pair_ble or pair_candidates
            try:
                self._pair = pair(first, second)
            except (ValueError, KeyError) as exc:
                self.error.setText(f"These two cannot be used together: {exc}")
        if self._ticked and self.probe_list.currentRow() not in self._ticked:
            self.probe_list.blockSignals(True)
            self.probe_list.setCurrentRow(self._ticked[-1])
            self.probe_list.blockSignals(False)
        self._probe_changed(self.probe_list.currentRow())

    def _probe_changed(self, row: int) -> None:
        if self._ticked and row not in self._ticked:
            # Another probe chosen: the ticked thermometers are no longer the choice.
            self.probe_list.blockSignals(True)
            for i in self._ticked:
                self._check_row(i, False)
            self.probe_list.blockSignals(False)
            self._ticked, self._pair = [], None
        c = self.candidate
        self.sim_box.setVisible(bool(c and c.simulated))
        self.check_btn.setChecked(False)
        self.swap_touched = False
        self.swap = False
        if c is not None and self.registry is not None and c.key:
            limbs = self.registry.channel_limbs(c.key, 2)
            self.swap = limbs[0] is Limb.RIGHT
        self._update_sides_label()

    # ---- sides ---------------------------------------------------------------------------
    def toggle_swap(self) -> None:
        self.swap = not self.swap
        self.swap_touched = True
        self._update_sides_label()
        if self._check_source is not None:  # restart the check with the new mapping
            self.check_btn.setChecked(False)
            self.check_btn.setChecked(True)

    def chosen_swap(self) -> bool | None:
        """The user's swap choice, or None to keep what the device registry remembers."""
        c = self.candidate
        if self.swap_touched or (c is not None and c.key):
            return self.swap
        return None

    def _update_sides_label(self) -> None:
        first, second = (Limb.RIGHT, Limb.LEFT) if self.swap else (Limb.LEFT, Limb.RIGHT)
        c = self.candidate if hasattr(self, "probe_list") else None
        names = [name for _key, name in c.extra.get("members", ())] if c is not None else []
        if len(names) != 2:
            names = ["probe 1", "probe 2"]
        text = f"{names[0]} → {theme.limb_name(first)} foot,  {names[1]} → {theme.limb_name(second)} foot"
        if not self.swap_touched and c is not None and c.kind == "serial":
            text += "  (or as remembered for this probe)"
        self.sides_label.setText(text)

    def _side_check_toggled(self, on: bool) -> None:
        self._stop_check_source()
        self.check_btn.setText(CHECK_STOP if on else CHECK_START)
        self.side_check = None
        self.show_side_check(None)
        if not on:
            return
        c = self.candidate
        if c is None or c.make_source is None:
            self.check_btn.setChecked(False)
            return
        try:
            self._check_source = c.make_source(self.chosen_swap(), self.scenario.currentData(), self.speed.value())
            self._check_source.start()
        except (OSError, ValueError) as exc:  # a port gone or taken: say so, the dialog stays usable
            self._check_source = None
            self.error.setText(f"The side check could not start: {exc}")
            self.check_btn.setChecked(False)
            return
        self._check_last = {Limb.LEFT: None, Limb.RIGHT: None}
        self.side_check = SideCheck(warm=Limb.LEFT)
        self.check_timer.start()
        self.show_side_check(self.side_check.state())

    def update_side_check(self) -> None:
        """Feed the check the readings that arrived and show what it says (the timer's slot)."""
        src, check = self._check_source, self.side_check
        if src is None or check is None:
            return
        readings = src.drain()
        for r in readings:
            check.add_reading(r)
            if r.has_temperature:
                self._check_last[r.limb] = r.celsius
        if readings:
            self.show_side_check(check.state())

    def show_side_check(self, state: SideCheckState | None) -> None:
        """The check's state as it is (None: no check running). The judgement is the core's."""
        self.side_check_state = state
        if state is None:
            self.check_title.setText(CHECK_HOW[0])
            self.check_detail.setText(CHECK_HOW[1])
        else:
            self.check_title.setText(state.title)
            self.check_detail.setText(state.detail)
        lit = {SideCheckPhase.CONFIRMED: "#7CFC9A", SideCheckPhase.SWAPPED: theme.ALARM_MEDIUM}
        colour = theme.TEXT if state is None else lit.get(state.phase, theme.TEXT)
        if self.check_title.styleSheet() != f"color: {colour};":
            self.check_title.setStyleSheet(f"color: {colour};")
        for limb, tile in self.check_tiles.items():
            tile.show_probe(None if state is None else state.probes[limb],
                            lit=None if state is None or state.responded is not limb else state.phase)
        offer = state is not None and state.offer_swap
        if offer != bool(self.swap_btn.styleSheet()):  # only when it changes: no focus stolen each tick
            self.swap_btn.setStyleSheet(_OFFER_STYLE if offer else "")
            if offer:
                self.swap_btn.setFocus()

    def _stop_check_source(self) -> None:
        self.check_timer.stop()
        if self._check_source is not None:
            self._check_source.stop()
            self._check_source = None

    # ---- finishing ---------------------------------------------------------------------
    def session_info(self) -> SessionInfo:
        blocked = Limb.LEFT if self.blocked_left.isChecked() else Limb.RIGHT if self.blocked_right.isChecked() else None
        c = self.candidate
        return SessionInfo(patient_id=self.patient.text().strip(), blocked=blocked,
                           operator=self.operator.text().strip(), nurse=self.nurse.text().strip(),
                           procedure=self.procedure.text().strip(), levels=self.levels.text().strip(),
                           drug=self.drug.text().strip(), room_c=_value_or_none(self.room),
                           core_c=_value_or_none(self.core), simulated=bool(c and c.simulated))

    def accept(self) -> None:
        c = self.candidate
        info = self.session_info()
        if c is None or not c.usable:
            self.error.setText("Choose a probe (or the simulated patient) first.")
            return
        if info.blocked is None:
            self.error.setText("Choose the blocked side: the detector needs it.")
            self.blocked_left.setFocus()
            return
        self._stop_check_source()
        if self.registry is not None and c.key and not c.simulated:
            self.registry.assign_side(c.key, Limb.RIGHT if self.swap else Limb.LEFT, channel=0)
        members = c.extra.get("members", ())
        if self.registry is not None and len(members) == 2:
            # Two one-foot thermometers: each one's foot is remembered (the source confirms it on connecting).
            feet = (Limb.RIGHT, Limb.LEFT) if self.swap else (Limb.LEFT, Limb.RIGHT)
            for (key, _name), limb in zip(members, feet, strict=True):
                self.registry.assign_side(key, limb)
        from monitor.pipeline import CRITERIA_PRESETS

        criteria = self.criteria.currentData()
        if CRITERIA_PRESETS[criteria].needs_core and info.core_c is None:
            self.error.setText("These criteria need a core temperature: enter it, or choose other criteria.")
            return
        self.result_value = SetupResult(c, info, self.chosen_swap(), self.scenario.currentData(), self.speed.value(),
                                        criteria)
        super().accept()

    def reject(self) -> None:
        self._stop_check_source()
        super().reject()

    def _review_clicked(self) -> None:
        if self._review is not None:
            self._review(self)


def _pairable(c: ProbeCandidate) -> bool:
    """A found Bluetooth thermometer that can be ticked as one of two (one per foot)."""
    return c.kind == "ble" and c.usable and "probe" in c.extra and not c.extra.get("members")


def _lines_height(label: QLabel, lines: int) -> int:
    """How tall ``label`` is with ``lines`` lines of text, as it lays them out itself."""
    text = label.text()
    label.setText("\n".join("X" * lines))
    height = label.heightForWidth(10_000)
    label.setText(text)
    return height


def _elide_long_choices(box: QComboBox) -> None:
    """A long choice (a scenario's description) must not widen the dialog past a small screen:
    the box shows its start, the list and the tooltip the whole text."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(22)
    box.setToolTip(box.currentText())
    box.currentTextChanged.connect(box.setToolTip)


def _optional_temp(lo: float, hi: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo - 0.1, hi)
    box.setDecimals(1)
    box.setSpecialValueText("not known")  # the minimum means "not entered"
    box.setValue(box.minimum())
    box.setSuffix(" °C")
    return box


def _value_or_none(box: QDoubleSpinBox) -> float | None:
    return None if box.value() <= box.minimum() else round(box.value(), 1)
