"""The export dialog shows whole paths, visible ticks on checked boxes, and asks before it
overwrites a file (the answer given through the dialog's own ask method)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication, QCheckBox, QMessageBox

from tests.support.sessions import record_simulated
from ui import theme
from ui.export_dialog import ExportDialog

# A path about as long as a real one (the offscreen screen is 800 px wide; a path wider than the
# screen is elided in the middle).
LONG_FOLDER = "SympaTherm/lumbar-blocks/theatre-3"


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    # Whatever pytest's own folder (longer under xdist), a whole path of 95 characters.
    name = "2026-12-02_0930_PT-0042.sympatherm"
    folder = base / LONG_FOLDER[:max(8, 95 - len(str(base)) - len(name) - 2)].rstrip("/-")
    folder.mkdir(parents=True)
    return record_simulated(folder / name, until_s=900.0, step_s=10.0)


def _dialog(qtbot, path, **kwargs) -> ExportDialog:
    dlg = ExportDialog(path, **kwargs)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def test_whole_paths_are_shown_at_the_dialogs_default_size(qtbot, session, tmp_path):
    dlg = _dialog(qtbot, session)
    full = str(session)
    assert len(full) > 90
    label = dlg.session_label
    assert label.text() == full and label.shown() == full, "the whole session path, not its name or a part"
    assert label.contentsRect().width() >= label.fontMetrics().horizontalAdvance(full), "not clipped"
    folder = dlg.folder
    inner = folder.width() - 12  # the frame and text margins of a line edit
    assert inner >= folder.fontMetrics().horizontalAdvance(folder.text()), "the folder path fits its field"
    assert folder.toolTip() == folder.text()
    dlg.grab().save(str(tmp_path / "export_dialog.png"))
    dlg.resize(420, dlg.height())  # made narrow by hand: elided in the middle, the whole path in the tooltip
    qtbot.waitUntil(lambda: label.width() < 400)
    shown = label.shown()
    assert "…" in shown and shown.startswith(full[:4]) and shown.endswith(".sympatherm")
    assert label.toolTip() == full


def test_written_paths_are_shown_whole(qtbot, session, tmp_path):
    dlg = _dialog(qtbot, session, formats=("csv",))
    dlg.folder.setText(str(session.parent))
    dlg.ask_overwrite = lambda paths: True  # an earlier test may have left the CSV there
    dlg.start_export()
    dlg.wait(120)
    qtbot.waitUntil(lambda: dlg.export_btn.isEnabled() and bool(dlg.written_labels), timeout=20000)
    [label] = dlg.written_labels
    written = str(dlg.written["csv"])
    assert label.text() == f"CSV: {written}"
    qtbot.waitUntil(lambda: label.shown() == label.text(), timeout=5000)
    assert label.contentsRect().width() >= label.fontMetrics().horizontalAdvance(label.text())


def test_it_asks_before_overwriting_and_keeps_the_file_when_told_no(qtbot, session, tmp_path, monkeypatch):
    existing = tmp_path / session.with_suffix(".pdf").name
    existing.write_bytes(b"the report already in the chart")
    dlg = _dialog(qtbot, session, formats=("pdf",))
    dlg.folder.setText(str(tmp_path))
    asked: list[list] = []
    monkeypatch.setattr(dlg, "ask_overwrite", lambda paths: asked.append(paths) or False)
    dlg.start_export()
    assert asked == [[existing]], "the question names the file"
    assert not dlg.running and existing.read_bytes() == b"the report already in the chart"
    assert "Nothing exported" in dlg.result_label.text() and existing.name in dlg.result_label.text()
    monkeypatch.setattr(dlg, "ask_overwrite", lambda paths: asked.append(paths) or True)
    dlg.start_export()
    dlg.wait(120)
    qtbot.waitUntil(lambda: dlg.export_btn.isEnabled() and "pdf" in dlg.written, timeout=20000)
    assert len(asked) == 2 and existing.read_bytes()[:5] == b"%PDF-", "replaced once the user said yes"


def test_a_new_file_is_written_without_a_question(qtbot, session, tmp_path, monkeypatch):
    dlg = _dialog(qtbot, session, formats=("csv",))
    dlg.folder.setText(str(tmp_path))
    monkeypatch.setattr(dlg, "ask_overwrite", lambda paths: pytest.fail(f"asked about {paths}"))
    dlg.start_export()
    dlg.wait(120)
    qtbot.waitUntil(lambda: dlg.export_btn.isEnabled() and "csv" in dlg.written, timeout=20000)
    # Its events and minutes files are the CSV export's too: the next export asks about all three.
    names = sorted(p.name for p in dlg.existing_targets(["csv"], tmp_path))
    stem = session.stem
    assert names == sorted([f"{stem}.csv", f"{stem}.events.csv", f"{stem}.minutes.csv"])


def test_the_question_is_a_message_box_naming_the_file_and_no_keeps_it(qtbot, session, tmp_path):
    dlg = _dialog(qtbot, session, formats=("pdf",))
    target = tmp_path / "old.pdf"
    seen: list[str] = []

    def answer_no() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_no)
            return
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(20, answer_no)
    assert dlg.ask_overwrite([target]) is False
    assert seen and str(target) in seen[0] and "Replace" in seen[0]


def _tick_pixels(box: QCheckBox) -> tuple[int, int]:
    """(fill pixels, dark pixels inside the fill's bounding box) of a box's indicator."""
    image = box.grab().toImage()
    rgb = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())]
                    for y in range(image.height())], dtype=int)
    fill = np.abs(rgb - np.array([0x56, 0xB4, 0xE9])).sum(axis=2) < 60
    if not fill.any():
        return 0, 0
    ys, xs = np.nonzero(fill)
    inner = rgb[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    dark = (inner.sum(axis=2) < 200).sum()
    return int(fill.sum()), int(dark)


def test_a_checked_box_shows_a_tick_not_a_solid_square(qtbot, session, tmp_path):
    dlg = _dialog(qtbot, session, formats=("pdf",))
    assert theme.CHECK_TICK_IMAGE in dlg.styleSheet()
    checked, unchecked = dlg.boxes["pdf"], dlg.boxes["csv"]
    assert checked.isChecked() and not unchecked.isChecked()
    fill, tick = _tick_pixels(checked)
    assert fill > 20, "the checked indicator is filled"
    assert tick > 10, "and has a dark tick drawn on the fill"
    assert _tick_pixels(unchecked)[0] == 0, "an unchecked box is not filled"
    checked.grab().save(str(tmp_path / "checked.png"))
