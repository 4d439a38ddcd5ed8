"""The export dialog shows whole paths, visible ticks on checked boxes, and asks before it
overwrites a file (the answer given through the dialog's own ask method)."""

from __future__ import annotations

import os
import shutil
import subprocess

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


def _answer_no_to_the_next_message_box() -> list[str]:
    """Press No on the next modal message box once it is up; returns the list its text goes into."""
    seen: list[str] = []

    def answer_no() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_no)
            return
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(20, answer_no)
    return seen


def test_the_question_is_a_message_box_naming_the_file_and_no_keeps_it(qtbot, session, tmp_path):
    dlg = _dialog(qtbot, session, formats=("pdf",))
    target = tmp_path / "old.pdf"
    seen = _answer_no_to_the_next_message_box()
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


def _finish(qtbot, dlg) -> None:
    dlg.wait(120)
    qtbot.waitUntil(lambda: dlg.export_btn.isEnabled() and not dlg.running, timeout=20000)


def test_a_missing_folder_is_named_and_no_file_takes_its_name(qtbot, session, tmp_path, monkeypatch):
    missing = tmp_path / "exports"
    dlg = _dialog(qtbot, session, formats=("pdf",))
    dlg.folder.setText(str(missing))
    asked: list = []
    monkeypatch.setattr(dlg, "ask_create", lambda folder: asked.append(folder) or False)
    dlg.start_export()
    _finish(qtbot, dlg)
    assert asked == [missing], "the question names the missing folder"
    assert not missing.exists(), "no file (and no folder) called like the folder"
    assert list(tmp_path.iterdir()) == []
    assert "does not exist" in dlg.result_label.text() and str(missing) in dlg.result_label.text()
    assert dlg.folder.text() == str(missing) and dlg.boxes["pdf"].isChecked(), "what was typed is kept"
    assert not dlg.written


def test_a_missing_folder_is_made_when_the_user_says_yes(qtbot, session, tmp_path, monkeypatch):
    missing = tmp_path / "new" / "exports"
    dlg = _dialog(qtbot, session, formats=("pdf",))
    dlg.folder.setText(str(missing))
    monkeypatch.setattr(dlg, "ask_create", lambda folder: True)
    dlg.start_export()
    _finish(qtbot, dlg)
    assert missing.is_dir()
    assert missing.stat().st_mode & 0o077 == 0, "a folder of patient data is the user's only"
    report = missing / session.with_suffix(".pdf").name
    assert dlg.written == {"pdf": report} and report.read_bytes()[:5] == b"%PDF-"


def test_the_create_question_is_a_message_box_naming_the_folder(qtbot, session, tmp_path):
    dlg = _dialog(qtbot, session, formats=("pdf",))
    folder = tmp_path / "exports"
    seen = _answer_no_to_the_next_message_box()
    assert dlg.ask_create(folder) is False
    assert seen and str(folder) in seen[0] and "does not exist" in seen[0]


@pytest.fixture
def locked_folder(tmp_path):
    """A real folder that refuses new files: read-only by its mode, or (for root, whom the mode
    does not stop) immutable."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    immutable = False
    if os.geteuid() == 0:
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0 \
            if shutil.which("chattr") else False
    try:
        (folder / "probe").touch()
    except OSError:
        yield folder
    else:
        (folder / "probe").unlink()
        pytest.skip("no way here to make a folder refuse files")
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


def test_a_folder_that_refuses_files_is_named_and_nothing_is_lost(qtbot, session, locked_folder):
    dlg = _dialog(qtbot, session, formats=("pdf", "csv"))
    dlg.folder.setText(str(locked_folder))
    dlg.start_export()
    _finish(qtbot, dlg)
    words = dlg.result_label.text()
    assert words.startswith("Nothing exported:") and str(locked_folder) in words and "may not save" in words
    assert "Choose another folder" in words
    assert list(locked_folder.iterdir()) == []
    assert dlg.folder.text() == str(locked_folder) and dlg.chosen_formats() == ["pdf", "csv"]
    assert not dlg.written and not dlg.errors


def test_a_file_typed_as_the_folder_is_refused_and_kept(qtbot, session, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("the nurse's notes")
    dlg = _dialog(qtbot, session, formats=("pdf",))
    dlg.folder.setText(str(notes))
    dlg.start_export()
    _finish(qtbot, dlg)
    assert "is a file, not a folder" in dlg.result_label.text()
    assert notes.read_text() == "the nurse's notes"
