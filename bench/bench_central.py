"""The central station under load: 32 simulated stations at 1 Hz, with markers and alarms, into one
central through a real local Mosquitto (TLS, a password per station, the ACL).

Processes, all on this machine:

* the broker: Debian's ``mosquitto``, configured as the tests' (tests/support/mosquitto.py: two TLS
  listeners, ``persistence true``), with a user per room and an ACL as docs/mqtt/acl's (each room
  writes only under its own topic, the central only reads);
* two station workers, 16 stations each: per room a real :class:`~monitor.procedure.Procedure`
  on the simulated patient (1 reading per foot per second, half of them the ``dropout`` scenario
  whose probe drop-outs raise and end alarms, the others ``success-fast``), each with its session
  file and a real :class:`~monitor.publish.station.StationPublisher`; each station is pumped as its
  reading comes due (session seconds in real time, the 32 stations' seconds staggered across the
  second, as independent rooms would be), and every 20 s one places a note marker;
* the central: the real :class:`~ui.central.window.CentralWindow` offscreen (1600 × 1000) on a real
  :class:`~monitor.central.CentralConnection`, driven at 10 Hz as its timer does.

Measured in the central, over ``seconds`` once all 32 rooms are live:

* latency, a station's reading → the central's model: ``time.time()`` when the model applied a
  readings message minus that message's ``wall_time`` (the wall time of the session second it
  carries, on the station's clock: the same computer here). p50 / p99, goal p99 ≤ 500 ms;
* frame time: one 10 Hz tick (``model.pump`` of what came, the changed tiles redrawn) and Qt
  painting it (``processEvents``); median, goal ≤ 10 ms;
* CPU of the central's whole process (its GUI thread, paho's network thread) by process time over
  the measured wall time, % of one core; goal ≤ 10 %.

And, on its own afterwards: the extra CPU publishing costs a station. One station process, a
probe at 10 readings per foot per second pumped at 10 Hz (as the live window does), for
``station_seconds`` with publishing and without, twice each alternately; the process time of the
loop (not the start-up) with minus without, % of one core; goal ≤ 0.5 %.

The machine has 2 cores, shared with whatever else runs (other jobs, the broker, the stations):
the figures include that contention; CPU is process time, not wall time.

    .venv/bin/python -m bench.bench_central            # about 2½ minutes
    .venv/bin/python -m bench.bench_central --quick    # about 1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STATIONS = 32
WORKERS = 2
SITE = "clinic"
GOAL_P99_MS = 500.0
GOAL_FRAME_MS = 10.0
GOAL_CENTRAL_CPU = 10.0
GOAL_STATION_CPU = 0.5
MARKER_EVERY_S = 20.0
FRAME_S = 0.1


def room_name(i: int) -> str:
    return f"room-{i + 1:02d}"


def password(room: str) -> str:
    return f"bench-{room}"


# ---- the broker -------------------------------------------------------------------------------------
def make_broker(folder: Path):
    """The tests' Mosquitto set-up with a user per room (and the central) and a pattern ACL."""
    from tests.support.mosquitto import Broker, make_certs, mosquitto_paths

    class BenchBroker(Broker):
        def prepare(self) -> None:
            _, passwd = mosquitto_paths()
            (self.folder / "persist").mkdir(parents=True, exist_ok=True)
            rooms = [room_name(i) for i in range(STATIONS)]
            (self.folder / "acl").write_text(  # as docs/mqtt/acl: a block per room, the central read-only
                f"user central\ntopic read sympatherm/v1/{SITE}/#\n\n"
                + "".join(f"user {r}\ntopic write sympatherm/v1/{SITE}/{r}/#\n\n" for r in rooms))
            users = {room_name(i): password(room_name(i)) for i in range(STATIONS)} | {"central": "bench-central"}
            pw = self.folder / "passwd"
            pw.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
            subprocess.run([passwd, "-U", str(pw)], check=True, capture_output=True, timeout=120)
            (self.folder / "mosquitto.conf").write_text(self.config_text())
            for f in ("acl", "passwd", "mosquitto.conf"):
                os.chmod(self.folder / f, 0o600)

    certs = make_certs(folder / "certs", clients=())
    broker = BenchBroker(folder / "broker", certs)
    broker.prepare()
    return broker.start()


