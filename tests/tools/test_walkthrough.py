"""tools/walkthrough drives the real window through a whole procedure and leaves a picture of
every step, the report's pages and the page that lists them (fast mode: one size, no squeezing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.system_tools import require

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("setup", "side-check-warm", "side-check-done", "settling", "baseline", "injection", "marker-edit",
         "holding", "confirmed", "probe-lifted", "repeat-question", "attempt-2-baseline", "attempt-2", "export",
         "ended")


@pytest.mark.slow
def test_the_walkthrough_photographs_every_step_and_the_report(tmp_path):
    require("pdftoppm", ["poppler-utils"], what="rendering the walkthrough's PDF report to PNG pages")
    out, doc = tmp_path / "walkthrough", tmp_path / "walkthrough.md"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "walkthrough"), "--fast", "--out", str(out),
                           "--doc", str(doc)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    from PyQt6.QtGui import QImage

    shots = sorted(out.glob("[0-9][0-9]-*.png"))
    steps = [p.stem.split("-", 1)[1].rsplit("-", 1)[0] for p in shots]
    assert steps == list(STEPS), steps
    for shot in shots:
        image = QImage(str(shot))
        assert (image.width(), image.height()) == (1024, 700), shot.name
    pages = sorted(out.glob("report-*.png"))
    assert len(pages) >= 2, "the report has its pages"
    page = doc.read_text()
    for png in [*shots, *pages]:
        assert f"walkthrough/{png.name}" in page, f"{png.name} is not on the page"
    assert "Attempt 2" in page and "BLOCK CONFIRMED" in page  # the window's own words, step by step
