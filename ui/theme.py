"""Colours, fonts and the dim stylesheet: one place so every widget reads the same from 3 m.

Left/right use the Okabe–Ito colour-blind-safe pair (blue #0072B2 / orange #E69F00),
always together with an "L"/"R" label, never colour alone. Alarm colours follow
IEC 60601-1-8: medium priority yellow (flashing 0.4–0.8 Hz), low priority cyan (steady).
"""

from __future__ import annotations

from pathlib import Path

from monitor.model import Limb
from monitor.pipeline.timefmt import format_session_time

LIMB_COLOURS: dict[Limb, str] = {Limb.LEFT: "#0072B2", Limb.RIGHT: "#E69F00"}
# Brighter twins for text on the dark background (the plot keeps the canonical pair).
LIMB_TEXT_COLOURS: dict[Limb, str] = {Limb.LEFT: "#56B4E9", Limb.RIGHT: "#E69F00"}
DIFFERENCE_COLOUR = "#CC79A7"  # Okabe–Ito reddish purple, for Di − Dc / L − R
MARKER_COLOURS = {
    "baseline": "#009E73",
    "needle": "#BBBBBB",
    "injection": "#F0E442",
    "note": "#CCCCCC",
    "probe_checked": "#56B4E9",
}
# Band fills behind the curves, opaque (what vermillion, bluish green and grey at 20–25 % look
# like on the background): an opaque fill paints several times faster than a translucent one.
ARTEFACT_FILL = (66, 40, 20)
BASELINE_FILL = (17, 47, 42)
SETTLING_FILL = (35, 37, 40)
WATERMARK_COLOUR = (63, 32, 57)

ALARM_MEDIUM = "#FFD400"  # yellow
ALARM_LOW = "#00C8D7"  # cyan
INFO_COLOUR = "#2E9E5B"  # block confirmed: information, green, no flashing
SIMULATED_COLOUR = "#B03A8C"

BACKGROUND = "#15171A"
PANEL = "#202327"
TEXT = "#E6E6E6"
TEXT_DIM = "#9AA0A6"
GRID = "#2B3036"  # opaque too
# A checked box shows a tick and a chosen radio button a dot, not a bare filled square
# (Qt style sheets take an image file here, not a data: URL).
_INDICATORS = Path(__file__).with_name("indicators")
CHECK_TICK_IMAGE = (_INDICATORS / "tick.svg").as_posix()
RADIO_DOT_IMAGE = (_INDICATORS / "dot.svg").as_posix()

STYLESHEET = f"""
QWidget {{ background-color: {BACKGROUND}; color: {TEXT}; }}
QFrame#tile {{ background-color: {PANEL}; border-radius: 8px; }}
QToolBar {{ background-color: {PANEL}; border: none; spacing: 4px; }}
QToolButton {{ padding: 6px 7px; font-size: 13pt; border: 1px solid #3A3F45; border-radius: 4px; }}
QToolButton:checked {{ background-color: #34495E; }}
QToolButton:focus {{ border: 2px solid #56B4E9; }}
QToolButton:disabled, QPushButton:disabled {{ color: #5F656B; border-color: #2B3036; }}
QPushButton {{ padding: 6px 12px; border: 1px solid #3A3F45; border-radius: 4px; background: #2A2E33; }}
QPushButton:focus {{ border: 2px solid #56B4E9; }}
QPushButton:default {{ border: 2px solid #009E73; }}
QLineEdit, QComboBox, QDoubleSpinBox, QSpinBox, QPlainTextEdit {{
    background: #2A2E33; border: 1px solid #3A3F45; padding: 3px; }}
QTableView {{ gridline-color: #33383E; background: {PANEL}; alternate-background-color: #262A2F; }}
QHeaderView::section {{ background: #2A2E33; color: {TEXT}; padding: 3px; border: none; }}
QStatusBar {{ color: {TEXT_DIM}; }}
QRadioButton::indicator, QCheckBox::indicator {{ width: 16px; height: 16px; border: 2px solid #9AA0A6;
    background: #2A2E33; }}
QRadioButton::indicator {{ border-radius: 10px; }}
QCheckBox::indicator {{ border-radius: 3px; }}
QRadioButton::indicator:checked, QCheckBox::indicator:checked {{ background: #56B4E9; border-color: {TEXT}; }}
QCheckBox::indicator:checked {{ image: url("{CHECK_TICK_IMAGE}"); }}
QRadioButton::indicator:checked {{ image: url("{RADIO_DOT_IMAGE}"); }}
QRadioButton::indicator:focus, QCheckBox::indicator:focus {{ border-color: #56B4E9; }}
QTabBar::tab {{ padding: 6px 14px; background: #2A2E33; }}
QTabBar::tab:selected {{ background: #34495E; }}
"""


def limb_name(limb: Limb) -> str:
    return "LEFT" if limb is Limb.LEFT else "RIGHT"


def format_mmss(seconds: float | None) -> str:
    """Session seconds as m:ss (h:mm:ss past an hour); '--:--' when unknown. The core's format."""
    return "--:--" if seconds is None else format_session_time(seconds)
