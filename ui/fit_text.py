"""Text that always fits its label: the font shrinks first, "…" comes last.

A label on the live screen must never be clipped ("e +1.3 °C since the check beg") nor push
the plot off a small screen. :func:`fit_text` picks the largest pixel size between a label's
wanted size and a floor at which the text fits its width (and height) in at most ``max_lines``
lines; only when even the floor is too big is the text cut with "…", and the caller puts the
whole text in the tooltip. A newline in the text starts a hard line that is fitted (and cut)
on its own, so each of several alarms keeps its first words on the screen.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from PyQt6.QtCore import QRect, QSize, Qt
from PyQt6.QtGui import QFont, QFontMetrics
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget

# A text allowed several lines still takes one if that costs it no more than this shrink.
ONE_LINE_SHRINK = 0.8
# Never broken across two lines: the difference's name, and a number from its unit.
_KEEP_TOGETHER = (("Di − Dc", "Di\u00a0−\u00a0Dc"), (" °C", "\u00a0°C"), (" s ", "\u00a0s "))
TOOLTIP_COLUMNS = 72  # a tooltip's line, about 450 px in Qt's tooltip font
_FITS_KEPT = 128  # fits a label remembers (text and room → size), then it starts again


@dataclass(frozen=True)
class Fitted:
    px: int  # the pixel size to use
    shown: str  # the text to show: the whole text, or cut with "…"
    lines: int  # lines it takes at that size
    elided: bool = False  # some of the text is not shown


def fit_text(font: QFont, text: str, width: int, max_px: int, min_px: int, *,
             max_lines: int = 1, height: int | None = None) -> Fitted:
    """The largest size in [min_px, max_px] at which ``text`` fits ``width`` (and ``height``, if
    given) in ``max_lines`` word-wrapped lines; at ``min_px``, cut with "…" if it still does not."""
    width = max(1, width)
    min_px = max(1, min(min_px, max_px))
    if "\n" in text:
        return _fit_hard_lines(font, text.split("\n"), width, max_px, min_px, max_lines, height)
    if max_lines > 1:  # one line a little smaller reads better than two at full size
        one = fit_text(font, text, width, max_px, max(min_px, round(max_px * ONE_LINE_SHRINK)), height=height)
        if not one.elided:
            return one
    probe = QFont(font)
    px = max_px
    # Text width grows about linearly with the pixel size: start near the answer, then step down.
    probe.setPixelSize(px)
    one_line = QFontMetrics(probe).horizontalAdvance(text)
    if one_line > width * max_lines:
        px = max(min_px, min(max_px, int(max_px * width * max_lines / max(1, one_line))))
    while True:
        probe.setPixelSize(px)
        metrics = QFontMetrics(probe)
        lines = _lines(metrics, text, width, max_lines)
        fits_height = height is None or lines * metrics.lineSpacing() <= height
        if (lines <= max_lines and fits_height) or px <= min_px:
            break
        px -= 1
    if lines <= max_lines and (height is None or lines * metrics.lineSpacing() <= height):
        return Fitted(px, text, max(1, lines))
    return Fitted(px, _elide(metrics, text, width, max_lines), max_lines, elided=True)


def _fit_hard_lines(font: QFont, parts: list[str], width: int, max_px: int, min_px: int, max_lines: int,
                    height: int | None) -> Fitted:
    """Each part on a line of its own (the ones past ``max_lines`` share the last line)."""
    shown_parts = parts[: max_lines - 1] + ["  ·  ".join(parts[max_lines - 1:])] if len(parts) > max_lines else parts
    probe = QFont(font)
    px = max_px
    probe.setPixelSize(px)
    widest = max(QFontMetrics(probe).horizontalAdvance(part) for part in shown_parts)
    if widest > width:
        px = max(min_px, min(max_px, int(max_px * width / max(1, widest))))
    while True:
        probe.setPixelSize(px)
        metrics = QFontMetrics(probe)
        fits = all(metrics.horizontalAdvance(part) <= width for part in shown_parts)
        fits_height = height is None or len(shown_parts) * metrics.lineSpacing() <= height
        if (fits and fits_height) or px <= min_px:
            break
        px -= 1
    cut = [metrics.elidedText(part, Qt.TextElideMode.ElideRight, width) for part in shown_parts]
    return Fitted(px, "\n".join(cut), len(cut), elided=cut != parts)


def keep_together(text: str) -> str:
    """``text`` with no-break spaces where a line break would split a term ("Di − Dc", "2.0 °C")."""
    for plain, joined in _KEEP_TOGETHER:
        text = text.replace(plain, joined)
    return text


def tooltip_text(text: str, columns: int = TOOLTIP_COLUMNS) -> str:
    """``text`` broken into lines of at most ``columns`` characters for a tooltip (Qt never wraps a
    plain tooltip: one long line would run off a small screen); its terms are not split."""
    lines = (textwrap.fill(keep_together(line), columns) if line else "" for line in text.split("\n"))
    return "\n".join(lines).replace("\u00a0", " ")


def _lines(metrics: QFontMetrics, text: str, width: int, max_lines: int) -> int:
    if metrics.horizontalAdvance(text) <= width:
        return 1
    if max_lines == 1:
        return 2  # too long for one line: the count past one does not matter
    rect = metrics.boundingRect(QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), text)
    if rect.width() > width:  # one word wider than the label: wrapping cannot help
        return max_lines + 1
    return max(1, round(rect.height() / max(1, metrics.lineSpacing())))


def _elide(metrics: QFontMetrics, text: str, width: int, max_lines: int) -> str:
    """``text`` cut with "…" so it fits ``max_lines`` wrapped lines of ``width``."""
    if max_lines == 1:
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    # Wrapped lines break at spaces and waste some width: aim a little short, then check.
    budget = width * max_lines - metrics.horizontalAdvance("M") * 4 * max_lines
    while budget > width:
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, budget)
        if _lines(metrics, shown, width, max_lines) <= max_lines:
            return shown
        budget -= width // 8
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


class FitLabel(QLabel):
    """A label whose text always fits: the font shrinks from the wanted size (:meth:`set_px`)
    down to ``min_px`` so the text fits the label's width in ``max_lines`` lines; below that it
    is cut with "…" and the whole text is in the tooltip. ``text()`` is the whole text.

    ``fill_height``: the label takes the height its layout gives it (the font fits that too);
    otherwise it asks for the height of the lines it shows, never more than ``max_lines``."""

    def __init__(self, text: str = "", *, min_px: int = 10, max_lines: int = 1, fill_height: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = text or ""
        self._want_px = 14
        self._bold = False
        self._min_px = min_px
        self._max_lines = max_lines
        self._fill_height = fill_height
        self._fitted = Fitted(self._want_px, self._full, 1)
        self._fits: dict[tuple, Fitted] = {}
        self._font_px: tuple[int, bool] | None = None
        self._explanation = ""
        self.setWordWrap(max_lines > 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred,
                           QSizePolicy.Policy.Ignored if fill_height else QSizePolicy.Policy.Fixed)
        self._fit()

    def set_px(self, px: int, bold: bool = False, min_px: int | None = None) -> None:
        """The size the text would like (and, if given, the smallest it may shrink to)."""
        min_px = self._min_px if min_px is None else min_px
        if (px, bold, min_px) != (self._want_px, self._bold, self._min_px):
            self._want_px, self._bold, self._min_px = px, bold, min_px
            self.updateGeometry()
            self._fit()

    def set_explanation(self, words: str) -> None:
        """A tooltip that is always there (the whole text is put before it when the text is cut)."""
        self._explanation = words
        self._fit()

    def setText(self, text: str | None) -> None:  # noqa: N802 (Qt's name)
        text = text or ""
        if text != self._full:
            self._full = text
            self._fit()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        """What is on the screen: the whole text, or the text cut with "…"."""
        return QLabel.text(self)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return False  # the height is the fitted lines' (sizeHint), set again when the width changes

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        want = QFont(self.font())
        want.setPixelSize(self._want_px)
        width = QFontMetrics(want).horizontalAdvance(self._full) + 2
        shown = QFontMetrics(self.font())
        return QSize(width, self._fitted.lines * shown.lineSpacing() + 1)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        if self._fill_height:
            return QSize(0, 0)
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect()
        height = room.height() if self._fill_height and room.height() > 0 else None
        before = self._fitted
        # A number shown twice a second comes back often ("30.6 °C"): its fit is remembered.
        key = (self._full, room.width(), height, self._want_px, self._min_px, self._bold)
        fitted = self._fits.get(key)
        if fitted is None:
            if len(self._fits) >= _FITS_KEPT:
                self._fits.clear()
            laid_out = keep_together(self._full) if self._max_lines > 1 else self._full
            fitted = self._fits[key] = fit_text(self.font(), laid_out, room.width(), self._want_px,
                                                self._min_px, max_lines=self._max_lines, height=height)
        self._fitted = fitted
        if (fitted.px, self._bold) != self._font_px:
            self._font_px = (fitted.px, self._bold)
            font = QFont(self.font())
            font.setPixelSize(fitted.px)
            font.setBold(self._bold)
            self.setFont(font)
        if QLabel.text(self) != fitted.shown:
            QLabel.setText(self, fitted.shown)
        tip = "\n\n".join(t for t in (self._full if fitted.elided else "", self._explanation) if t)
        if tip != self.toolTip():
            self.setToolTip(tip)
        if not self._fill_height and (fitted.lines, fitted.px) != (before.lines, before.px):
            self.updateGeometry()
