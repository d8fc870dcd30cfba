"""How answers leave the server: headers and body in one write, in order, nothing held back."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.protocol import HOOKS, _OneWrite
from geo.settings import PROJECT_ROOT
from tests.conftest import run_coroutine


class _Recorded(asyncio.Transport):
    """A transport that keeps what is written to it (the socket's side is asyncio's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_an_answer_in_pieces_goes_out_as_one_write() -> None:
    async def answer() -> _Recorded:
        sent = _Recorded()
        one = _OneWrite(sent)
        one.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        one.write(b"body")
        assert sent.writes == []  # held until the answer is complete
        assert one.get_write_buffer_size() == 42
        one.flush()  # the protocol's "response complete"
        return sent

    sent = run_coroutine(answer)
    assert sent.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody"]


def test_large_pieces_go_at_once_and_a_stream_by_the_next_turn() -> None:
    async def stream() -> tuple[list[bytes], list[bytes]]:
        sent = _Recorded()
        one = _OneWrite(sent)
        one.write(b"headers\r\n\r\n")
        one.write(b"x" * _OneWrite.HOLD_BYTES)  # flow control must see it
        at_once = list(sent.writes)
        one.write(b"chunk")  # a stream's next piece, no "complete" yet
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return at_once, sent.writes

    at_once, writes = run_coroutine(stream)
    assert at_once == [b"headers\r\n\r\n" + b"x" * _OneWrite.HOLD_BYTES]
    assert writes[-1] == b"chunk"


def test_closing_sends_what_is_held_first() -> None:
    async def close() -> _Recorded:
        sent = _Recorded()
        one = _OneWrite(sent)
        one.write(b"last words")
        one.close()
        return sent

    sent = run_coroutine(close)
    assert sent.writes == [b"last words"]
    assert sent.closed


def _read_answers(sock: socket.socket, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` answers (status line, body) read off a keep-alive connection, in order."""
    data, answers = b"", []
    while len(answers) < count:
        chunk = sock.recv(1 << 16)
        assert chunk, "the server closed the connection"
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            fields = dict(h.partition(b": ")[::2] for h in lines[1:])
            length = int(fields.get(b"content-length", b"0"))  # none: 204
            if len(rest) < length:
                break
            answers.append((lines[0], rest[:length]))
            data = rest[length:]
    return answers


def test_pipelined_requests_get_whole_answers_in_order(live_url: str) -> None:
    """Small answers, a large page and small again on one connection: each whole, in turn."""
    host, port = live_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        request = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n"
        paths = [b"/health", b"/maps/stations?lang=en", b"/health", b"/favicon.ico"]
        sock.sendall(b"".join(request % p for p in paths))
        answers = _read_answers(sock, len(paths))
    assert [status for status, _ in answers] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 204 No Content",
    ]
    assert b'"status"' in answers[0][1]
    assert len(answers[1][1]) > _OneWrite.HOLD_BYTES
    assert answers[1][1].rstrip().endswith(b"</html>")


async def tiny_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app answering 200 (for the worker processes below)."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def tiny_app_factory() -> Any:
    """``run_workers`` takes an app factory."""
    return tiny_app


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_workers_stop_when_their_parent_is_killed() -> None:
    """``yizhan serve --workers 2`` killed outright leaves no worker serving the port.

    Killed as soon as one worker answers: the other may still be starting, and must stop too.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "from cli.server import run_workers, server_options; from geo.settings import Settings; "
        f"run_workers('tests.api.test_server:tiny_app_factory', '127.0.0.1', {port}, 2, "
        "server_options(Settings(), 'warning'))"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(_children(parent.pid)) < 2 or not _answers(port):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        workers = _children(parent.pid)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in workers):
        alive = [Path(f"/proc/{p}/cmdline").read_bytes()[:200] for p in workers if _running(p)]
        assert time.monotonic() < deadline, f"a worker outlived its parent: {alive}"
        time.sleep(0.2)
    assert not _answers(port)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_uvicorns_private_protocol_still_has_the_hooks_we_use() -> None:
    """An uvicorn upgrade that renames or drops them fails here, not in production."""
    from importlib.metadata import version

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    pinned = next(
        line
        for line in (PROJECT_ROOT / "pyproject.toml").read_text().splitlines()
        if "uvicorn" in line
    )
    assert f">={'.'.join(version('uvicorn').split('.')[:2])}" in pinned, (
        pinned,
        version("uvicorn"),
    )
    for hook in HOOKS:
        assert callable(getattr(HttpToolsProtocol, hook, None)), hook
