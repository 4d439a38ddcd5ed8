"""The window and the review say times after the injection in the one time format, with the
verdict sentence's words: "+8:53 after the injection", never "8:53 after injection"."""

from __future__ import annotations

import re

from monitor.model import Limb
from monitor.pipeline.timefmt import format_relative


def test_the_banner_dates_a_held_criterion_from_the_injection_as_the_verdict_does(demo):
    window = demo()
    window.advance_to(1010, step_s=1.0)
    assert window.session.snapshot().holding is not None
    since = window.session.now() - window.session.injection_s()
    title = window.banner.title.text()
    assert title.endswith(f"  ·  {format_relative(since)} after the injection"), title
    assert format_relative(since).startswith("+")


def test_a_confirmed_banner_reads_as_the_verdict_sentence(demo):
    window = demo()
    window.advance_to(1200)
    message = window.session.snapshot().verdict.message
    when = re.match(r"Block confirmed at (\+\d+:\d\d after the injection): ", message)
    assert when, message
    assert window.banner.title.text() == f"BLOCK CONFIRMED at {when.group(1)}"


def test_the_review_banner_says_when_the_verdict_was_recorded_after_the_injection(qtbot, tmp_path):
    from monitor.exports.session_data import load_session
    from tests.support.sessions import record_simulated
    from ui.review import ReviewWindow

    path = record_simulated(tmp_path / "rv.sympatherm", "success-fast", seed=5, blocked=Limb.LEFT, until_s=1800.0)
    review = ReviewWindow(path)
    qtbot.addWidget(review)
    review.show_all()
    data = load_session(path)
    last = [v for v in review.verdicts if v.session_s <= review.end_s][-1]
    detail = review.banner.detail.text()
    assert detail.startswith(f"recorded {format_relative(last.session_s - data.injection_s)} after the injection · "), detail
    labels = {review.table.table_model.data(review.table.table_model.index(i, 0))
              for i in range(review.table.table_model.rowCount())}
    assert "+5:00" in labels and "0:00" in labels
