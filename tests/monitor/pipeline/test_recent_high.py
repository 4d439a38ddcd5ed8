"""The other foot's recent high: one maximum per minute, exact whatever the chunking."""

from __future__ import annotations

import math

import numpy as np

from monitor.pipeline.recent_high import RecentHigh


def test_many_gives_what_one_at_a_time_gives_in_any_chunks():
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.05, 9.0, size=3000))
    v = np.cumsum(rng.normal(0.0, 0.05, size=t.shape))
    one = RecentHigh(60.0, 30)
    expected = np.array([one.one(float(a), float(b)) for a, b in zip(t, v, strict=True)])
    chunked = RecentHigh(60.0, 30)
    cuts = np.unique(np.concatenate(([0], rng.integers(1, t.size, 40), [t.size])))
    got = np.concatenate([chunked.many(t[a:b], v[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    np.testing.assert_array_equal(got, expected)


def test_the_window_forgets_blocks_older_than_it_and_a_reset_forgets_all():
    high = RecentHigh(60.0, 30)
    assert high.one(10.0, 30.0) == 30.0
    assert high.one(30 * 60.0 + 5.0, 27.0) == 30.0  # 30 whole minutes back: still in the window
    assert high.one(31 * 60.0 + 5.0, 27.0) == 27.0  # beyond it
    got, earlier = high.one_with_earlier(31 * 60.0 + 6.0, 26.0)
    assert got == 27.0 and earlier == 27.0
    high.reset()
    got, earlier = high.one_with_earlier(40 * 60.0, 20.0)
    assert got == 20.0 and earlier == -math.inf
