"""Screen latency: a reading's bytes arriving at the serial source → that reading drawn on the live plot.

The real path, in real time: a :class:`~monitor.simulation.virtual_serial.VirtualSerialProbe`
(the simulated patient as a two-channel binary probe on a real pseudo-terminal, 10 frames/s, so
10 readings per foot per second) → the real :class:`~monitor.sources.serial.SerialSource` →
:class:`~monitor.procedure.Procedure` (pipeline, store, alarms) → the real
:class:`~ui.main_window.MainWindow`, offscreen, its own QTimer running in a Qt event loop, for
``seconds`` of real time per design measured.

For each reading, in one process and on one clock (``time.monotonic``):

* ``t_arrival``: when its bytes were read. The source is given a bench clock whose origin is
  known; the serial source stamps each reading with ``clock.now()`` right after the read that
  got its bytes, so ``t_arrival = clock.t0 + reading.session_s`` (no edit to ``monitor/``);
* ``t_screen``: right after the ``window.plot.refresh()`` call that returned True (drew a
  frame) with the reading in the plot's buffers (``window.plot.refresh`` is wrapped here);
* also, for context: ``t_window`` (the pump that handed it to the window, ``events.readings``),
  ``t_painted`` (the end of the plot's next paint after that frame: Qt's pixels, offscreen; or
  that frame itself when the plot handed the reading over without a repaint because it fell on
  pixels the line already covered, ``plot.readings_already_shown``) and
  ``t_number`` (the tiles' next ``update_display``: the number beside the plot).

Latency = ``t_screen − t_arrival``; goal p99 ≤ 50 ms (one 30 Hz frame). Designs measured
(``--designs``), each in a fresh window and session:

* ``shipped``: the window as the code is: woken by ``ui/waker.py`` as soon as a reading is
  waiting (a thread in the procedure's ``wait_for_readings``, a queued Qt signal, at most one
  tick per 33 ms), every new reading drawn; its ``REDRAW_INTERVAL_MS`` timer follows the clock;
* ``before``: the window before the waker (timer only; a frame for a pixel of new line or once
  a second): the design that missed the goal (p99 about 1 s);
* ``timer_33ms``: the same with a 33 ms timer (``REDRAW_INTERVAL_MS`` patched here);
* ``redraw_on_data``: the shipped timer, the plot redrawn whenever readings arrived
  (``plot.min_frame_interval_s = 0``);
* ``timer_33ms_redraw_on_data``: both;
* ``wake_on_arrival``: the shipped timer, plus a thread that blocks in the source's public
  ``wait_for_readings`` and wakes the window (a queued Qt signal → ``tick()``) as soon as a
  reading is waiting, at most one tick per 33 ms; plot redrawn whenever readings arrived;
* ``wake_on_arrival_timer_250ms`` / ``_500ms``: the same with a slower timer (with the wake-up
  it only follows the clock and notices silence).

Baseline, in the same process: the *shipped* design's p99; each design's p99 is given as a ratio
to it. CPU context: this process's CPU over the measured window (% of one core, the GUI and the
source thread), the machine's CPU use and load average.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_screen_latency.py [--json] [--quick]
        [--seconds 60] [--designs shipped before | all]

``run()`` returns the figures as a dict (measured in a worker process, offscreen).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(ROOT))

GOAL_P99_MS = 50.0
FRAME_30HZ_MS = 1000.0 / 30.0
RATE_HZ = 10.0  # frames per second, each with both feet: 10 readings per foot per second
WARMUP_S = 3.0  # port opening, identification, first layout: not counted
DEFAULT_SECONDS = 60.0
QUICK_SECONDS = 10.0
# The session clock starts an hour on: the plot follows with its full 40-minute width, as it does for
# most of a procedure (see measure_design).
SESSION_AGE_S = 3600.0


@dataclass(frozen=True)
class Design:
    name: str
    description: str
    interval_ms: int | None = None  # the window's timer; None: as the code says
    redraw_on_data: bool = False  # plot.min_frame_interval_s = 0: a frame whenever readings arrived
    wake_on_arrival: bool = False  # a tick as soon as the source has a reading (at most every 33 ms)
    as_before: bool = False  # the window before the waker: its own waker stopped, a frame per pixel or 1 s


DESIGNS: dict[str, Design] = {d.name: d for d in (
    Design("shipped", "as the code is: woken when a reading arrives (ui/waker.py, at most one tick per "
                      "33 ms), every new reading drawn; the REDRAW_INTERVAL_MS timer follows the clock"),
    Design("before", "the window before ui/waker.py: REDRAW_INTERVAL_MS timer only; plot redrawn for a pixel "
                     "of new line or once a second", as_before=True),
    Design("timer_33ms", "33 ms timer; plot redraw rule as shipped", interval_ms=33),
    Design("redraw_on_data", "shipped timer; plot redrawn whenever readings arrived", redraw_on_data=True),
    Design("timer_33ms_redraw_on_data", "33 ms timer; plot redrawn whenever readings arrived",
           interval_ms=33, redraw_on_data=True),
    Design("wake_on_arrival", "shipped timer, plus a tick as soon as the source has a reading (a thread in "
                              "source.wait_for_readings, queued Qt signal; at most one tick per 33 ms); plot "
                              "redrawn whenever readings arrived", redraw_on_data=True, wake_on_arrival=True),
    Design("wake_on_arrival_timer_250ms", "as wake_on_arrival, the timer (which now only follows the clock and "
                                          "notices silence) at 250 ms", interval_ms=250, redraw_on_data=True,
           wake_on_arrival=True),
    Design("wake_on_arrival_timer_500ms", "as wake_on_arrival, the timer at 500 ms", interval_ms=500,
           redraw_on_data=True, wake_on_arrival=True),
)}
# The designs a run_all run measures: the code as it is, and the window before the waker.
DEFAULT_DESIGNS = ("shipped", "before")


class _BenchClock:
    """The serial source's session clock (as :class:`monitor.clock.MonotonicClock`), its origin public:
    ``t0 + reading.session_s`` is the ``time.monotonic()`` at which the reading's bytes were read."""

    def __init__(self, age_s: float = 0.0) -> None:
        self.t0 = time.monotonic() - age_s
        self._wall0 = time.time()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def wall(self) -> float:
        return self._wall0 + self.now()


