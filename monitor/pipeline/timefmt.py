"""The one time format (every view, message and export writes times with these two functions).

Session times read m:ss (h:mm:ss past an hour): "10:02", "1:15:00". Times from the injection
read +m:ss after it and -m:ss before it: "+6:58", "-2:30", "0:00" at it. Never decimal minutes,
never "6 min 58 s", never "-0:00".
"""

from __future__ import annotations


def format_session_time(seconds: float) -> str:
    """Session time as m:ss (h:mm:ss past an hour), e.g. 602 -> "10:02", 4500 -> "1:15:00"."""
    total = int(round(abs(seconds)))
    sign = "-" if seconds < 0 and total else ""  # what rounds to 0:00 has no sign
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def format_relative(seconds: float) -> str:
    """Seconds from a reference (the injection) as +m:ss after it, -m:ss before it, "0:00" at it:
    418 -> "+6:58", -150 -> "-2:30", 4500 -> "+1:15:00"."""
    text = format_session_time(seconds)
    return text if text.startswith("-") or text == "0:00" else f"+{text}"
