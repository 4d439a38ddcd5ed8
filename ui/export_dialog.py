"""Export a session (PDF report, CSV, EDF+, FHIR) with progress, in a worker thread.

The file formats are the core's (:func:`monitor.exports.export_session`); this dialog only
chooses formats and folder and shows progress and the result in plain words.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ui import theme

FORMAT_LABELS = {"pdf": "PDF report for the chart", "csv": "CSV (readings, markers)", "edf": "EDF+ signals",
                 "fhir": "FHIR JSON bundle"}


class _Signals(QObject):
    progress = pyqtSignal(int, int)
    done = pyqtSignal(str, str)  # (fmt, path written)
    failed = pyqtSignal(str, str)  # (fmt, message)
    finished = pyqtSignal()


class ExportDialog(QDialog):
    def __init__(self, session_path: Path, parent=None, formats: tuple[str, ...] = ("pdf", "csv")) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export session")
        self.setStyleSheet(theme.STYLESHEET)
        self.session_path = Path(session_path)
        self.written: dict[str, Path] = {}
        self.errors: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self.boxes: dict[str, QCheckBox] = {}
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Session: {self.session_path.name}"))
        for fmt, label in FORMAT_LABELS.items():
            box = QCheckBox(f"&{label}")
            box.setChecked(fmt in formats)
            self.boxes[fmt] = box
            lay.addWidget(box)
        row = QHBoxLayout()
        self.folder = QLineEdit(str(self.session_path.parent))
        browse = QPushButton("&Folder…")
        browse.clicked.connect(self._browse)
        row.addWidget(QLabel("Save in"))
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        lay.addWidget(self.bar)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        lay.addWidget(self.result_label)
        buttons = QHBoxLayout()
        self.export_btn = QPushButton("E&xport")
        self.export_btn.setDefault(True)
        self.export_btn.clicked.connect(self.start_export)
        self.open_btn = QPushButton("&Open folder")
        self.open_btn.setEnabled(False)
        self.open_btn.clicked.connect(self._open_folder)
        close = QPushButton("&Close")
        close.clicked.connect(self.reject)
        buttons.addStretch(1)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.open_btn)
        buttons.addWidget(close)
        lay.addLayout(buttons)
        self.signals = _Signals()
        self.signals.progress.connect(self._on_progress)
        self.signals.done.connect(self._on_done)
        self.signals.failed.connect(self._on_failed)
        self.signals.finished.connect(self._on_finished)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save exports in", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def chosen_formats(self) -> list[str]:
        return [fmt for fmt, box in self.boxes.items() if box.isChecked()]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_export(self) -> None:
        formats = self.chosen_formats()
        if not formats or self.running:
            if not formats:
                self.result_label.setText("Choose at least one format.")
            return
        folder = Path(self.folder.text()).expanduser()
        self.written.clear()
        self.errors.clear()
        self.export_btn.setEnabled(False)
        self.bar.setValue(0)
        self.result_label.setText("Exporting…")
        self._thread = threading.Thread(target=self._work, args=(formats, folder), name="export", daemon=True)
        self._thread.start()

    def _work(self, formats: list[str], folder: Path) -> None:
        from monitor.exports import ExportError, export_session

        for i, fmt in enumerate(formats):
            def progress(done: int, total: int, i=i) -> None:
                frac = (done / total) if total else 1.0
                self.signals.progress.emit(int(100 * (i + frac) / len(formats)), 100)
            try:
                path = export_session(self.session_path, fmt, out=folder, progress=progress)
                self.signals.done.emit(fmt, str(path))
            except (ExportError, OSError, ValueError) as exc:
                self.signals.failed.emit(fmt, str(exc))
        self.signals.finished.emit()

    def _on_progress(self, value: int, total: int) -> None:
        self.bar.setValue(min(value, total))

    def _on_done(self, fmt: str, path: str) -> None:
        self.written[fmt] = Path(path)

    def _on_failed(self, fmt: str, message: str) -> None:
        self.errors[fmt] = message

    def _on_finished(self) -> None:
        self.bar.setValue(100)
        self.export_btn.setEnabled(True)
        lines = [f"{fmt.upper()}: {p}" for fmt, p in self.written.items()]
        lines += [f"{fmt.upper()} failed: {msg}" for fmt, msg in self.errors.items()]
        self.result_label.setText("\n".join(lines) or "Nothing exported.")
        self.open_btn.setEnabled(bool(self.written))

    def _open_folder(self) -> None:
        from PyQt6.QtCore import QUrl
        from PyQt6.QtGui import QDesktopServices

        folder = next(iter(self.written.values())).parent if self.written else Path(self.folder.text())
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def wait(self, timeout: float = 60.0) -> None:
        """Tests and scripts: block until the worker is done (signals are then delivered by Qt)."""
        if self._thread is not None:
            self._thread.join(timeout)
