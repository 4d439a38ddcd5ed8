"""Keep the screen awake while a session runs, where the operating system lets an app ask.

Linux desktops: org.freedesktop.ScreenSaver.Inhibit over D-Bus (session bus). Best effort:
no bus, no service or any error just means the request was not granted; never a crash.
"""

from __future__ import annotations

import sys


class ScreenAwake:
    def __init__(self) -> None:
        self._cookie: int | None = None
        self.granted = False
        self.detail = "not requested"

    def inhibit(self, reason: str = "A SympaTherm session is recording") -> bool:
        if self._cookie is not None:
            return True
        if not sys.platform.startswith("linux"):
            self.detail = "screen-saver control not available on this system"
            return False
        try:
            from PyQt6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage
            bus = QDBusConnection.sessionBus()
            if not bus.isConnected():
                self.detail = "no desktop session bus"
                return False
            iface = QDBusInterface("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                                   "org.freedesktop.ScreenSaver", bus)
            if not iface.isValid():
                self.detail = "no screen-saver service"
                return False
            reply = iface.call("Inhibit", "SympaTherm", reason)
            if reply.type() == QDBusMessage.MessageType.ReplyMessage and reply.arguments():
                self._cookie = int(reply.arguments()[0])
                self.granted = True
                self.detail = "screen kept awake"
                return True
            self.detail = "screen-saver service refused"
        except Exception as exc:  # best effort: never let this stop a recording
            self.detail = f"screen-saver control failed: {exc}"
        return False

    def release(self) -> None:
        if self._cookie is None:
            return
        try:
            from PyQt6.QtDBus import QDBusConnection, QDBusInterface
            iface = QDBusInterface("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver",
                                   "org.freedesktop.ScreenSaver", QDBusConnection.sessionBus())
            iface.call("UnInhibit", self._cookie)
        except Exception:  # noqa: S110 - releasing is best effort too
            pass
        self._cookie = None
        self.granted = False
