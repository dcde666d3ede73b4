"""OK answers for every endpoint of every source, from the recorded real bodies (tests/data/).

Where no recorded body fits an endpoint as asked, the nearest real one is changed as little as the
parser needs, the same way (and for the same reasons) as that source's own unit tests do; each
change is labelled where it is made. The faults of the fault suite are derived from these bodies.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from tests.conftest import body
from tui.core.model import Json
from tui.core.sources import registry, stooq, yahoo
from tui.core.sources.spec import SourceSpec

#: The moment the fault suite runs at (a FixedClock): after the newest recorded row that every
#: source's OK body needs (FRED keeps the last 120 days; the DGS10 download ends 2026-04-16), on
#: the day of the Farside page that is served.
MOMENT: Final = datetime(2026, 7, 23, 21, 0, tzinfo=UTC)


def _load(provider: str, name: str) -> Json:
    doc: Json = json.loads(body(provider, name))
    return doc


def _dump(doc: Json) -> bytes:
    return json.dumps(doc).encode()


def _daily_rows(rows: list[list[Json]], now: datetime) -> list[list[Json]]:
    """Coinbase: the two real 1-minute rows with only their start moved to the UTC midnights of
    ``now`` and the day before (no granularity=86400 body is published; as
    tests/unit/test_source_coinbase.py)."""
    today = int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    return [[today, *rows[0][1:]], [today - 86400, *rows[1][1:]]]


def _bitstamp_daily(now: datetime) -> Json:
    """Bitstamp: the real hourly row, its timestamp moved to two UTC midnights (as
    tests/unit/test_source_bitstamp.py: no step=86400 body is published)."""
    doc = _load("bitstamp", "ohlc_1h_btc_usdt.json")
    assert isinstance(doc, dict)
    data = doc["data"]
    assert isinstance(data, dict)
    rows = data["ohlc"]
    assert isinstance(rows, list)
    row = rows[0]
    assert isinstance(row, dict)
    today = int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    data["ohlc"] = [{**row, "timestamp": str(today - 86400)}, {**row, "timestamp": str(today)}]
    return doc


def _deribit(result_file: str) -> bytes:
    """A real ``result`` (stored without its envelope) inside the real HTTP envelope of
    ticker_btc_perpetual.json (as tests/unit/test_source_deribit.py)."""
    envelope = _load("deribit", "ticker_btc_perpetual.json")
    assert isinstance(envelope, dict)
    return _dump({**envelope, "result": _load("deribit", result_file)})


def _okx_oi_usd() -> bytes:
    """OKX's docs example relabelled BTC-USD-SWAP (the parser checks the instrument)."""
    doc = _load("okx", "open_interest_docs.json")
    text = json.dumps(doc).replace("BTC-USDT-SWAP", "BTC-USD-SWAP")
    return text.encode()


def _okx_liquidations(inst: str) -> bytes:
    """The ``data`` of a recorded liquidation push inside OKX's REST envelope (no whole REST
    answer is published; as tests/unit/test_source_okx.py), its instrument set to ``inst``."""
    push = _load("okx", "liquidation_ws_btc_usdt_2026.json")
    assert isinstance(push, dict)
    rows = copy.deepcopy(push["data"])
    assert isinstance(rows, list)
    for row in rows:
        assert isinstance(row, dict)
        row["instId"] = inst
    return _dump({"code": "0", "msg": "", "data": rows})


def _glassnode(now: datetime) -> bytes:
    """Glassnode's documented ``[{"t", "v"}]`` shape, eight consecutive days ending yesterday.

    Test values, labelled: the two documented points' values, repeated (no real week-long series
    of realized loss is public; tests/unit/test_source_glassnode.py does the same).
    """
    docs = _load("glassnode", "indicators_cdd90_age_adjusted_docs.json")
    assert isinstance(docs, list)
    values = [p["v"] for p in docs if isinstance(p, dict)]
    first = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=8)
    return _dump(
        [
            {"t": int((first + timedelta(days=i)).timestamp()), "v": values[i % len(values)]}
            for i in range(8)
        ]
    )


def _yahoo(symbol: str) -> bytes:
    """A recorded chart relabelled as ``symbol`` (as tests/unit/test_macro_fallback.py): ^TNX's
    own; for silver and the dollar index, whose ranges gold's level is outside, AAPL's daily chart;
    else GC=F's daily chart."""
    name = {
        yahoo.SYMBOLS["us10y"]: "chart_tnx_5m.json",
        yahoo.SYMBOLS["silver"]: "chart_aapl_1d.json",
        yahoo.SYMBOLS["dxy"]: "chart_aapl_1d.json",
    }.get(symbol, "chart_gc_f_1d.json")
    doc = _load("yahoo", name)
    assert isinstance(doc, dict)
    doc["chart"]["result"][0]["meta"]["symbol"] = symbol  # type: ignore[call-overload,index]
    return _dump(doc)


