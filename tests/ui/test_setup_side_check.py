"""The set-up's side check, driven in the real dialog on the simulated patient (manual clock).

The probes are taped on at the start: both climb from room temperature for minutes. Before the
core's SideCheck, the dialog lit the tile whose probe had climbed more (the RIGHT one here, at
0:08) while the instruction said to warm the LEFT probe, and cut its text ("e +1.3 °C since the
check beg"). The hand is tests/monitor/procedure/side_check_series.Hand (the simulator has none)."""

from __future__ import annotations

import re

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from monitor.clock import SimulatedClock
from monitor.commands.sources import build_source, scenario_choices
from monitor.model import Limb
from monitor.procedure.side_check import SideCheckPhase
from tests.monitor.procedure.side_check_series import Hand, HandOnProbe
from ui.app_flow import discover_candidates
from ui.setup_dialog import SetupDialog


@pytest.fixture
def setup(qtbot):
    """The set-up dialog on the simulated patient, its side check on a manual clock;
    ``dlg.sources``: each check's source, the newest last (a hand can be put on its probes)."""
    candidates = discover_candidates(build_source)
    sim = next(c for c in candidates if c.simulated)
    made = sim.make_source
    sources: list[HandOnProbe] = []

    def make_source(swap, scenario, speed):
        source = HandOnProbe(made(swap, scenario, speed, clock=SimulatedClock(manual=True)), None)
        sources.append(source)
        return source

    sim.make_source = make_source
    dlg = SetupDialog(candidates, None, scenarios=scenario_choices())
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.sources = sources
    return dlg


def _run_check_to(dlg: SetupDialog, until_s: float, lit: list | None = None) -> None:
    """Step the check's simulated probes to ``until_s`` (session s), as its timer would, noting
    in ``lit`` every tile that was lit on the way."""
    source = dlg.sources[-1]
    t = source.clock.now()
    while t < until_s:
        t = min(until_s, t + 2.0)
        source.step_to(t)
        dlg.update_side_check()
        if lit is not None:
            lit.extend(limb for limb, tile in dlg.check_tiles.items() if tile.highlighted)


def _settle(qtbot, dlg: SetupDialog, lit: list) -> float:
    qtbot.mouseClick(dlg.check_btn, Qt.MouseButton.LeftButton)
    assert dlg.check_btn.isChecked()
    _run_check_to(dlg, 60.0, lit)
    assert dlg.side_check_state.phase is SideCheckPhase.SETTLING
    assert dlg.check_title.text() == "Waiting for the probes to settle"
    t = 60.0
    while dlg.side_check_state.phase is SideCheckPhase.SETTLING and t < 400.0:
        t += 10.0
        _run_check_to(dlg, t, lit)
    return t


def test_settling_probes_light_no_tile_and_the_check_asks_for_the_left_probe(qtbot, setup):
    dlg = setup
    lit: list[Limb] = []
    settled_at = _settle(qtbot, dlg, lit)
    assert dlg.side_check_state.phase is SideCheckPhase.WARM, dlg.check_detail.text()
    _run_check_to(dlg, settled_at + 60.0, lit)  # a minute of nobody touching anything
    assert lit == []  # never lit on mere settling (the old dialog lit RIGHT at 0:08)
    assert dlg.check_title.text() == "Now warm the LEFT probe in your hand"
    assert not any(tile.highlighted for tile in dlg.check_tiles.values())


def test_the_left_probe_warmed_in_a_hand_lights_the_left_tile(qtbot, setup):
    dlg = setup
    lit: list[Limb] = []
    t = _settle(qtbot, dlg, lit)
    dlg.sources[-1].hand = Hand(Limb.LEFT, t + 5.0, t + 40.0)
    _run_check_to(dlg, t + 30.0, lit)
    state = dlg.side_check_state
    assert state.phase is SideCheckPhase.CONFIRMED and state.responded is Limb.LEFT
    assert dlg.check_title.text() == "LEFT confirmed: the sides are right"
    assert dlg.check_tiles[Limb.LEFT].lit is SideCheckPhase.CONFIRMED
    assert not dlg.check_tiles[Limb.RIGHT].highlighted
    assert set(lit) == {Limb.LEFT}
    assert dlg.check_tiles[Limb.LEFT].status_label.text().startswith("warmed +")
    _run_check_to(dlg, t + 120.0)  # let go: the verdict stays
    assert dlg.check_tiles[Limb.LEFT].highlighted


