"""Is there a screen to open a window on? Checked before Qt is started (Qt aborts otherwise)."""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Mapping

# Platforms that need no screen: offscreen renders to memory, minimal draws nothing.
_LOCAL_DISPLAY = re.compile(r"(?:unix)?:(\d+)(?:\.\d+)?")
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


# ./demo sets SYMPATHERM_DEMO_COMMAND, so the advice names the command the user actually typed.
DEMO_HINT = ("use `{command} --snapshot demo.png --after 1200` to render the window to a PNG instead.")


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None,
                    hint: str = DEMO_HINT) -> str | None:
    """One plain line saying why no window can open here, or None when one can."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    hint = hint.replace("{command}", env.get("SYMPATHERM_DEMO_COMMAND") or "sympatherm demo")
    qpa = env.get("QT_QPA_PLATFORM", "").strip().lower()
    if qpa.startswith(_HEADLESS_PLATFORMS):
        return None
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return None
    display = env.get("DISPLAY", "")
    if display:
        if platform.startswith("linux") and not _x_server_answers(display):
            return (f"The display {display} does not answer (no X server is listening), so no window can open "
                    f"here; {hint}")
        return None
    return f"No display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so no window can open here; {hint}"


def _x_server_answers(display: str) -> bool:
    """For a local display (":0"), is an X server listening on its socket? Remote displays
    ("host:0") are assumed to answer: Qt will say so itself if they do not."""
    m = _LOCAL_DISPLAY.fullmatch(display.strip())
    if m is None:
        return True
    path = f"/tmp/.X11-unix/X{m.group(1)}"
    for address in ("\0" + path, path):  # the abstract socket first, then the file
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(address)
                return True
            except OSError:
                continue
    return False
