"""A raw pseudo-terminal as a probe's line: the test writes exactly the bytes a probe (or a faulty
link) would carry, and whatever the host sends back is read and dropped (not answered)."""

from __future__ import annotations

import os
import pty
import time
import tty

from monitor.sources.ports import SYMPATHERM_PID, SYMPATHERM_VID, PortInfo


class RawLine:
    def __init__(self, serial: str = "RAW-1") -> None:
        self.serial = serial
        self.master = self.slave = -1
        self.path = ""
        self.open()

    def open(self) -> None:
        """Plug in (again): a new pseudo-terminal, so a new path."""
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)

    def close(self) -> None:
        """Unplug: the path disappears."""
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self.path = ""

    def info(self) -> PortInfo:
        return PortInfo(self.path, SYMPATHERM_VID, SYMPATHERM_PID, self.serial, "SympaTherm probe")

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view):]
            except BlockingIOError:
                time.sleep(0.001)
            self.drain()

    def drain(self) -> None:
        try:
            os.read(self.master, 4096)  # requests from the host: not answered here
        except (BlockingIOError, OSError):
            pass
