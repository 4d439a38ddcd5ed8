"""The central's window (pytest-qt, offscreen): tiles, alarm colours, NO COMMUNICATION, a room's 60 minutes."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor

from monitor.central import CentralModel, Communication, LinkChange, RoomKey
from monitor.model import Limb
from tests.monitor.central.stations import FakeStation, alarm_now, verdict
from ui import theme
from ui.central.tile import ALARM_BACKGROUND, ALARM_HIGH
from ui.central.window import CentralWindow


class Clock:
    now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def model(clock):
    m = CentralModel(clock)
    m.feed(LinkChange(True, "connected to mqtts://broker.test:8883", clock()))
    return m


@pytest.fixture
def window(qtbot, model):
    w = CentralWindow(model, run_timer=False, where="mqtts://broker.test:8883")
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.stop()


def station(model: CentralModel, room: str, *, blocked="left", alarms=(), session_s=1055.0, step=5, site="clinic",
            **state) -> FakeStation:
    st = FakeStation(site=site, room=room, blocked=blocked, run_id=f"{abs(hash((site, room))) % 16**16:016x}")
    model.receive(*st.status())
    for s in range(int(session_s) - 600, int(session_s) + 1, step):
        st.session_s = float(s)
        model.receive(*st.readings(30.0 + s / 1000.0, 29.5))
        model.receive(*st.state(alarms=alarms, **state))
    model.receive(*st.markers(("needle", 280.0), ("injection", 300.0)))
    return st


def _pixels(widget, colour: str, tolerance: int = 40) -> int:
    """How many of the widget's pixels are within ``tolerance`` of ``colour`` (a sample grid)."""
    image = widget.grab().toImage()
    want = QColor(colour)
    hits = 0
    for x in range(0, image.width(), 3):
        for y in range(0, image.height(), 3):
            c = image.pixelColor(x, y)
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < tolerance:
                hits += 1
    return hits


def test_each_room_is_a_tile_with_its_side_feet_rises_verdict_and_time_since_injection(window, model):
    station(model, "room-1", blocked="left", left=33.42, rise_left=3.61, right=30.02, rise_right=-0.04,
            verdict=verdict("confirmed", "Block CONFIRMED at 12:40"), di_minus_dc=3.65)
    station(model, "room-2", blocked="right", right=None, rise_right=None, right_withheld="probe may have lifted",
            di_minus_dc=None)
    window.tick()
    assert sorted(window.tiles) == [RoomKey("clinic", "room-1"), RoomKey("clinic", "room-2")]
    one = window.tiles[RoomKey("clinic", "room-1")]
    assert one.name.text() == "room-1 · bed 2" and one.side.text() == "BLOCKED: L LEFT"
    assert one.feet[Limb.LEFT].temp.text() == "33.4 °C" and one.feet[Limb.LEFT].rise.text() == "rise +3.6 °C"
    assert one.feet[Limb.RIGHT].rise.text() == "rise +0.0 °C"  # never "−0.0"
    assert one.verdict.text() == "Block CONFIRMED · +12:35 after the injection"  # 1055 − 300 s, +m:ss
    assert one.difference.text() == "Di − Dc +3.6 °C"  # the station's value, rounded as the room shows it
    two = window.tiles[RoomKey("clinic", "room-2")]
    assert two.side.text() == "BLOCKED: R RIGHT"
    assert two.feet[Limb.RIGHT].temp.text() == "--.- °C"
    assert two.feet[Limb.RIGHT].rise.text() == "rise — (probe flagged)"
    assert "probe may have lifted" in two.feet[Limb.RIGHT].rise.toolTip()  # the station's own words
    assert two.difference.text() == "Di − Dc — (withheld)"
    assert "R probe may have lifted" in two.difference.toolTip()
    assert two.verdict.text() == "Monitoring · +12:35 after the injection"
    # The confirmed room's verdict strip is the room's own information green.
    assert _pixels(one, theme.INFO_COLOUR, 30) > 200


def test_alarms_are_in_iec_colours_medium_flashing_low_steady_high_red(window, model):
    station(model, "room-1", alarms=(alarm_now(),))
    station(model, "room-2", alarms=(alarm_now("probe_lifted:right", "low", "R right probe: check the tape"),))
    station(model, "room-3", alarms=(alarm_now("x", "high", "a high-priority condition"),))
    window.tick()
    medium, low, high = (window.tiles[RoomKey("clinic", r)] for r in ("room-1", "room-2", "room-3"))
    assert medium.alarms.text() == "R right probe: PROBE OFF" and medium.alarms.isVisible()
    assert f"6px solid {theme.ALARM_MEDIUM}" in medium.styleSheet()
    assert f"6px solid {theme.ALARM_LOW}" in low.styleSheet()
    assert f"6px solid {ALARM_HIGH}" in high.styleSheet()
    on = (medium.styleSheet(), low.styleSheet())
    window._toggle_flash("medium")
    off = (medium.styleSheet(), low.styleSheet())
    assert on[0] != off[0], "medium priority flashes"
    assert on[1] == off[1], "low priority is steady"
    window._toggle_flash("medium")
    assert _pixels(medium, theme.ALARM_MEDIUM) > 100 and _pixels(low, theme.ALARM_LOW) > 100