def probe_process(seed: int, device_id: str, usb_serial: str) -> None:
    """The virtual probe in its own process (its serving thread is not the app's CPU): prints how
    discovery lists it as one JSON line, serves until stdin closes."""
    from dataclasses import asdict

    from monitor.model import Limb
    from monitor.simulation.virtual_serial import VirtualSerialProbe

    probe = VirtualSerialProbe("success-slow", seed=seed, speed=1.0, rate_hz=RATE_HZ, blocked=Limb.LEFT,
                               device_id=device_id, usb_serial=usb_serial)
    probe.start()
    try:
        print(json.dumps(asdict(probe.port_info())), flush=True)
        sys.stdin.read()
    finally:
        probe.stop()


class _ProbeProcess:
    def __init__(self, seed: int, device_id: str, usb_serial: str) -> None:
        from monitor.sources.ports import PortInfo

        code = ("import sys; sys.path.insert(0, sys.argv[1]); from bench.bench_screen_latency import probe_process; "
                "probe_process(int(sys.argv[2]), sys.argv[3], sys.argv[4])")
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(seed), device_id, usb_serial],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            self.stop()
            raise RuntimeError("the virtual probe process did not start")
        self.info = PortInfo(**json.loads(line))

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5.0)


def _median(values: list[float]) -> float | None:
    import statistics

    return round(statistics.median(values), 2) if values else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _stats_ms(values_s: list[float]) -> dict:
    import numpy as np

    if not values_s:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    ms = np.asarray(values_s, float) * 1000.0
    return {"n": int(ms.size), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "max_ms": round(float(ms.max()), 2), "mean_ms": round(float(ms.mean()), 2)}


