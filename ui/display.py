"""Is there a screen to open a window on? Checked before Qt is started (Qt aborts otherwise)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# Platforms that need no screen: offscreen renders to memory, minimal draws nothing.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


DEMO_HINT = "use `sympatherm demo --snapshot demo.png --after 1200` to render the window to a PNG instead."


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None,
                    hint: str = DEMO_HINT) -> str | None:
    """One plain line saying why no window can open here, or None when one can."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    qpa = env.get("QT_QPA_PLATFORM", "").strip().lower()
    if qpa.startswith(_HEADLESS_PLATFORMS):
        return None
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return f"No display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so no window can open here; {hint}"
