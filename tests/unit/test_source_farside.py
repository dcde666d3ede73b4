"""Farside parser on real saved pages (tests/data/farside): table, gaps, layout changes, blocks."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import BlockedError, FetchError, ParseError
from tui.core.model import Observation, Status
from tui.core.sources import farside

ROOT = Path(__file__).resolve().parents[2]
FETCHED = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)


def page(name: str) -> str:
    return body("farside", name).decode("utf-8")


#: The all-data page (fetched 2 Oct 2026, IBIT not yet reported for that day).
ALL = page("all_data_2026-10-02.html")
#: The /btc/ page (23 Jul 2026, that day's row still a placeholder of "-").
BTC = page("btc_page_2026-07-23.html")


def by_id(obs: list[Observation]) -> dict[str, Observation]:
    return {o.id: o for o in obs if o.id != "etf.flow.daily"}


def daily(obs: list[Observation]) -> list[tuple[date, float]]:
    return [(o.observed_at.date(), o.value) for o in obs if o.id == "etf.flow.daily"]


def row_of(html: str, label: str) -> str:
    """The real markup of the row whose first cell is ``label``."""
    m = re.search(r"<tr[ >](?:(?!<tr[ >]).)*?" + re.escape(label) + r".*?</tr>", html, re.DOTALL)
    assert m is not None, label
    return m.group(0)


def test_all_data_page_every_published_day_and_the_aggregates() -> None:
    obs = farside.parse(ALL, FETCHED)
    assert daily(obs) == [
        (date(2026, 9, 18), 433.0),
        (date(2026, 9, 21), 999.0),
        (date(2026, 9, 22), 714.7),
        (date(2026, 9, 23), 346.9),
        (date(2026, 9, 24), 190.7),
        (date(2026, 9, 25), 134.5),
        (date(2026, 9, 28), 31.0),
        (date(2026, 9, 29), 66.2),
        (date(2026, 9, 30), -148.7),  # "(148.7)" in a redFont span
        (date(2026, 10, 1), 102.7),
        (date(2026, 10, 2), 31.7),
    ]
    at = datetime(2026, 10, 2, 20, tzinfo=UTC)
    agg = by_id(obs)
    assert (agg["etf.flow.5d"].value, agg["etf.flow.5d"].observed_at) == (82.9, at)
    assert agg["etf.flow.mtd"].value == pytest.approx(134.4)  # 1 and 2 Oct
    assert agg["etf.outflow_streak"].value == 0.0
    assert agg["etf.outflow_streak"].unit == "days"
    assert {o.unit for o in obs if o.id.startswith("etf.flow")} == {"USD m", "funds"}
    assert {o.source for o in obs} == {"farside"}


def test_the_newest_day_is_provisional_and_its_dash_stays_missing() -> None:
    # 2 Oct on the real page: IBIT "-" (not reported yet), the rest reported, Total 31.7.
    table = farside.parse_table(ALL)
    assert table.days[-1].cells[table.funds.index("IBIT")] is None
    assert table.pending_funds == ("IBIT",)
    agg = by_id(farside.parse(ALL, FETCHED))
    assert agg["etf.flow.pending_funds"].value == 1.0
    assert "etf.flow.daily.ibit" not in agg  # missing, never a zero
    assert agg["etf.flow.daily.fbtc"].value == 29.3
    assert agg["etf.flow.daily.msbt"].value == 2.4
    assert agg["etf.flow.daily.gbtc"].value == 0.0  # "0.0" is a real zero


def test_funds_come_from_the_header_not_a_fixed_count() -> None:
    tickers = "IBIT FBTC BITB ARKB BTCO EZBC BRRR HODL BTCW MSBT GBTC BTC"
    assert farside.parse_table(ALL).funds == tuple(tickers.split())


def test_btc_page_layout_placeholder_row_and_summary_rows() -> None:
    # /btc/: the tickers' row starts and ends with empty cells ("Total" is in the issuer row
    # above), tickers are padded with NBSPs, and 23 Jul is a placeholder: every fund "-",
    # Total "0.0". Then Total/Average/Maximum/Minimum rows.
    table = farside.parse_table(BTC)
    assert table.funds[0] == "IBIT"
    assert len(table.funds) == 12
    assert table.days[-1].day == date(2026, 7, 23)
    assert not table.days[-1].published
    obs = farside.parse(BTC, datetime(2026, 7, 23, 17, 30, tzinfo=UTC))
    days = daily(obs)
    assert days[0] == (date(2026, 7, 6), 265.7)
    assert (date(2026, 7, 13), -424.7) in days
    assert days[-1] == (date(2026, 7, 22), 69.1)  # no 0.0 for 23 Jul
    assert len(days) == 13
    # Summary rows are not days: 1,373.8 (Maximum) and 51,904 (Total) are nowhere.
    assert not {1373.8, 51904.0, 82.0} & {v for _, v in days}
    agg = by_id(obs)
    assert agg["etf.flow.mtd"].observed_at == datetime(2026, 7, 22, 20, tzinfo=UTC)
    assert agg["etf.flow.pending_funds"].value == 0.0


def test_negatives_in_parentheses_and_thousands_separators() -> None:
    table = farside.parse_table(BTC)
    jul13 = next(d for d in table.days if d.day == date(2026, 7, 13))
    i = table.funds.index
    assert (jul13.cells[i("IBIT")], jul13.cells[i("FBTC")], jul13.cells[i("GBTC")]) == (
        -185.5,
        -245.6,
        -53.1,
    )
    # The real Maximum and Minimum rows, dated: "1,119.9", "(1,113.7)".
    rows = row_of(BTC, "Maximum").replace("Maximum", "24 Jul 2026") + row_of(
        BTC, "Minimum"
    ).replace("Minimum", "27 Jul 2026")
    grown = farside.parse_table(BTC.replace("</tbody>", rows + "</tbody>"))
    assert grown.days[-2].cells[0] == 1119.9
    assert grown.days[-2].total == 1373.8
    assert grown.days[-1].total == -1113.7


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,119.9", 1119.9), ("(95.1)", -95.1), ("0.0", 0.0), ("(0.0)", 0.0), ("1,373.8", 1373.8),
     ("-", None), ("", None), ("\u2013", None)],
)  # fmt: skip
def test_flow_value(text: str, value: float | None) -> None:
    assert farside.flow_value(text, what="x") == value


@pytest.mark.parametrize("text", ["n/a", "(95.1", "95.1)", "(-5.0)", "1,11.9", "1e3", "nan"])
def test_flow_value_refuses_other_text(text: str) -> None:
    with pytest.raises(ParseError, match=r"expected a number, '\(n\)' or '-'"):
        farside.flow_value(text, what="x")


def test_flow_value_refuses_an_implausible_day() -> None:
    # 60,809 is a real cell, but of the summary row (IBIT's flows since launch), not of a day.
    with pytest.raises(ParseError, match=r"60809 US\$m is implausible for one day"):
        farside.flow_value("60,809", what="x")


def test_a_holiday_row_is_a_gap() -> None:
    # The real placeholder row's markup (every fund "-", Total 0.0) dated 16 Jul, in place of
    # that day's row: how Farside shows a US market holiday.
    holiday = row_of(BTC, "23 Jul 2026").replace("23 Jul 2026", "16 Jul 2026")
    html = BTC.replace(row_of(BTC, "16 Jul 2026"), holiday)
    obs = farside.parse(html, datetime(2026, 7, 23, 17, 30, tzinfo=UTC))
    days = dict(daily(obs))
    assert date(2026, 7, 16) not in days
    assert len(days) == 12
    # The last five published days skip the gap: 15, 17, 20, 21, 22 Jul.
    assert by_id(obs)["etf.flow.5d"].value == pytest.approx(107.7 + 132.3 + 226.8 + 203.2 + 69.1)


def test_outflow_streak_counts_published_days_back_from_the_newest() -> None:
    # The real page cut after 9 Jul: 8 Jul (84.9) and 9 Jul (95.3) were outflows.
    cut = BTC
    for label in ("10 Jul", "13 Jul", "14 Jul", "15 Jul", "16 Jul", "17 Jul", "20 Jul", "21 Jul",
                  "22 Jul", "23 Jul"):  # fmt: skip
        cut = cut.replace(row_of(cut, label + " 2026"), "")
    agg = by_id(farside.parse(cut, FETCHED))
    assert agg["etf.outflow_streak"].value == 2.0
    assert agg["etf.outflow_streak"].observed_at == datetime(2026, 7, 9, 20, tzinfo=UTC)


def test_a_new_fund_column_is_picked_up() -> None:
    # A fund listed after BTC: a header cell and one cell per row, in the page's own markup.
    cell = '\t<td><div align="right"><span class="tabletext">{}</span></div></td>\n'
    head = '\t<th><div align="right"><span class="tabletext">NEWB</span></div></th>\n'
    html = ALL.replace(head.replace("NEWB", "Total"), head + head.replace("NEWB", "Total"), 1)
    total_2_oct = cell.format("31.7")
    html = html.replace(total_2_oct, cell.format("12.5") + total_2_oct)
    for label in ("18 Sep", "21 Sep", "22 Sep", "23 Sep", "24 Sep", "25 Sep", "28 Sep", "29 Sep",
                  "30 Sep", "01 Oct"):  # fmt: skip
        row = row_of(html, label + " 2026")
        last = row.rindex("\t<td>")
        html = html.replace(row, row[:last] + cell.format("-") + row[last:])
    table = farside.parse_table(html)
    assert table.funds[-1] == "NEWB"
    assert table.pending_funds == ("IBIT",)  # NEWB had no figure the day before
    agg = by_id(farside.parse(html, FETCHED))
    assert agg["etf.flow.daily.newb"].value == 12.5
    assert agg["etf.flow.5d"].value == 82.9  # totals are the page's Total column


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("<table class=\"etf\">", "<table class=\"flows\">"), r'expected a <table class="etf">'),
        ((">IBIT<", ">XBIT<"), "expected a header row of fund tickers holding IBIT"),
        ((">Total</span></div></th>", ">Sum</span></div></th>"), "tickers' row to end in 'Total'"),
        ((">Date<", ">Day<"), "expected 'Date' first"),
        ((">29.3<", ">n/a<"), r"02 Oct 2026 FBTC: expected a number"),
        ((">02 Oct 2026<", ">01 Oct 2026<"), "01 Oct 2026: two rows for one day"),
        ((">02 Oct 2026<", ">31 Sep 2026<"), "not a real date"),
        ((">18 Sep 2026<", ">18/09/2026<"), None),  # a row that is no longer dated is skipped
    ],
)  # fmt: skip
def test_a_changed_layout_says_what_was_expected(
    change: tuple[str, str], message: str | None
) -> None:
    html = ALL.replace(*change)
    assert html != ALL
    if message is None:
        assert daily(farside.parse(html, FETCHED))[0][0] == date(2026, 9, 21)
        return
    with pytest.raises(ParseError, match=message):
        farside.parse(html, FETCHED)


def test_a_row_with_a_missing_cell() -> None:
    row = row_of(ALL, "29 Sep 2026")
    short = row.replace(
        '\t<td><div align="right"><span class="tabletext">66.2</span></div></td>\n', ""
    )
    with pytest.raises(
        ParseError, match=r"29 Sep 2026: expected 14 cells \(date, 12 funds, Total\), got 13"
    ):
        farside.parse(ALL.replace(row, short), FETCHED)  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["cloudflare_just_a_moment_2024-01-08.html", "cloudflare_managed_challenge_2021-11-02.html"],
)
def test_a_challenge_page_is_blocked_not_a_parse_error(name: str) -> None:
    with pytest.raises(BlockedError, match="Cloudflare") as caught:
        farside.parse(page(name), FETCHED)
    assert caught.value.status_code == 200
    assert caught.value.missing().reason is Status.BLOCKED


def test_a_page_without_the_table_and_without_a_challenge_is_a_parse_error() -> None:
    html = "<html><body><h1>Bitcoin ETF Flow</h1><table><tr><td>1</td></tr></table></body></html>"
    with pytest.raises(ParseError, match="the page has none"):
        farside.parse(html, FETCHED)


def test_a_table_with_nothing_published() -> None:
    only = row_of(BTC, "23 Jul 2026")
    html = re.sub(r"<tbody>.*</tbody>", lambda _: "<tbody>" + only + "</tbody>", BTC, flags=re.S)
    with pytest.raises(ParseError, match="no published day"):
        farside.parse(html, FETCHED)


def test_a_published_day_after_the_fetch_is_refused() -> None:
    with pytest.raises(ParseError, match="2026-10-02 is published but after the fetch time"):
        farside.parse(ALL, datetime(2026, 10, 1, 23, tzinfo=UTC))


def test_not_text() -> None:
    with pytest.raises(ParseError, match="expected the HTML page as text, got dict"):
        farside.parse({"html": ALL}, FETCHED)


def test_unclosed_rows_and_cells_are_read() -> None:
    # Farside leaves some <tr> unclosed: a new <tr> (or the table's end) closes the row.
    unclosed = ALL.replace("</tr>", "").replace("</td>", "")
    assert farside.parse(unclosed, FETCHED) == farside.parse(ALL, FETCHED)


def test_spec() -> None:
    spec = farside.SPEC
    (ep,) = spec.endpoints
    assert ep.url(spec.base_url) == "https://farside.co.uk/bitcoin-etf-flow-all-data/"
    assert (ep.key, ep.format, ep.interval_s, spec.bucket) == ("flows", "text", 3600.0, "flows")
    # Friday's figure (20:00 UTC) is not stale on Monday afternoon.
    friday = datetime(2026, 1, 30, 20, tzinfo=UTC)
    assert datetime(2026, 2, 2, 18, tzinfo=UTC) - friday < timedelta(seconds=spec.stale_after)


def test_demo_pages_tell_the_articles_story() -> None:
    sys.path.insert(0, str(ROOT))
    from scripts import demo_farside

    def at(day: int, hour: int) -> dict[str, float]:
        t = datetime(2026, 2, day, hour, tzinfo=UTC)
        ((source, key, doc),) = demo_farside.demo_exchanges(t, 70_000.0)
        assert (source, key) == ("farside", "flows")
        assert isinstance(doc, str)
        obs = farside.parse(doc, t)
        out = {o.id: o.value for o in obs if o.id != "etf.flow.daily"}
        out["daily"] = daily(obs)[-1][1]
        return out

    assert demo_farside.demo_exchanges(datetime(2026, 2, 5, 0, 5, tzinfo=UTC), 70_000.0) == []
    assert at(5, 0)["daily"] == -544.9
    assert at(5, 21)["etf.flow.pending_funds"] == 1.0  # IBIT still to report
    assert at(5, 23)["daily"] == -434.1
    assert at(5, 23)["etf.flow.mtd"] == pytest.approx(-690.0)
    assert at(5, 23)["etf.outflow_streak"] == 3.0
    assert at(6, 21)["daily"] == -434.1  # 6 Feb is a placeholder until the evening
    assert at(6, 22)["etf.flow.pending_funds"] == 1.0
    assert at(6, 23)["etf.flow.pending_funds"] == 0.0


SEEDS = st.sampled_from([ALL, BTC, page("cloudflare_just_a_moment_2024-01-08.html")])
TOKENS = st.sampled_from(
    ["<tr>", "</tr>", "<td>", "</td>", "<th>", "-", "(", ")", ",", "0.0", "(1,234.5)", "IBIT",
     "Total", "Date", "05 Feb 2026", "31 Feb 2026", "<table class=\"etf\">", "</table>", "\u00a0",
     "99999999", "nan", "&nbsp;", "<span class=\"redFont\">"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    seed=SEEDS,
    cuts=st.lists(st.tuples(st.integers(0, 30_000), st.integers(0, 400), TOKENS), max_size=4),
    fetched=st.datetimes(
        min_value=datetime(2010, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2099, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_any_mangled_page_gives_observations_or_a_fetch_error(
    seed: str, cuts: list[tuple[int, int, str]], fetched: datetime
) -> None:
    html = seed
    for at, drop, token in cuts:
        at %= len(html) + 1
        html = html[:at] + token + html[at + drop :]
    try:
        obs = farside.parse(html, fetched)
    except FetchError:
        return
    assert all(isinstance(o, Observation) for o in obs)
    assert all(o.observed_at.date() <= fetched.date() for o in obs)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_gives_observations_or_a_fetch_error(text: str) -> None:
    try:
        obs = farside.parse(text, FETCHED)
    except FetchError:
        return
    assert all(isinstance(o, Observation) for o in obs)
