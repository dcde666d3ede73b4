"""FRED graph-CSV parser on real 2026 downloads (tests/data/fred): closes, gaps, dollar proxy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, ParseError
from tui.core.model import Observation
from tui.core.sources import fred

FETCHED = datetime(2026, 4, 17, 6, tzinfo=UTC)


def text(name: str) -> str:
    return body("fred", name).decode()


def until(csv: str, last: str) -> str:
    """The download as it stood on ``last`` (rows after it cut off)."""
    lines = csv.splitlines()
    return "\n".join([lines[0], *(row for row in lines[1:] if row[:10] <= last)]) + "\n"


def test_dgs10_closes_level_and_day_change() -> None:
    obs = fred.parse_series(text("dgs10.csv"), FETCHED, "us10y")
    closes = [o for o in obs if o.id == "macro.us10y.close"]
    # Only the last 120 days are kept; holidays (empty cells) are skipped, never 0.
    assert closes[0].observed_at == datetime(2025, 12, 18, tzinfo=UTC)
    assert date(2026, 1, 19) not in {o.observed_at.date() for o in closes}  # MLK day: empty
    assert all(o.value > 0 and o.unit == "%" and o.source == "fred" for o in closes)
    level = next(o for o in obs if o.id == "macro.us10y")
    assert (level.value, level.observed_at) == (4.32, datetime(2026, 4, 16, tzinfo=UTC))
    chg = next(o for o in obs if o.id == "macro.us10y.chg_1d")
    assert chg.value == pytest.approx((4.32 / 4.29 - 1) * 100)


def test_broad_dollar_index_on_the_articles_day() -> None:
    csv = until(text("dtwexbgs.csv"), "2026-02-06")
    obs = fred.parse_series(csv, datetime(2026, 2, 7, tzinfo=UTC), "dxy")
    level = next(o for o in obs if o.id == "macro.dxy")
    assert (level.value, level.observed_at) == (118.2407, datetime(2026, 2, 6, tzinfo=UTC))
    chg = next(o for o in obs if o.id == "macro.dxy.chg_1d")
    assert chg.value == pytest.approx((118.2407 / 118.5034 - 1) * 100)  # about -0.22 %
    assert "not ICE DXY" in fred.PROXIES["dxy"]


def test_legacy_header_and_dot_for_missing() -> None:
    csv = until(text("dgs10.csv"), "2026-02-06").replace("observation_date,", "DATE,", 1)
    csv = csv.replace("2026-02-06,4.22", "2026-02-06,.")
    obs = fred.parse_series(csv, datetime(2026, 2, 7, tzinfo=UTC), "us10y")
    level = next(o for o in obs if o.id == "macro.us10y")
    assert (level.value, level.observed_at.date()) == (4.21, date(2026, 2, 5))


def test_wrong_series_html_and_empty_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="expected series SP500, got 'DGS10'"):
        fred.parse_series(text("dgs10.csv"), FETCHED, "spx")
    with pytest.raises(ParseError, match="HTML page"):
        fred.parse_series("<!DOCTYPE html><html><title>FRED</title></html>", FETCHED, "us10y")
    with pytest.raises(ParseError, match="no DGS10 values"):
        fred.parse_series("observation_date,DGS10\n2026-04-16,\n", FETCHED, "us10y")
    with pytest.raises(ParseError, match="after the fetch"):
        fred.parse_series(text("dgs10.csv"), datetime(2026, 2, 7, tzinfo=UTC), "us10y")
    with pytest.raises(ParseError, match="outside"):  # no x10 guess: DGS10 is always percent
        fred.parse_series("observation_date,DGS10\n2026-04-16,43.2\n", FETCHED, "us10y")


def test_spec_is_a_slow_fallback_for_yahoo() -> None:
    urls = {ep.key: ep.url(fred.SPEC.base_url) for ep in fred.SPEC.endpoints}
    assert urls == {
        a: f"https://fred.stlouisfed.org/graph/fredgraph.csv?id={s}" for a, s in fred.SERIES.items()
    }
    assert (fred.SPEC.fallback_for, fred.SPEC.interval_s) == ("yahoo", 21_600)
    assert {ep.format for ep in fred.SPEC.endpoints} == {"text"}


VALUE = st.sampled_from(["4.21", ".", "", "-1", "1e400", "nan", "4,2"]) | st.text(max_size=6)
DAY = st.sampled_from(["2026-02-06", "2026-04-16", "2030-01-01", "06/02/2026"]) | st.text(
    max_size=10
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(DAY, VALUE), max_size=6),
    st.sampled_from(["observation_date,DGS10", "DATE,DGS10", "x"]),
)
def test_any_csv_gives_observations_or_a_fetch_error(
    rows: list[tuple[str, str]], header: str
) -> None:
    csv = "\n".join([header, *(f"{d},{v}" for d, v in rows)])
    try:
        obs = fred.parse_series(csv, FETCHED, "us10y")
    except FetchError:
        return
    assert all(isinstance(o, Observation) and o.source == "fred" for o in obs)
