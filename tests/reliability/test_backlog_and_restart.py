"""A resent backlog is stored once; a restarted probe is recognised again; the line's health is kept.

Real pseudo-terminals, the real SerialSource, the real procedure core and a real session file;
the exported CSV is counted. The scripted probe writes exactly the bytes a store-and-forward
probe sends: its hello when the host opens the port, then its last N samples, then live ones.
"""

from __future__ import annotations

import csv
import os
import time

import pytest

from firmware_protocol.frames import ChannelValue, HelloFrame, SampleFrame, encode_frame
from monitor.commands.record import status_line
from monitor.exports import export_session
from monitor.model import ConnectionState, Limb, ProbeStatus
from monitor.simulation.virtual_serial import VirtualSerialProbe
from monitor.sources.base import stored_line_health
from monitor.sources.ports import SYMPATHERM_PID, SYMPATHERM_VID, PortInfo
from monitor.sources.serial import SerialSource
from tests.support.raw_line import RawLine

from .harness import assert_nothing_lost

PERIOD_MS = 100  # 10 Hz, as in the fault found by hand


class ScriptedProbe(RawLine):
    """A probe on a pseudo-terminal whose every byte the test writes; unplug/replug give a new path."""

    def __init__(self) -> None:
        super().__init__("RAW-7")

    plug = RawLine.open
    unplug = RawLine.close

    def listing(self) -> list[PortInfo]:
        return [self.info()] if self.path else []


def sample(seq: int, device_ms: int) -> bytes:
    celsius = round(30.0 + (device_ms // PERIOD_MS % 500) / 100, 2)
    return encode_frame(SampleFrame(seq & 0xFFFF, device_ms, (ChannelValue(celsius, None, ProbeStatus.OK),
                                                               ChannelValue(29.5, None, ProbeStatus.OK))))


def hello(seq: int, device_ms: int) -> bytes:
    return encode_frame(HelloFrame(seq & 0xFFFF, device_ms, "RAW-7", "t", "YSI-400", 2, 10.0))


@pytest.fixture
def scripted():
    made: list[ScriptedProbe] = []

    def make() -> ScriptedProbe:
        made.append(ScriptedProbe())
        return made[-1]

    yield make
    for probe in made:
        probe.unplug()


def _record(scripted, make_recording, registry):
    probe = scripted()
    src = SerialSource(None, registry=registry, discovery=probe.listing, poll_s=0.05)
    rec = make_recording(src)
    # "opened ...; listening" is said once the port is open (what is written before is flushed)
    rec.pump_until(lambda: "; listening" in src.reason, what="the port to open")
    return probe, src, rec


def _reconnect(probe: ScriptedProbe, src: SerialSource, rec) -> None:
    probe.unplug()
    rec.pump_until(lambda: src.state is ConnectionState.RECONNECTING, what="the loss to be seen")
    probe.plug()
    rec.pump_until(lambda: probe.path in src.reason and "; listening" in src.reason, what="the new port to open")


def _device_times(readings, limb=Limb.LEFT) -> list[float]:
    return [r.device_time_s for r in readings if r.limb is limb]


def _csv_readings(rec, tmp_path) -> list[tuple[str, str, str]]:
    """(foot, sequence, °C) of every reading in the exported CSV."""
    out = export_session(rec.path, "csv", tmp_path / "export.csv")
    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [(limb, row[f"{limb}_seq"], row[f"{limb}_c"]) for row in rows for limb in ("left", "right")
            if row[f"{limb}_status"]]


@pytest.mark.parametrize("backlog", [10, 100, 1000])
def test_a_resent_backlog_is_stored_once(backlog, scripted, make_recording, registry, tmp_path):
    probe, src, rec = _record(scripted, make_recording, registry)
    before = backlog + 70
    probe.write(hello(0, 0) + b"".join(sample(i, i * PERIOD_MS) for i in range(1, before + 1)))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == before, what="the samples before the outage")
    _reconnect(probe, src, rec)
    # Same boot, 5 s later: its hello (next number, its clock now), its last `backlog` samples, then live.
    now_ms = before * PERIOD_MS + 5000
    seq = before + 1 + 50  # 50 samples taken while unplugged, not in its backlog
    resent = b"".join(sample(i, i * PERIOD_MS) for i in range(before - backlog + 1, before + 1))
    live = b"".join(sample(seq + k, now_ms + k * PERIOD_MS) for k in range(1, 11))
    probe.write(hello(seq, now_ms) + resent + live)
    rec.pump_until(lambda: rec.count(Limb.LEFT) == before + 10 and src.duplicates_dropped == backlog,
                   what="the live samples after the backlog")
    rec.finish()

    times = _device_times(rec.delivered)
    assert len(times) == before + 10 and times == sorted(times), "device time ran backwards: stored twice"
    assert src.device_restarts == 0 and src.duplicates_dropped == backlog
    assert src.health().lost_frames == 50  # the samples taken while unplugged, counted once
    assert_nothing_lost(rec.stored(), rec.delivered)
    assert len(rec.stored()) == 2 * (before + 10)
    if backlog >= 100:  # the fault as found: 540 readings instead of 340
        exported = _csv_readings(rec, tmp_path)
        assert len(exported) == 2 * (before + 10)  # 340 for a backlog of 100, not 540
        assert len(set(exported)) == len(exported), "a reading exported twice"


def test_backlog_samples_taken_during_the_outage_are_stored_once_at_their_own_time(
        scripted, make_recording, registry):
    probe, src, rec = _record(scripted, make_recording, registry)
    probe.write(hello(0, 0))
    for i in range(1, 41):  # 4 s of live samples teach the host the device clock's rate
        probe.write(sample(i, i * PERIOD_MS))
        rec.pump_until(lambda i=i: rec.count(Limb.LEFT) == i, what=f"sample {i}")
        time.sleep(PERIOD_MS / 1000)
    unplugged_at = time.monotonic()
    probe.unplug()
    rec.pump_until(lambda: src.state is ConnectionState.RECONNECTING, what="the loss to be seen")
    time.sleep(max(0.0, 2.1 - (time.monotonic() - unplugged_at)))  # 21 samples' time, on both clocks
    probe.plug()
    rec.pump_until(lambda: probe.path in src.reason and "; listening" in src.reason, what="the new port to open")
    now_ms = 4000 + int((time.monotonic() - unplugged_at) * 1000)
    # The backlog holds samples 31..60: 31..40 delivered already, 41..60 taken while unplugged.
    probe.write(hello(61, now_ms) + b"".join(sample(i, i * PERIOD_MS) for i in range(31, 61)))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == 60, what="the backlog's new samples")
    rec.finish()
    lefts = [r for r in rec.delivered if r.limb is Limb.LEFT]
    assert _device_times(lefts) == [i * PERIOD_MS / 1000 for i in range(1, 61)]
    assert src.duplicates_dropped == 10 and src.backlog_recovered == 20 and src.health().lost_frames == 0
    recovered = lefts[40:]
    last_live = lefts[39].session_s
    # At their own time: spread out after the last live sample, not piled up at the reconnection.
    assert all(last_live <= r.session_s for r in recovered)
    assert recovered[-1].session_s - recovered[0].session_s > 0.5
    assert_nothing_lost(rec.stored(), rec.delivered)


