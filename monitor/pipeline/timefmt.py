"""Session times in words, for the verdict's messages and the reports."""

from __future__ import annotations


def format_session_time(seconds: float) -> str:
    """Session time as m:ss (h:mm:ss past an hour), e.g. 602 -> "10:02"."""
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def format_minutes_seconds(seconds: float) -> str:
    """A duration in minutes and seconds, e.g. 557 -> "9 min 17 s" (as the live banner says it)."""
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"
