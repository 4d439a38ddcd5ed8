"""A real MLLP receiver for the tests: python-hl7's asyncio MLLP server on localhost, in a thread.

It parses every message with python-hl7 (an independent parser) and answers per connection as
told: ``AA``, ``AE`` (with an ERR segment's words), ``AA-other`` (an AA for another control id),
``silence`` (reads, never answers) or ``drop`` (closes the connection without answering).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterable

import hl7
from hl7.mllp import start_hl7_server

AE_TEXT = "Patient \\T\\ visit not found"  # escaped: the words are 'Patient & visit not found'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    def __init__(self, behaviours: Iterable[str] = (), *, default: str = "AA", port: int | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.behaviours = list(behaviours)
        self.default = default
        self.port = port or free_port()
        self.ssl_context = ssl_context
        self.received: list[hl7.Message] = []  # every message read, parsed
        self.acknowledged: list[str] = []  # control ids answered with AA
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mllp-receiver", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> Receiver:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the MLLP receiver did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._server = await start_hl7_server(self._client, "127.0.0.1", self.port, encoding="utf-8",
                                              ssl=self.ssl_context, reuse_address=True)
        self._started.set()
        async with self._server:
            await self._stop.wait()
        clients = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in clients:  # a silent receiver's connection still waiting
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)

    async def _client(self, reader, writer) -> None:
        self.connections += 1
        behaviour = self.behaviours.pop(0) if self.behaviours else self.default
        try:
            message = await reader.readmessage()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        self.received.append(message)
        control_id = str(message.segment("MSH")(10))
        if behaviour == "drop":
            writer.transport.abort()
            return
        if behaviour == "silence":
            await asyncio.sleep(3600)
            return
        if behaviour == "AE":
            ack = str(message.create_ack("AE", message_id="ACK" + control_id[:17])).rstrip("\r")
            ack += f"\rERR||||E||||{AE_TEXT}"
        else:
            acked = "SOMEONEELSE" if behaviour == "AA-other" else control_id
            ack = str(message.create_ack("AA", message_id="ACK" + control_id[:17])).replace(control_id, acked)
            if behaviour == "AA":
                self.acknowledged.append(control_id)
        writer.writemessage(hl7.parse(ack))
        await writer.drain()
        writer.close()

    def control_ids(self) -> list[str]:
        return [str(m.segment("MSH")(10)) for m in self.received]