def test_a_restart_in_the_middle_of_an_outage_is_not_taken_for_a_resend(scripted, make_recording, registry):
    probe, src, rec = _record(scripted, make_recording, registry)
    probe.write(hello(0, 0) + b"".join(sample(i, i * PERIOD_MS) for i in range(1, 171)))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == 170, what="the samples before the outage")
    _reconnect(probe, src, rec)
    # It rebooted while unplugged (its boot hello went nowhere): the hello on opening tells its
    # clock began again; its backlog is what it sampled since the reboot.
    probe.write(hello(5, 500) + b"".join(sample(i, i * PERIOD_MS) for i in range(1, 5))
                + b"".join(sample(i, i * PERIOD_MS) for i in range(6, 16)))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == 170 + 14, what="the samples after the restart")
    rec.finish()
    assert src.device_restarts == 1 and src.duplicates_dropped == 0
    assert _device_times(rec.delivered)[170:] == [i * PERIOD_MS / 1000 for i in (*range(1, 5), *range(6, 16))]
    assert_nothing_lost(rec.stored(), rec.delivered)


def test_a_backlog_across_the_sequence_wrap_is_stored_once(scripted, make_recording, registry, tmp_path):
    probe, src, rec = _record(scripted, make_recording, registry)
    first = 65_400  # a probe that has been running a while: its numbers wrap 65535 -> 0 below
    start_ms = 7_000_000
    frames = [(first + k, start_ms + k * PERIOD_MS) for k in range(1, 301)]
    probe.write(hello(first, start_ms) + b"".join(sample(s, t) for s, t in frames))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == 300, what="the samples across the wrap")
    _reconnect(probe, src, rec)
    last_seq, last_ms = frames[-1]
    resent = frames[-200:]  # spans the wrap: ..., 65535, 0, 1, ...
    assert any(s & 0xFFFF == 0xFFFF for s, _ in resent)
    probe.write(hello(last_seq + 1, last_ms + 2000) + b"".join(sample(s, t) for s, t in resent)
                + b"".join(sample(last_seq + 1 + k, last_ms + 2000 + k * PERIOD_MS) for k in range(1, 6)))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == 305, what="the live samples after the backlog")
    rec.finish()
    assert src.duplicates_dropped == 200 and src.device_restarts == 0 and src.health().lost_frames == 0
    assert len(_csv_readings(rec, tmp_path)) == 2 * 305
    assert_nothing_lost(rec.stored(), rec.delivered)


