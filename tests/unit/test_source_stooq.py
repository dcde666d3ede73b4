"""Stooq CSV quote parser on recorded real rows (tests/data/stooq): levels, N/D, quota, HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import BlockedError, FetchError, ParseError, RateLimitedError
from tui.core.model import Observation
from tui.core.sources import stooq

FETCHED = datetime(2020, 8, 8, 6, tzinfo=UTC)


def text(name: str) -> str:
    return body("stooq", name).decode()


def test_real_row_is_read_in_warsaw_time() -> None:
    # The recorded row is AAPL.US; renamed to ^SPX it is read as the S&P 500's quote.
    csv = text("quote_aapl_us.csv").replace("AAPL.US", "^SPX")
    obs = stooq.parse_quotes(csv, FETCHED)
    assert [(o.id, o.value, o.unit, o.source, o.observed_at) for o in obs] == [
        # 22:00:02 Warsaw summer time (CEST, +2) is 20:00:02 UTC, the 16:00 New York close.
        ("macro.spx", 444.45, "index", "stooq", datetime(2020, 8, 7, 20, 0, 2, tzinfo=UTC)),
        ("macro.spx.close", 444.45, "index", "stooq", datetime(2020, 8, 7, tzinfo=UTC)),
    ]


def test_winter_row_is_central_european_time() -> None:
    csv = text("quote_aapl_us_cet.csv").replace("AAPL.US", "^NDQ")
    (lvl, _) = stooq.parse_quotes(csv, datetime(2022, 12, 10, tzinfo=UTC))
    # 22:00:03 CET (+1) is 21:00:03 UTC, again the 16:00 New York close.
    assert (lvl.id, lvl.value) == ("macro.ndx", 142.16)
    assert lvl.observed_at == datetime(2022, 12, 9, 21, 0, 3, tzinfo=UTC)


def test_n_d_rows_are_missing_and_the_others_count() -> None:
    header, row = text("quote_aapl_us.csv").split("\r\n")
    nd = text("quote_unknown_nd.csv").split("\n")[1]
    csv = "\r\n".join([header, row.replace("AAPL.US", "^SPX"), nd.replace("INVALID", "^SOX")])
    obs = stooq.parse_quotes(csv, FETCHED)
    assert {o.id for o in obs} == {"macro.spx", "macro.spx.close"}
    assert all(o.value != 0 for o in obs)


def test_only_n_d_or_only_unknown_symbols_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="every requested symbol is N/D"):
        stooq.parse_quotes(text("quote_unknown_nd.csv").replace("INVALID", "^SPX"), FETCHED)
    with pytest.raises(ParseError, match="none of the requested symbols"):
        stooq.parse_quotes(text("quote_unknown_nd.csv"), FETCHED)


def test_daily_quota_notice_is_rate_limited() -> None:
    with pytest.raises(RateLimitedError, match="Exceeded the daily hits limit") as err:
        stooq.parse_quotes(text("quota_exceeded.txt"), FETCHED)
    assert err.value.until is None  # Stooq does not say when: the engine waits an interval


def test_html_pages() -> None:
    # The words of the proof-of-work interstitial (Verdenroz/finance-query issue #263).
    challenge = '<!doctype html><html><script>fetch("/__verify",{method:"POST"})</script></html>'
    with pytest.raises(BlockedError):
        stooq.parse_quotes(challenge, FETCHED)
    with pytest.raises(ParseError, match="HTML page"):
        stooq.parse_quotes("<html><body>Stooq</body></html>", FETCHED)


def test_other_text_and_bad_values_are_parse_errors() -> None:
    for bad in ("", "No data", "Date,Open,High,Low,Close\r\n2026-02-06,1,2,0.5,1.5"):
        with pytest.raises(ParseError):
            stooq.parse_quotes(bad, FETCHED)
    row = text("quote_aapl_us.csv").replace("AAPL.US", "10USY.B")
    with pytest.raises(ParseError, match="outside"):  # 444.45 is no 10-year yield
        stooq.parse_quotes(row, FETCHED)
    with pytest.raises(ParseError, match="after the fetch"):
        stooq.parse_quotes(
            text("quote_aapl_us.csv").replace("AAPL.US", "^SPX"), datetime(2020, 8, 5, tzinfo=UTC)
        )


def test_one_request_joins_the_symbols_with_plus() -> None:
    (ep,) = stooq.SPEC.endpoints
    url = ep.url(stooq.SPEC.base_url)
    assert url == (
        "https://stooq.com/q/l/?s=^spx+^ndq+^dji+^sox+gc.f+si.f+dx.f+10usy.b&f=sd2t2ohlcv&h&e=csv"
    )
    # httpx sends the query as written: "+" stays a plus, never %2B.
    assert str(httpx.URL(url)) == url
    assert (ep.format, stooq.SPEC.fallback_for, stooq.SPEC.bucket) == ("text", "yahoo", "macro")


ROW = st.lists(
    st.sampled_from(["^SPX", "^NDQ", "GC.F", "10USY.B", "N/D", "2026-02-06", "22:00:02", "", "x"])
    | st.text(max_size=10),
    min_size=0,
    max_size=9,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ROW, max_size=5), st.booleans())
def test_any_csv_gives_observations_or_a_fetch_error(rows: list[list[str]], header: bool) -> None:
    lines = [",".join(r) for r in rows]
    if header:
        lines.insert(0, "Symbol,Date,Time,Open,High,Low,Close,Volume")
    try:
        obs = stooq.parse_quotes("\r\n".join(lines), FETCHED)
    except FetchError:
        return
    assert all(isinstance(o, Observation) and o.source == "stooq" for o in obs)
