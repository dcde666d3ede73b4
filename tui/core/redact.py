"""Keep secrets out of everything btcwatch writes or shows: URLs, headers, recordings, logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that carry credentials (Glassnode's ``api_key``, and the usual others).
SECRET_PARAMS: Final = frozenset(
    {"api_key", "apikey", "api-key", "key", "token", "access_token", "secret", "signature", "sign"}
)
#: Request headers that carry credentials.
SECRET_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-key",
        "cg-api-key",
        "x-soso-api-key",
        "ok-access-key",
        "ok-access-sign",
        "ok-access-passphrase",
        "x-mbx-apikey",
    }
)
REDACTED: Final = "REDACTED"


def redact_url(url: str) -> str:
    """``url`` with secret query values replaced and any ``user:password@`` removed."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = [
        (k, REDACTED if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(pairs, safe="^=")))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credential values replaced."""
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