def test_line_health_is_shown_stored_and_exported(scripted, make_recording, registry, tmp_path):
    probe, src, rec = _record(scripted, make_recording, registry)
    bad = bytearray(sample(3, 300))
    bad[len(bad) // 2] ^= 0x04
    probe.write(hello(0, 0) + sample(1, 100) + sample(2, 200) + bytes(bad) + b"\x11\x22\x00"
                + b"".join(sample(i, i * PERIOD_MS) for i in range(4, 8)) + sample(10, 1000))
    rec.pump_until(lambda: any(r.device_time_s == 1.0 for r in rec.delivered), what="the last sample")
    rec.procedure.recorder.commit()
    health = rec.procedure.line_health()
    assert (health.crc_errors, health.malformed_frames, health.resyncs, health.lost_frames) == (1, 1, 1, 3)
    assert health.words() == "line: 1 CRC error, 1 malformed frame, 1 resync, 3 lost"
    assert health.words() in status_line(rec.procedure)
    rec.finish()
    with rec.store.open_read_only(rec.path) as reader:
        stored = stored_line_health(reader.meta().get("line_health"))
    assert stored == [health]
    out = export_session(rec.path, "csv", tmp_path / "health.csv")
    header = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert f"# line_health: serial:RAW-7: {health.words()}" in header


def test_no_data_instead_of_the_last_temperatures_during_an_outage(scripted, make_recording, registry):
    probe, src, rec = _record(scripted, make_recording, registry)
    probe.write(hello(0, 0) + b"".join(sample(i, i * 1000) for i in range(1, 4)))
    rec.pump_until(lambda: rec.count(Limb.LEFT) == 3, what="three samples")
    assert "NO DATA" not in status_line(rec.procedure) and "L " in status_line(rec.procedure)
    probe.unplug()
    rec.pump_until(lambda: "NO DATA for 0:1" in status_line(rec.procedure), timeout=30.0, what="NO DATA")
    line = status_line(rec.procedure)
    assert "L " not in line and "°C" not in line
    rec.finish()


def test_a_probe_restarted_under_a_new_port_name_is_recognised_within_two_seconds(
        make_recording, registry, tmp_path):
    first = VirtualSerialProbe(speed=10.0, device_id="SIM-0042", usb_serial="USB-42", rate_hz=1.0)
    first.start()
    # The names the system gives the probe (ttyACM0, then ttyACM1 after the restart) stand for
    # its pseudo-terminals; pseudo-terminal numbers themselves are reused by other tests.
    names: dict[str, VirtualSerialProbe] = {}

    def name(probe: VirtualSerialProbe, port: str) -> None:
        os.symlink(probe.path, tmp_path / port)
        names[str(tmp_path / port)] = probe

    def listing() -> list[PortInfo]:
        return [PortInfo(path, SYMPATHERM_VID, SYMPATHERM_PID, p.usb_serial, "SympaTherm probe")
                for path, p in names.items() if p.path]

    name(first, "ttyACM0")
    made = [first]
    src = SerialSource(None, registry=registry, poll_s=0.05, discovery=listing)
    rec = make_recording(src)
    try:
        rec.pump_until(lambda: rec.count(Limb.LEFT) >= 5, what="readings from the first run")
        first.stop()  # killed: its pseudo-terminal goes with it
        os.unlink(tmp_path / "ttyACM0")
        names.clear()
        rec.pump_until(lambda: src.state is ConnectionState.RECONNECTING, what="the loss")
        count_before = rec.count(Limb.LEFT)
        again = VirtualSerialProbe(speed=10.0, device_id="SIM-0042", usb_serial="USB-42", rate_hz=1.0)
        started = time.monotonic()
        made.append(again)
        again.start()  # a new process; its boot hello goes nowhere
        name(again, "ttyACM1")
        rec.pump_until(lambda: src.state is ConnectionState.STREAMING and rec.count(Limb.LEFT) > count_before,
                       what="the restarted probe to be recognised")
        took = time.monotonic() - started
        assert took < 2.0, f"re-identified after {took:.1f} s"
        assert again.open_hellos >= 1  # it said hello when the host opened the port
        assert str(tmp_path / "ttyACM1") in src.reason
        rec.pump_until(lambda: rec.count(Limb.LEFT) >= count_before + 5, what="the session to go on")
        rec.finish()
    finally:
        for probe in made:
            probe.stop()
    assert src.device_restarts == 1
    assert {r.source for r in rec.delivered} == {"serial:SIM-0042"}
    assert_nothing_lost(rec.stored(), rec.delivered)
    with rec.store.open_read_only(rec.path) as reader:
        gaps = reader.events("connection_gap")
    assert len(gaps) == 1 and gaps[0].end_s is not None
