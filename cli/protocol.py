"""The one place yizhan reaches into uvicorn's private HTTP protocol (and why).

asyncio turns Nagle's algorithm off only on sockets it opened itself; with several workers
uvicorn opens the listening socket and asyncio leaves it on, so an answer's body waited for
the client's delayed acknowledgement of its headers: 40 ms a request. The protocol here sets
``TCP_NODELAY`` on each connection and sends an answer's headers and body in one write.

It subclasses ``uvicorn.protocols.http.httptools_impl.HttpToolsProtocol``, which is not a
public API: uvicorn is pinned to one minor version in ``pyproject.toml``, and
``tests/api/test_server.py`` checks the hooks used here still exist and that answers go out
whole — an upgrade that changes them fails there, never silently in production.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: the hooks of uvicorn's protocol this module overrides or relies on
HOOKS = ("connection_made", "on_response_complete")


class _OneWrite(asyncio.Transport):
    """A transport passing on what an answer writes in pieces as one write when it is done.

    uvicorn writes an answer's status line and headers, then its body: two ``send`` calls,
    two trips through the network stack, two packets (a fifth of a rider request's time on
    loopback). Small pieces are held until the answer is complete (or the loop's next turn,
    for a stream); past :data:`HOLD_BYTES` they go at once, so flow control sees them.
    """

    HOLD_BYTES = 16 * 1024

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._held: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            asyncio.get_running_loop().call_soon(self.flush)
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size >= self.HOLD_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is held, in one piece."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held, self._size = [], 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._size = [], 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, sending each answer at once (``TCP_NODELAY``), in one write.

    asyncio turns Nagle's algorithm off only on sockets it opened itself; with several
    workers uvicorn opens the listening socket and asyncio leaves it on, so an answer's body
    waited for the client's delayed acknowledgement of its headers: 40 ms a request. The
    headers and body of an answer then go out together (:class:`_OneWrite`).
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # noqa: D102
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(_OneWrite(transport))

    def on_response_complete(self) -> None:  # noqa: D102
        assert isinstance(self.transport, _OneWrite)
        self.transport.flush()
        super().on_response_complete()
