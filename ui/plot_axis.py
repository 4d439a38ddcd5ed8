"""The plot's time axis: session seconds shown as m:ss from the injection (or from the start), or
as the wall clock; ticks on round times (10 s, 30 s, 1, 2, 5, 10, 15, 30 minutes, hours).

Times read as everywhere else on screen and on paper (``monitor.pipeline.timefmt``): "+20:24"
after the injection, "-2:30" before it, "0:00" at it.
"""

from __future__ import annotations

import time

import pyqtgraph as pg

from monitor.pipeline.timefmt import format_session_time

# Tick spacings, seconds: the first that leaves room for the labels is used.
NICE_SPACINGS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200,
                   86400)
MIN_TICK_PX = 80.0  # "+1:20:00" at the axis font, with room either side


def format_relative(seconds: float) -> str:
    """Seconds from the injection as the screen shows them: "+20:24", "-2:30", "0:00"."""
    text = format_session_time(seconds)
    return text if text.startswith("-") or text == "0:00" else f"+{text}"


class SessionTimeAxis(pg.AxisItem):
    """X axis in session seconds, labelled as m:ss from an origin (the injection) or wall clock."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.origin_s = 0.0
        self.wall0: float | None = None  # POSIX time at session second 0
        self.show_wall = False

    @property
    def relative(self) -> bool:
        """Times count from the injection (signed), not from the session's start."""
        return bool(self.origin_s) and not self.showing_wall

    @property
    def showing_wall(self) -> bool:
        return self.show_wall and self.wall0 is not None

    def _tick_origin(self) -> float:
        """Session second the ticks count from: the injection, or (wall clock) a local midnight,
        so that ticks fall on round local times."""
        if self.showing_wall:
            assert self.wall0 is not None
            return -(self.wall0 + time.localtime(self.wall0).tm_gmtoff)
        return self.origin_s

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph override)
        span = maxVal - minVal
        if not span > 0 or size <= 0:
            return [(60.0, 0.0)]
        wanted = span * MIN_TICK_PX / size  # seconds between ticks that leave MIN_TICK_PX
        if self.showing_wall:
            wanted = max(wanted, 60.0)  # the wall clock reads hh:mm
        major = next((s for s in NICE_SPACINGS_S if s >= wanted), NICE_SPACINGS_S[-1])
        return [(float(major), 0.0)]

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph override)
        o = self._tick_origin()
        levels = super().tickValues(minVal - o, maxVal - o, size)
        return [(spacing, [v + o for v in values]) for spacing, values in levels]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        if self.showing_wall:
            assert self.wall0 is not None
            return [time.strftime("%H:%M", time.localtime(self.wall0 + v)) for v in values]
        if self.origin_s:
            return [format_relative(v - self.origin_s) for v in values]
        return [format_session_time(v) for v in values]

    def title(self) -> str:
        """What the axis counts, for its label."""
        if self.showing_wall:
            return "wall clock (hh:mm)"
        if self.origin_s:
            return "time from injection (m:ss)"
        return "session time (m:ss)"