def _flash_hz(window, priority: str) -> float:
    """The flashing frequency a priority's timer gives: on, then off, each one interval."""
    return 1000.0 / (2 * window.flash_timers[priority].interval())


def test_high_priority_flashes_at_1_4_to_2_8_hz_medium_at_0_4_to_0_8_hz_on_their_own_timers(window, model, clock):
    station(model, "room-1", alarms=(alarm_now(),))
    station(model, "room-3", alarms=(alarm_now("x", "high", "a high-priority condition"),))
    window.tick()
    medium, high = (window.tiles[RoomKey("clinic", r)] for r in ("room-1", "room-3"))
    assert 1.4 <= _flash_hz(window, "high") <= 2.8, "IEC 60601-1-8 high priority"
    assert 0.4 <= _flash_hz(window, "medium") <= 0.8, "IEC 60601-1-8 medium priority"

    def styles():
        return medium.styleSheet(), high.styleSheet()

    before = styles()
    window.flash_timers["high"].timeout.emit()  # the high timer fires (no waiting)
    after_high = styles()
    assert after_high[1] != before[1] and after_high[0] == before[0], "high flashes on its own timer, medium not"
    assert ALARM_BACKGROUND["high"] in before[1] and ALARM_BACKGROUND["high"] not in after_high[1]
    window.flash_timers["medium"].timeout.emit()
    after_medium = styles()
    assert after_medium[0] != after_high[0] and after_medium[1] == after_high[1], "medium on its own, high not"
    clock.now += 6.0  # both rooms silent: NO COMMUNICATION flashes as medium, whatever the alarm was
    window.tick()
    lost = styles()
    window.flash_timers["high"].timeout.emit()
    assert styles() == lost
    window.flash_timers["medium"].timeout.emit()
    assert styles()[0] != lost[0] and styles()[1] != lost[1]


def test_a_silent_room_is_a_big_no_communication_and_comes_back_when_heard(window, model, clock):
    st = station(model, "room-1")
    window.tick()
    tile = window.tiles[RoomKey("clinic", "room-1")]
    assert tile.body.currentIndex() == 0
    clock.now += 5.5
    window.tick()
    assert model.rooms[RoomKey("clinic", "room-1")].communication is Communication.NO_COMMUNICATION
    assert tile.body.currentIndex() == 1 and tile.no_comm.isVisible()
    assert tile.no_comm.text() == "NO COMMUNICATION"
    assert tile.no_comm_why.text().startswith("nothing heard for 5 s")
    assert not tile.feet[Limb.LEFT].isVisible(), "old values are not shown as if live"
    assert _pixels(tile, theme.ALARM_MEDIUM) > 300
    model.receive(*st.readings())
    window.tick()
    assert tile.body.currentIndex() == 0 and tile.feet[Limb.LEFT].isVisible()


def test_the_wills_offline_and_a_finished_session_read_differently(window, model):
    st = station(model, "room-1")
    model.receive(*st.status(online=False, reason="connection lost (the broker's will)"))
    done = station(model, "room-2")
    model.receive(*done.state(finished=True))
    model.receive(*done.status(online=False, reason="session finished"))
    window.tick()
    lost, ended = window.tiles[RoomKey("clinic", "room-1")], window.tiles[RoomKey("clinic", "room-2")]
    assert "connection lost (the broker's will)" in lost.no_comm_why.text() and lost.body.currentIndex() == 1
    assert ended.body.currentIndex() == 0 and ended.verdict.text().startswith("Session ended")


def test_with_rooms_of_several_sites_each_tile_and_room_title_names_its_site(qtbot, window, model):
    station(model, "room-1")
    window.tick()
    assert window.tiles[RoomKey("clinic", "room-1")].name.text() == "room-1 · bed 2", "one site: the room says it"
    station(model, "room-1", site="north", left=35.5)  # the same room name at another site
    window.tick()
    names = {key: tile.name.text() for key, tile in window.tiles.items()}
    assert names == {RoomKey("clinic", "room-1"): "clinic/room-1 · bed 2",
                     RoomKey("north", "room-1"): "north/room-1 · bed 2"}
    assert window.tiles[RoomKey("north", "room-1")].feet[Limb.LEFT].temp.text() == "35.5 °C"
    qtbot.mouseClick(window.tiles[RoomKey("north", "room-1")], Qt.MouseButton.LeftButton)
    assert window.room_view.title.text().startswith("north/room-1 · bed 2")


