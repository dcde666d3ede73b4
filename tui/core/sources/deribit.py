"""Deribit (SOURCES.md §5): index price, perpetual funding, futures OI, option chain, DVOL."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Final

from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import PRICE_RANGE, field, number, price, timestamp, usd
from tui.core.sources.spec import Endpoint, ParseContext, SourceSpec

if TYPE_CHECKING:
    from tui.core.analytics import options

NAME: Final = "deribit"
FUTURES: Final = "deribit_futures"
OPTIONS: Final = "deribit_options"

#: "10028 too_many_requests": the credit pool is empty (docs.deribit.com/articles/errors).
_TOO_MANY_REQUESTS: Final = 10028


def check_envelope(body: Json) -> None:
    """Raise for a JSON-RPC ``error`` object instead of a ``result``.

    Errors arrive as ``{"jsonrpc": "2.0", "error": {"code", "message", "data"?}, ...}``
    (docs.deribit.com/articles/errors).
    """
    if isinstance(body, dict) and body.get("error") is not None:
        code, message = field(body, "error", "code"), field(body, "error", "message")
        text = f"Deribit: {code} {message}"
        if code == _TOO_MANY_REQUESTS:
            raise RateLimitedError(200, until=None, detail=text)
        raise ParseError(text)


def _observed_at(body: Json, fetched_at: datetime) -> datetime:
    """The envelope's ``usOut`` (µs, when the server sent the answer), else ``fetched_at``."""
    if isinstance(body, dict) and body.get("usOut") is not None:
        return timestamp(body["usOut"], what="usOut")
    return fetched_at


def parse_index(body: Json, fetched_at: datetime) -> list[Observation]:
    """``btc.price.deribit_index`` from ``public/get_index_price?index_name=btc_usd``."""
    check_envelope(body)
    value = price(field(body, "result", "index_price"), "result.index_price")
    return [usd("btc.price.deribit_index", value, NAME, _observed_at(body, fetched_at))]


SPEC: Final = SourceSpec(
    name=NAME,
    title="Deribit",
    bucket="price",
    base_url="https://www.deribit.com/api/v2",
    endpoints=(
        Endpoint(
            "index",
            "/public/get_index_price",
            parse_index,
            params={"index_name": "btc_usd"},
            interval_s=15.0,
        ),
    ),
    interval_s=15.0,
    docs_url="https://docs.deribit.com/api-reference/market-data/public-get_index_price",
    # Credit system: 500 credits a call from a pool refilled at 10,000/s, about 20 calls/s
    # sustained (SOURCES.md §5, docs.deribit.com rate limits).
    min_spacing_s=0.05,
)


# --- perpetual funding and futures open interest -------------------------------------------

#: Funding beyond ±5 % per 8h is a unit or parse error, not a market (SOURCES.md §0).
FUNDING_LIMIT: Final = 0.05
#: A single Deribit BTC future with more than $1T open is a unit error (the whole venue is ~$2B).
_OI_LIMIT: Final = 1e12


def _result_list(body: Json) -> list[Json]:
    check_envelope(body)
    rows = field(body, "result")
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'result', got {type(rows).__name__}")
    return rows