def test_the_right_probe_warming_offers_to_swap_and_the_swap_checks_again(qtbot, setup):
    dlg = setup
    t = _settle(qtbot, dlg, [])
    dlg.sources[-1].hand = Hand(Limb.RIGHT, t + 5.0)
    _run_check_to(dlg, t + 30.0)
    state = dlg.side_check_state
    assert state.phase is SideCheckPhase.SWAPPED and state.offer_swap
    assert dlg.check_title.text() == "Sides look swapped"
    assert dlg.check_tiles[Limb.RIGHT].lit is SideCheckPhase.SWAPPED
    assert not dlg.check_tiles[Limb.LEFT].highlighted
    assert dlg.swap_btn.styleSheet()  # the swap button is offered (amber)
    qtbot.mouseClick(dlg.swap_btn, Qt.MouseButton.LeftButton)
    assert dlg.swap and "probe 1 → RIGHT" in dlg.sides_label.text()
    assert len(dlg.sources) == 2 and dlg.side_check_state.phase is SideCheckPhase.SETTLING  # checked again
    assert dlg.swap_btn.styleSheet() == ""


def test_both_probes_warmed_is_not_clear(qtbot, setup):
    dlg = setup
    lit: list[Limb] = []
    t = _settle(qtbot, dlg, lit)
    source = dlg.sources[-1]
    both = [Hand(Limb.LEFT, t + 5.0), Hand(Limb.RIGHT, t + 6.0)]
    source.hand = _Hands(both)
    _run_check_to(dlg, t + 30.0, lit)
    assert dlg.side_check_state.phase is SideCheckPhase.NOT_CLEAR
    assert dlg.check_title.text() == "Not clear: warm the LEFT probe in your hand"
    assert lit == []


class _Hands:
    def __init__(self, hands: list[Hand]) -> None:
        self.hands = hands

    def warm(self, reading):
        for hand in self.hands:
            reading = hand.warm(reading)
        return reading


def _fits(label: QLabel) -> bool:
    """The label's whole text fits inside it: no word is wider than the label, and the lines it
    wraps into (or its one line) are no taller than it."""
    rect, metrics = label.contentsRect(), label.fontMetrics()
    words = re.split(r"[ \n]+", label.text()) if label.wordWrap() else [label.text()]  # not at a no-break space
    if any(metrics.horizontalAdvance(word) > rect.width() for word in words):
        return False
    needed = label.heightForWidth(label.width()) if label.wordWrap() else metrics.height()
    return needed <= label.height()


def test_no_side_check_text_is_clipped_at_the_dialogs_smallest_size(qtbot, setup):
    dlg = setup
    _assert_all_fits(qtbot, dlg)  # before any check
    qtbot.mouseClick(dlg.check_btn, Qt.MouseButton.LeftButton)
    _run_check_to(dlg, 30.0)
    _assert_all_fits(qtbot, dlg)  # settling
    qtbot.mouseClick(dlg.check_btn, Qt.MouseButton.LeftButton)  # stopped
    t = _settle(qtbot, dlg, [])
    dlg.sources[-1].hand = Hand(Limb.RIGHT, t + 5.0)
    for until in (t, t + 7.0, t + 30.0):  # steady, warming, swapped
        _run_check_to(dlg, until)
        _assert_all_fits(qtbot, dlg)
    smallest = dlg.minimumSizeHint()
    assert smallest.width() <= 1024 and smallest.height() <= 660  # a 1024×700 screen, with a title bar


def _assert_all_fits(qtbot, dlg: SetupDialog) -> None:
    dlg.resize(dlg.minimumSizeHint())
    qtbot.wait(1)  # the layout settles
    labels = [dlg.check_title, dlg.check_detail, dlg.sides_label]
    labels += [label for tile in dlg.check_tiles.values() for label in tile.labels if label.isVisible()]
    for label in labels:
        assert _fits(label), f"{label.text()!r} does not fit in {label.contentsRect().size()}"
    for tile in dlg.check_tiles.values():  # and no tile is cut by its box
        box = tile.parentWidget()
        inside = box.rect().marginsRemoved(box.layout().contentsMargins())
        assert inside.contains(tile.geometry()), (tile.geometry(), inside)


def test_a_probe_that_cannot_be_opened_for_the_check_says_so(qtbot, setup):
    dlg = setup

    def port_taken(*_args, **_kwargs):
        raise ValueError("the serial port /dev/ttyUSB0 is in use by another program")

    dlg.candidate.make_source = port_taken
    qtbot.mouseClick(dlg.check_btn, Qt.MouseButton.LeftButton)
    assert not dlg.check_btn.isChecked() and dlg.side_check_state is None
    assert dlg.error.text() == ("The side check could not start: the serial port /dev/ttyUSB0 is in use "
                                "by another program")
