"""The simulated patient served as a probe on a pseudo-terminal: a virtual serial device.

The serial source opens the pseudo-terminal's path exactly as it opens ``/dev/ttyACM0``.
What goes on the wire comes from the real ``firmware_protocol`` encoders, binary frames
or text lines, so the serial path that runs in production is the one under test.

The device behaves like a battery-powered two-channel probe on a USB cable:

* on start it prints a short boot banner and some line noise, then (binary) a hello frame;
* it samples the patient model at ``rate_hz`` on a simulated clock running ``speed`` times
  real time; samples due while nobody listens (unplugged) are lost, and the sequence
  number moves on, so the host sees the gap;
* it is one two-channel probe, so a dropout of either foot in the scenario loses the whole
  frame (both feet), as a flaky link would; the sequence number moves on;
* it follows PROTOCOL.md's hello rule (§1.1, §1.5): a hello frame at boot (sequence 0, lost
  if nobody listens), **whenever a host opens the port** (as a native USB CDC probe does when
  DTR goes on) and in answer to an identity request; after each of these hellos it resends
  its last ``backlog`` samples (store and forward), which the host must not store twice;
* it sees the port being opened as a CDC device sees DTR: the pseudo-terminal's master is in
  packet mode (``TIOCPKT``), so the flush pyserial does on opening shows up as a control
  packet, and the hello goes out just after it (a hello sent before the flush would be lost,
  which is why a boot hello alone is not enough); a host that opens without flushing is seen
  by the hang-up ending (reads stop failing with EIO once someone holds the port open);
* :meth:`unplug` closes the pseudo-terminal (its path vanishes, as a USB device node does)
  and :meth:`replug` serves again under a *new* path with the same identity.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import os
import pty
import select
import termios
import threading
import time
import tty
from collections.abc import Callable
from typing import Literal

from firmware_protocol.frames import FrameDecoder, HelloFrame, IdentityRequest, encode_frame
from firmware_protocol.textlines import encode_text_line
from monitor.clock import SimulatedClock
from monitor.model import Limb, ProbeStatus
from monitor.simulation.physiology import PatientModel
from monitor.simulation.wire import SimulatedProbeWire
from monitor.sources.ports import SYMPATHERM_PID, SYMPATHERM_VID, PortInfo

BOOT_BANNER = b"\r\nSympaTherm sim probe bootloader v0.3\r\nbooting...\r\n"
# What a naive text firmware prints for an open (absurdly cold) or shorted (absurdly hot) thermistor.
TEXT_OPEN_C = -40.0
TEXT_SHORT_C = 150.0
# A host that opened the port without flushing it is greeted this long (real seconds) after
# the open is seen, so that a flush it does meanwhile cannot swallow the hello.
OPEN_HELLO_DELAY_S = 0.05
_PACKET_FLUSH = 0x01 | 0x02  # TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE


class VirtualSerialProbe:
    """A simulated two-channel probe on a pseudo-terminal. Use as a context manager or call
    :meth:`start` / :meth:`stop`."""

    def __init__(self, scenario: str = "success-fast", seed: int = 1, speed: float = 1.0,
                 protocol: Literal["binary", "text"] = "binary", rate_hz: float = 1.0,
                 blocked: Limb = Limb.LEFT, *, device_id: str = "SIM-0001", usb_serial: str | None = None,
                 vid: int | None = SYMPATHERM_VID, pid: int | None = SYMPATHERM_PID,
                 firmware: str = "sim-1.0", probe_model: str = "simulated YSI 400",
                 boot_noise: bool = True, backlog: int = 5, text_crc: bool = False,
                 injection_s: float | None = None, clock: SimulatedClock | None = None) -> None:
        if protocol not in ("binary", "text"):
            raise ValueError(f"protocol must be 'binary' or 'text', not {protocol!r}")
        self.model = PatientModel.from_scenario(scenario, seed=seed, blocked=blocked, injection_s=injection_s)
        self.protocol = protocol
        self.rate_hz = float(rate_hz)
        self.device_id = device_id
        self.usb_serial = usb_serial if usb_serial is not None else device_id
        self.vid, self.pid = vid, pid
        self.firmware, self.probe_model = firmware, probe_model
        self.boot_noise = boot_noise
        self.text_crc = text_crc
        self._speed = speed
        self._clock = clock
        self._wire = SimulatedProbeWire(self.model, device_id=device_id)
        self._backlog: collections.deque[bytes] = collections.deque(maxlen=max(0, backlog))
        self._lock = threading.RLock()
        self._master: int | None = None
        self._slave: int | None = None
        self._path = ""
        self._seq = 0
        self._next_index = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._requests = FrameDecoder()
        self._host_open = False  # someone holds the port open (the pty is not hung up)
        self._hello_due: float | None = None  # monotonic time of a hello owed to a host that opened the port
        #: Hellos sent because a host opened the port.
        self.open_hellos = 0
        #: Samples written to the pseudo-terminal, and samples lost while unplugged.
        self.samples_sent = 0
        self.samples_unplugged = 0
        self.identity_requests = 0
        #: Every byte the host wrote to the probe (a host must not write to devices it does not know).
        self.bytes_received = 0
        #: Optional hook called as ``on_write(sequence, perf_counter_s)`` right after a sample is written.
        self.on_write: Callable[[int, float], object] | None = None

    # ---- public ------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The device path to open, e.g. /dev/pts/7 ("" while unplugged)."""
        return self._path

    @property
    def injection_s(self) -> float:
        """When the simulated physician injects, in simulated seconds after serving started."""
        return self.model.injection_s

    @property
    def clock(self) -> SimulatedClock:
        if self._clock is None:
            raise RuntimeError("the virtual probe has not been started")
        return self._clock

    def port_info(self) -> PortInfo:
        """How ``comports()`` would list this device if it were a real USB probe."""
        return PortInfo(self._path, self.vid, self.pid, self.usb_serial, "SympaTherm probe (simulated)",
                        "SympaTherm")

    def start(self) -> str:
        if self._clock is None:
            self._clock = SimulatedClock(self._speed)
        self._open_pty()
        if self.protocol == "binary":
            self._write(self._hello(boot=True))  # nobody listens yet: lost, as on real hardware
        self._thread = threading.Thread(target=self._serve, name="virtual-serial-probe", daemon=True)
        self._thread.start()
        return self._path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self._close_pty()

    def unplug(self) -> None:
        """Pull the cable: the path vanishes and readers get an error at once."""
        self._close_pty()

    def replug(self) -> str:
        """Plug the same probe back in; it comes back under a new path. Returns the path."""
        with self._lock:
            if self._master is not None:
                return self._path
            old = self._path
            self._open_pty()
            if self._path == old:  # the kernel gave the freed number back: hold it, take another
                spare = self._master
                self._master = None
                self._open_pty()
                if spare is not None:
                    os.close(spare)
            return self._path

    def inject(self, data: bytes) -> None:
        """Write raw bytes (garbage, a half frame, a foreign banner) into the stream."""
        self._write(data)

    def __enter__(self) -> VirtualSerialProbe:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- pseudo-terminal ---------------------------------------------------------------------
    def _open_pty(self) -> None:
        with self._lock:
            master, slave = pty.openpty()
            tty.setraw(slave)  # no echo, no line editing: a byte pipe like a USB CDC port
            os.set_blocking(master, False)
            fcntl.ioctl(master, termios.TIOCPKT, b"\x01\x00\x00\x00")  # see the host open and flush
            self._path = os.ttyname(slave)
            # Only the host holds the port open: its opening and closing are then visible here.
            os.close(slave)
            self._master, self._slave = master, None
            self._host_open = False
            self._hello_due = None
            self._requests.reset()
            if self.boot_noise:
                self._write_locked(BOOT_BANNER + bytes([0x7E, 0x13, 0xF0, 0x00, 0x55, 0xAA]))

    def _close_pty(self) -> None:
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = None
            self._path = ""

    def _write(self, data: bytes) -> bool:
        with self._lock:
            return self._write_locked(data)

    def _write_locked(self, data: bytes) -> bool:
        if self._master is None:
            return False
        try:
            os.write(self._master, data)
            return True
        except BlockingIOError:
            return False  # nobody reading and the buffer is full: the bytes go nowhere, as on a UART
        except OSError:
            return False

    # ---- serving -----------------------------------------------------------------------------
    def _hello(self, boot: bool = False) -> bytes:
        seq = 0 if boot else self._take_seq()
        if boot:
            self._seq = 1
        return encode_frame(HelloFrame(seq, int(self.clock.now() * 1000) & 0xFFFFFFFF, self.device_id,
                                       self.firmware, self.probe_model, 2, self.rate_hz))

    def _take_seq(self) -> int:
        seq = self._seq & 0xFFFF
        self._seq += 1
        return seq

    def _sample_bytes(self, t: float) -> tuple[int, bytes | None]:
        if self.protocol == "binary":
            seq = self._take_seq()
            frame = self._wire.frame(seq, t)
            return seq, None if frame is None else encode_frame(frame)
        values = self._wire.measure(t)
        if values is None:
            return 0, None
        numbers = []
        for limb in (Limb.LEFT, Limb.RIGHT):
            celsius, status = values[limb]
            if status is ProbeStatus.OPEN_CIRCUIT:
                celsius = TEXT_OPEN_C
            elif status is not ProbeStatus.OK or celsius is None:
                celsius = TEXT_SHORT_C
            numbers.append(celsius)
        return 0, encode_text_line(numbers[0], numbers[1], with_crc=self.text_crc)

    def _serve(self) -> None:
        clock = self.clock
        while not self._stop.is_set():
            now = clock.now()
            with self._lock:
                self._answer_requests()
                if self._hello_due is not None and time.monotonic() >= self._hello_due:
                    self._greet("open")
                while self._next_index / self.rate_hz <= now:
                    t = self._next_index / self.rate_hz
                    self._next_index += 1
                    seq, data = self._sample_bytes(t)
                    if data is None:
                        continue  # dropout: the frame is lost on a flaky link
                    if self._write_locked(data):
                        self.samples_sent += 1
                        if self.on_write is not None:
                            self.on_write(seq, time.perf_counter())
                    else:
                        self.samples_unplugged += 1
                    self._backlog.append(data)
                master = self._master
            wait = max(0.0, (self._next_index / self.rate_hz - clock.now()) / clock.speed)
            wait = min(wait, 0.05)
            if self._hello_due is not None:
                wait = min(wait, max(0.0, self._hello_due - time.monotonic()))
            if master is None or not self._host_open:
                self._stop.wait(wait if master is None else min(wait, 0.01))  # a hung-up master is always readable
                continue
            try:
                select.select([master], [], [], wait)
            except (OSError, ValueError):
                self._stop.wait(wait)  # closed under us by unplug(): go round again

    def _answer_requests(self) -> None:
        """Read what the host did: opened or closed the port, flushed it, or wrote to it."""
        while self._master is not None:
            try:
                packet = os.read(self._master, 4096)
            except BlockingIOError:
                self._opened()  # not hung up: someone holds the port open
                return
            except OSError as exc:
                if exc.errno == errno.EIO:  # hung up: nobody holds the port open
                    self._host_open = False
                    self._hello_due = None
                return
            if not packet:
                return
            self._opened()
            if packet[0] != 0:  # a control packet
                if packet[0] & _PACKET_FLUSH and self.protocol == "binary":
                    self._greet("open")  # the host opened the port and flushed it: greet it now
                continue
            data = packet[1:]
            self.bytes_received += len(data)
            if self.protocol != "binary":
                continue  # a text probe does not listen
            for frame in self._requests.feed(data):
                if isinstance(frame, IdentityRequest):
                    self.identity_requests += 1
                    self._greet("request")

    def _opened(self) -> None:
        if not self._host_open:
            self._host_open = True
            if self.protocol == "binary":
                self._hello_due = time.monotonic() + OPEN_HELLO_DELAY_S

    def _greet(self, why: str) -> None:
        """A hello, then the stored samples (store and forward: the host must drop what it has)."""
        self._hello_due = None
        if why == "open":
            self.open_hellos += 1
        self._write_locked(self._hello())
        for old in self._backlog:
            self._write_locked(old)


__all__ = ["VirtualSerialProbe"]
