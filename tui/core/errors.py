"""The one exception tree of btcwatch.

::

    BtcwatchError                 anything btcwatch raises on purpose; str() is one line for people
    ├── ConfigError               a bad config value: names the field and the file (CLI exit code 2)
    ├── StoreError                the history database
    │   ├── StoreCorruptError     not a database / malformed: the app goes on in memory, saying so
    │   └── StoreLockedError      another btcwatch writes it: opened read-only, saying so
    ├── RecordingError            a recording file that cannot be read or written
    └── FetchError                one request to one provider failed; becomes a SourceStatus
        ├── OfflineError          connection refused, DNS failure, network unreachable
        ├── TimeoutError_         connect or read timed out (also mid-body)
        ├── HTTPStatusError       a non-2xx answer not covered below (``HTTP 404``)
        │   ├── RateLimitedError  429/503 (or a 200 that says so): ``rate-limited until HH:MM``
        │   ├── BlockedError      403 or a challenge page (Cloudflare, WAF)
        │   └── GeoBlockedError   451: the provider refuses this location; not retried
        ├── TooLargeError         the body passed the size cap and was cut off
        ├── NeedsKeyError         the source needs an API key that the config does not give
        └── ParseError            the body is not what the parser expects (quotes what it saw)

Every ``FetchError`` knows the :class:`~tui.core.model.Missing` it stands for, so the engine turns
any of them into a status without a chain of ``except`` clauses.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tui.core.model import Missing, Status


class BtcwatchError(Exception):
    """Base of every error btcwatch raises on purpose. ``str()`` is a single line for people."""


class ConfigError(BtcwatchError):
    """A config value is wrong. The message names the field and where it came from."""

    def __init__(self, field: str, problem: str, origin: str) -> None:
        self.field = field
        self.problem = problem
        self.origin = origin
        super().__init__(f"config error: {field}: {problem} ({origin})")


class StoreError(BtcwatchError):
    """The history database failed."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        super().__init__(f"history store {self.path}: {problem}")


class StoreCorruptError(StoreError):
    """The file is not a usable SQLite database."""


class StoreLockedError(StoreError):
    """Another btcwatch process holds the write lock."""


class RecordingError(BtcwatchError):
    """A recording file cannot be read or written."""


class FetchError(BtcwatchError):
    """One request to one provider failed."""

    reason: Status = Status.HTTP_ERROR

    def __init__(self, detail: str = "") -> None:
        self.detail = _one_line(detail)
        super().__init__(self.detail or self.reason.value)

    def missing(self) -> Missing:
        """What the failure means for the values this request would have brought."""
        return Missing(self.reason, self.detail)


class OfflineError(FetchError):
    """The provider could not be reached at all."""

    reason = Status.OFFLINE


class TimeoutError_(FetchError):  # the builtin name is taken
    """The provider did not answer in time."""

    reason = Status.TIMEOUT


class HTTPStatusError(FetchError):
    """A non-2xx answer."""

    def __init__(self, status_code: int, detail: str = "") -> None:
        self.status_code = status_code
        super().__init__(detail or f"HTTP {status_code}")


class RateLimitedError(HTTPStatusError):
    """The provider asked us to slow down; ``until`` is when we may ask again."""

    reason = Status.RATE_LIMITED

    def __init__(self, status_code: int, until: datetime | None, detail: str = "") -> None:
        self.until = until
        super().__init__(status_code, detail or f"HTTP {status_code}")

    def missing(self) -> Missing:
        """Rate limits carry their end time."""
        return Missing(self.reason, self.detail, until=self.until)


class BlockedError(HTTPStatusError):
    """403 or a challenge page: not retried soon."""

    reason = Status.BLOCKED


class GeoBlockedError(HTTPStatusError):
    """451: the provider refuses this location."""

    reason = Status.GEO_BLOCKED


class TooLargeError(FetchError):
    """The body passed the size cap."""

    reason = Status.TOO_LARGE


class NeedsKeyError(FetchError):
    """The source needs an API key."""

    reason = Status.NEEDS_KEY


class ParseError(FetchError):
    """The body is not what the parser expects."""

    reason = Status.PARSE_ERROR


def _one_line(text: str, limit: int = 160) -> str:
    """Collapse whitespace and cut long text: error details are shown on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
