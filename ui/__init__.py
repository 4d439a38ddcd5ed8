"""The PyQt6 + pyqtgraph GUI. It shows and commands the core; no signal processing here.

Entry points (Qt is imported only when these modules are):

* ``ui.app_flow.run_application()`` — plain ``sympatherm``: recovery offer, set-up, live window;
* ``ui.demo.run_demo(...)`` / ``ui.demo.snapshot(path, scenario, seed, blocked, after_s)`` —
  ``sympatherm demo`` and its offscreen ``--snapshot``;
* ``ui.demo.build_demo_window(..., manual=True)`` — the live window on a manual simulated clock,
  stepped with ``MainWindow.advance_to(session_s)`` (tests, benchmarks);
* ``ui.live_session.LiveSession(source, info, store=...)`` — source → SessionRecorder →
  BlockPipeline and SessionStore, as the window uses it;
* ``ui.review.ReviewWindow(path)`` — a past session, read-only, with replay and export;
* ``ui.display.display_problem()`` — Qt-free: why no window can open here, in one line.
"""
