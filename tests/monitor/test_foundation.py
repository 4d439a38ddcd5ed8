"""The data model, the session clock and the command line skeleton."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from monitor.clock import SimulatedClock
from monitor.model import Limb, ProbeStatus, Reading, SessionInfo
from monitor.simulation.physiology import SCENARIOS, PatientModel


def test_limb_parse_and_other():
    assert Limb.parse("L") is Limb.LEFT
    assert Limb.parse(" Right ") is Limb.RIGHT
    assert Limb.LEFT.other is Limb.RIGHT
    with pytest.raises(ValueError, match="left' or 'right"):
        Limb.parse("middle")


def test_reading_turns_non_finite_into_none():
    r = Reading(Limb.LEFT, float("nan"), ProbeStatus.OPEN_CIRCUIT, 1.0, 0.0)
    assert r.celsius is None and not r.has_temperature


def test_session_info_round_trips_through_a_dict():
    info = SessionInfo(patient_id="P-1", blocked=Limb.RIGHT, operator="Dr A", core_c=36.9)
    assert SessionInfo.from_dict(info.to_dict()) == info


def test_simulated_clock_runs_at_speed_and_can_be_stepped():
    clock = SimulatedClock(speed=10.0, manual=True)
    clock.advance(12.5)
    assert clock.now() == 12.5
    with pytest.raises(ValueError):
        SimulatedClock(speed=0)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_is_physiological(name):
    m = PatientModel.from_scenario(name, seed=3, blocked="left")
    t = np.arange(0.0, m.injection_s + 3000.0, 1.0)
    for limb in Limb:
        truth = m.truth(limb, t)
        assert truth.min() >= 22.5 and truth.max() <= 35.5
        # Skin never warms faster than ~2.5 °C/min once settled.
        settled = t > 300
        assert np.max(np.diff(truth[settled])) * 60 < 2.6
    rise = m.skin(Limb.LEFT, t[-1]) - m.skin(Limb.LEFT, m.injection_s)
    if SCENARIOS[name].block_succeeds:
        assert rise > 1.5
    elif not SCENARIOS[name].systemic_warming:
        assert rise < 1.0


def test_model_is_reproducible_for_a_seed():
    a = PatientModel.from_scenario("success-fast", seed=5)
    b = PatientModel.from_scenario("success-fast", seed=5)
    assert [a.measure(Limb.LEFT, float(t)) for t in range(0, 900, 30)] == \
        [b.measure(Limb.LEFT, float(t)) for t in range(0, 900, 30)]


def test_cli_help_and_version():
    out = subprocess.run([sys.executable, "-m", "monitor.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "not a certified medical device" in " ".join(out.stdout.split())
    out = subprocess.run([sys.executable, "-m", "monitor.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("sympatherm ")


def test_the_benchmark_command_writes_its_table_and_never_overwrites_the_published_one(tmp_path, monkeypatch):
    """`tools/bench` machinery on one quick benchmark: JSON and Markdown written where asked; a
    partial run (--quick / --only) goes to a temporary folder by default, not over docs/."""
    import json

    from bench import run_all

    published = {p: p.read_bytes() for p in run_all.DOCS.glob("benchmarks.*")}
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    (tmp_path / "tmp").mkdir()
    run_all.main(["--quick", "--only", "bench_decode"])  # exit status depends on the machine's load
    out = tmp_path / "tmp" / "sympatherm-bench"
    data = json.loads((out / "benchmarks.json").read_text())
    assert data["meta"]["command"] == "tools/bench --quick --only bench_decode"
    assert "frames" in " ".join(r["measure"] for r in data["table"])
    assert "error" not in data["figures"]["bench_decode"]
    assert "| measure | result | goal | baseline ratio | met |" in (out / "benchmarks.md").read_text()
    assert {p: p.read_bytes() for p in run_all.DOCS.glob("benchmarks.*")} == published


# ---- tools/bootstrap.sh: missing Qt system libraries are installed (root) or named (others) ----------
_QT_LIBS = ("libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 libxkbcommon-x11.so.0 "
            "libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-image.so.0 libxcb-render-util.so.0 libxcb-cursor.so.0 "
            "libxcb-shape.so.0 libxcb-xinerama.so.0 libxcb-randr.so.0 libglib-2.0.so.0").split()


def _run_bootstrap(tmp_path, *, missing: tuple[str, ...], uid: int):
    """tools/bootstrap.sh in a scratch checkout whose .venv is already installed, with a fake linker
    cache lacking ``missing``, a fake ``id`` and a fake ``apt-get`` that only records its arguments."""
    import hashlib
    import os
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    checkout = tmp_path / "checkout"
    (checkout / "tools").mkdir(parents=True)
    shutil.copy(root / "tools" / "bootstrap.sh", checkout / "tools" / "bootstrap.sh")
    (checkout / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    venv_bin = checkout / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text("#!/bin/sh\nexit 0\n")
    (venv_bin / "python").chmod(0o755)
    stamp = hashlib.sha256((checkout / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (checkout / ".venv" / ".sympatherm-installed").write_text(stamp + "\n")
    fake = tmp_path / "fakebin"
    fake.mkdir()
    cache = "\n".join(f"\t{lib} (libc6,x86-64) => /usr/lib/{lib}" for lib in _QT_LIBS if lib not in missing)
    scripts = {
        "ldconfig": f"#!/bin/sh\ncat <<'END'\n{len(_QT_LIBS)} libs found in cache\n{cache}\nEND\n",
        "id": f"#!/bin/sh\necho {uid}\n",
        "apt-get": f"#!/bin/sh\necho \"$@\" >> {tmp_path}/apt-get.log\n",
    }
    for name, text in scripts.items():
        (fake / name).write_text(text)
        (fake / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "PYTHON": sys.executable}
    done = subprocess.run(["bash", "-c", f"source {checkout}/tools/bootstrap.sh && echo BOOTSTRAPPED"],
                          capture_output=True, text=True, env=env, timeout=60)
    log = tmp_path / "apt-get.log"
    return done, (log.read_text() if log.exists() else "")


def test_bootstrap_names_the_exact_apt_get_command_for_missing_qt_libraries(tmp_path):
    done, apt = _run_bootstrap(tmp_path, missing=("libxcb-icccm.so.4", "libxcb-keysyms.so.1"), uid=1000)
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0 and "BOOTSTRAPPED" in done.stdout, "xcb parts only matter on a display: go on"
    assert apt == "", "never installs anything without root"


def test_bootstrap_stops_when_offscreen_qt_cannot_run(tmp_path):
    done, apt = _run_bootstrap(tmp_path, missing=("libEGL.so.1",), uid=1000)
    assert done.returncode == 1 and "BOOTSTRAPPED" not in done.stdout
    assert "sudo apt-get install -y libegl1" in done.stdout
    assert apt == ""


def test_bootstrap_installs_missing_libraries_itself_when_run_as_root(tmp_path):
    done, apt = _run_bootstrap(tmp_path, missing=("libEGL.so.1", "libxcb-cursor.so.0"), uid=0)
    assert done.returncode == 0 and "BOOTSTRAPPED" in done.stdout, done.stdout + done.stderr
    assert "Installing system libraries: libegl1 libxcb-cursor0" in done.stdout
    assert "update -qq" in apt and "install -y -qq libegl1 libxcb-cursor0" in apt


def test_a_probe_source_written_as_the_readme_says_works_downstream_unchanged(tmp_path):
    """The README's recipe for a new probe source, followed literally: a worker thread that emits
    readings and connection states; the recorder, pipeline and session file need nothing else."""
    from monitor.clock import MonotonicClock
    from monitor.model import ConnectionState, ProbeStatus
    from monitor.pipeline import BlockPipeline
    from monitor.procedure.recorder import SessionRecorder
    from monitor.sources.base import DeviceIdentity, ProbeSource
    from monitor.store import SessionStore

    class CountingProbe(ProbeSource):
        """Sends 40 readings of each foot as fast as it can; says the link is lost when told to."""

        def __init__(self) -> None:
            super().__init__(MonotonicClock())
            self.pull_the_cable = threading.Event()

        @property
        def identity(self) -> DeviceIdentity:
            return DeviceIdentity("test", "counting probe", device_id="CP-1")

        def _start(self) -> None:
            self._start_worker(self._loop, "counting-probe")

        def _stop(self) -> None:
            self._stop_worker()

        def _loop(self) -> None:
            self._set_state(ConnectionState.STREAMING, "streaming from the counting probe")
            for i in range(40):
                if self._stop_event.is_set():
                    return
                for limb in Limb:
                    self._emit(Reading(limb, 30.0 + i / 100, ProbeStatus.OK, self.clock.now(), self.clock.wall(),
                                       sequence=i, source=self.identity.key))
            self.pull_the_cable.wait()
            self._set_state(ConnectionState.LOST, "the counting probe stopped counting")

    source = CountingProbe()
    store = SessionStore.create(SessionInfo(patient_id="NEW-SRC", blocked=Limb.LEFT), tmp_path / "new.sympatherm")
    recorder = SessionRecorder(source, store, BlockPipeline(Limb.LEFT), commit_interval_s=0.0)
    source.start()
    def pump_until(condition) -> None:  # waits on the source's own signal, not on the clock
        for _ in range(2000):
            recorder.pump()
            if condition():
                return
            source.wait_for_readings(0.05)
        raise AssertionError("the source never got there")

    pump_until(lambda: recorder.readings_received == 80)
    source.pull_the_cable.set()
    pump_until(lambda: source.state is ConnectionState.LOST)
    recorder.finish()
    with SessionStore.open_read_only(store.path) as reader:
        readings = reader.readings()
        gaps = reader.events("connection_gap")
        devices = [d.key for d in reader.devices()]
    assert [(r.limb, r.sequence) for r in readings] == [(limb, i) for i in range(40) for limb in Limb]
    assert devices == ["test:CP-1"]
    assert gaps and "stopped counting" in gaps[0].message
