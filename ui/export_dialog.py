"""Export a session (PDF report, CSV, EDF+, FHIR, HL7) with progress, in a worker thread, and
send its result to the hospital record ("Send to the record": HL7 ORU^R01 over MLLP, through the
core's outbox, :mod:`monitor.outbox`).

The file formats and the outbox are the core's; this dialog only chooses formats, folder and
receiver and shows progress and the result in plain words. Nothing is sent unless the user
presses "Send to the record" with a receiver filled in (or configured in hl7.json).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PyQt6.QtCore import QObject, QSize, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ui import theme

# Each with its own mnemonic (no two controls of the dialog share one).
FORMAT_LABELS = {"pdf": "&PDF report for the chart", "csv": "CS&V (readings, markers)", "edf": "&EDF+ signals",
                 "fhir": "FHIR &JSON bundle", "hl7": "&HL7 v2 message (ORU^R01) file"}
WIDEST_PATH_PX = 900  # the dialog grows to show a whole path up to this wide; beyond, the middle is elided


class PathLabel(QLabel):
    """A path on one line: whole when there is room, else elided in the middle (the folder and the
    file name stay readable), the whole path in its tooltip. ``text()`` is the whole path."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str | None) -> None:  # noqa: N802 (Qt's name)
        self._full = text or ""
        self.setToolTip(self._full)
        self.updateGeometry()
        self._elide()

    def text(self) -> str:
        return self._full

    def shown(self) -> str:
        """What is drawn now (the whole path, or its middle-elided form)."""
        return QLabel.text(self)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 4
        return QSize(min(width, WIDEST_PATH_PX), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(60, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = max(10, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, room)
        if QLabel.text(self) != shown:
            super().setText(shown)


class _Signals(QObject):
    progress = pyqtSignal(int, int)
    done = pyqtSignal(str, str)  # (fmt, path written)
    failed = pyqtSignal(str, str)  # (fmt, message)
    finished = pyqtSignal()
    sent = pyqtSignal(str, str)  # (state: delivered | waiting | rejected | error, words for the user)


class PathEdit(QLineEdit):
    """A folder typed or chosen: as wide as its whole path by default (up to WIDEST_PATH_PX), free
    to shrink, the whole path in its tooltip."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.textChanged.connect(self._changed)
        self._changed(text)

    def _changed(self, text: str) -> None:
        self.setToolTip(text)
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        width = self.fontMetrics().horizontalAdvance(self.text()) + 24  # frame and text margins
        hint = super().sizeHint()
        return QSize(min(WIDEST_PATH_PX, max(hint.width(), width)), hint.height())


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
        self._lay = lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Session:"))
        self.session_label = PathLabel(str(self.session_path))
        top.addWidget(self.session_label, 1)
        lay.addLayout(top)
        for fmt, label in FORMAT_LABELS.items():
            box = QCheckBox(label)
            box.setChecked(fmt in formats)
            self.boxes[fmt] = box
            lay.addWidget(box)
        row = QHBoxLayout()
        self.folder = PathEdit(str(self.session_path.parent))
        browse = QPushButton("Fol&der…")
        browse.clicked.connect(self._browse)
        save_in = QLabel("Save &in")
        save_in.setBuddy(self.folder)
        row.addWidget(save_in)
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
        # Each file written, one whole path a line (a long path never wraps into pieces or is cut off).
        self.written_labels: list[PathLabel] = []
        self._written_box = QVBoxLayout()
        lay.addLayout(self._written_box)
        lay.addLayout(self._send_row())
        self.send_label = QLabel("")
        self.send_label.setWordWrap(True)
        lay.addWidget(self.send_label)
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
        self.signals.sent.connect(self._on_sent)
        self.send_state = ""
        self._send_thread: threading.Thread | None = None
        self._fit_screen()

    def _fit_screen(self) -> None:
        """Open wide enough for the whole paths (Qt would cap a dialog with wrapping labels at two
        thirds of the screen), but never wider than the screen."""
        parent = self.parentWidget()
        screen = (parent.screen() if parent is not None else None) or self.screen()
        room = screen.availableGeometry().width() - 40 if screen is not None else WIDEST_PATH_PX
        hint = self.sizeHint()
        self.resize(min(hint.width(), room), hint.height())

    def _send_row(self) -> QHBoxLayout:
        from monitor.outbox import ConfigError, load_receiver

        try:
            self._configured = load_receiver()
        except ConfigError:
            self._configured = None
        row = QHBoxLayout()
        record = QLabel("&Record (HL7 MLLP)")
        row.addWidget(record)
        self.receiver_edit = QLineEdit(self._configured.address if self._configured else "")
        record.setBuddy(self.receiver_edit)
        self.receiver_edit.setPlaceholderText("host:port of the hospital's interface engine")
        self.tls_box = QCheckBox("&TLS")
        self.tls_box.setChecked(bool(self._configured and self._configured.tls))
        self.send_btn = QPushButton("&Send to the record")
        self.send_btn.clicked.connect(self.start_send)
        row.addWidget(self.receiver_edit, 1)
        row.addWidget(self.tls_box)
        row.addWidget(self.send_btn)
        return row

    def start_send(self) -> None:
        """Queue this session's result in the outbox and deliver it (with anything else waiting)."""
        if self._send_thread is not None and self._send_thread.is_alive():
            return
        from monitor.outbox import ConfigError, Receiver, parse_address

        try:
            host, port = parse_address(self.receiver_edit.text())
            base = self._configured if self._configured and self._configured.address == f"{host}:{port}" else None
            receiver = Receiver(host, port, tls=self.tls_box.isChecked(), ca_file=base.ca_file if base else "",
                                client_cert=base.client_cert if base else "",
                                client_key=base.client_key if base else "",
                                server_name=base.server_name if base else "",
                                timeout_s=base.timeout_s if base else 30.0).checked()
        except ConfigError as exc:
            self._on_sent("error", str(exc))
            return
        self.send_btn.setEnabled(False)
        plain = "" if receiver.tls else " (plain MLLP: unencrypted, for a protected network only)"
        self.send_label.setText(f"Sending to {receiver.address}{plain}…")
        self._send_thread = threading.Thread(target=self._send_work, args=(receiver,), name="send", daemon=True)
        self._send_thread.start()

    def _send_work(self, receiver) -> None:
        from monitor.exports import ExportError
        from monitor.outbox import Outbox, OutboxError, deliver
        from monitor.outbox.queue import queue_session
        from monitor.store import StoreError

        try:
            with Outbox() as outbox:
                entry = queue_session(outbox, self.session_path, receiver)
                deliver(outbox, wait_s=self.send_wait_s, now_due=True)
                final = outbox.get(entry.control_id)
        except (ExportError, OutboxError, StoreError, OSError) as exc:
            self.signals.sent.emit("error", str(exc))
            return
        if final.state == "delivered":
            words = f"Delivered to the record: {receiver.address} acknowledged it ({final.ack_code})."
        elif final.state == "rejected":
            words = (f"REJECTED by the record ({final.ack_code}): {final.ack_text}. It is kept in the outbox "
                     "(sympatherm outbox).")
        else:
            words = (f"Not delivered yet: {final.last_error}. It stays in the outbox and is retried "
                     "(sympatherm outbox --deliver).")
        self.signals.sent.emit(final.state, words)

    send_wait_s = 30.0  # how long the window keeps retrying now; the outbox keeps the rest

    def _on_sent(self, state: str, words: str) -> None:
        self.send_state = state
        self.send_label.setText(words)
        self.send_btn.setEnabled(True)

    def wait_send(self, timeout: float = 60.0) -> None:
        """Tests: block until the send worker is done."""
        if self._send_thread is not None:
            self._send_thread.join(timeout)

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
        folder = self._ready_folder()
        if folder is None:
            return
        existing = self.existing_targets(formats, folder)
        if existing and not self.ask_overwrite(existing):
            self.result_label.setText("Nothing exported: " + ", ".join(p.name for p in existing)
                                      + (" was" if len(existing) == 1 else " were") + " kept as it is.")
            return
        self.written.clear()
        self.errors.clear()
        self.export_btn.setEnabled(False)
        self.bar.setValue(0)
        self.result_label.setText("Exporting…")
        self._thread = threading.Thread(target=self._work, args=(formats, folder), name="export", daemon=True)
        self._thread.start()

    def _ready_folder(self) -> Path | None:
        """The "Save in" folder, made if it is missing and the user says so; None (with the reason
        in the result line, the folder and formats left as typed) when nothing can be saved there."""
        from monitor.exports._files import unwritable_reason

        typed = self.folder.text().strip()
        if not typed:
            self.result_label.setText("Nothing exported: choose a folder to save in.")
            return None
        folder = Path(typed).expanduser()
        if not folder.exists() and not folder.is_symlink():
            if not self.ask_create(folder):
                self.result_label.setText(f"Nothing exported: the folder {folder} does not exist.")
                return None
            try:
                folder.mkdir(parents=True, mode=0o700)  # exports hold patient data
            except OSError as exc:
                self.result_label.setText(f"Nothing exported: the folder {folder} could not be made "
                                          f"({exc.strerror or exc}). Choose another folder.")
                return None
        reason = unwritable_reason(folder)
        if reason is not None:
            self.result_label.setText(f"Nothing exported: {reason}. Choose another folder.")
            return None
        return folder

    def ask_create(self, folder: Path) -> bool:
        """Yes to make the missing folder ``folder`` (named in the question), no to export nothing."""
        answer = QMessageBox.question(
            self, "Create the folder?",
            f"The folder to save in does not exist:\n{folder}\n\nCreate it and save the export there?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def existing_targets(self, formats: list[str], folder: Path) -> list[Path]:
        """The files this export would replace: each format's file in ``folder`` (the CSV's
        events and minutes files too)."""
        from monitor.exports import default_export_path
        from monitor.exports.csv import events_path, minutes_path

        found: list[Path] = []
        if not folder.is_dir():
            return found  # the export says in plain words that the folder is missing
        for fmt in formats:
            target = folder / default_export_path(self.session_path, fmt).name
            for path in (target, events_path(target), minutes_path(target)) if fmt == "csv" else (target,):
                if path.exists():
                    found.append(path)
        return found

    def ask_overwrite(self, paths: list[Path]) -> bool:
        """Yes to replace ``paths`` (named in the question), no to keep them and export nothing."""
        names = "\n".join(str(p) for p in paths)
        one = len(paths) == 1
        answer = QMessageBox.question(
            self, "Replace the existing file?" if one else "Replace the existing files?",
            f"{'This file already exists' if one else 'These files already exist'}:\n{names}\n\n"
            f"Replace {'it' if one else 'them'} with the new export?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _work(self, formats: list[str], folder: Path) -> None:
        from monitor.exports import ExportError, default_export_path, export_session

        for i, fmt in enumerate(formats):
            def progress(done: int, total: int, i=i) -> None:
                frac = (done / total) if total else 1.0
                self.signals.progress.emit(int(100 * (i + frac) / len(formats)), 100)
            try:
                # The file's own name, never the bare folder: a folder gone since the check is then
                # an error in plain words, not a file named like the folder.
                target = folder / default_export_path(self.session_path, fmt).name
                path = export_session(self.session_path, fmt, out=target, progress=progress)
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
        lines = [f"{fmt.upper()} failed: {msg}" for fmt, msg in self.errors.items()]
        if self.written:
            lines.insert(0, "Written:")
        self.result_label.setText("\n".join(lines) or "Nothing exported.")
        for label in self.written_labels:
            label.deleteLater()
        self.written_labels = [PathLabel(f"{fmt.upper()}: {p}") for fmt, p in self.written.items()]
        for label in self.written_labels:
            self._written_box.addWidget(label)
        self._lay.activate()
        self.resize(max(self.width(), self.sizeHint().width()), max(self.height(), self.sizeHint().height()))
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
