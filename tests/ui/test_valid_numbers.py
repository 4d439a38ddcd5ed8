"""Only valid, current numbers: while a probe is flagged, its rise and Di − Dc are withheld by
the core (with the reason), and every view shows "—" rather than a value no valid reading has."""

from __future__ import annotations

from monitor.model import Limb
from monitor.pipeline.artefacts import ArtefactKind


def test_a_lifted_probe_withholds_its_rise_and_di_minus_dc_everywhere(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window
    from monitor.commands.record import status_line

    window = build_demo_window("probe-lift", 1, 1.0, Limb.LEFT, manual=True, session_path=tmp_path / "l.sympatherm")
    qtbot.addWidget(window)
    window.advance_to(1700)
    lifted = [seg for seg in window.session.artefacts
              if seg.kind is ArtefactKind.PROBE_LIFTED and seg.end_s is None]
    assert lifted and lifted[0].limb is Limb.RIGHT, "the scenario's right probe is lifted at 28:20"
    snap = window.session.snapshot()
    assert snap.rise_c[Limb.RIGHT] is None and snap.di_minus_dc_c is None
    assert "lifted" in snap.rise_withheld[Limb.RIGHT] and snap.rise_withheld[Limb.LEFT] is None
    assert snap.rise_c[Limb.LEFT] is not None, "the good foot's rise is still given"
    assert window.banner.diff.text() == "Di − Dc  —"
    assert "Not shown now: R probe lifted" in window.banner.diff.toolTip()
    assert window.tiles[Limb.RIGHT].rise_label.text() == "rise: — (probe flagged)"
    assert "Di−Dc" not in status_line(window.session)  # `record` shows the same owner's value
    window.advance_to(2400)  # the probe is back on the skin
    snap = window.session.snapshot()
    assert snap.di_minus_dc_c is not None and window.banner.diff.text().startswith("Di − Dc  +")
    window.finish()


def test_the_tiles_say_warmed_or_cooled_since_baseline_and_explain_the_abbreviations(qtbot, tmp_path):
    from monitor.commands.demo import build_demo_window

    window = build_demo_window("success-fast", 1, 1.0, Limb.LEFT, manual=True, session_path=tmp_path / "w.sympatherm")
    qtbot.addWidget(window)
    window.advance_to(1500)
    assert window.tiles[Limb.LEFT].rise_label.text().startswith("warmed +4.")
    assert window.tiles[Limb.LEFT].rise_label.text().endswith("°C since baseline")
    assert window.tiles[Limb.RIGHT].rise_label.text().startswith(("cooled -", "no change"))
    assert "ΔTb" in window.tiles[Limb.LEFT].rise_label.toolTip()
    assert "−0.0" not in window.tiles[Limb.RIGHT].rise_label.text() and "-0.0" not in window.tiles[Limb.RIGHT].rise_label.text()
    window.finish()