def _stooq() -> bytes:
    """The recorded AAPL.US row renamed ^SPX (as tests/unit/test_macro_fallback.py)."""
    return body("stooq", "quote_aapl_us.csv").replace(b"AAPL.US", stooq.SYMBOLS["spx"].encode())


def ok_bodies(spec: SourceSpec, now: datetime = MOMENT) -> dict[str, bytes]:
    """An answer per endpoint key of ``spec`` that its parser reads without complaint."""
    table: dict[str, Callable[[], dict[str, bytes]]] = {
        "coinbase": lambda: {
            "ticker": body("coinbase", "ticker.json"),
            "candles": _dump(_daily_rows(_load("coinbase", "candles_1m.json"), now)),  # type: ignore[arg-type]
        },
        "kraken": lambda: {
            "ticker": body("kraken", "ticker.json"),
            "ohlc": body("kraken", "ohlc.json"),
        },
        "bitstamp": lambda: {
            "ticker": body("bitstamp", "ticker_btc_usdt.json"),
            "ohlc": _dump(_bitstamp_daily(now)),
        },
        "deribit": lambda: {"index": _deribit("index_price_result.json")},
        "deribit_futures": lambda: {
            "futures": _deribit("book_summary_future_result.json"),
        },
        "binance": lambda: {
            "premium_index": body("binance", "premium_index_docs.json"),
            "open_interest": body("binance", "open_interest_docs.json"),
        },
        "bybit": lambda: {
            "tickers_linear": body("bybit", "tickers_inverse_docs.json"),
            "tickers_inverse": body("bybit", "tickers_inverse_docs.json"),
        },
        "okx": lambda: {
            "funding": body("okx", "funding_rate_docs.json"),
            "oi_usdt_swap": body("okx", "open_interest_docs.json"),
            "oi_usd_swap": _okx_oi_usd(),
            "liq_usdt_swap": _okx_liquidations("BTC-USDT-SWAP"),
            "liq_usd_swap": _okx_liquidations("BTC-USD-SWAP"),
        },
        "deribit_options": lambda: {
            "chain": body("deribit", "book_summary_option_trimmed.json"),
            "dvol": body("deribit", "index_price_btcdvol.json"),
        },
        "farside": lambda: {"flows": body("farside", "btc_page_2026-07-23.html")},
        "glassnode": lambda: {"realized_loss": _glassnode(now)},
        "coinmetrics": lambda: {
            "asset_metrics": body("coinmetrics", "asset_metrics_btc_2020-03.json")
        },
        "mempool": lambda: {
            "difficulty": body("mempool", "difficulty_adjustment_docs.json"),
            "hashrate": body("mempool", "hashrate_3d_docs.json"),
            "rewards": body("mempool", "reward_stats_100_docs.json"),
        },
        "yahoo": lambda: {asset: _yahoo(symbol) for asset, symbol in yahoo.SYMBOLS.items()},
        "stooq": lambda: {"quotes": _stooq()},
        "fred": lambda: {
            "us10y": body("fred", "dgs10.csv"),
            "dxy": body("fred", "dtwexbgs.csv"),
        },
    }
    return table[spec.name]()


#: Sources whose every endpoint has an OK body here (FRED publishes no file for SPX, NASDAQCOM or
#: DJIA in tests/data: its fault cells need none, since all its endpoints get the fault).
COMPLETE: Final = tuple(
    spec.name for spec in registry.ALL if set(ok_bodies(spec)) == {ep.key for ep in spec.endpoints}
)


# --- faults derived from a real body ----------------------------------------------------------

_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Keys that hold times: left alone, so a mutated body fails on its values, not on its clock.
_TIME_KEYS: Final = re.compile(r"^(t|ts|time|date|timestamp|usin|usout)$|time|_at$|date", re.I)


def _is_time(key: str | int | None, value: float) -> bool:
    """A time, by its key or (in a list row) by looking like epoch seconds or milliseconds."""
    if isinstance(key, str):
        return bool(_TIME_KEYS.search(key))
    return value.is_integer() and (1.2e9 <= value <= 4.2e9 or 1.2e12 <= value <= 4.2e12)


def _numeric(value: Json) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        return float(value)
    return None


def map_numbers(doc: Json, change: Callable[[Json], Json], key: str | int | None = None) -> Json:
    """``doc`` with every number (or numeric text) that is not a time passed through ``change``."""
    if isinstance(doc, dict):
        return {k: map_numbers(v, change, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [map_numbers(v, change, i) for i, v in enumerate(doc)]
    number = _numeric(doc)
    if number is None or _is_time(key, number):
        return doc
    return change(doc)
