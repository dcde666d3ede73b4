"""The recording format: raw HTTP exchanges as JSON Lines (optionally gzipped). No httpx here."""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import IO, BinaryIO, Final, Literal, TypeVar

from tui.core.errors import RecordingError
from tui.core.model import Exchange
from tui.core.redact import REDACTED, redact_headers

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
#: Response headers a recording keeps: what the body is, when it was made, and rate-limit state
#: (Binance ``X-MBX-USED-WEIGHT-1M``, Bybit ``X-Bapi-Limit-*``, Glassnode ``x-rate-limit-*``,
#: Coin Metrics ``X-RateLimit-*``, the IETF ``RateLimit-*`` draft; see SOURCES.md). Not
#: ``content-encoding``: the stored body is decoded. :func:`keep_headers` also keeps the rest of
#: the rate-limit families.
KEPT_HEADERS: Final[frozenset[str]] = frozenset(
    {
        "content-type", "retry-after", "date", "expires", "cache-control", "age", "last-modified",
        "x-mbx-used-weight", "x-mbx-used-weight-1m",
        "x-bapi-limit", "x-bapi-limit-status", "x-bapi-limit-reset-timestamp",
        "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used",
        "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset",
        "ratelimit", "ratelimit-policy",
        "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
    }
)  # fmt: skip
_KEPT_PREFIXES: Final = ("x-ratelimit-", "x-rate-limit-", "ratelimit-", "x-mbx-used-weight-")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RecordingHeader:
    """The first line of a recording: what wrote it, when, and whether it is a capture or a demo."""

    schema_version: int
    created_at: datetime
    btcwatch_version: str
    label: str
    """Shown on screen, e.g. ``DEMO · scenario 5-6 Feb 2026 · not live``; ``""`` for a plain one."""
    mode: Literal["live", "demo"]
    """``demo`` marks a scenario built by a script, not a capture."""


@dataclass(frozen=True, slots=True)
class Recording:
    """A whole recording in memory: its header and its exchanges, oldest first."""

    header: RecordingHeader
    exchanges: tuple[Exchange, ...]
    notice: str = ""
    """One line when reading skipped a cut-off last line (a killed recorder); else ``""``."""

    @property
    def start(self) -> datetime:
        """When the first exchange was fetched (the header's time for an empty recording)."""
        return self.exchanges[0].fetched_at if self.exchanges else self.header.created_at

    @property
    def end(self) -> datetime:
        """When the last exchange was fetched (the header's time for an empty recording)."""
        return self.exchanges[-1].fetched_at if self.exchanges else self.header.created_at