# ---- a station worker ---------------------------------------------------------------------------------
class _Station:
    def __init__(self, index: int, url: str, ca: str, folder: Path) -> None:
        from monitor.clock import SimulatedClock
        from monitor.model import Limb, SessionInfo
        from monitor.procedure import Procedure
        from monitor.publish.config import PublishConfig
        from monitor.publish.station import StationPublisher
        from monitor.simulation.source import SimulatedSource
        from monitor.store import SessionStore

        room = room_name(index)
        dropout = index % 2 == 0
        blocked = Limb.LEFT if index % 4 < 2 else Limb.RIGHT
        # The dropout patient from just before its first drop-out, so its alarms come within the run.
        self.source = SimulatedSource("dropout" if dropout else "success-fast", seed=index + 1, blocked=blocked,
                                      clock=SimulatedClock(manual=True), rate_hz=1.0,
                                      start_at_s=630.0 if dropout else 0.0)
        info = SessionInfo(blocked=blocked, simulated=True)
        self.procedure = Procedure(self.source, info, SessionStore.create(info, folder / f"{room}.sympatherm"))
        if self.source.suggested_injection_s > 0:
            self.procedure.schedule_injection(self.source.suggested_injection_s)
        config = PublishConfig(broker=url, room=room, site=SITE, bed=str(index + 1), username=room,
                               password=password(room), ca_file=ca)
        self.publisher = StationPublisher(config).attach(self.procedure).start()
        self.next_s = 1.0
        self.next_marker_s = MARKER_EVERY_S * (1 + index / STATIONS)
        self.t0 = 0.0

    def start(self) -> None:
        self.procedure.start()
        # Session time 0 on this process's monotonic clock, from the wall time the station's readings
        # carry (Procedure.wall_at), so each reading is pumped when its wall time comes.
        wall0 = self.procedure.wall_at(0.0)
        self.t0 = time.monotonic() - (time.time() - wall0)

    def due(self) -> float:
        return self.t0 + self.next_s

    def step(self) -> None:
        from monitor.model import MarkerKind

        self.source.step_to(self.next_s)
        self.procedure.pump()
        if self.next_s >= self.next_marker_s:
            self.procedure.add_marker(MarkerKind.NOTE, self.next_s, "bench note")
            self.next_marker_s += MARKER_EVERY_S
        self.publisher.tick()
        self.next_s += 1.0


