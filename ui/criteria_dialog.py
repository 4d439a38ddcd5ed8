"""Criteria settings: every preset with its thresholds and its published source.

Choosing another preset (or adjusting a threshold) re-judges the whole session with it;
the change is written to the session (criteria in the file's metadata and a note marker).
"""

from __future__ import annotations

from html import escape

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QVBoxLayout,
)

from monitor.pipeline import CRITERIA_PRESETS, Criteria
from monitor.pipeline.glossary import TERMS, criterion_in_plain_words
from ui import theme
from ui.fit_text import tooltip_text

# Each criterion's tooltip: the glossary's words, never a copy of them.
_MEANING = {term: tooltip_text(meaning) for term, meaning in TERMS}


class CriteriaDialog(QDialog):
    def __init__(self, current: Criteria, core_c: float | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Block confirmation criteria")
        self.setStyleSheet(theme.STYLESHEET)
        self.setMinimumWidth(760)
        self.core_c = core_c
        self.presets = list(CRITERIA_PRESETS.values())
        self.list = QListWidget()
        for c in self.presets:
            self.list.addItem(f"{c.label}   [{c.id}]")
        self.conditions = QLabel()
        self.conditions.setWordWrap(True)
        self.plain = QLabel()  # the criterion in a nurse's words
        self.plain.setWordWrap(True)
        self.short_source = QLabel()
        self.short_source.setWordWrap(True)
        self.source = QLabel()  # the full reference
        self.source.setWordWrap(True)
        self.source.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rise = _threshold(0.1, 10.0)
        self.didc = _threshold(0.1, 10.0)
        self.core = _threshold(0.5, 10.0)
        self.hold = QDoubleSpinBox()
        self.hold.setRange(0.0, 600.0)
        self.hold.setDecimals(0)
        self.hold.setSuffix(" s")
        self.use = {name: QCheckBox() for name in ("rise", "didc", "core")}
        form = QFormLayout()
        for name, label, box, meaning in (
                ("rise", "&Rise ΔTb ≥", self.rise, _MEANING["ΔTb"]),
                ("didc", "&Di − Dc ≥", self.didc, _MEANING["Di − Dc"]),
                ("core", "&Within core by", self.core, "the blocked foot this close to the core temperature")):
            row = QHBoxLayout()
            self.use[name].setToolTip(f"Use this threshold ({meaning})")
            self.use[name].setAccessibleName(f"use {label.replace('&', '')}")
            box.setToolTip(meaning)
            row.addWidget(self.use[name])
            row.addWidget(box, 1)
            heading = QLabel(label)
            heading.setBuddy(box)
            heading.setToolTip(meaning)
            form.addRow(heading, row)
        held = QLabel("&Held for")
        held.setBuddy(self.hold)
        form.addRow(held, self.hold)
        self.warning = QLabel("")
        self.warning.setStyleSheet(f"color: {theme.ALARM_MEDIUM};")
        self.warning.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        right = QVBoxLayout()
        right.addWidget(self.conditions)
        right.addWidget(self.plain)
        right.addWidget(self.short_source)
        right.addWidget(QLabel("Full reference:"))
        right.addWidget(self.source)
        right.addLayout(form)
        right.addWidget(self.warning)
        right.addStretch(1)
        presets = QVBoxLayout()
        heading = QLabel("&Presets:")
        heading.setBuddy(self.list)
        presets.addWidget(heading)
        presets.addWidget(self.list, 1)
        cols = QHBoxLayout()
        cols.addLayout(presets, 1)
        cols.addLayout(right, 1)
        self.glossary = QLabel("<br>".join(f"<b>{term}</b>: {meaning}" for term, meaning in TERMS))
        self.glossary.setWordWrap(True)
        self.glossary.setStyleSheet(f"color: {theme.TEXT_DIM};")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Each criterion is a configurable default from the literature, not a diagnosis."))
        lay.addLayout(cols)
        lay.addWidget(self.glossary)
        lay.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        for box in (self.rise, self.didc, self.core, self.hold):
            box.valueChanged.connect(self._adjusted)
        for check in self.use.values():
            check.toggled.connect(self._adjusted)
        ids = [c.id for c in self.presets]
        base_id = current.id if current.id in ids else current.id.removesuffix("-adjusted")
        self.list.setCurrentRow(ids.index(base_id) if base_id in ids else 0)
        self._load(current)

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.presets):
            self._load(self.presets[row])

    def _load(self, c: Criteria) -> None:
        self.conditions.setText(f"<b>{escape(c.label)}</b><br>{escape(c.describe())}")
        self.short_source.setText(f"<b>Source:</b> {escape(c.short_source)}")
        self.source.setText(c.source)
        for name, box, value, default in (("rise", self.rise, c.min_rise_c, 2.0),
                                          ("didc", self.didc, c.min_di_minus_dc_c, 1.5),
                                          ("core", self.core, c.core_within_c, 3.0)):
            self.use[name].setChecked(value is not None)
            box.setValue(value if value is not None else default)
        self.hold.setValue(c.hold_s)
        self._adjusted()  # the plain words of what is now loaded
        self.warning.setText("This criterion needs a core temperature (enter it in the session fields)."
                             if c.needs_core and self.core_c is None else "")

    def _adjusted(self, *_: object) -> None:
        """A threshold changed by hand: the plain words follow what will be applied."""
        try:
            self.plain.setText(criterion_in_plain_words(self.chosen()))
        except ValueError:
            self.plain.setText("No threshold chosen: tick at least one.")

    def chosen(self) -> Criteria:
        """The selected preset, or an adjusted copy (id suffixed '-adjusted') if a threshold changed."""
        base = self.presets[max(0, self.list.currentRow())]
        values = {
            "min_rise_c": self.rise.value() if self.use["rise"].isChecked() else None,
            "min_di_minus_dc_c": self.didc.value() if self.use["didc"].isChecked() else None,
            "core_within_c": self.core.value() if self.use["core"].isChecked() else None,
            "hold_s": self.hold.value(),
        }
        same = all(getattr(base, k) == (round(v, 2) if isinstance(v, float) else v) for k, v in values.items())
        if same:
            return base
        return base.adjusted(id=f"{base.id}-adjusted", label=f"{base.label} (adjusted)", **values)

    def accept(self) -> None:
        try:
            c = self.chosen()
        except ValueError as exc:
            self.warning.setText(str(exc))
            return
        if c.needs_core and self.core_c is None:
            self.warning.setText("This criterion needs a core temperature; none was entered for this session.")
            return
        super().accept()


def _threshold(lo: float, hi: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(1)
    box.setSingleStep(0.1)
    box.setSuffix(" °C")
    return box
