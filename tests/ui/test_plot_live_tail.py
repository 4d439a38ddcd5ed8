"""The live line while following: a settled history curve and a short live tail, joined seamlessly."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from monitor.model import Limb
from ui.plot import TAIL_MAX_POINTS, SessionPlot


def _session(seconds: float, seed: int = 5):
    rng = np.random.default_rng(seed)
    t = np.round(np.arange(0.0, seconds, 0.1), 1)  # 10 Hz
    ys = {limb: 30.0 + (1.5 if limb is Limb.RIGHT else 0.0) + np.cumsum(rng.normal(0.0, 0.03, t.size))
          for limb in Limb}
    valid = np.ones(t.size, dtype=bool)
    valid[int(t.size * 0.3): int(t.size * 0.3) + 30] = False  # 3 s of invalid readings
    present = np.ones(t.size, dtype=bool)
    present[int(t.size * 0.6): int(t.size * 0.6) + 80] = False  # 8 s without readings: a gap
    return t, ys, valid, present


def _whole_line_reduced(plot: SessionPlot, limb: Limb, i0: int, ds: int):
    """What pyqtgraph draws for the limb's whole in-view line handed over at once (the same
    block size), followed by the newest partial block as it came."""
    buf = plot.buffers[limb]
    h = i0 + (len(buf) - i0) // ds * ds
    ref = pg.PlotDataItem(connect="finite")
    plot.item.addItem(ref, ignoreBounds=True)  # (the plot item applies its own modes here)
    ref.setDownsampling(ds=ds, auto=False, method="peak")
    ref.setClipToView(True)
    try:
        ref.setData(buf.x[i0:h], buf.y[i0:h], connect="finite")
        rx, ry = ref.getData()
        rx = np.empty(0) if rx is None else rx
        ry = np.empty(0) if ry is None else ry
        return np.concatenate((rx, buf.x[h:])), np.concatenate((ry, buf.y[h:]))
    finally:
        plot.item.removeItem(ref)


def test_joined_history_and_tail_are_the_full_buffers_line(qtbot):
    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    plot.min_frame_interval_s = 0.0
    t, ys, valid, present = _session(1500.0)
    handed = {limb: 0 for limb in Limb}
    for limb, curve in plot.curves.items():
        set_data = curve.setData

        def counting(*args, _set=set_data, _limb=limb, **kwargs):
            handed[_limb] += 1
            return _set(*args, **kwargs)

        curve.setData = counting
    checked = 0
    frames = 0
    for i in range(0, t.size, 3):  # a frame every 3 readings, as at 10 Hz and 30 frames/s
        sl = slice(i, i + 3)
        k = present[sl]
        for limb in Limb:
            plot.append(limb, t[sl][k], ys[limb][sl][k], valid[sl][k])
        frames += plot.refresh()
        if i % 997 == 0 or i + 3 >= t.size:
            x0 = plot.vb.viewRange()[0][0]
            for limb in Limb:
                buf = plot.buffers[limb]
                i0 = max(0, int(np.searchsorted(buf.x, x0, side="left")) - 1)
                # The data: the history's then the tail's readings are the buffer's, from one
                # point left of the view to the newest reading, nothing missing or doubled.
                x, y = plot.drawn_line(limb)
                np.testing.assert_array_equal(x, buf.x[i0:])
                np.testing.assert_array_equal(y, buf.y[i0:])  # NaN gaps included, where they were
                # The drawing: the tail starts at the history's last drawn vertex, and the joined
                # vertices are what the whole line handed over at once would draw.
                ds = plot._settled[limb][1]
                hx, hy = plot.curves[limb].getData()
                tx, ty = plot.tails[limb].getData()
                if hx is not None and hx.size:
                    assert tx[0] == hx[-1] and (ty[0] == hy[-1] or (np.isnan(ty[0]) and np.isnan(hy[-1])))
                dx, dy = plot.displayed_line(limb)
                ex, ey = _whole_line_reduced(plot, limb, i0, ds)
                np.testing.assert_array_equal(dx, ex)
                np.testing.assert_array_equal(dy, ey)
                assert plot.tails[limb].getData()[0].size <= TAIL_MAX_POINTS + 1
                checked += 1
    assert checked >= 2 * 5
    assert max(plot._settled[limb][1] for limb in Limb) > 1  # the view was downsampled at the end
    # The history is handed over now and then, not on every frame.
    assert all(n < frames / 10 for n in handed.values()), (handed, frames)


def test_free_pan_draws_the_whole_session_in_one_curve_and_following_again_splits_it(qtbot):
    plot = SessionPlot(follow_window_s=600.0)
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    t, ys, valid, present = _session(1200.0, seed=9)
    for limb in Limb:
        plot.append(limb, t[present], ys[limb][present], valid[present])
    plot.refresh(force=True)
    plot.show_everything()
    for limb in Limb:
        buf = plot.buffers[limb]
        x, y = plot.drawn_line(limb)
        np.testing.assert_array_equal(x, buf.x)
        np.testing.assert_array_equal(y, buf.y)
        assert plot.tails[limb].getData()[0].size == 0
        assert plot.curves[limb].opts["autoDownsample"]  # pyqtgraph picks the blocks per view
    plot.set_follow(True)
    plot.refresh()
    x0 = plot.vb.viewRange()[0][0]
    for limb in Limb:
        buf = plot.buffers[limb]
        i0 = max(0, int(np.searchsorted(buf.x, x0, side="left")) - 1)
        x, _ = plot.drawn_line(limb)
        np.testing.assert_array_equal(x, buf.x[i0:])