def test_messages_not_understood_are_counted_on_the_window_and_the_tile(window, model):
    station(model, "room-1")
    model.receive("sympatherm/v1/clinic/room-1/state", b"{broken")
    model.receive("sympatherm/v1/clinic/room-1/readings", b"[]")
    window.tick()
    assert window.not_understood.text() == "2 messages not understood"
    assert "not JSON" in window.not_understood.toolTip()
    assert "2 messages not understood" in window.tiles[RoomKey("clinic", "room-1")].footer.text()


def test_the_centrals_own_link_down_is_said_at_the_top_and_on_every_tile(window, model, clock):
    station(model, "room-1")
    window.tick()
    model.feed(LinkChange(False, "link to the broker lost (keep alive timeout)", clock()))
    window.tick()
    assert window.link.text().startswith("NO LINK TO THE BROKER")
    assert window.tiles[RoomKey("clinic", "room-1")].body.currentIndex() == 1


def test_selecting_a_tile_opens_the_rooms_last_60_minutes_and_esc_goes_back(qtbot, window, model):
    station(model, "room-1", session_s=4000.0, di_minus_dc=1.2)
    window.tick()
    tile = window.tiles[RoomKey("clinic", "room-1")]
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 1
    view = window.room_view
    history = model.rooms[RoomKey("clinic", "room-1")].history
    for limb in Limb:
        x, y = view.curves[limb].getData()
        assert len(x) == len(history.foot(limb)) > 100
        assert x[-1] == 4000.0
    dx, dy = view.diff_curve.getData()
    assert len(dx) == len(history.difference()) and dy[-1] == pytest.approx(1.2)
    # markers: only those within the last 60 minutes of session time (the needle at 280 s is not)
    assert [line.value() for line in view._marker_items] == [] or min(line.value() for line in view._marker_items) >= 400
    lo, hi = view.feet_widget.getPlotItem().viewRange()[0]
    assert hi == pytest.approx(4000.0, abs=60) and lo == pytest.approx(400.0, abs=60)
    assert "BLOCKED: L LEFT" in view.title.text()
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert window.pages.currentIndex() == 0


def test_the_room_view_of_a_central_started_late_draws_the_stations_history_first(window, model):
    st = FakeStation(room="room-1")
    st.session_s = 1500.0
    model.receive(*st.status())
    model.receive(*st.state(di_minus_dc=2.0))  # retained, as a late central gets them at once
    model.receive(*st.history(900.0, [30.0 + i / 100 for i in range(61)], di_minus_dc=[1.0] * 61))
    window.tick()
    window.open_room(RoomKey("clinic", "room-1"))
    view = window.room_view
    x, y = view.curves[Limb.LEFT].getData()
    assert len(x) == 61 and x[0] == 900.0 and x[-1] == 1500.0 and y[-1] == pytest.approx(30.6)
    dx, dy = view.diff_curve.getData()
    assert len(dx) == 61 and dx[-2:].tolist() == [1490.0, 1500.0] and dy[-2:].tolist() == [1.0, 2.0], \
        "the history's Di − Dc until the state's own"
    assert "the station's history" in view.x_label.text()


def test_the_room_view_draws_the_markers_and_follows_new_data(qtbot, window, model):
    st = station(model, "room-1", session_s=900.0)
    window.tick()
    window.open_room(RoomKey("clinic", "room-1"))
    view = window.room_view
    assert sorted(line.value() for line in view._marker_items) == [280.0, 300.0]
    st.session_s = 905.0
    model.receive(*st.readings(31.0, 29.0))
    window.tick()
    x, _ = view.curves[Limb.LEFT].getData()
    assert x[-1] == 905.0
    assert view.axis.origin_s == 300.0  # minutes since the injection


def test_tiles_are_opened_from_the_keyboard_too(qtbot, window, model):
    station(model, "room-1")
    window.tick()
    tile = window.tiles[RoomKey("clinic", "room-1")]
    tile.setFocus()
    qtbot.keyClick(tile, Qt.Key.Key_Return)
    assert window.pages.currentIndex() == 1


def test_many_rooms_fill_the_grid_evenly(window, model):
    for i in range(12):
        station(model, f"room-{i:02d}", session_s=650.0, step=100)
    window.tick()
    assert len(window.tiles) == 12
    cols = window._columns()
    assert cols == 4  # 1600 × 1000: 4 × 3 tiles of about 3 : 2
    positions = {window.grid.getItemPosition(window.grid.indexOf(t))[:2] for t in window.tiles.values()}
    assert len(positions) == 12
