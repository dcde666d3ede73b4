"""ETF flow analytics on hand-built tables: sums, streak, month to date, gaps, the drill-down."""

from __future__ import annotations

from datetime import date

import pytest

from tui.core.analytics import etf

FUNDS = ("IBIT", "FBTC", "MSBT")


def day(d: date, *cells: float | None, total: float | None = None) -> etf.FlowDay:
    if total is None and any(c is not None for c in cells):
        total = round(sum(c for c in cells if c is not None), 1)
    return etf.FlowDay(d, tuple(cells), total)


def holiday(d: date) -> etf.FlowDay:
    # Farside's holiday row: "-" in every fund column, "0.0" in Total.
    return etf.FlowDay(d, (None, None, None), 0.0)


#: The article's February (DOMAIN.md): 4 Feb -544.9, 5 Feb -434.1, -690 month to date by 5 Feb.
FEB = etf.FlowTable(
    FUNDS,
    (
        day(date(2026, 1, 28), 120.0, 30.5, None),
        day(date(2026, 1, 29), -700.0, -117.9, None),
        day(date(2026, 1, 30), -400.0, -109.7, None),
        day(date(2026, 2, 2), 500.0, 61.8, None),
        day(date(2026, 2, 3), -200.0, -72.8, None),
        day(date(2026, 2, 4), -450.0, -94.9, None),
        day(date(2026, 2, 5), -380.0, -54.1, None),
    ),
)


def test_the_articles_february() -> None:
    assert etf.daily_totals(FEB)[-2:] == (
        (date(2026, 2, 4), -544.9),
        (date(2026, 2, 5), -434.1),
    )
    assert etf.month_to_date(FEB) == pytest.approx(-690.0)
    # 5 Feb, 4 Feb, 3 Feb out; 2 Feb in.
    assert etf.outflow_streak(FEB) == 3
    assert etf.sum_last(FEB) == pytest.approx(-509.7 + 561.8 - 272.8 - 544.9 - 434.1)


def test_a_holiday_is_a_gap_not_a_zero_and_not_a_break() -> None:
    table = etf.FlowTable(
        FUNDS,
        (
            day(date(2026, 1, 15), -10.0, -5.0, None),
            day(date(2026, 1, 16), -20.0, 0.0, None),
            holiday(date(2026, 1, 19)),
            day(date(2026, 1, 20), -1.0, -2.0, None),
        ),
    )
    assert not table.days[2].published
    assert table.days[2].net is None  # its Total shows 0.0: still no flow
    assert [d for d, _ in etf.daily_totals(table)] == [
        date(2026, 1, 15),
        date(2026, 1, 16),
        date(2026, 1, 20),
    ]
    assert etf.outflow_streak(table) == 3
    assert etf.sum_last(table, 3) == pytest.approx(-38.0)
    assert etf.sum_last(table, 4) is None  # three published days: no shorter sum


def test_a_flat_day_ends_a_streak() -> None:
    table = etf.FlowTable(
        FUNDS,
        (day(date(2026, 1, 5), -5.0, 0.0, None), day(date(2026, 1, 6), 0.0, 0.0, None)),
    )
    assert etf.outflow_streak(table) == 0


def test_net_is_the_published_total_else_the_reported_funds() -> None:
    assert etf.FlowDay(date(2026, 1, 5), (1.0, 2.0, None), 3.1).net == 3.1
    assert etf.FlowDay(date(2026, 1, 5), (1.0, -2.5, None), None).net == -1.5


def test_month_to_date_restarts_with_the_month() -> None:
    table = etf.FlowTable(FUNDS, FEB.days[:4])
    assert etf.month_to_date(table) == pytest.approx(561.8)  # 2 Feb alone


def test_nothing_published_gives_nothing() -> None:
    table = etf.FlowTable(FUNDS, (holiday(date(2026, 1, 19)),))
    assert table.newest is None
    assert etf.daily_totals(table) == ()
    assert etf.month_to_date(table) is None
    assert etf.outflow_streak(table) is None
    assert etf.sum_last(table) is None


def test_provisional_while_a_fund_that_reported_yesterday_has_not_today() -> None:
    # MSBT has no figure on either day (not trading yet): it is not waited for.
    table = etf.FlowTable(
        FUNDS,
        (day(date(2026, 2, 5), -380.0, -54.1, None), day(date(2026, 2, 6), None, -18.4, None)),
    )
    assert table.pending_funds == ("IBIT",)
    assert table.provisional
    done = etf.FlowTable(FUNDS, (*table.days[:1], day(date(2026, 2, 6), 13.6, -18.4, None)))
    assert done.pending_funds == ()
    assert not done.provisional


def test_a_placeholder_row_does_not_hide_the_newest_published_day() -> None:
    table = etf.FlowTable(FUNDS, (*FEB.days, holiday(date(2026, 2, 6))))
    newest = table.newest
    assert newest is not None
    assert newest.day == date(2026, 2, 5)
    assert etf.month_to_date(table) == pytest.approx(-690.0)


def test_fund_series_leaves_missing_days_out() -> None:
    table = etf.FlowTable(
        FUNDS,
        (day(date(2026, 2, 5), -380.0, -54.1, None), day(date(2026, 2, 6), None, -18.4, None)),
    )
    assert table.fund("IBIT") == ((date(2026, 2, 5), -380.0),)
    assert table.fund("MSBT") == ()


def test_table_view_last_trading_days_with_gaps_and_the_provisional_day() -> None:
    days = [day(date(2025, 12, 1 + i), float(i), -1.0, None) for i in range(31)]
    days[29] = holiday(days[29].day)
    days.append(day(date(2026, 1, 2), None, -3.0, None))
    table = etf.FlowTable(FUNDS, tuple(days))
    view = etf.table_view(table, days=30)
    assert len(view.rows) == 30
    assert view.rows[0].day == date(2025, 12, 3)
    assert view.funds == ("IBIT", "FBTC")  # MSBT has no figure in the window
    gap = view.rows[-3]
    assert (gap.note, gap.net, gap.cells) == ("no data", None, (None, None))
    assert view.rows[-1].note == "provisional"
    assert view.rows[-1].cells == (None, -3.0)
    assert view.bars[-3] == (gap.day, None)
    assert [n for _, n in view.bars][-2] == pytest.approx(29.0)


def test_recent_by_day_keeps_one_value_per_day() -> None:
    points = [(date(2026, 2, 5), -198.4), (date(2026, 2, 4), -544.9), (date(2026, 2, 5), -434.1)]
    assert etf.recent_by_day(points, 10) == ((date(2026, 2, 4), -544.9), (date(2026, 2, 5), -434.1))
    assert etf.recent_by_day(points, 1) == ((date(2026, 2, 5), -434.1),)
