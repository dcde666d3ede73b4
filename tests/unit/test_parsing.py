"""The shared parser helpers: navigation, numbers, times and the daily-candle rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.errors import ParseError
from tui.core.model import Json
from tui.core.sources.parsing import PRICE_RANGE, Candle, day_candles, field, number, timestamp

# --- field ------------------------------------------------------------------------------------

# The shape of Kraken's ticker envelope (tests/data/kraken/ticker.json), cut down.
KRAKEN_LIKE: Json = {"error": [], "result": {"XXBTZUSD": {"c": ["30303.20000", "0.00067643"]}}}


def test_field_walks_objects_and_lists() -> None:
    assert field(KRAKEN_LIKE, "result", "XXBTZUSD", "c", 0) == "30303.20000"
    assert field(KRAKEN_LIKE, "error") == []
    assert field(KRAKEN_LIKE) is KRAKEN_LIKE


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("result", "index_price"), "missing 'result.index_price'"),
        (("result", "XXBTZUSD", "c", 2), "missing 'result.XXBTZUSD.c[2]'"),
        (("result", "XXBTZUSD", "c", -1), "missing 'result.XXBTZUSD.c[-1]'"),
        (("error", "code"), "expected an object at 'error', got list"),
        (("result", 0), "expected a list at 'result', got dict"),
        (("result", "XXBTZUSD", "c", 0, "x"), "expected an object at 'result.XXBTZUSD.c[0]'"),
    ],
)
def test_field_names_the_path_that_failed(path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        field(KRAKEN_LIKE, *path)


@pytest.mark.parametrize("body", [None, "<html>", 3, [1]])
def test_field_on_a_body_that_is_not_an_object(body: Json) -> None:
    with pytest.raises(ParseError, match="expected an object at the top level"):
        field(body, "result")


# --- number -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (80814.47, 80814.47),  # Deribit: JSON numbers
        (1159282120, 1159282120.0),
        ("3537.50000", 3537.5),  # Kraken, Bitstamp, Coinbase: strings
        (" 73285 ", 73285.0),
        ("8.131e-5", 8.131e-5),
        ("-0.0331", -0.0331),
        ("0\x1f", 0.0),  # str.strip() drops \x1c-\x1f, float() does not (found by fuzzing)
        ("\x1c12.5\u2003", 12.5),
    ],
)
def test_number_accepts_numbers_and_numeric_text(value: Json, expected: float) -> None:
    assert number(value, what="x", lo=-1e10, hi=1e10) == expected


@pytest.mark.parametrize(
    "value",
    [True, False, None, "", " ", "abc", "nan", "NaN", "inf", "-Infinity", "1_000", "0x10", "1e400",
     10**400, float("nan"), float("inf"), [], {}, ["1"]],
)  # fmt: skip
def test_number_rejects_what_is_not_a_finite_number(value: Json) -> None:
    with pytest.raises(ParseError, match=r"^price: "):
        number(value, what="price", lo=-1e300, hi=1e300)


@pytest.mark.parametrize("value", [999.99, "0", -70000, "10000000.01", 1e12])
def test_number_range_checks_prices(value: Json) -> None:
    with pytest.raises(ParseError, match=r"outside 1000\.\.1e\+07"):
        number(value, what="last", lo=PRICE_RANGE[0], hi=PRICE_RANGE[1])


def test_price_range_is_the_one_of_sources_md() -> None:
    assert PRICE_RANGE == (1_000, 10_000_000)


# --- timestamp --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Bitstamp: epoch seconds as text; Kraken OHLC: as a number.
        ("1710328241", datetime(2024, 3, 13, 11, 10, 41, tzinfo=UTC)),
        (1548115200, datetime(2019, 1, 22, tzinfo=UTC)),
        # Deribit: milliseconds, and the envelope's usOut in microseconds.
        (1736124757223, datetime(2025, 1, 6, 0, 52, 37, 223000, tzinfo=UTC)),
        (1736124757228637, datetime(2025, 1, 6, 0, 52, 37, 228637, tzinfo=UTC)),
        # Coinbase ticker: ISO with 6 or 9 fractional digits and Z.
        ("2024-03-13T11:10:41.270099Z", datetime(2024, 3, 13, 11, 10, 41, 270099, tzinfo=UTC)),
        ("2026-06-19T16:43:33.016274911Z", datetime(2026, 6, 19, 16, 43, 33, 16274, tzinfo=UTC)),
        ("2026-02-06T15:00:00+02:00", datetime(2026, 2, 6, 13, 0, tzinfo=UTC)),
        ("2026-02-06T15:00:00.5-0130", datetime(2026, 2, 6, 16, 30, 0, 500000, tzinfo=UTC)),
        ("2026-02-06 15:00:00z", datetime(2026, 2, 6, 15, 0, tzinfo=UTC)),
    ],
)
def test_timestamp_reads_every_provider_form_as_utc(value: Json, expected: datetime) -> None:
    got = timestamp(value, what="time")
    assert got == expected
    assert got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-06T15:00:00",  # no zone: refuse to guess
        "2026-02-30T15:00:00Z",
        "2026-02-06T25:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "yesterday",
        "",
        None,
        True,
        [],
        0,
        -1,
        1e19,  # nanoseconds: beyond the plausible range
        1.7e18,
        "1899-12-31T00:00:00Z",
        "2100-01-01T00:00:00Z",
        float("nan"),
    ],
)
def test_timestamp_rejects_junk_and_implausible_times(value: Json) -> None:
    with pytest.raises(ParseError, match=r"^time: "):
        timestamp(value, what="time")


# --- daily candles ----------------------------------------------------------------------------

FETCHED = datetime(2026, 2, 6, 15, 30, tzinfo=UTC)
TODAY = datetime(2026, 2, 6, tzinfo=UTC)


def candle(start: datetime, o: float = 70_000, h: float = 71_000, lo: float = 62_000) -> Candle:
    return Candle(start=start, open=o, high=h, low=lo, close=63_000)


def by_day(obs: list) -> dict[tuple[str, datetime], float]:
    return {(o.id, o.observed_at): o.value for o in obs}


def test_completed_days_are_observed_at_their_end_and_today_at_the_fetch() -> None:
    obs = day_candles(
        [candle(TODAY), candle(TODAY - timedelta(days=2), o=70_500)],
        venue="kraken",
        source="kraken",
        fetched_at=FETCHED,
    )
    assert by_day(obs) == {
        ("btc.day.open.kraken", TODAY - timedelta(days=1)): 70_500,
        ("btc.day.high.kraken", TODAY - timedelta(days=1)): 71_000,
        ("btc.day.low.kraken", TODAY - timedelta(days=1)): 62_000,
        ("btc.day.close.kraken", TODAY - timedelta(days=1)): 63_000,
        ("btc.day.open.kraken", FETCHED): 70_000,
        ("btc.day.high.kraken", FETCHED): 71_000,
        ("btc.day.low.kraken", FETCHED): 62_000,
        ("btc.day.close.kraken", FETCHED): 63_000,
    }
    assert {(o.unit, o.source) for o in obs} == {("USD", "kraken")}
    # Oldest day first, whatever order the provider used.
    assert [o.observed_at for o in obs][::4] == [TODAY - timedelta(days=1), FETCHED]


def test_the_day_boundary_is_utc_midnight_of_the_fetch() -> None:
    just_after = TODAY + timedelta(microseconds=1)
    obs = day_candles([candle(TODAY)], venue="v", source="s", fetched_at=just_after)
    assert {o.observed_at for o in obs} == {just_after}
    before = TODAY - timedelta(microseconds=1)
    obs = day_candles([candle(TODAY - timedelta(days=1))], venue="v", source="s", fetched_at=before)
    assert {o.observed_at for o in obs} == {before}


def test_identical_duplicate_days_collapse() -> None:
    obs = day_candles([candle(TODAY), candle(TODAY)], venue="v", source="s", fetched_at=FETCHED)
    assert len(obs) == 4


@pytest.mark.parametrize(
    ("candles", "message"),
    [
        ([], "no candles"),
        ([candle(TODAY + timedelta(hours=1))], "not a daily candle"),
        ([candle(TODAY + timedelta(days=1))], "starts after the fetch time"),
        ([candle(TODAY), candle(TODAY, o=70_001)], "two different candles for one day"),
        ([candle(TODAY, h=61_000)], "inconsistent open/high/low/close"),
        ([candle(TODAY, lo=70_500)], "inconsistent open/high/low/close"),
    ],
)
def test_bad_candle_sets_raise(candles: list[Candle], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        day_candles(candles, venue="v", source="s", fetched_at=FETCHED)
