"""USB serial probes (pyserial): binary frames or text lines, told apart by listening.

Rules from ``shared/devices.md`` this module keeps:

* **Listen first.** A port is opened read-only in spirit: the host writes an identity
  request only once the device has proven it speaks the binary protocol, and only to a port
  that is vouched for: the port the user chose (until the source is locked to a device), or
  a port that discovery lists, *while we hold it open*, with a known SympaTherm VID/PID and,
  once locked, the locked device's VID/PID and USB serial number. A device node merely
  existing at the old path vouches for nothing: port numbers are reused (``/dev/pts/N``,
  ``ttyACM0``), so after an unplug another device may appear there. Text devices are
  never written to.
* **The same device, never "the first port".** Once a probe is identified the source is
  locked to it: on unplug it waits for a port with the same USB serial number (or the
  same VID/PID and the same identity frame, or the same path when nothing else is known)
  and reconnects, possibly under a new name. A port not vouched for must prove itself by
  its hello frame, which is only listened for. A different device is left alone.
* **Unplug is seen at once** (pyserial raises on read; the device node vanishes) and is
  reported in plain words; the gap is recorded as connection events.
* **Boot noise is tolerated**: bytes before the first good frame after opening do not
  count as line errors.
* **Nothing twice, a restart still seen** (PROTOCOL.md §1.3): a device resending its stored
  samples after a reconnection (its *backlog*, of any length) is told from a device that
  restarted by its device clock and sequence number together. A hello is always sent
  *now*, so it tells the device's current clock: a hello whose clock and numbering have not
  gone back says "same boot", and every sample after it that is not later than the newest
  delivered is a resend, dropped. A hello with sequence 0, or whose clock or numbering went
  back, is a restart. Without a hello, a sample not later than the newest is a resend if it
  is the very (sequence, device time) pair delivered before this connection, or a duplicate
  on a live link if at most ``REPLAY_WINDOW_FRAMES`` behind; otherwise a restart whose hello
  was lost. Backlog samples newer than the newest delivered (taken while the link was down)
  are delivered once, at their own time: the device clock mapped onto the session clock
  (rate learned from the live stream), never before the last reading delivered.

Session time is taken when the bytes arrive.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

import serial

from firmware_protocol.frames import (
    Frame,
    FrameDecoder,
    HelloFrame,
    IdentityRequest,
    SampleFrame,
    encode_frame,
)
from firmware_protocol.sniff import detect_protocol
from firmware_protocol.textlines import TextLineDecoder
from firmware_protocol.thermistor import Calibration
from monitor.clock import MonotonicClock, SessionClock
from monitor.model import ConnectionState, Limb, ProbeStatus
from monitor.sources.base import DeviceIdentity, ProbeSource
from monitor.sources.channels import make_reading
from monitor.sources.ports import PortDiscovery, PortInfo, system_ports

if TYPE_CHECKING:
    from monitor.sources.registry import DeviceRegistry

DEFAULT_BAUD = 115200
SNIFF_LIMIT = 8192  # bytes kept while deciding the protocol
# How long binary samples wait for the hello frame that names the device, counted from the
# first good frame (a board reset by opening the port may need a second or two to boot).
IDENTIFY_WAIT_S = 2.0
SILENCE_S = 5.0  # no bytes for this long on an open port: say so (the link may be dead)
REFUSE_SILENT_S = 30.0  # a port that sent nothing we understand is listened to again after this
REFUSE_OTHER_S = 10.0  # a port holding a different probe is checked again after this
# A sample whose device time is not later than the last one delivered is a resend only if its
# sequence number is at most this far behind the newest; further back, the device restarted
# (its clock and numbering began again) and the hello that would have said so was lost.
REPLAY_WINDOW_FRAMES = 64
DELIVERED_KEPT = 8192  # (sequence, device time) pairs remembered to recognise a resent backlog
CLOCK_FIT_MIN_S = 2.0  # session seconds of live samples before the device clock's rate is trusted
SIDES_RECHECK_S = 2.0  # a probe with no channel on a foot looks in the registry again this often

ProtocolChoice = Literal["auto", "binary", "text"]

_T = TypeVar("_T")


class _Decoder(Protocol[_T]):
    """A frame or line decoder: bytes in, whatever it decoded out."""

    def feed(self, data: bytes) -> list[_T]: ...


class _PortGone(Exception):
    """The open port stopped working (unplugged, switched off, taken by someone else)."""


@dataclass
class _Target:
    """What we know about the device this source is locked to."""

    path: str = ""
    usb_serial: str = ""
    vid: int | None = None
    pid: int | None = None
    device_id: str = ""

    def describe(self, *, with_path: bool = True) -> str:
        if self.device_id:
            return f"probe {self.device_id}"
        if self.usb_serial:
            return f"USB device with serial number {self.usb_serial}"
        return f"the device on {self.path}" if with_path else "the device"


@dataclass
class _Connection:
    port: serial.Serial
    info: PortInfo
    may_write: bool
    opened_at: float
    protocol: str | None = None
    sniffed: bytearray = field(default_factory=bytearray)
    good_since_open: bool = False
    verified: bool = False
    identity_requested: bool = False
    binary_since: float | None = None  # session time the binary protocol was recognised
    pending: list[tuple[SampleFrame, float, float]] = field(default_factory=list)
    last_bytes_at: float = 0.0
    counters_at_open: tuple[int, int, int] = (0, 0, 0)
    number: int = 0  # this source's connections, counted from 1
    # A hello on this connection showed the device's clock and numbering have not gone back:
    # samples not later than the newest delivered are its resent backlog.
    same_boot: bool = False
    hello_at: tuple[float, int] | None = None  # (session s, device ms) of this connection's latest hello


class SerialSource(ProbeSource):
    """A SympaTherm (or compatible text) probe on a serial port.

    ``port``: a device path the user chose, or None to find a probe by itself among
    ``discovery()`` (default: pyserial's ``comports()``). ``registry``: the device registry
    for side assignments and calibrations (default: the user's; pass one explicitly in tests).
    ``swap_sides``: the user's choice for a two-channel probe (True: channel 0 is the right
    foot), stored in the registry; None keeps what the registry says.
    """

    def __init__(self, port: str | None = None, baud: int = DEFAULT_BAUD, *, clock: SessionClock | None = None,
                 discovery: PortDiscovery | None = None, registry: DeviceRegistry | None = None, protocol: ProtocolChoice = "auto",
                 listen_s: float = 3.0, poll_s: float = 0.2, silence_s: float = SILENCE_S,
                 swap_sides: bool | None = None,
                 open_port: Callable[[str, int], serial.Serial] | None = None) -> None:
        super().__init__(clock if clock is not None else MonotonicClock())
        if protocol not in ("auto", "binary", "text"):
            raise ValueError(f"protocol must be auto, binary or text, not {protocol!r}")
        if not isinstance(baud, int) or baud <= 0:
            raise ValueError(f"baud rate must be a positive whole number, not {baud!r}")
        self.port_name = port
        self.baud = baud
        self.protocol_choice = protocol
        self.listen_s = listen_s
        self.poll_s = poll_s
        self.silence_s = silence_s
        self.swap_sides = swap_sides
        self._discovery = discovery if discovery is not None else system_ports
        self._registry = registry
        self._open_port = open_port if open_port is not None else _open_serial
        self._target: _Target | None = None
        # Ports not to open again for a while: path -> (until, USB serial seen there). A port
        # holding a different probe (REFUSE_OTHER_S) or sending nothing we understand
        # (REFUSE_SILENT_S); forgotten early when the port vanishes or lists another device.
        self._refused: dict[str, tuple[float, str, str]] = {}
        self._conn: _Connection | None = None
        self._binary = FrameDecoder()
        self._text = TextLineDecoder()
        self._ignored = [0, 0, 0]  # (crc, malformed, resyncs) during boot noise, not held against the link
        self._last_seq: int | None = None
        self._last_device_ms: int | None = None
        self._last_delivered_s: float | None = None
        self._hello_seqs: collections.deque[int] = collections.deque(maxlen=64)  # numbers hellos took
        self._connections = 0
        # sequence -> (device ms, connection number) of recently delivered samples
        self._delivered: collections.OrderedDict[int, tuple[int, int]] = collections.OrderedDict()
        # (session s, device ms) of the first and the newest live sample of this boot: the device clock's rate
        self._clock_first: tuple[float, int] | None = None
        self._clock_last: tuple[float, int] | None = None
        self._sides_checked_at = 0.0
        self.duplicates_dropped = 0
        #: Samples delivered from a resent backlog that had not arrived before (taken while the link was down).
        self.backlog_recovered = 0
        #: Times the device restarted (a hello with sequence 0, or its clock and numbering began again).
        self.device_restarts = 0
        self.reconnections = 0
        self.protocol: str | None = None
        self._hello: HelloFrame | None = None
        self._identity = DeviceIdentity("serial", f"serial probe on {port}" if port else "serial probe (searching)",
                                        device_id=port or "")
        self._limbs: tuple[Limb | None, ...] = (Limb.LEFT, Limb.RIGHT)
        self._calibrations: dict[int, Calibration] = {}
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- ProbeSource -------------------------------------------------------------------
    @property
    def identity(self) -> DeviceIdentity:
        return self._identity

    def _start(self) -> None:
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._run, name="serial-source", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=3.0)
            self._thread = None
        self._close()

    # ---- worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop_event.is_set():
            if self._conn is None:
                self._conn = self._find_and_open()
                if self._conn is None:
                    self._stop_event.wait(self.poll_s)
                    continue
            try:
                self._pump(self._conn)
            except _Refused:
                self._conn = None  # already closed, state already says why
            except _PortGone as exc:
                self._lost(str(exc))

    def _pump(self, conn: _Connection) -> None:
        port = conn.port
        try:
            data = port.read(1)
            if data:
                waiting = port.in_waiting
                if waiting:
                    data += port.read(waiting)
        except (serial.SerialException, OSError) as exc:
            raise _PortGone(self._gone_reason(conn.info.device, exc)) from None
        now = self.clock.now()
        if data:
            conn.last_bytes_at = now
            self._handle_bytes(conn, data, now, self.clock.wall())
        elif not _node_exists(conn.info.device):
            raise _PortGone(f"cable unplugged: {conn.info.device} disappeared")
        if (conn.protocol == "binary" and not conn.verified and conn.binary_since is not None
                and now - conn.binary_since > IDENTIFY_WAIT_S):
            self._identify_timeout(conn)
        silent_for = now - max(conn.last_bytes_at, conn.opened_at)
        if not data and silent_for > self.silence_s and self.state is ConnectionState.STREAMING:
            self._set_state(ConnectionState.LOST, f"no data from {self._target_name()} for {self.silence_s:g} s "
                                                  f"(still connected on {conn.info.device})")

    # ---- finding and opening a port ----------------------------------------------------------
    def _find_and_open(self) -> _Connection | None:
        if self._target is None and self.port_name is None:
            return self._auto_detect()
        try:
            ports = self._discovery()
        except Exception as exc:  # noqa: BLE001 - discovery is pluggable; a failure must not kill the worker
            ports = []
            self._set_state(self._waiting_state(), f"cannot list serial ports ({exc})")
        self._prune_refused(ports)
        for info in self._candidates(ports):
            if info.device in self._refused:
                continue
            conn = self._try_open(info)
            if conn is not None:
                return conn
        return None

    def _refuse(self, info: PortInfo, seconds: float) -> None:
        self._refused[info.device] = (time.monotonic() + seconds, info.serial_number, _node_target(info.device))

    def _prune_refused(self, ports: list[PortInfo]) -> None:
        """Forget a refusal when it expires, or when the port vanished or now lists another device."""
        now = time.monotonic()
        listed = {p.device: p.serial_number for p in ports}
        kept = {}
        for path, (until, serial_number, node) in self._refused.items():
            if until <= now or not (path in listed or _node_exists(path)):
                continue
            if path in listed and listed[path] != serial_number:
                continue
            if _node_target(path) != node:
                continue  # the name now points at another device node (e.g. a by-id link)
            kept[path] = (until, serial_number, node)
        self._refused = kept

    def _waiting_state(self) -> ConnectionState:
        return ConnectionState.RECONNECTING if self._target is not None else ConnectionState.CONNECTING

    def _candidates(self, ports: list[PortInfo]) -> list[PortInfo]:
        """Ports that may hold the device we are locked to (or the port the user named)."""
        t = self._target
        if t is None:  # first connection to a named port
            info = _listed_at(ports, self.port_name or "")
            if info is None and _node_exists(self.port_name or ""):
                info = PortInfo(self.port_name or "")
            if info is None:
                self._set_state(ConnectionState.CONNECTING, f"waiting for {self.port_name}: no such port")
                return []
            return [info]
        out: list[PortInfo] = []
        if t.usb_serial:
            out = [p for p in ports if p.serial_number == t.usb_serial and (t.vid is None or p.usb_id == (t.vid, t.pid))]
        elif t.vid is not None and t.device_id:
            # Same kind of USB device without a serial number: only its identity frame can tell.
            out = [p for p in ports if p.usb_id == (t.vid, t.pid) and p.is_known_probe]
        if not out and t.path and _node_exists(t.path):
            listed = _listed_at(ports, t.path)
            if listed is None:
                # Not listed: nothing vouches for it (the path may be reused by another device), so
                # it is only listened to, and its hello frame (if we know one) must prove it.
                out = [PortInfo(t.path)]
            elif not self._listing_is_target(listed) and not (t.vid is None and not listed.serial_number):
                return []  # listed as another device: leave it alone
            else:
                out = [listed]
        return out

    def _listing_is_target(self, listed: PortInfo) -> bool:
        """Whether discovery lists this port as the device we are locked to (USB IDs and serial)."""
        t = self._target
        return (t is not None and t.vid is not None and listed.usb_id == (t.vid, t.pid)
                and listed.serial_number == t.usb_serial)

    def _listing_now(self, path: str) -> PortInfo | None:
        """How discovery lists ``path`` right now (None: not listed, or discovery failed)."""
        try:
            return _listed_at(self._discovery(), path)
        except Exception:  # noqa: BLE001 - a failing discovery vouches for nothing
            return None

    def _may_write(self, path: str, listed: PortInfo | None) -> bool:
        """Whether the port just opened at ``path`` may receive an identity request.

        (a) The user named it, and we are not yet locked to a device: the user vouches for what
        is there now. Once locked, the node at the named path may be another device that got
        the same name after an unplug, so only (b) counts. (b) Discovery lists it, while we
        hold it open (so the name cannot change hands under us), with a known probe VID/PID,
        and, when locked, as the very device we are locked to."""
        if self._target is None and self.port_name is not None and path == self.port_name:
            return True
        if listed is None or not listed.is_known_probe:
            return False
        return self._target is None or self._listing_is_target(listed)

    def _auto_detect(self) -> _Connection | None:
        """Find a probe: known SympaTherm USB IDs first, then listen (only) to other ports."""
        try:
            ports = self._discovery()
        except Exception as exc:  # noqa: BLE001
            self._set_state(ConnectionState.CONNECTING, f"cannot list serial ports ({exc})")
            return None
        if not ports:
            self._set_state(ConnectionState.CONNECTING, "looking for a probe: no serial ports found")
            return None
        self._prune_refused(ports)
        ordered = sorted(ports, key=lambda p: (not p.is_known_probe, p.device))
        for info in ordered:
            if self._stop_event.is_set():
                return None
            if info.device in self._refused:
                continue
            self._set_state(ConnectionState.CONNECTING, f"listening on {info.describe()}")
            conn = self._try_open(info)
            if conn is None:
                continue
            if self._listen_for_protocol(conn):
                return conn
            self._close_conn(conn)
            self._refuse(info, REFUSE_SILENT_S)  # nothing we understand: not again for a while
        self._set_state(ConnectionState.CONNECTING, "looking for a probe: none of the serial ports sent probe data")
        return None

    def _listen_for_protocol(self, conn: _Connection) -> bool:
        deadline = time.monotonic() + self.listen_s
        while time.monotonic() < deadline and not self._stop_event.is_set():
            try:
                data = conn.port.read(max(1, conn.port.in_waiting))
            except (serial.SerialException, OSError):
                return False
            if data:
                conn.last_bytes_at = self.clock.now()
                self._handle_bytes(conn, data, self.clock.now(), self.clock.wall())
                if conn.protocol is not None:
                    return True
        return False

    def _try_open(self, info: PortInfo) -> _Connection | None:
        try:
            port = self._open_port(info.device, self.baud)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._set_state(self._waiting_state(), self._open_failure(info.device, exc))
            return None
        # The listing that chose this port was taken before we opened it, and the device at
        # that path may have changed since (unplugged, and another one given the same name).
        # Now that we hold the port open its name cannot change hands: ask discovery again,
        # and trust (for writing, and for a USB serial number match) only what it says now.
        listed = self._listing_now(info.device)
        may_write = self._may_write(info.device, listed)
        info = listed if listed is not None else PortInfo(info.device)
        now = self.clock.now()
        self._connections += 1
        conn = _Connection(port, info, may_write, now, last_bytes_at=now,
                           counters_at_open=self._line_error_counts(), number=self._connections)
        if self.protocol_choice != "auto":
            self._choose_protocol(conn, self.protocol_choice)
        verb = "reconnecting to" if self._target is not None else "opened"
        self._set_state(self._waiting_state(), f"{verb} {info.describe()}; listening")
        return conn

    # ---- bytes to readings ------------------------------------------------------------------
    def _handle_bytes(self, conn: _Connection, data: bytes, now: float, wall: float) -> None:
        if conn.protocol is None:
            conn.sniffed += data
            if len(conn.sniffed) > SNIFF_LIMIT:
                del conn.sniffed[: len(conn.sniffed) - SNIFF_LIMIT]
            found = detect_protocol(bytes(conn.sniffed))
            if found is None:
                return
            self._choose_protocol(conn, found)
            data, conn.sniffed = bytes(conn.sniffed), bytearray()
        if conn.protocol == "binary":
            self._handle_frames(conn, self._feed(conn, self._binary, data, b"\x00"), now, wall)
        else:
            self._handle_text(conn, data, now, wall)
        self._update_counters(conn)

    def _choose_protocol(self, conn: _Connection, protocol: str) -> None:
        conn.protocol = protocol
        self.protocol = protocol
        if protocol == "binary":
            self._binary.reset()
            conn.binary_since = self.clock.now()
            self._target_from_port(conn)
            t = self._target
            if t is not None and t.device_id:
                # Locked to a known probe: a matching USB serial number proves it, else its hello must.
                if t.usb_serial and conn.info.serial_number == t.usb_serial:
                    self._proven(conn)
            else:
                # First contact: wait briefly for the hello that names the device (asked for if
                # allowed), so every reading carries the device's lasting identity.
                if not conn.may_write:
                    self._proven(conn)
            # Allowed to write: ask who it is (also after a reconnect: it may be another unit).
            self._request_identity(conn)
        else:
            self._text.reset()
            self._target_from_port(conn)
            self._proven(conn)  # a text device cannot say who it is: the port is all we know

    def _request_identity(self, conn: _Connection) -> None:
        if conn.identity_requested or not conn.may_write:
            return
        conn.identity_requested = True
        try:
            conn.port.write(encode_frame(IdentityRequest(0)))
        except (serial.SerialException, OSError):
            pass  # a dead port shows up on the next read

    def _feed(self, conn: _Connection, decoder: _Decoder[_T], data: bytes, delimiter: bytes) -> list[_T]:
        """Feed ``decoder``; until the first good frame (line) since opening, one delimited piece
        at a time, so that exactly the errors before it are forgiven as boot noise."""
        if conn.good_since_open:
            return decoder.feed(data)
        out: list[_T] = []
        start = 0
        while start < len(data) and not conn.good_since_open:
            end = data.find(delimiter, start)
            stop = len(data) if end < 0 else end + 1
            got = decoder.feed(data[start:stop])
            start = stop
            if got:
                conn.good_since_open = True
                self._forgive_boot_noise(conn)
                out.extend(got)
        if start < len(data):
            out.extend(decoder.feed(data[start:]))
        return out

    def _handle_frames(self, conn: _Connection, frames: list[Frame], now: float, wall: float) -> None:
        for frame in frames:
            if isinstance(frame, HelloFrame):
                if not self._accept_hello(conn, frame, now):
                    return
            elif isinstance(frame, SampleFrame):
                if conn.verified:
                    self._deliver(conn, frame, now, wall)
                else:
                    conn.pending.append((frame, now, wall))

    def _accept_hello(self, conn: _Connection, hello: HelloFrame, now: float) -> bool:
        t = self._target
        if t is not None and t.device_id and hello.device_id != t.device_id:
            why = (f"a different probe ({hello.device_id}) is on {conn.info.device}; "
                   f"still waiting for {t.describe()}")
            self._refuse(conn.info, REFUSE_OTHER_S)
            self._close_conn(conn)
            self._conn = None
            self._set_state(self._waiting_state(), why)
            raise _Refused(why)
        self._judge_hello(conn, hello, now)
        self._hello = hello
        if self._target is not None:
            self._target.device_id = hello.device_id
        self._update_identity(conn)
        self._proven(conn)
        for frame, at, wall in conn.pending:  # samples that arrived before the hello come first
            self._deliver(conn, frame, at, wall)
        conn.pending.clear()
        if hello.sequence == 0:
            self._last_seq = 0  # at boot: samples are counted from 1
        else:  # its number is not a lost sample; the backlog after it carries older numbers
            self._hello_seqs.append(hello.sequence)
        return True

    def _judge_hello(self, conn: _Connection, hello: HelloFrame, now: float) -> None:
        """Same boot or a restart, from the hello's clock and number (a hello is never resent)."""
        conn.hello_at = (now, hello.device_time_ms)
        last_seq = self._last_seq
        if self._hello_seqs and (last_seq is None or _behind(self._hello_seqs[-1], last_seq) == 0):
            last_seq = self._hello_seqs[-1]  # numbers are judged against the newest hello too
        known = self._last_device_ms is not None or self._last_seq is not None
        clock_back = self._last_device_ms is not None and hello.device_time_ms < self._last_device_ms
        numbers_back = last_seq is not None and (_behind(last_seq, hello.sequence) > 0)
        if (hello.sequence == 0 and (self._hello is not None or known)) or clock_back or numbers_back:
            self._device_restarted()
            conn.same_boot = False
        else:
            conn.same_boot = True

    def _identify_timeout(self, conn: _Connection) -> None:
        t = self._target
        if t is not None and t.device_id:
            # It would not say who it is, and nothing else proves it is our probe: try it again later.
            self._refuse(conn.info, REFUSE_OTHER_S)
            raise _PortGone(f"the device on {conn.info.device} did not identify itself; "
                            f"still waiting for {t.describe()}")
        self._proven(conn)
        self._update_identity(conn)
        for frame, at, wall in conn.pending:
            self._deliver(conn, frame, at, wall)
        conn.pending.clear()

    def _restart_count(self) -> int:
        return self.device_restarts

    def _device_restarted(self) -> None:
        self.device_restarts += 1
        if self.state is ConnectionState.STREAMING:
            # Recorded in the session as a (brief) gap with its reason: readings from before and after
            # are from two boots of the probe, whose clock and numbering began again.
            name = self._target.describe() if self._target is not None else "the probe"
            self._set_state(ConnectionState.RECONNECTING, f"{name} restarted (a reset or its watchdog): "
                                                          "its clock and numbering began again")
            self._set_state(ConnectionState.STREAMING, f"streaming again from {name} after its restart")
        self._last_device_ms = None  # its clock and sequence start over
        self._last_seq = None
        self._hello_seqs.clear()
        self._delivered.clear()
        self._clock_first = self._clock_last = None

    def _is_resend(self, conn: _Connection, frame: SampleFrame) -> bool:
        """A sample not later than the newest delivered: resent (True) or from a restarted device."""
        if conn.same_boot:
            return True  # its hello said its clock and numbering went on: this is its backlog
        seen = self._delivered.get(frame.sequence)
        if seen is not None and seen[0] == frame.device_time_ms and seen[1] != conn.number:
            return True  # delivered before this connection: a backlog resent after reconnecting
        behind = 0 if self._last_seq is None else _behind(self._last_seq, frame.sequence)
        # A duplicate or late frame on a live link is a few frames behind; a device that restarted
        # (a watchdog, a brown-out) and whose hello was lost starts far behind. Without this every
        # sample would be dropped until its clock passed the old one.
        return behind < REPLAY_WINDOW_FRAMES

    def _deliver(self, conn: _Connection, frame: SampleFrame, now: float, wall: float) -> None:
        if self._last_device_ms is not None and frame.device_time_ms <= self._last_device_ms:
            if self._is_resend(conn, frame):
                self.duplicates_dropped += 1
                return
            self._device_restarted()
        elif self._last_seq is not None and _behind(self._last_seq, frame.sequence) > 0:
            self._device_restarted()  # numbering began again though its clock is past ours
        if conn.hello_at is None or frame.device_time_ms >= conn.hello_at[1]:
            conn.same_boot = False  # live again: a backlog follows its hello directly, never later
        at = self._own_time(conn, frame, now)
        wall += at - now
        self._count_gap(frame.sequence)
        self._last_device_ms = frame.device_time_ms
        self._last_delivered_s = at
        self._delivered[frame.sequence] = (frame.device_time_ms, conn.number)
        self._delivered.move_to_end(frame.sequence)
        while len(self._delivered) > DELIVERED_KEPT:
            self._delivered.popitem(last=False)
        now = at
        if not any(self._limbs) and time.monotonic() >= self._sides_checked_at + SIDES_RECHECK_S:
            # Nothing placed on a foot yet (a one-channel probe): the user may be choosing now.
            self._sides_checked_at = time.monotonic()
            self._load_assignments()
            if any(self._limbs) and self.state is ConnectionState.STREAMING:
                self._set_state(ConnectionState.STREAMING, self.reason.split("; choose which foot")[0])
        key = self._identity.key
        model = self._hello.probe_model if self._hello else ""
        for index, channel in enumerate(frame.channels):
            limb = self._limbs[index] if index < len(self._limbs) else None
            if limb is None:
                continue
            self._emit(make_reading(limb, channel.celsius, channel.status, now, wall,
                                    resistance_ohm=channel.resistance_ohm, probe_model=model,
                                    sequence=frame.sequence, device_time_s=frame.device_time_ms / 1000.0,
                                    source=key, calibration=self._calibrations.get(index)))
        self._streaming()

    def _own_time(self, conn: _Connection, frame: SampleFrame, now: float) -> float:
        """Session time of a sample: when it arrived, or for a backlog sample (taken before this
        connection's hello), its device time mapped onto the session clock, never before the last
        reading delivered. Live samples teach the device clock's rate."""
        hello = conn.hello_at
        if hello is None or frame.device_time_ms >= hello[1]:
            self._learn_clock(now, frame.device_time_ms)
            return now
        self.backlog_recovered += 1
        rate = self._ms_per_s()
        if rate is None:
            return now  # no rate known yet (first seconds of a boot): when it arrived
        at = hello[0] - (hello[1] - frame.device_time_ms) / rate
        floor = self._last_delivered_s if self._last_delivered_s is not None else -float("inf")
        return min(now, max(at, floor))

    def _learn_clock(self, now: float, device_ms: int) -> None:
        if self._clock_first is None or (self._clock_last is not None and device_ms < self._clock_last[1]):
            self._clock_first = (now, device_ms)
        self._clock_last = (now, device_ms)

    def _ms_per_s(self) -> float | None:
        """Device milliseconds per session second (1000 for real hardware; more for a sped-up simulator)."""
        first, last = self._clock_first, self._clock_last
        if first is None or last is None or last[0] - first[0] < CLOCK_FIT_MIN_S or last[1] <= first[1]:
            return None
        return (last[1] - first[1]) / (last[0] - first[0])

    def _count_gap(self, sequence: int) -> None:
        """Samples missing between the last one delivered and this one (numbers hellos took are not)."""
        last = self._last_seq
        if last is not None:
            gap = (sequence - last - 1) & 0xFFFF
            if gap < 0x8000:
                hellos = sum(1 for h in set(self._hello_seqs) if 0 < (h - last) & 0xFFFF <= gap)
                self.lost_frames += max(0, gap - hellos)
        self._last_seq = sequence

    def _handle_text(self, conn: _Connection, data: bytes, now: float, wall: float) -> None:
        samples = self._feed(conn, self._text, data, b"\n")
        key = self._identity.key
        for sample in samples:
            for index, value in enumerate((sample.left_c, sample.right_c)):
                limb = self._limbs[index]
                if limb is None:
                    continue
                self._emit(make_reading(limb, value, ProbeStatus.OK, now, wall, source=key,
                                        calibration=self._calibrations.get(index), plausibility_check=True))
        if samples:
            self._streaming()

    def _streaming(self) -> None:
        if self.state is not ConnectionState.STREAMING:
            conn = self._conn
            where = conn.info.device if conn else "?"
            verb = "reconnected to" if self.reconnections else "streaming from"
            unplaced = "" if any(self._limbs) else "; choose which foot it is on (no channel is on a foot yet)"
            self._set_state(ConnectionState.STREAMING, f"{verb} {self._target_name()} on {where} "
                                                        f"({self.protocol} protocol){unplaced}")

    # ---- identity ------------------------------------------------------------------------------
    def _target_from_port(self, conn: _Connection) -> None:
        """First contact: lock on to this port's device. (Later connections move the target's
        path only once proven to be the same device: see :meth:`_proven`.)"""
        info = conn.info
        if self._target is None:
            self._target = _Target(info.device, info.serial_number, info.vid, info.pid)
            self._update_identity(conn)

    def _proven(self, conn: _Connection) -> None:
        """``conn`` holds the device we are locked to: remember where it is now."""
        conn.verified = True
        if self._target is not None:
            self._target.path = conn.info.device

    def _update_identity(self, conn: _Connection) -> None:
        info, hello = conn.info, self._hello
        if hello is not None:
            device_id = hello.device_id
            name = f"{hello.probe_model or 'SympaTherm probe'} {hello.device_id} on {info.device}"
        elif info.serial_number:
            device_id = f"usb-{info.vid or 0:04x}:{info.pid or 0:04x}-{info.serial_number}"
            name = f"{info.description or 'serial probe'} (serial {info.serial_number}) on {info.device}"
        else:
            device_id = info.device
            name = f"serial probe on {info.device}"
        self._identity = DeviceIdentity(
            kind="serial", name=name, device_id=device_id,
            firmware=hello.firmware_version if hello else "",
            probe_model=hello.probe_model if hello else "",
            channels=hello.channel_count if hello else 2,
            sample_rate_hz=(hello.sample_rate_hz or None) if hello else None,
            usb_vid=info.vid, usb_pid=info.pid, usb_serial=info.serial_number,
        )
        self._load_assignments()

    def _load_assignments(self) -> None:
        """Channel-to-foot mapping and calibrations for this device, from the registry."""
        registry = self._registry
        if registry is None:
            from monitor.sources.registry import DeviceRegistry

            registry = self._registry = DeviceRegistry()
        key, channels = self._identity.key, self._identity.channels
        try:
            if self._hello is not None or self._identity.usb_serial:
                registry.remember(self._identity)  # a lasting identity (not just a port name)
            if self.swap_sides is not None and channels == 2:
                # The user just chose the sides (e.g. in the setup dialog): remember that choice.
                registry.assign_side(key, Limb.RIGHT if self.swap_sides else Limb.LEFT, channel=0)
            limbs = registry.channel_limbs(key, channels)
            self._calibrations = {i: c for i in range(channels) if (c := registry.calibration(key, i)) is not None}
        except (OSError, ValueError) as exc:
            limbs = (Limb.LEFT, Limb.RIGHT)
            self._calibrations = {}
            self._set_state(self.state, f"{self.reason} (device registry unavailable: {exc})")
        self._limbs = limbs if len(limbs) >= 2 or channels == 1 else (Limb.LEFT, Limb.RIGHT)

    def _target_name(self) -> str:
        """Who we talk to, without where (the messages that use it say on which port)."""
        if self._hello is not None:
            return f"probe {self._hello.device_id}"
        return self._target.describe(with_path=False) if self._target else "the probe"

    # ---- counters and loss -------------------------------------------------------------------
    def _line_error_counts(self) -> tuple[int, int, int]:
        return (self._binary.crc_failures + self._text.crc_failures,
                self._binary.malformed_frames + self._text.malformed_lines, self._binary.resyncs)

    def _forgive_boot_noise(self, conn: _Connection) -> None:
        for i, count in enumerate(self._line_error_counts()):
            self._ignored[i] += count - conn.counters_at_open[i]

    def _update_counters(self, conn: _Connection) -> None:
        if not conn.good_since_open:
            return
        crc, bad, resyncs = self._line_error_counts()
        self.crc_failures = crc - self._ignored[0]
        self.malformed_frames = bad - self._ignored[1]
        self.resyncs = resyncs - self._ignored[2]

    def _lost(self, reason: str) -> None:
        had_data = self.state is ConnectionState.STREAMING or (
            self.state is ConnectionState.LOST and self._target is not None)
        self._close()
        if self._target is None:
            self._set_state(ConnectionState.CONNECTING, reason)
            return
        if had_data:
            self._set_state(ConnectionState.LOST, reason)
            self.reconnections += 1
        target = self._target.describe() if self._target else self.port_name
        self._set_state(ConnectionState.RECONNECTING, f"{reason}; waiting for {target} to come back")

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._close_conn(conn)

    @staticmethod
    def _close_conn(conn: _Connection) -> None:
        with contextlib.suppress(Exception):
            conn.port.close()

    @staticmethod
    def _gone_reason(device: str, exc: BaseException) -> str:
        if not _node_exists(device):
            return f"cable unplugged: {device} disappeared"
        text = str(exc)
        if "returned no data" in text:
            return (f"lost the connection to {device}: the device stopped answering "
                    "(unplugged, switched off, or another program is reading the same port)")
        return f"lost the connection to {device} ({text})"

    @staticmethod
    def _open_failure(device: str, exc: BaseException) -> str:
        err = exc.errno if isinstance(exc, OSError) else None  # SerialException is an OSError
        if err == errno.EACCES or "Permission denied" in str(exc):
            return (f"permission denied opening {device}: add your user to the 'dialout' group "
                    "(then log out and in again)")
        if err == errno.EBUSY or "busy" in str(exc).lower():
            return f"{device} is in use by another program"
        if err == errno.ENOENT or not _node_exists(device):
            return f"waiting for {device}: no such port"
        return f"cannot open {device} ({exc})"


def _behind(newest: int, sequence: int) -> int:
    """How many frames ``sequence`` is behind ``newest`` (16-bit, across the wrap); 0 if not behind."""
    back = (newest - sequence) & 0xFFFF
    return back if back < 0x8000 else 0


def _listed_at(ports: list[PortInfo], path: str) -> PortInfo | None:
    """The listing for ``path`` (also when ``path`` is a symlink to the listed device, as the
    user may name a port by ``/dev/serial/by-id/...``)."""
    if not path:
        return None
    real = _node_target(path)
    return next((p for p in ports if p.device in (path, real)), None)


def _node_target(path: str) -> str:
    """The device node a port name resolves to (names may be symlinks that udev moves)."""
    return os.path.realpath(path) if path.startswith("/") else path


def _node_exists(path: str) -> bool:
    """Whether a port's device node exists. Only POSIX ports are files; for others (Windows
    COM ports) we cannot tell this way and rely on read errors and discovery instead."""
    if not path.startswith("/"):
        return bool(path)
    return os.path.exists(path)


class _Refused(_PortGone):
    """The port holds a different device than the one we are locked to."""


def _open_serial(path: str, baud: int) -> serial.Serial:
    # exclusive=True: two programs reading one probe would each see half the bytes.
    return serial.Serial(path, baud, timeout=0.1, write_timeout=0.5, exclusive=True)