def keep_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers a recording keeps (lower-case names); never credentials or cookies."""
    kept = {
        k.lower(): v
        for k, v in headers.items()
        if k.lower() in KEPT_HEADERS or k.lower().startswith(_KEPT_PREFIXES)
    }
    return {k: v for k, v in redact_headers(kept).items() if v != REDACTED}


_HEADER_FIELDS: Final = ("schema_version", "created_at", "btcwatch_version", "label", "mode")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(x: Exchange) -> dict[str, object]:
    doc: dict[str, object] = {"type": "exchange", "fetched_at": x.fetched_at, "method": x.method}
    doc |= {
        "url": x.url,
        "status": x.status,
        "latency_ms": x.latency_ms,
        "headers": dict(x.headers),
    }
    try:  # text when it is text, so people can read recordings and scripts can build them
        return doc | {"body_text": x.body.decode("utf-8")}
    except UnicodeDecodeError:
        return doc | {"body_b64": base64.b64encode(x.body).decode("ascii")}


class _BadLine(ValueError):
    """A line that is JSON but not a valid header or exchange."""


def _get(doc: Mapping[str, object], key: str, kind: type[T]) -> T:
    value = doc.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _BadLine(f"{key!r} should be {kind.__name__}, got {str(value)[:40]!r}")
    return value


def _time(doc: Mapping[str, object], key: str) -> datetime:
    try:
        when = datetime.fromisoformat(_get(doc, key, str))
    except ValueError as e:
        raise _BadLine(f"{key!r} is not an ISO-8601 time") from e
    if when.tzinfo is None:
        raise _BadLine(f"{key!r} has no time zone")
    return when.astimezone(UTC)


def _decode_header(doc: Mapping[str, object]) -> RecordingHeader:
    version = _get(doc, "schema_version", int)
    if version > SCHEMA_VERSION:
        raise _BadLine(f"schema {version} is newer than this btcwatch reads ({SCHEMA_VERSION})")
    mode = doc.get("mode")
    if mode != "live" and mode != "demo":
        raise _BadLine(f"'mode' should be 'live' or 'demo', got {str(mode)[:40]!r}")
    created, label = _time(doc, "created_at"), _get(doc, "label", str)
    return RecordingHeader(version, created, _get(doc, "btcwatch_version", str), label, mode)


def _decode_exchange(doc: Mapping[str, object]) -> Exchange:
    headers = _get(doc, "headers", dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise _BadLine("'headers' should map names to strings")
    if "body_text" in doc:
        body = _get(doc, "body_text", str).encode("utf-8")
    elif "body_b64" in doc:
        body = base64.b64decode(_get(doc, "body_b64", str), validate=True)
    else:
        raise _BadLine("no 'body_text' or 'body_b64'")
    status, latency = _get(doc, "status", int), doc.get("latency_ms")
    if not 100 <= status <= 599:
        raise _BadLine(f"'status' {status} is not an HTTP status")
    if latency is not None and (isinstance(latency, bool) or not isinstance(latency, int | float)):
        raise _BadLine("'latency_ms' should be a number or null")
    method, url, at = _get(doc, "method", str), _get(doc, "url", str), _time(doc, "fetched_at")
    return Exchange(method, url, status, MappingProxyType(headers), body, at, latency)


def _lines(stream: IO[bytes] | gzip.GzipFile) -> Iterator[bytes | None]:
    """The raw lines; ``None`` last when a gzip stream stops short (a killed recorder)."""
    try:
        yield from stream
    except EOFError:
        yield None


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line.decode("utf-8"))
    except ValueError:
        return False
    return True


def _add(line: bytes, header: RecordingHeader | None, out: list[Exchange]) -> RecordingHeader:
    """Decode one line: the header (returned) or an exchange (appended to ``out``)."""
    doc = json.loads(line.decode("utf-8"))
    if not isinstance(doc, dict):
        raise _BadLine("not a JSON object")
    kind = doc.get("type")
    if kind == "header" and header is None:
        return _decode_header(doc)
    if header is None or kind == "header":
        raise _BadLine("the header must be the first line, and only there")
    if kind != "exchange":
        raise _BadLine(f"unknown type {str(kind)[:40]!r}")
    out.append(_decode_exchange(doc))
    return header


def read_recording(path: Path | str | Traversable, *, limit: int | None = None) -> Recording:
    """Read a recording (gzip when the name ends ``.gz``).

    ``limit`` stops after that many exchanges (the head of a long file, read in a moment).

    A cut-off last line (a recorder killed mid-write) is skipped and named in ``notice``, so the
    file still replays; a broken line anywhere else is an error.

    Raises:
        RecordingError: one line naming the file, the line number and what is wrong.
    """
    source = Path(path) if isinstance(path, str) else path
    header: RecordingHeader | None = None
    exchanges: list[Exchange] = []
    notice = ""
    try:
        with source.open("rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if source.name.endswith(".gz") else raw
            for lineno, line in enumerate(_lines(stream), 1):
                where = f"{source}:{lineno}"
                # Only a recorder killed mid-write leaves a last line without its newline; it
                # always wrote (and flushed) the header first.
                if line is None or not (line.endswith(b"\n") or header is None or _is_json(line)):
                    notice = f"{where}: last line cut off (recorder stopped mid-write); skipped"
                    break
                if limit is not None and len(exchanges) >= limit:
                    break
                try:
                    header = _add(line, header, exchanges) if line.strip() else header
                except json.JSONDecodeError as e:
                    raise RecordingError(f"{where}: not JSON: {e.msg} at column {e.colno}") from e
                except ValueError as e:  # _BadLine, bad UTF-8, bad base64
                    raise RecordingError(f"{where}: {e}") from e
    except OSError as e:  # also gzip.BadGzipFile
        raise RecordingError(f"{source}: cannot read: {e}") from e
    if header is None:
        raise RecordingError(f"{source}: no header line (empty file?)")
    if notice:
        log.warning("%s", notice)
    exchanges.sort(key=lambda x: x.fetched_at)
    return Recording(header, tuple(exchanges), notice)


class RecordingWriter:
    """Writes a recording: the header line at once, then one exchange per line, each flushed.

    A killed recorder loses at most the line it was writing. Gzipped when the name ends ``.gz``;
    an existing file is replaced.
    """

    def __init__(self, path: Path | str, header: RecordingHeader) -> None:
        self.path = Path(path)
        gz = self.path.name.endswith(".gz")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Held open for the writer's life; close() or the context manager ends it.
            self._file: BinaryIO | gzip.GzipFile | None = (
                gzip.open(self.path, "wb") if gz else self.path.open("wb")  # noqa: SIM115
            )
        except OSError as e:
            raise RecordingError(f"{self.path}: cannot write: {e}") from e
        self._line({"type": "header"} | {k: getattr(header, k) for k in _HEADER_FIELDS})

    def _line(self, doc: Mapping[str, object]) -> None:
        if self._file is None:
            raise RecordingError(f"{self.path}: already closed")
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=_iso) + "\n"
        try:
            self._file.write(line.encode("utf-8"))
            self._file.flush()  # gzip: a sync flush, so every whole line can be read back
        except OSError as e:
            raise RecordingError(f"{self.path}: cannot write: {e}") from e

    def write(self, exchange: Exchange) -> None:
        """Append one exchange and flush it."""
        self._line(_encode(exchange))

    def close(self) -> None:
        """Finish the file (idempotent)."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