class _Waker:
    """Wake the window as soon as the source has a reading, from the GUI thread, at most every
    ``min_interval_s``: a thread blocks in ``source.wait_for_readings`` (public API) and emits a
    queued Qt signal; it waits again only once the window has pumped."""

    def __init__(self, window, min_interval_s: float = FRAME_30HZ_MS / 1000.0) -> None:
        from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

        class _Relay(QObject):
            arrived = pyqtSignal()

        self.window = window
        self.source = window.session.source
        self.min_interval_s = min_interval_s
        self.ticks = 0
        self._last_tick = 0.0
        self._pumped = threading.Event()
        self._pumped.set()
        self._stop = threading.Event()
        self._relay = _Relay()
        self._relay.arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)
        self._thread = threading.Thread(target=self._wait, name="bench-waker", daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        while not self._stop.is_set():
            if not self._pumped.wait(0.2):
                continue
            if self.source.wait_for_readings(0.2) and not self._stop.is_set():
                self._pumped.clear()
                self._relay.arrived.emit()

    def _on_arrived(self) -> None:
        wait = self._last_tick + self.min_interval_s - time.monotonic()
        if wait > 0:
            self._timer.start(max(1, int(wait * 1000.0 + 0.5)))  # a frame cap: no more than 30 ticks/s
        else:
            self._tick()

    def _tick(self) -> None:
        self._last_tick = time.monotonic()
        self.ticks += 1
        try:
            self.window.tick()
        finally:
            self._pumped.set()

    def stop(self) -> None:
        self._stop.set()
        self._pumped.set()
        self._timer.stop()
        self._thread.join(timeout=2.0)


def measure_design(design: Design, seconds: float, folder: Path, *, seed: int = 1,
                   session_age_s: float = 0.0) -> dict:
    """One design: a fresh probe, source, procedure and window; ``seconds`` of real time measured.

    ``session_age_s``: the session clock starts this far on, so the plot follows with its whole
    window width (40 minutes) as it does from 40 minutes into a procedure (a younger session's
    view is narrower: more pixels per second, more frames under the shipped pixel rule)."""
    import psutil
    from PyQt6.QtCore import QTimer

    import ui.main_window as main_window
    from monitor.model import Limb, SessionInfo
    from monitor.procedure import Procedure
    from monitor.sources.registry import DeviceRegistry
    from monitor.sources.serial import SerialSource
    from monitor.store import SessionStore
    from ui.application import get_application

    app = get_application()
    proc = psutil.Process()
    folder.mkdir(parents=True, exist_ok=True)
    registry = DeviceRegistry(folder / "devices.json")
    probe = _ProbeProcess(seed, f"BENCH-{design.name[:8]}", f"BENCH-{seed}-{design.name}")
    clock = _BenchClock(session_age_s)
    source = SerialSource(probe.info.device, clock=clock, registry=registry, discovery=lambda: [probe.info])
    info = SessionInfo(patient_id="BENCH-SCREEN", blocked=Limb.LEFT, simulated=True, notes="bench_screen_latency")
    store = SessionStore.create(info, folder / f"{design.name}.sympatherm", source_description=source.identity.name)
    procedure = Procedure(source, info, store, registry=registry)

    shipped_interval = main_window.REDRAW_INTERVAL_MS
    if design.interval_ms is not None:
        main_window.REDRAW_INTERVAL_MS = design.interval_ms  # read when the window makes its timer
    try:
        window = main_window.MainWindow(procedure, simulated=False, run_timer=True, persist_layout=False)
    finally:
        main_window.REDRAW_INTERVAL_MS = shipped_interval
    window.confirm_close = False
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    plot = window.plot
    if design.as_before or design.wake_on_arrival:
        window.waker.stop()  # the bench's designs replace the window's own waker
    if design.as_before:
        plot.min_frame_interval_s = 1.0
    if design.redraw_on_data:
        plot.min_frame_interval_s = 0.0

    counting_from = time.monotonic() + WARMUP_S
    # Readings handed to the window and not yet in a drawn frame / a painted frame / the tiles:
    # (t_arrival, t_window) each; results as lists of latencies (seconds).
    undrawn: list[tuple[float, float]] = []
    unpainted: list[float] = []
    unnumbered: list[float] = []
    lat = {"screen": [], "window": [], "painted": [], "number": []}
    counts = {"frames": 0, "ticks": 0, "paints": 0, "readings_seen": 0}
    cost: dict[str, list[float]] = {"tick_ms": [], "tick_cpu_ms": [], "paint_ms": []}

    measuring = [True]  # until the measured window ends (the readings of the last moments are not counted)

    def on_readings(points) -> None:  # connected after the window's own slot: the points are on the plot
        if not measuring[0]:
            return
        now = time.monotonic()
        for p in points.values():
            for t in p.t:
                arrival = clock.t0 + float(t)
                counts["readings_seen"] += 1
                if arrival < counting_from:
                    continue
                undrawn.append((arrival, now))
                unnumbered.append(arrival)
                lat["window"].append(now - arrival)

    procedure.events.readings.connect(on_readings)

    refresh = plot.refresh

    def timed_refresh(force: bool = False) -> bool:
        drawn = refresh(force)
        if drawn:
            now = time.monotonic()
            counts["frames"] += 1
            # Handed over without a repaint (on pixels the line already covered): on screen now.
            shown = getattr(plot, "readings_already_shown", False)
            for arrival, _ in undrawn:
                lat["screen"].append(now - arrival)
                if shown:
                    lat["painted"].append(now - arrival)
                else:
                    unpainted.append(arrival)
            undrawn.clear()
        return drawn

    plot.refresh = timed_refresh

    update_display = window.update_display

    def timed_update_display() -> None:
        update_display()
        now = time.monotonic()
        lat["number"].extend(now - a for a in unnumbered)
        unnumbered.clear()

    window.update_display = timed_update_display

    tick = window.tick

    def counted_tick() -> None:
        counts["ticks"] += 1
        c0, t0 = time.thread_time(), time.perf_counter()
        tick()
        if time.monotonic() >= counting_from:
            cost["tick_ms"].append((time.perf_counter() - t0) * 1000.0)
            cost["tick_cpu_ms"].append((time.thread_time() - c0) * 1000.0)

    # The QTimer's connection is to the bound method made at construction: connect the counted one.
    window.timer.timeout.disconnect()
    window.timer.timeout.connect(counted_tick)
    window.tick = counted_tick

    view = plot.widget
    paint = view.paintEvent

    def timed_paint(event) -> None:
        t0 = time.perf_counter()
        paint(event)
        now = time.monotonic()
        if now >= counting_from:
            cost["paint_ms"].append((time.perf_counter() - t0) * 1000.0)
        counts["paints"] += 1
        lat["painted"].extend(now - a for a in unpainted)
        unpainted.clear()

    view.paintEvent = timed_paint  # PyQt calls a Python override found on the instance

    waker = _Waker(window) if design.wake_on_arrival else None
    procedure.start()
    cpu: dict = {}

    def begin_counting() -> None:
        cpu["t0"] = time.monotonic()
        cpu["proc0"] = proc.cpu_times()
        cpu["sys0"] = psutil.cpu_times()

    def end() -> None:
        cpu["state"] = f"{source.state}: {source.reason}"
        measuring[0] = False
        cpu["t1"] = time.monotonic()
        cpu["proc1"] = proc.cpu_times()
        cpu["sys1"] = psutil.cpu_times()
        app.quit()

    QTimer.singleShot(int(WARMUP_S * 1000), begin_counting)
    QTimer.singleShot(int((WARMUP_S + seconds) * 1000), end)
    try:
        app.exec()
    finally:
        if waker is not None:
            waker.stop()
        window.timer.stop()
        window.flash_timer.stop()
        procedure.events.readings.disconnect(on_readings)
        window.finish("benchmark done")
        window.close()
        window.deleteLater()
        app.processEvents()
        probe.stop()
    wall = cpu["t1"] - cpu["t0"]
    p0, p1 = cpu["proc0"], cpu["proc1"]
    s0, s1 = cpu["sys0"], cpu["sys1"]
    sys_total = sum(s1) - sum(s0)
    sys_busy = sys_total - ((s1.idle - s0.idle) + (getattr(s1, "iowait", 0.0) - getattr(s0, "iowait", 0.0)))
    screen = _stats_ms(lat["screen"])
    return {
        "design": design.name,
        "description": design.description,
        "timer_interval_ms": design.interval_ms if design.interval_ms is not None else shipped_interval,
        "redraw_on_data": design.redraw_on_data,
        "wake_on_arrival": design.wake_on_arrival,
        "seconds_measured": round(wall, 1),
        "source_state": cpu.get("state"),
        "readings_per_s": round(screen["n"] / wall, 1) if wall > 0 else None,
        "readings_not_drawn_at_end": len(undrawn),
        "screen": screen,  # arrival → the refresh() that drew a frame with it (the headline)
        "window": _stats_ms(lat["window"]),  # arrival → handed to the window by a pump
        "painted": _stats_ms(lat["painted"]),  # arrival → the plot's next paint after that frame
        "number": _stats_ms(lat["number"]),  # arrival → the tiles' next update (numbers)
        "frames_per_s": round(counts["frames"] / (wall + WARMUP_S), 1),
        "ticks_per_s": round(counts["ticks"] / (wall + WARMUP_S), 1),
        "wake_ticks_per_s": round(waker.ticks / (wall + WARMUP_S), 1) if waker is not None else None,
        "plot_paints_per_s": round(counts["paints"] / (wall + WARMUP_S), 1),
        # What a tick costs the GUI thread (pump, tiles, plot refresh; with and without a frame) and
        # what a paint of the plot costs Qt: the frame cost at this cadence.
        "tick_ms_median": _median(cost["tick_ms"]),
        "tick_ms_mean": _mean(cost["tick_ms"]),
        "tick_cpu_ms_mean": _mean(cost["tick_cpu_ms"]),
        "plot_paint_ms_median": _median(cost["paint_ms"]),
        "gui_thread_ms_per_s": round((sum(cost["tick_ms"]) + sum(cost["paint_ms"])) / wall, 1) if wall > 0 else None,
        "session_age_s": session_age_s,
        "cpu_percent_of_one_core": round(100.0 * ((p1.user - p0.user) + (p1.system - p0.system)) / wall, 1),
        "machine_cpu_busy_percent": round(100.0 * sys_busy / sys_total, 1) if sys_total > 0 else None,
        "meets_goal": screen["p99_ms"] is not None and screen["p99_ms"] <= GOAL_P99_MS,
    }


def worker(seconds: float, designs: list[str], session_age_s: float = SESSION_AGE_S) -> dict:
    """In this process (offscreen): each design in turn, each in a fresh window and session."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="sympatherm-bench-screen-") as tmp:
        os.environ["SYMPATHERM_HOME"] = tmp
        results = {name: measure_design(DESIGNS[name], seconds, Path(tmp) / name,
                                           session_age_s=session_age_s) for name in designs}
    load1, load5, _ = os.getloadavg()
    return {"designs": results, "load_average_1_5_min": [round(load1, 2), round(load5, 2)],
            "cpus": os.cpu_count()}


def run(seconds: float = DEFAULT_SECONDS, designs: tuple[str, ...] | list[str] = DEFAULT_DESIGNS,
        session_age_s: float = SESSION_AGE_S) -> dict:
    """Screen-latency figures for ``designs`` (``seconds`` of real time each), as a dict."""
    unknown = [d for d in designs if d not in DESIGNS]
    if unknown:
        raise ValueError(f"unknown designs {unknown}; choose from {list(DESIGNS)}")
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from bench.bench_screen_latency import worker; "
            "print(json.dumps(worker(float(sys.argv[2]), sys.argv[4:], float(sys.argv[3]))))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), str(seconds), str(session_age_s), *designs], cwd=ROOT,
                         capture_output=True, text=True, check=False,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    if out.returncode != 0:
        raise RuntimeError(f"screen-latency worker failed:\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    per = figures["designs"]
    base = per.get("shipped", {}).get("screen", {}).get("p99_ms")
    for d in per.values():
        p99 = d["screen"]["p99_ms"]
        d["p99_ratio_to_shipped"] = round(p99 / base, 3) if base and p99 is not None else None
    headline = per.get("shipped") or next(iter(per.values()))
    figures.update({
        "readings": headline["screen"]["n"],
        "p50_ms": headline["screen"]["p50_ms"],
        "p95_ms": headline["screen"]["p95_ms"],
        "p99_ms": headline["screen"]["p99_ms"],
        "max_ms": headline["screen"]["max_ms"],
        "cpu_percent_of_one_core": headline["cpu_percent_of_one_core"],
        "seconds_per_design": seconds,
        "session_age_s": session_age_s,
        "rate_hz_per_foot": RATE_HZ,
        "goal_p99_ms": GOAL_P99_MS,
        "meets_goal": headline["meets_goal"],
        "designs_meeting_goal": [name for name, d in per.items() if d["meets_goal"]],
    })
    return figures


def _line(d: dict) -> str:
    s, p, n = d["screen"], d["painted"], d["number"]
    ratio = f"{d['p99_ratio_to_shipped']:g}× shipped" if d.get("p99_ratio_to_shipped") is not None else "–"
    return (f"{d['design']:<27} n {s['n']:>5}  p50 {s['p50_ms']:>7.1f}  p95 {s['p95_ms']:>7.1f}  "
            f"p99 {s['p99_ms']:>7.1f}  max {s['max_ms']:>7.1f} ms ({ratio}; "
            f"{'meets' if d['meets_goal'] else 'misses'} p99 ≤ {GOAL_P99_MS:g} ms)\n"
            f"{'':<27} painted p50/p99 {p['p50_ms']:.1f}/{p['p99_ms']:.1f} ms; number on the tile p50/p99 "
            f"{n['p50_ms']:.1f}/{n['p99_ms']:.1f} ms; {d['frames_per_s']:g} frames/s, {d['ticks_per_s']:g} ticks/s, "
            f"CPU {d['cpu_percent_of_one_core']:.1f} % of one core (machine {d['machine_cpu_busy_percent']} % busy)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s per design instead of "
                                                          f"{DEFAULT_SECONDS:g} s")
    ap.add_argument("--seconds", type=float, default=None, help="real seconds measured per design")
    ap.add_argument("--session-age", type=float, default=SESSION_AGE_S,
                    help=f"session seconds already gone when the probe starts (default {SESSION_AGE_S:g})")
    ap.add_argument("--designs", nargs="*", default=list(DEFAULT_DESIGNS),
                    help=f"designs to measure, or 'all' ({', '.join(DESIGNS)})")
    args = ap.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (QUICK_SECONDS if args.quick else DEFAULT_SECONDS)
    designs = list(DESIGNS) if args.designs == ["all"] else args.designs
    f = run(seconds, designs, args.session_age)
    if args.json:
        print(json.dumps(f, indent=2))
    else:
        print(f"reading's bytes at the serial source → drawn on the live plot, {RATE_HZ:g} Hz per foot, "
              f"{seconds:g} s of real time per design; load average {f['load_average_1_5_min']} on {f['cpus']} CPUs")
        for d in f["designs"].values():
            print(_line(d))
    return 0 if f["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