def station_worker(first: int, count: int, url: str, ca: str, seconds: float) -> dict:
    """``count`` stations from ``first``, each pumped as its readings come due, for ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="sympatherm-bench-stations-") as tmp:
        stations = []
        for i in range(first, first + count):
            stations.append(_Station(i, url, ca, Path(tmp)))
        # Staggered: the 32 rooms' seconds fall evenly across the second (worker w starts w/32 s late).
        time.sleep(first // max(1, count) / STATIONS)
        for st in stations:
            target = time.monotonic() + 1.0 / count
            st.start()
            time.sleep(max(0.0, target - time.monotonic()))
        end = time.monotonic() + seconds
        late: list[float] = []  # how far behind its reading's time each station was pumped
        while time.monotonic() < end:
            st = min(stations, key=_Station.due)
            wait = st.due() - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if st.next_s > 3.0:  # past the staggered start
                late.append((time.monotonic() - st.due()) * 1000.0)
            st.step()
        acked: dict[str, int] = {}
        for st in stations:
            st.procedure.finish("benchmark over")
            st.publisher.close()
            for kind, n in st.publisher.acked.items():
                acked[str(kind)] = acked.get(str(kind), 0) + n
        late.sort()
        return {"stations": count, "acked": acked, "pumped_late_p50_ms": _pct(late, 50),
                "pumped_late_p99_ms": _pct(late, 99)}


# ---- the central ------------------------------------------------------------------------------------
def central_worker(port: int, ca: str, seconds: float, warmup_timeout_s: float = 60.0) -> dict:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PyQt6.QtWidgets import QApplication

    from monitor.central import BrokerSettings, CentralConnection, CentralModel, Communication
    from monitor.publish.messages import posix_of
    from ui.application import get_application
    from ui.central.window import CentralWindow

    app = get_application()
    # Wall time for both (one clock): a message's arrival at the central can be set beside its wall_time.
    model = CentralModel(time.time)
    settings = BrokerSettings("localhost", port, ca_file=Path(ca), username="central", password="bench-central",
                              client_id="bench-central")
    connection = CentralConnection(settings, clock=time.time)
    window = CentralWindow(model, connection, run_timer=False)
    window.resize(1600, 1000)
    window.show()
    connection.start()
    latencies: list[float] = []
    arrivals: list[float] = []  # the reading's wall time → its arrival on the central's network thread
    measuring = [False]

    def on_readings(item) -> None:
        if measuring[0]:
            room, readings = item
            taken = posix_of(readings.wall_time)
            latencies.append((time.time() - taken) * 1000.0)
            if room.heard_s is not None:
                arrivals.append((room.heard_s - taken) * 1000.0)

    model.events.readings.connect(on_readings)

    def frame() -> float:
        t0 = time.perf_counter()
        window.tick()
        QApplication.processEvents()
        return (time.perf_counter() - t0) * 1000.0

    def all_live() -> bool:
        return (len(model.rooms) >= STATIONS
                and all(r.communication is Communication.LIVE and r.readings is not None for r in model.rooms.values()))

    deadline = time.monotonic() + warmup_timeout_s
    while time.monotonic() < deadline and not all_live():
        frame()
        time.sleep(FRAME_S)
    live_at_start = sum(r.communication is Communication.LIVE for r in model.rooms.values())
    for _ in range(20):  # a few more seconds: every tile drawn once with its values
        frame()
        time.sleep(FRAME_S)
    applied0 = model.messages_applied
    measuring[0] = True
    frames: list[float] = []
    no_comm_seen = 0
    cpu0, wall0 = time.process_time(), time.monotonic()
    next_frame = wall0
    while time.monotonic() - wall0 < seconds:
        frames.append(frame())
        no_comm_seen += sum(r.communication is Communication.NO_COMMUNICATION for r in model.rooms.values())
        next_frame += FRAME_S
        time.sleep(max(0.0, next_frame - time.monotonic()))
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    measuring[0] = False
    applied = model.messages_applied - applied0
    # one room opened: the 60-minute view's frame, for context
    window.open_room(sorted(model.rooms)[0])
    room_frames = []
    for _ in range(30):
        room_frames.append(frame())
        time.sleep(FRAME_S)
    rooms = list(model.rooms.values())
    window.stop()
    window.close()
    del app
    lat = sorted(latencies)
    return {
        "rooms_heard": len(rooms), "rooms_live_at_start": live_at_start,
        "readings_measured": len(lat),
        "latency_p50_ms": _pct(lat, 50), "latency_p99_ms": _pct(lat, 99), "latency_max_ms": lat[-1] if lat else None,
        "arrival_p50_ms": _pct(sorted(arrivals), 50), "arrival_p99_ms": _pct(sorted(arrivals), 99),
        "frames": len(frames), "frame_median_ms": statistics.median(frames), "frame_p95_ms": _pct(sorted(frames), 95),
        "room_view_frame_median_ms": statistics.median(room_frames),
        "central_cpu_percent_of_one_core": 100.0 * cpu / wall,
        "messages_applied_per_s": applied / wall,
        "no_communication_room_frames": no_comm_seen,
        "not_understood": model.not_understood_total(),
        "lost_event_messages": sum(r.lost_events for r in rooms),
        "readings_missed": sum(r.readings_missed for r in rooms),
        "alarm_messages": sum(r.received[k].seq for r in rooms for k in r.received if str(k) == "alarms"),
        "marker_messages": sum(r.received[k].seq for r in rooms for k in r.received if str(k) == "markers"),
    }


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


# ---- a station's cost of publishing -------------------------------------------------------------------
def station_cost_worker(url: str, ca: str, seconds: float, publish: bool) -> dict:
    """One station at 10 readings per foot per second, pumped at 10 Hz: the loop's process time."""
    from monitor.clock import SimulatedClock
    from monitor.model import Limb, SessionInfo
    from monitor.procedure import Procedure
    from monitor.publish.config import PublishConfig
    from monitor.publish.station import StationPublisher
    from monitor.simulation.source import SimulatedSource
    from monitor.store import SessionStore

    with tempfile.TemporaryDirectory(prefix="sympatherm-bench-station-") as tmp:
        source = SimulatedSource("dropout", seed=7, blocked=Limb.LEFT, clock=SimulatedClock(manual=True),
                                 rate_hz=10.0, start_at_s=630.0)
        info = SessionInfo(blocked=Limb.LEFT, simulated=True)
        procedure = Procedure(source, info, SessionStore.create(info, Path(tmp) / "s.sympatherm"))
        publisher = None
        if publish:
            config = PublishConfig(broker=url, room=room_name(0), site=SITE, username=room_name(0),
                                   password=password(room_name(0)), ca_file=ca)
            publisher = StationPublisher(config).attach(procedure).start()
        procedure.start()
        t0 = time.monotonic()
        warm = t0 + 2.0  # connected, caches warm
        cpu0 = wall0 = None
        step = 0
        while True:
            now = time.monotonic()
            if cpu0 is None and now >= warm:
                cpu0, wall0 = time.process_time(), now
                threads_cpu0 = _publisher_threads_cpu(publisher) if publisher is not None else 0.0
            if wall0 is not None and now - wall0 >= seconds:
                break
            step += 1
            source.step_to(step * 0.1)
            procedure.pump()
            if publisher is not None:
                publisher.tick()
            time.sleep(max(0.0, t0 + step * 0.1 - time.monotonic()))
        cpu, wall = time.process_time() - (cpu0 or 0.0), time.monotonic() - (wall0 or 0.0)
        threads_cpu = _publisher_threads_cpu(publisher) - threads_cpu0 if publisher is not None else 0.0
        acked = dict(publisher.acked) if publisher is not None else {}
        procedure.finish("benchmark over")
        if publisher is not None:
            publisher.close()
        return {"cpu_s": cpu, "wall_s": wall, "cpu_percent": 100.0 * cpu / wall,
                "publisher_threads_cpu_percent": 100.0 * threads_cpu / wall,
                "publisher_threads_found": _publisher_threads_found(publisher) if publisher is not None else 0,
                "acked": {str(k): v for k, v in acked.items()}}


