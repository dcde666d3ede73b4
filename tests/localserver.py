"""A threaded HTTP/1.1 test server on 127.0.0.1: scripted replies per path, every request recorded.

Usage::

    with LocalServer() as server:
        server.route("/ticker", Reply.json({"price": "70000.1"}))
        server.route("/flaky", Reply(status=503), Reply.json({"ok": 1}))  # in turn; last repeats
        url = server.url("/ticker?pair=XBTUSD")
        ...
        assert server.seen("/ticker")[0].headers["user-agent"].startswith("btcwatch/")

As a pytest fixture::

    @pytest.fixture
    def server():
        with LocalServer() as s:
            yield s

A reply can wait before its status line (``delay_s``), stall after ``stall_after`` body bytes
(``stall_s``), trickle (``drip_s`` before each ``piece_size`` piece), be sent chunked without
Content-Length (``chunked``), be ``size`` bytes long (the body repeated; generated as it is sent,
never built whole) or never end (``endless``). Each request's record counts the body bytes the
server managed to write, so a test can prove a client stopped early. Waits end as soon as the
client hangs up or the server stops, so a stalled reply never holds up a test.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Wait this long after reading the request, before the status line."""
    stall_after: int | None = None
    """Send this many body bytes, then wait ``stall_s`` before the rest."""
    stall_s: float = 0.0
    chunked: bool = False
    """``Transfer-Encoding: chunked``, no Content-Length."""
    size: int | None = None
    """Body length: ``body`` (or ``b"0"``) repeated to exactly this many bytes."""
    endless: bool = False
    """Chunked, ``body`` (or ``b"0"``) repeated until the client goes away or the server stops."""
    piece_size: int = CHUNK
    """The body goes out in writes of at most this many bytes (chunks, when chunked)."""
    drip_s: float = 0.0
    """Wait this long before each piece: a body that trickles in."""

    @classmethod
    def json(cls, doc: Any, status: int = 200, **kw: Any) -> Reply:
        """A JSON body with its Content-Type."""
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        return cls(status=status, body=json.dumps(doc).encode(), headers=headers, **kw)

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/plain", **kw: Any
    ) -> Reply:
        """A text body (HTML, CSV, plain) with its Content-Type."""
        headers = {"Content-Type": f"{content_type}; charset=utf-8", **kw.pop("headers", {})}
        return cls(status=status, body=text.encode(), headers=headers, **kw)

    def pieces(self) -> Iterator[bytes]:
        """The body in pieces of ``piece_size`` (lazily, so 50 MB costs nothing up front)."""
        step = self.piece_size
        if self.size is None and not self.endless:
            for start in range(0, len(self.body), step):
                yield self.body[start : start + step]
            return
        unit = self.body or b"0"
        block = (unit * (step // len(unit) + 1))[:step]
        left = self.size if self.size is not None and not self.endless else None
        while left is None or left > 0:
            piece = block if left is None else block[: min(step, left)]
            yield piece
            if left is not None:
                left -= len(piece)

    def length(self) -> int | None:
        """The Content-Length to declare, ``None`` for chunked replies."""
        if self.chunked or self.endless:
            return None
        return self.size if self.size is not None else len(self.body)


@dataclass
class Seen:
    """One request the server received, and how far its reply got."""

    method: str
    path: str
    """Path with the query string, as sent."""
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes = b""
    bytes_sent: int = 0
    """Body bytes written to the socket so far."""
    complete: bool = False
    """The whole reply was written."""
    done: threading.Event = field(default_factory=threading.Event)
    """Set when the handler has finished with this request (complete or not)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a keep-alive handler blocked on its socket must not hang stop()
    owner: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-reply is what half of the tests do: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections end by themselves
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length) if length else b"",
        )
        reply = owner.next_reply(seen)
        try:
            self._write(reply, seen, owner.stopping)
            seen.complete = True
        except OSError:  # the client hung up (BrokenPipe, ConnectionReset) or the socket timed out
            self.close_connection = True
        finally:
            seen.done.set()

    def _write(self, reply: Reply, seen: Seen, stopping: threading.Event) -> None:
        self._pause(reply.delay_s, stopping)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        length = reply.length()
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        for piece in reply.pieces():
            stall = reply.stall_after
            if stall is not None and seen.bytes_sent <= stall < seen.bytes_sent + len(piece):
                cut = stall - seen.bytes_sent
                self._send(piece[:cut], seen, chunked=length is None)
                self._pause(reply.stall_s, stopping)
                piece = piece[cut:]
            self._pause(reply.drip_s, stopping)
            self._send(piece, seen, chunked=length is None)
        if length is None:
            self.wfile.write(b"0\r\n\r\n")

    def _pause(self, seconds: float, stopping: threading.Event) -> None:
        """Wait ``seconds``; raise as soon as the client hangs up or the server stops."""
        deadline = time.monotonic() + seconds
        while not stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.02))
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                raise ConnectionAbortedError("client hung up")
            if readable:  # the client sent more (pipelining): just wait out the pause
                stopping.wait(left)
        raise ConnectionAbortedError("server stopping")

    def _send(self, data: bytes, seen: Seen, *, chunked: bool) -> None:
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        seen.bytes_sent += len(data)


class LocalServer:
    """The test server; start it with ``with`` (or ``start()``/``stop()``)."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        """Every request, in arrival order."""
        self.stopping = threading.Event()
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def route(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` (query ignored) with ``replies`` in turn; the last one repeats."""
        if not replies:
            raise ValueError("route() needs at least one Reply")
        with self._lock:
            self._routes[path] = list(replies)

    def next_reply(self, seen: Seen) -> Reply:
        """Record ``seen`` and pick its reply (404 with an empty body for unknown paths)."""
        with self._lock:
            self.requests.append(seen)
            queue = self._routes.get(urlsplit(seen.path).path)
            if not queue:
                return Reply(status=404)
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def seen(self, path: str) -> list[Seen]:
        """The requests made to ``path`` (query ignored)."""
        with self._lock:
            return [s for s in self.requests if urlsplit(s.path).path == path]

    @property
    def port(self) -> int:
        """The port the OS gave us."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` (which may carry a query)."""
        return self.base_url + path

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every request so far has been handled; ``False`` on timeout."""
        with self._lock:
            pending = list(self.requests)
        return all(s.done.wait(timeout) for s in pending)

    def start(self) -> LocalServer:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """End stalled replies, stop serving and close the socket."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