def _rows_time(rows: list[Json], body: Json, fetched_at: datetime) -> datetime:
    """The newest ``creation_timestamp`` (ms) of the rows, else ``usOut``, else ``fetched_at``.

    Rows whose stamp is not a number are ignored here, as a bad option row is skipped.
    """
    stamps: list[float] = []
    for r in rows:
        value = r.get("creation_timestamp") if isinstance(r, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            stamps.append(value)
    newest = max(stamps, default=None)
    if newest is not None:
        try:
            return timestamp(newest, what="creation_timestamp")
        except ParseError:
            pass
    return _observed_at(body, fetched_at)


def parse_futures(body: Json, fetched_at: datetime) -> list[Observation]:
    """``oi.futures.deribit`` (USD) and ``funding.deribit`` (% per 8h) from
    ``get_book_summary_by_currency?currency=BTC&kind=future``: one request for both (SOURCES.md
    §14 counts the futures summary alone for Deribit's funding and OI).

    The sum of ``open_interest`` over the BTC inverse futures, the perpetual included. Those rows
    are already in USD: "For perpetual and inverse futures the amount is in USD units. For options
    and linear futures it is the underlying base currency coin" (docs.deribit.com,
    public/get_book_summary_by_currency, ``open_interest``). So the sum needs no price; rows that
    are not USD-quoted inverse ``BTC-`` futures (a linear future, in BTC) are left out rather than
    mixed in. Observed at the rows' ``creation_timestamp``.

    The perpetual's row carries ``funding_8h``, the fraction paid over the last 8 hours (the same
    field as ``public/ticker``: "Funding 8h (perpetual only)"); Deribit's interval is already 8h,
    so % per 8h = × 100 (SOURCES.md §0). A perpetual row without it gives no funding reading; a
    broken one is a ParseError. ``current_funding`` is often exactly 0 between settlements and is
    not used.
    """
    rows = _result_list(body)
    out: list[Observation] = []
    total, counted = 0.0, 0
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ParseError(f"expected an object at 'result[{i}]', got {type(row).__name__}")
        name = field(row, "instrument_name")
        if not isinstance(name, str) or not name.startswith("BTC-"):
            continue
        if row.get("quote_currency", "USD") != "USD":
            continue
        total += number(
            field(row, "open_interest"), what=f"{name} open_interest", lo=0, hi=_OI_LIMIT
        )
        counted += 1
        if name == "BTC-PERPETUAL" and row.get("funding_8h") is not None:
            rate = number(
                row["funding_8h"], what=f"{name} funding_8h", lo=-FUNDING_LIMIT, hi=FUNDING_LIMIT
            )
            at = timestamp(field(row, "creation_timestamp"), what=f"{name} creation_timestamp")
            out.append(Observation("funding.deribit", rate * 100.0, "% per 8h", FUTURES, at))
    if not counted:
        raise ParseError("no BTC inverse futures in 'result'")
    return [usd("oi.futures.deribit", total, FUTURES, _rows_time(rows, body, fetched_at)), *out]


# --- the option chain and DVOL ---------------------------------------------------------------

#: Options OI in BTC per instrument; Deribit's whole BTC options OI is a few 100k BTC.
_OPTION_OI_LIMIT: Final = 1e7


def _optional(row: dict[str, Json], key: str, lo: float, hi: float) -> float:
    """A number from ``row[key]``, NaN when it is absent or null.

    JSON numbers take a fast path (a chain has ~900 rows of them); text and anything odd go
    through :func:`~tui.core.sources.parsing.number`, which explains a refusal.
    """
    value = row.get(key)
    if value is None:
        return math.nan
    # An int past float range (JSON allows 10**400) would raise OverflowError in float():
    # those take the slow path, which refuses them.
    if type(value) is float or (type(value) is int and abs(value) <= 2**53):
        v = float(value)
        if lo <= v <= hi:  # False for NaN; ±inf cannot come out of JSON
            return v
    return number(value, what=key, lo=lo, hi=hi)


def read_chain(body: Json) -> tuple[tuple[options.Quote, ...], int]:
    """The BTC option rows of a ``get_book_summary_by_currency?kind=option`` answer, and how many
    rows were skipped (not a BTC option name, or a number out of range).

    Per row: ``instrument_name``, ``mark_iv`` (vol points), ``underlying_price`` (USD),
    ``open_interest`` (BTC), ``bid_price`` (BTC, ``null`` when nobody bids). A bad row is skipped,
    not fatal: one odd instrument must not hide the whole chain.

    Raises:
        ParseError: an error envelope, or no ``result`` list.
    """
    return _quotes(_result_list(body))


def _quotes(rows: list[Json]) -> tuple[tuple[options.Quote, ...], int]:
    quotes: list[options.Quote] = []
    for row in rows:
        if isinstance(row, dict) and (quote := _quote(row)) is not None:
            quotes.append(quote)
    return tuple(quotes), len(rows) - len(quotes)


def _quote(row: dict[str, Json]) -> options.Quote | None:
    from tui.core.analytics import options

    name = row.get("instrument_name")
    if not isinstance(name, str):
        return None
    inst = options.parse_instrument(name)
    if inst is None or inst.currency != "BTC":
        return None
    try:
        bid = _optional(row, "bid_price", 0.0, 100.0)
        forward = _optional(row, "underlying_price", *PRICE_RANGE)
        iv = _optional(row, "mark_iv", 0.0, 1e4)
        oi = _optional(row, "open_interest", 0.0, _OPTION_OI_LIMIT)
    except ParseError:
        return None
    if math.isnan(forward):  # no underlying price: the row cannot be placed on a smile
        return None
    return options.Quote(
        name,
        inst.expiry,
        inst.strike,
        inst.is_call,
        mark_iv=iv,
        forward=forward,
        open_interest=oi,
        bid=None if math.isnan(bid) or bid == 0 else bid,
    )


def chain_observations(
    analysis: options.ChainAnalysis, source: str, at: datetime
) -> list[Observation]:
    """The catalogue readings of an analysed chain (a metric without enough data is left out)."""
    from tui.core.analytics import options

    out: list[Observation] = []
    for days, rr in analysis.rr25:
        if isinstance(rr, options.Tenor):
            out.append(Observation(f"options.rr25.{days}d", rr.value, "vol pts", source, at))
    for days, atm in analysis.atm_iv:
        if isinstance(atm, options.Tenor):
            out.append(Observation(f"options.atm_iv.{days}d", atm.value, "vol pts", source, at))
    if isinstance(analysis.term_slope, float):
        out.append(Observation("options.term.slope", analysis.term_slope, "vol pts", source, at))
    band = analysis.put_band
    if isinstance(band, options.PutBand):
        out.append(Observation("options.put_oi.retest_band", band.band_oi, "BTC", source, at))
        out.append(Observation("options.put_oi.retest_share", band.share_pct, "%", source, at))
    for pain in analysis.max_pain:
        if isinstance(pain, options.MaxPain):
            id_ = f"options.max_pain.{pain.expiry:%Y-%m-%d}"
            out.append(usd(id_, pain.strike, source, at))
    return out


def parse_chain_with(body: Json, fetched_at: datetime, context: ParseContext) -> list[Observation]:
    """``options.*`` from ``get_book_summary_by_currency?currency=BTC&kind=option``.

    One request carries the whole chain; :mod:`tui.core.analytics.options` does the maths (its
    docstring states the conventions and the junk-quote rule). ``T`` runs from ``fetched_at``;
    the readings are observed at the rows' ``creation_timestamp``. The retest band comes from
    ``context``.

    Raises:
        ParseError: a broken body, or a chain from which no reading at all can be formed (the
            message says why: empty chain, one expiry, no open interest, no usable IV...).
    """
    from tui.core.analytics import options  # imported on use: 20 ms not spent before a frame

    rows = _result_list(body)
    quotes, skipped = _quotes(rows)
    at = _rows_time(rows, body, fetched_at)
    analysis = options.analyze(quotes, fetched_at, context.retest_low, context.retest_high)
    if isinstance(analysis, options.NotEnough):
        raise ParseError(f"option chain: not enough data ({analysis.reason})")
    out = chain_observations(analysis, OPTIONS, at)
    if not out:
        why = next(
            (v.reason for _, v in analysis.atm_iv if isinstance(v, options.NotEnough)),
            "no usable quotes",
        )
        raise ParseError(f"option chain: not enough data ({why}; {skipped} rows skipped)")
    return out


def parse_chain(body: Json, fetched_at: datetime) -> list[Observation]:
    """:func:`parse_chain_with` with the default retest band (50k–60k)."""
    return parse_chain_with(body, fetched_at, ParseContext())


#: DVOL arrives in vol points (38.68) in live bodies, as a fraction (0.21) in the OpenAPI
#: example; below this it is read as a fraction and scaled by 100 (SOURCES.md §5).
_DVOL_FRACTION_BELOW: Final = 3.0


def _dvol(value: Json, what: str) -> float:
    from tui.core.analytics import options

    v = number(value, what=what, lo=0.0, hi=options.IV_RANGE[1])
    v = v * 100.0 if v < _DVOL_FRACTION_BELOW else v
    if not options.IV_RANGE[0] <= v <= options.IV_RANGE[1]:
        raise ParseError(f"{what}: {v:g} vol points outside 1..500")
    return v


def parse_dvol(body: Json, fetched_at: datetime) -> list[Observation]:
    """``options.dvol`` (vol points) from ``get_index_price?index_name=btcdvol_usdc``.

    The endpoint's params are static, and ``get_volatility_index_data`` requires a moving
    ``start_timestamp``/``end_timestamp`` window; the DVOL index itself is published as the
    ``btcdvol_usdc`` price index (an ``index_name`` of the docs' OpenAPI spec), whose
    ``index_price`` is the current DVOL (a real 2026 body: 38.68, tests/data/deribit/README.md).
    Observed at ``usOut``. A ``get_volatility_index_data`` answer (``result.data`` candles
    ``[ts_ms, open, high, low, close]``) is read too: every candle's close, at its time.
    """
    check_envelope(body)
    result = field(body, "result")
    if isinstance(result, dict) and "data" in result:
        candles = field(result, "data")
        if not isinstance(candles, list) or not candles:
            raise ParseError("expected candles at 'result.data'")
        return [
            Observation(
                "options.dvol",
                _dvol(field(candles, i, 4), f"data[{i}] close"),
                "vol pts",
                OPTIONS,
                timestamp(field(candles, i, 0), what=f"data[{i}] time"),
            )
            for i in range(len(candles))
        ]
    value = _dvol(field(body, "result", "index_price"), "result.index_price")
    return [Observation("options.dvol", value, "vol pts", OPTIONS, _observed_at(body, fetched_at))]


FUTURES_SPEC: Final = SourceSpec(
    name=FUTURES,
    title="Deribit futures",
    bucket="derivatives",
    base_url="https://www.deribit.com/api/v2",
    endpoints=(
        Endpoint(
            "futures",
            "/public/get_book_summary_by_currency",
            parse_futures,
            params={"currency": "BTC", "kind": "future"},
        ),
    ),
    interval_s=60.0,
    docs_url="https://docs.deribit.com/api-reference/market-data/public-get_book_summary_by_currency",
    min_spacing_s=0.05,
)

OPTIONS_SPEC: Final = SourceSpec(
    name=OPTIONS,
    title="Deribit options",
    bucket="options",
    base_url="https://www.deribit.com/api/v2",
    endpoints=(
        Endpoint(
            "chain",
            "/public/get_book_summary_by_currency",
            parse_chain,
            params={"currency": "BTC", "kind": "option"},
            parse_with=parse_chain_with,
        ),
        Endpoint(
            "dvol",
            "/public/get_index_price",
            parse_dvol,
            params={"index_name": "btcdvol_usdc"},
        ),
    ),
    # One chain summary every 5 min is well inside the credit limits; the docs recommend the
    # ticker WebSocket for anything faster (SOURCES.md §5).
    interval_s=300.0,
    docs_url="https://docs.deribit.com/api-reference/market-data/public-get_book_summary_by_currency",
    min_spacing_s=0.05,
)