def _publisher_thread_ids(publisher) -> set[int]:
    return {t.native_id for t in (publisher._sender, getattr(publisher._client, "_thread", None))
            if t is not None and t.native_id is not None}


def _publisher_threads_found(publisher) -> int:
    import psutil

    ids = _publisher_thread_ids(publisher)
    return sum(t.id in ids for t in psutil.Process().threads())


def _publisher_threads_cpu(publisher) -> float:
    """CPU seconds of the publisher's own threads (its sender and paho's network thread; the
    kernel counts them in 10 ms ticks)."""
    import psutil

    ids = _publisher_thread_ids(publisher)
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in ids)


# ---- the whole run -----------------------------------------------------------------------------------
def _spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "bench.bench_central", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen[str], timeout_s: float) -> dict:
    out, err = process.communicate(timeout=timeout_s)
    if process.returncode != 0:
        raise RuntimeError(f"bench worker failed ({process.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def run(seconds: float = 60.0, station_seconds: float = 20.0, repeats: int = 2) -> dict:
    with tempfile.TemporaryDirectory(prefix="sympatherm-bench-central-") as tmp:
        broker = make_broker(Path(tmp))
        try:
            load0 = os.getloadavg()
            central = _spawn("central", str(broker.port), broker.ca_file, str(seconds))
            per = STATIONS // WORKERS
            # The stations run through the central's warm-up and measurement, and a little past it.
            station_run_s = seconds + 45.0
            workers = [_spawn("stations", str(w * per), str(per), broker.url, broker.ca_file, str(station_run_s))
                       for w in range(WORKERS)]
            c = _result(central, seconds + 180)
            s = [_result(w, station_run_s + 120) for w in workers]
            costs: dict[bool, list[dict]] = {False: [], True: []}
            for _ in range(repeats):
                for publish in (False, True):
                    costs[publish].append(_result(_spawn("station-cost", broker.url, broker.ca_file,
                                                         str(station_seconds), "1" if publish else "0"),
                                                  station_seconds + 120))
        finally:
            broker.stop()
    off = statistics.median(r["cpu_percent"] for r in costs[False])
    on = statistics.median(r["cpu_percent"] for r in costs[True])
    extra = on - off
    threads = statistics.median(r["publisher_threads_cpu_percent"] for r in costs[True])
    figures = {
        "stations": STATIONS, "seconds_measured": seconds, **c,
        "station_workers": s,
        "station_cpu_percent_without_publishing": off, "station_cpu_percent_with_publishing": on,
        "station_publishing_extra_cpu_percent": extra, "station_cost_runs": costs,
        "station_publisher_threads_cpu_percent": threads,
        "station_seconds": station_seconds, "cpus": os.cpu_count(), "load_average_before": load0,
        "load_average_after": os.getloadavg(),
        "goals": {"latency_p99_ms": GOAL_P99_MS, "frame_median_ms": GOAL_FRAME_MS,
                  "central_cpu_percent": GOAL_CENTRAL_CPU, "station_extra_cpu_percent": GOAL_STATION_CPU},
    }
    figures["meets_goals"] = {
        "latency": c["latency_p99_ms"] is not None and c["latency_p99_ms"] <= GOAL_P99_MS,
        "frame": c["frame_median_ms"] <= GOAL_FRAME_MS,
        "central_cpu": c["central_cpu_percent_of_one_core"] <= GOAL_CENTRAL_CPU,
        "station_cpu": extra <= GOAL_STATION_CPU,
    }
    return figures


def table(f: dict) -> str:
    mark = {True: "yes", False: "**no**"}
    m = f["meets_goals"]
    rows = [
        ("latency, a station's reading → the central's model, p50 / p99 "
         f"({f['readings_measured']} readings, {f['stations']} stations)",
         f"{f['latency_p50_ms']:.0f} / {f['latency_p99_ms']:.0f} ms", f"p99 ≤ {GOAL_P99_MS:g} ms", m["latency"]),
        (f"central frame time, {f['rooms_heard']} room tiles at 1 Hz (median / p95)",
         f"{f['frame_median_ms']:.1f} / {f['frame_p95_ms']:.1f} ms", f"median ≤ {GOAL_FRAME_MS:g} ms", m["frame"]),
        ("central CPU (whole process, process time)", f"{f['central_cpu_percent_of_one_core']:.1f} % of one core",
         f"≤ {GOAL_CENTRAL_CPU:g} %", m["central_cpu"]),
        ("extra CPU publishing costs a station (10 Hz probe, with − without)",
         f"{f['station_publishing_extra_cpu_percent']:.2f} % of one core "
         f"({f['station_cpu_percent_with_publishing']:.2f} − {f['station_cpu_percent_without_publishing']:.2f}; "
         f"its sender and network threads alone {f['station_publisher_threads_cpu_percent']:.2f})",
         f"≤ {GOAL_STATION_CPU:g} %", m["station_cpu"]),
    ]
    lines = ["| measure | result | goal | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {g} | {mark[ok]} |" for a, b, g, ok in rows]
    lines.append("")
    lines.append(f"{f['messages_applied_per_s']:.0f} messages/s into the central; {f['alarm_messages']} alarm and "
                 f"{f['marker_messages']} marker messages; lost event messages {f['lost_event_messages']}, readings "
                 f"missed {f['readings_missed']}, not understood {f['not_understood']}, NO COMMUNICATION tile-frames "
                 f"{f['no_communication_room_frames']}; the room view's frame {f['room_view_frame_median_ms']:.1f} ms. "
                 f"{f['cpus']} CPUs shared with the broker, the {f['stations']} stations and other jobs (load average "
                 f"{f['load_average_before'][0]:.2f} before, {f['load_average_after'][0]:.2f} after).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("role", nargs="?", default="all", choices=["all", "central", "stations", "station-cost"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--quick", action="store_true", help="20 s measured, 8 s per station run, one repeat")
    ns = ap.parse_args(argv)
    a = ns.args
    if ns.role == "central":
        print(json.dumps(central_worker(int(a[0]), a[1], float(a[2]))))
    elif ns.role == "stations":
        print(json.dumps(station_worker(int(a[0]), int(a[1]), a[2], a[3], float(a[4]))))
    elif ns.role == "station-cost":
        print(json.dumps(station_cost_worker(a[0], a[1], float(a[2]), a[3] == "1")))
    else:
        figures = run(20.0, 8.0, 1) if ns.quick else run()
        print(json.dumps({k: v for k, v in figures.items() if k != "station_cost_runs"}, indent=1, default=str))
        print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
