"""`sympatherm demo`: the window plots both limbs live; --snapshot renders offscreen; no display → one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monitor.model import Limb, MarkerKind
from monitor.store import SessionStore
from ui.display import display_problem

ROOT = Path(__file__).resolve().parents[2]


def _env_without_display(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["SYMPATHERM_HOME"] = str(home)
    return env


def test_display_problem_rules():
    assert display_problem({}, "linux") is not None
    assert "--snapshot" in display_problem({}, "linux")
    assert display_problem({"DISPLAY": "otherhost:0"}, "linux") is None  # remote: Qt reports it
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None


def test_the_no_display_advice_names_the_command_the_user_typed():
    assert "`./demo --snapshot" in display_problem({"SYMPATHERM_DEMO_COMMAND": "./demo"}, "linux")
    assert "`sympatherm demo --snapshot" in display_problem({}, "linux")


def test_demo_without_display_says_so_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "demo"], cwd=ROOT, env=_env_without_display(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "--snapshot" in lines[0] and "display" in lines[0].lower()
    assert "Aborted" not in proc.stderr and "qt.qpa" not in proc.stderr


@pytest.mark.parametrize("scale", ["1", "2"])
def test_snapshot_subprocess_writes_the_window_png(tmp_path, scale):
    out = tmp_path / "shot.png"
    env = _env_without_display(tmp_path)
    env["QT_SCALE_FACTOR"] = scale  # a high-DPI screen: the same layout, twice the pixels
    env["PYTHONFAULTHANDLER"] = "1"  # a crash prints where it happened (in proc.stderr below)
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "demo", "--snapshot", str(out), "--after", "900",
                           "--scenario", "success-fast", "--seed", "2"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "propagateSizeHints" not in proc.stderr  # the offscreen platform's harmless warning is dropped
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PyQt6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (1600 * int(scale), 1000 * int(scale))
    # The plot drew both limb colours (Okabe–Ito blue and orange), i.e. both lines are there.
    ptr = img.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(ptr.constBits().asstring(ptr.sizeInBytes()), np.uint8).reshape(
        ptr.height(), ptr.bytesPerLine())[:, : ptr.width() * 3].reshape(ptr.height(), ptr.width(), 3)
    for colour in ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)):
        assert (np.abs(arr.astype(int) - colour).sum(axis=2) < 30).sum() > 200
    # The tiles' big numbers are painted in each foot's text colour (large glyphs are drawn
    # another way than small ones), and so is the SIMULATED watermark behind the plot.
    k = int(scale)
    tiles = arr[180 * k:400 * k].astype(int)
    for colour in ((0x56, 0xB4, 0xE9), (0xE6, 0x9F, 0x00)):
        assert (np.abs(tiles - colour).sum(axis=2) < 30).sum() > 2000 * k * k
    assert (np.abs(arr[400 * k:950 * k].astype(int) - (63, 32, 57)).sum(axis=2) < 12).sum() > 5000 * k * k


def test_demo_window_plots_both_limbs_and_marks_injection(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window

    path = tmp_path / "demo.sympatherm"
    window = build_demo_window("success-fast", 3, 1.0, Limb.LEFT, manual=True, session_path=path)
    qtbot.addWidget(window)
    window.show()
    inj = window.session.source.suggested_injection_s
    window.advance_to(inj + 300)
    for limb in Limb:
        buf = window.plot.buffers[limb]
        assert len(buf) >= inj + 300  # 1 Hz, both limbs
        assert np.isfinite(buf.y).sum() > 0.9 * len(buf)
        assert window.tiles[limb].temp_label.text().endswith("°C") and "--" not in window.tiles[limb].temp_label.text()
    injections = [m for m in window.session.markers if m.kind is MarkerKind.INJECTION]
    assert len(injections) == 1 and abs(injections[0].session_s - inj) < 1e-6
    assert window.plot.axis.origin_s == injections[0].session_s
    window.finish()
    with SessionStore.open_read_only(path) as store:
        assert store.reading_count() == sum(window.plot.buffers[limb].readings for limb in Limb)
        assert store.simulated
        assert [m.kind for m in store.markers()] == [MarkerKind.INJECTION]


def test_plain_sympatherm_without_display_says_so_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "monitor.cli"], cwd=ROOT, env=_env_without_display(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "display" in lines[0].lower(), proc.stderr


def test_export_dialog_reports_a_missing_folder_in_plain_words(qtbot, tmp_path, monkeypatch):
    from monitor.commands.demo import build_demo_window
    from ui.export_dialog import ExportDialog

    path = tmp_path / "e.sympatherm"
    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=path)
    qtbot.addWidget(window)
    window.advance_to(300, step_s=30)
    window.finish()
    dlg = ExportDialog(path, formats=("csv",))
    qtbot.addWidget(dlg)
    missing = tmp_path / "no" / "such" / "folder"
    dlg.folder.setText(str(missing))
    # The dialog offers to make the folder (a modal question: answered No here, as a user may).
    monkeypatch.setattr(dlg, "ask_create", lambda folder: False)
    dlg.start_export()
    dlg.wait(60)
    qtbot.waitUntil(lambda: dlg.export_btn.isEnabled(), timeout=10000)
    assert "does not exist" in dlg.result_label.text() and str(missing) in dlg.result_label.text()
    assert not missing.exists()
    assert not list((tmp_path).glob("*.csv"))


def test_a_display_that_does_not_answer_is_reported_not_aborted(tmp_path):
    assert display_problem({"DISPLAY": ":87"}, "linux") is not None  # no X server on :87 here
    assert "does not answer" in display_problem({"DISPLAY": ":87"}, "linux")
    env = _env_without_display(tmp_path)
    env["DISPLAY"] = ":87"
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1, proc.stderr


def test_a_listening_x_socket_counts_as_a_display():
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\0/tmp/.X11-unix/X86")  # an abstract socket, as X servers on Linux also listen on
        server.listen(1)
        assert display_problem({"DISPLAY": ":86"}, "linux") is None
        assert display_problem({"DISPLAY": ":86.0"}, "linux") is None


def test_snapshot_with_the_difference_plot(qtbot, tmp_path):
    from PyQt6.QtGui import QColor, QImage

    from monitor.commands.demo import snapshot_demo

    out = snapshot_demo(tmp_path / "d.png", "success-fast", 1, Limb.LEFT, 700.0, difference=True)
    img = QImage(str(out))
    pink = QColor("#CC79A7").rgb()
    # The Di − Dc title and curve (pink) under the main plot.
    found = sum(1 for y in range(700, 1000, 2) for x in range(0, 1150, 2) if img.pixel(x, y) == pink)
    assert found > 100


def test_snapshot_deletes_the_window_while_the_application_exists(qtbot, tmp_path):
    """The window lives in reference cycles: left to the garbage collector, it outlived the
    command's QApplication, whose release then deleted it from PyQt's sweep over every wrapper
    (a SIGSEGV now and then, under load). The snapshot deletes it at once."""
    from PyQt6 import sip

    from monitor.commands.demo import build_demo_window
    from ui.demo import snapshot

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True,
                               session_path=tmp_path / "s.sympatherm")
    # pyqtgraph makes these without a Qt parent: they must go with the window, not at that sweep.
    plots = (window.plot.item, window.plot.diff_widget.getPlotItem())
    orphans = [obj for item in plots for obj in (item.ctrlMenu, item.stateGroup)]
    snapshot(tmp_path / "s.png", window, 60.0, size=(1024, 700))
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert sip.isdeleted(window)
    assert all(sip.isdeleted(obj) for obj in orphans)


def test_live_demo_deletes_the_window_when_the_event_loop_ends(qtbot, tmp_path, monkeypatch):
    from PyQt6 import sip
    from PyQt6.QtWidgets import QApplication

    from monitor.commands.demo import build_demo_window
    from ui.demo import run_demo

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True,
                               session_path=tmp_path / "l.sympatherm")
    window.finish("test done")
    # The event loop "ends" at once: running and quitting the tests' shared QApplication would
    # leave it closing down for every later test (their export threads never came back).
    monkeypatch.setattr(QApplication.instance(), "exec", lambda: 0)
    assert run_demo(window) == 0
    assert sip.isdeleted(window)


def test_demo_help_states_the_default_blocked_side():
    from monitor.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    demo = sub.choices["demo"]
    text = " ".join(demo.format_help().split())
    assert "the side the simulated physician blocks (default: left)" in text
    assert demo.parse_args([]).blocked == "left"
    assert demo.parse_args(["--blocked", "right"]).blocked == "right"
