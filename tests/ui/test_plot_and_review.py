"""The plot (follow vs free pan, gaps, clip/downsample settings), review, recovery and settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.model import Limb
from monitor.store import find_unfinished_sessions
from ui.plot import SessionPlot
from ui.plot_buffer import PlotBuffer, thin_min_max


def test_plot_buffer_breaks_the_line_at_gaps_and_invalid_readings():
    buf = PlotBuffer(gap_s=5.0)
    buf.append(np.array([0.0, 1.0, 2.0]), np.array([30.0, 30.1, 30.2]))
    buf.append(np.array([20.0, 21.0, 22.0]), np.array([31.0, np.nan, 31.2]), np.array([True, True, False]))
    y = buf.y
    # A NaN is inserted in the 18 s gap, and the two invalid readings are NaN: never joined.
    assert np.isnan(y).sum() == 3
    assert buf.x[3] == pytest.approx(11.0) and np.isnan(y[3])
    assert buf.visible_range(0.0, 2.0) == (30.0, 30.2)
    assert buf.last_value == 31.0


def _runs(y: np.ndarray) -> int:
    """Unbroken stretches of line (what connect='finite' draws)."""
    f = np.isfinite(y)
    return int(f[0]) + int(np.sum(f[1:] & ~f[:-1])) if f.size else 0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.floats(0.01, 3.0), st.one_of(st.just(np.nan), st.floats(20.0, 40.0))),
                min_size=1, max_size=300),
       st.sampled_from([0.5, 2.0, 7.0]))
def test_thinning_keeps_every_buckets_extremes_and_every_break(steps, bucket_s):
    x = np.cumsum([s for s, _ in steps])
    y = np.array([v for _, v in steps])
    keep = thin_min_max(x, y, bucket_s)
    assert np.all(np.diff(keep) > 0)
    tx, ty = x[keep], y[keep]
    assert _runs(ty) == _runs(y)  # no gap closed, no line broken
    for b in np.unique(np.floor(x / bucket_s)):
        orig = y[(np.floor(x / bucket_s) == b) & np.isfinite(y)]
        kept = ty[(np.floor(tx / bucket_s) == b) & np.isfinite(ty)]
        if orig.size:
            assert (kept.min(), kept.max()) == (orig.min(), orig.max())  # peaks survive


def test_plot_buffer_keeps_the_recent_hour_as_it_came_and_thins_the_rest():
    rng = np.random.default_rng(3)
    t = np.round(np.arange(0.0, 3 * 3600.0, 0.1), 1)  # 3 h at 10 Hz
    y = 30.0 + rng.normal(0.0, 0.05, t.size)
    y[5000] = 36.0  # a one-reading spike in the old part
    y[20000:20600] = np.nan  # a minute of invalid readings
    keep = (t < 3000.0) | (t > 3060.0)  # and a minute without data
    t, y = t[keep], y[keep]
    buf = PlotBuffer(full_resolution_s=3600.0)
    for i in range(0, t.size, 10):
        buf.append(t[i:i + 10], y[i:i + 10])
    assert buf.readings == t.size
    assert len(buf) < 0.5 * t.size  # two hours thinned 10:1
    recent = buf.x >= buf.full_resolution_from_s
    assert buf.full_resolution_from_s <= t[-1] - 3600.0
    np.testing.assert_array_equal(buf.y[recent], y[t >= buf.full_resolution_from_s])  # as it came
    assert np.all(np.diff(buf.x) > 0)
    assert buf.visible_range(490.0, 510.0) == (pytest.approx(y[(t >= 490) & (t <= 510)].min()), 36.0)
    assert _runs(buf.y) == 3  # broken by the invalid minute and the silent minute, nothing else
    full = PlotBuffer()  # fed the same way, never thinned
    for i in range(0, t.size, 10):
        full.append(t[i:i + 10], y[i:i + 10])
    assert buf.nbytes <= full.nbytes / 2  # after 3 h; after 8 h a fifth (the recent hour dominates)


def test_plot_follows_then_free_pan_then_follow_on_request(qtbot):
    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    for curve in plot.curves.values():
        assert curve.opts["clipToView"] and curve.opts["autoDownsample"]
        assert curve.opts["downsampleMethod"] == "peak"
        assert curve.opts["pen"].width() <= 1 and curve.opts["pen"].color().alpha() == 255
    assert not plot.vb.autoRangeEnabled()[0]  # no X auto-range: it would defeat clipping
    t = np.arange(0.0, 3600.0, 1.0)
    for limb in Limb:
        plot.append(limb, t, 28.0 + 0.001 * t)
    assert plot.refresh()
    x0, x1 = plot.vb.viewRange()[0]
    assert x1 >= 3599.0 and x1 - x0 <= 700.0  # the newest data, in a follow window
    plot.vb.sigRangeChangedManually.emit([True, True])  # what a mouse pan emits
    assert not plot.following
    plot.vb.setRange(xRange=(100.0, 400.0), padding=0)
    plot.append(Limb.LEFT, np.array([3600.0]), np.array([31.0]))
    plot.refresh()
    assert plot.vb.viewRange()[0][0] == pytest.approx(100.0)  # new data does not yank the view back
    plot.set_follow(True)
    plot.refresh()
    assert plot.vb.viewRange()[0][1] >= 3600.0
    assert plot.refresh() is False  # nothing new: no redraw


def test_review_window_opens_replays_and_shows_the_verdict(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window
    from ui.review import ReviewWindow

    path = tmp_path / "r.sympatherm"
    live = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=path)
    qtbot.addWidget(live)
    live.advance_to(1800, step_s=30)
    live.finish()
    review = ReviewWindow(path)
    qtbot.addWidget(review)
    assert review.simulated
    assert len(review.plot.buffers[Limb.LEFT]) == pytest.approx(1801, abs=2)
    assert review.banner.kind == "confirmed"
    review.speed.setCurrentIndex(review.speed.findData(1200))
    review.toggle_replay()
    assert review.replay_timer.isActive()
    review.replay_timer.stop()  # step the replay by hand instead of waiting for the timer
    shown = []
    while review.replay_s < review.end_s:
        review._replay_tick()
        shown.append(len(review.plot.buffers[Limb.LEFT]))
    assert shown == sorted(shown) and shown[0] < shown[-1]  # the session grows on the plot as it replays
    assert review.replay_s == pytest.approx(review.end_s)


def test_review_shows_di_minus_dc_as_far_as_the_replay_has_got(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window
    from ui.review import ReviewWindow

    path = tmp_path / "r.sympatherm"
    live = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=path)
    qtbot.addWidget(live)
    live.advance_to(1500, step_s=30)
    live.finish()
    review = ReviewWindow(path)
    qtbot.addWidget(review)
    review.difference_action.trigger()
    assert review.plot.showing_difference
    x, y = review.plot.diff_curve.getOriginalDataset()
    assert np.nanmax(y) > 2.0 and x[-1] > 1400.0  # the whole session's Di − Dc
    review.toggle_replay()
    review.replay_timer.stop()
    for _ in range(5):
        review._replay_tick()
    review.plot.refresh(force=True)
    x, _ = review.plot.diff_curve.getOriginalDataset()
    assert x.size and x[-1] <= review.replay_s  # not ahead of the replay


def test_unfinished_session_is_offered_for_review_at_start_up(qtbot, monkeypatch):
    from PyQt6.QtWidgets import QMessageBox

    from ui import app_flow

    # A process that dies while recording (os._exit: no clean close) leaves an unfinished session.
    code = ("import os; from monitor.model import SessionInfo, Limb; from monitor.store import SessionStore; "
            "s = SessionStore.create(SessionInfo(patient_id='X1', blocked=Limb.LEFT)); s.commit(); "
            "print(s.path); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    path = Path(out.stdout.strip())
    assert path in find_unfinished_sessions()

    def choose_review(box):
        box.setProperty("shown", True)
        box.button_to_click = next(b for b in box.buttons() if b.text() == "Review and export")
        box.button_to_click.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", choose_review)
    reviewed = app_flow.offer_recovery()
    assert reviewed == [path]
    assert path not in find_unfinished_sessions()


def test_settings_persist_between_runs(qtbot):
    from ui.settings_dialog import SettingsDialog, alarm_volume, follow_minutes

    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    dlg.volume.setValue(25)
    dlg.follow.setValue(60)
    dlg.accept()
    assert alarm_volume() == pytest.approx(0.25)
    assert follow_minutes() == 60


def test_screen_awake_is_best_effort_and_never_raises(monkeypatch):
    from ui.screensaver import ScreenAwake

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    awake = ScreenAwake()
    result = awake.inhibit()
    assert isinstance(result, bool) and awake.detail
    awake.release()


def test_review_table_has_rises_from_the_pipeline_baseline(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window
    from ui.review import ReviewWindow

    path = tmp_path / "rr.sympatherm"
    live = build_demo_window("success-fast", 2, 1.0, Limb.LEFT, manual=True, session_path=path)
    qtbot.addWidget(live)
    live.advance_to(1800, step_s=30)
    live_rows = live.table.table_model.rows
    live.finish()
    review = ReviewWindow(path)
    qtbot.addWidget(review)
    rows = review.table.table_model.rows
    blocked_rise = rows[-1].rise_c[Limb.LEFT]
    assert blocked_rise is not None and blocked_rise > 2.0  # the blocked foot's rise, from the same baseline
    assert rows[: len(live_rows)] == live_rows[: len(rows)]
    assert review.plot.baseline_region.isVisible()


def test_review_table_is_the_report_s_minute_table(qtbot, tmp_path):
    """The review window shows minute_table's rows of the one replay: the same numbers as the
    report and the CSV minute summary, displayed as they are."""
    from monitor.exports.session_data import load_session
    from monitor.procedure.minutes import minute_label, minute_table
    from monitor.procedure.replay import replay_session
    from tests.support.sessions import record_simulated
    from ui.review import ReviewWindow

    path = record_simulated(tmp_path / "rv.sympatherm", "success-fast", seed=5, blocked=Limb.LEFT, until_s=1800.0)
    review = ReviewWindow(path)
    qtbot.addWidget(review)
    data = load_session(path)
    expected = minute_table(replay_session(data), data.injection_s, review.end_s)
    assert review.table.table_model.rows == expected
    model = review.table.table_model
    last = len(expected) - 1
    row = expected[-1]
    assert model.data(model.index(last, 0)) == minute_label(row.minute, from_injection=True)
    assert model.data(model.index(last, 1)) == f"{row.celsius[Limb.LEFT]:.1f}"
    assert model.data(model.index(last, 3)) == f"{row.rise_c[Limb.LEFT]:+.1f}"
    # During a replay the table only reaches as far as the replay has got.
    review._show_until(data.injection_s + 600.0)
    shown = review.table.table_model.rows
    assert shown[-1].minute == 10 and shown == expected[: len(shown)]


def test_zooming_into_thinned_old_data_still_shows_a_one_reading_peak(qtbot):
    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    t = np.round(np.arange(0.0, 2.5 * 3600.0, 0.1), 1)
    y = np.full(t.size, 30.0)
    y[5003] = 34.0  # one reading at 500.3 s, long since thinned
    for i in range(0, t.size, 600):
        plot.append(Limb.LEFT, t[i:i + 600], y[i:i + 600])
    buf = plot.buffers[Limb.LEFT]
    assert buf.full_resolution_from_s > 3000.0 and len(buf) < t.size / 2
    plot.show_everything()  # the whole session, then zoom into its first minutes
    plot.vb.setRange(xRange=(400.0, 600.0), padding=0)
    plot.refresh(force=True)
    x, shown = plot.curves[Limb.LEFT].getData()
    assert shown.max() == 34.0 and x[np.argmax(shown)] == pytest.approx(500.3)
