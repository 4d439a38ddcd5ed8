"""The PyQt6 + pyqtgraph GUI. It shows and commands the core; no signal processing here.

The window is a view of a :class:`monitor.procedure.Procedure`: it calls its commands and
subscribes to its events; it never writes the session file nor computes a clinical number.
Only the command line (``monitor.commands``) starts the GUI, and hands it what it must not
build itself (the source builder, the simulated patient).

Entry points (Qt is imported only when these modules are):

* ``ui.app_flow.run_application(build_source, scenarios)`` — plain ``sympatherm``: recovery
  offer, set-up, live window;
* ``ui.demo.demo_window(procedure, manual=...)``, ``ui.demo.snapshot(path, window, after_s)``,
  ``ui.demo.run_demo(window)`` — ``sympatherm demo`` (built by ``monitor.commands.demo``) and its
  offscreen ``--snapshot``; a manual clock is stepped with ``MainWindow.advance_to(session_s)``
  (tests, benchmarks);
* ``ui.review.ReviewWindow(path)`` — a past session, read-only, with replay and export;
* ``ui.display.display_problem()`` — Qt-free: why no window can open here, in one line.
"""
