"""Hashprice: the formula on hand-worked numbers, derive() over a Board, the drill-down lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.analytics import mining
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation

NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)
#: The difficulty at which the network's expected hashrate is exactly 1,000 EH/s:
#: D = hashrate x 600 s / 2^32 = 1e21 x 600 / 4,294,967,296 = 139.698 T.
D_1000_EH = 1e21 * 600 / 2**32
STALE_AFTER = {"mempool": 900.0, CONSENSUS: 60.0}


class NoHistory:
    """derive() must not need stored history for hashprice."""

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        raise AssertionError("hashprice reads no history")


def board(*obs: Observation, at: datetime = NOW) -> Board:
    return Board("live", at, stale_after=STALE_AFTER).with_updates(now=at, observations=obs)


def o(id_: str, value: float, source: str, age_s: float, unit: str = "") -> Observation:
    return Observation(id_, value, unit, source, NOW - timedelta(seconds=age_s))


def inputs(price_age_s: float = 5.0) -> tuple[Observation, ...]:
    return (
        o("mining.difficulty", D_1000_EH, "mempool", 120.0),
        o("mining.reward_144", 3.16, "mempool", 60.0, "BTC"),
        o("btc.price", 65_000.0, CONSENSUS, price_age_s, "USD"),
    )


def test_sanity_case_of_sources_md_worked_by_hand() -> None:
    # ~1,000 EH/s, 3.16 BTC a block, $65k. By hand: 1e15 x 86,400 / (D x 2^32)
    # = 8.64e19 / (1e21 x 600) = 1.44e-4 blocks per PH/s per day; x 3.16 = 4.5504e-4 BTC;
    # x 65,000 = $29.5776 per PH/s per day (SOURCES.md: "≈ $29.5", the article's "< $32").
    assert mining.blocks_per_ph_day(D_1000_EH) == pytest.approx(1.44e-4)
    assert mining.hashprice(D_1000_EH, 3.16, 65_000.0) == pytest.approx(29.5776)
    # The hashrate form: 144 x 3.16 x 65,000 / 1,000,000 PH/s = 29,577,600 / 1e6.
    assert mining.hashprice_from_hashrate(1_000.0, 3.16, 65_000.0) == pytest.approx(29.5776)
    assert mining.hashprice(D_1000_EH, 3.16, 65_000.0) < mining.RECORD_LOW


def test_hashprice_scales_with_price_and_inversely_with_difficulty() -> None:
    base = mining.hashprice(D_1000_EH, 3.16, 65_000.0)
    assert mining.hashprice(D_1000_EH, 3.16, 130_000.0) == pytest.approx(2 * base)
    assert mining.hashprice(2 * D_1000_EH, 3.16, 65_000.0) == pytest.approx(base / 2)


def test_derive_from_fresh_inputs_is_as_old_as_the_oldest() -> None:
    (hp,) = mining.derive(board(*inputs()), NoHistory(), NOW, Settings())
    assert (hp.id, hp.unit, hp.source) == ("mining.hashprice", "USD/PH/s/day", "mempool")
    assert hp.value == pytest.approx(29.5776)
    assert hp.observed_at == NOW - timedelta(seconds=120)


@pytest.mark.parametrize("drop", range(3))
def test_a_missing_input_gives_nothing(drop: int) -> None:
    obs = [x for i, x in enumerate(inputs()) if i != drop]
    assert mining.derive(board(*obs), NoHistory(), NOW, Settings()) == []


def test_a_stale_price_gives_nothing() -> None:
    assert mining.derive(board(*inputs(price_age_s=61.0)), NoHistory(), NOW, Settings()) == []


def test_staleness_is_judged_at_now_too() -> None:
    # Fresh when the Board was made, stale by the time derive() runs.
    later = NOW + timedelta(seconds=120)
    assert mining.derive(board(*inputs()), NoHistory(), later, Settings()) == []


def test_a_price_from_a_venue_is_not_the_consensus() -> None:
    venue = o("btc.price.kraken", 65_000.0, "kraken", 1.0, "USD")
    obs = [*inputs()[:2], venue]
    assert mining.derive(board(*obs), NoHistory(), NOW, Settings()) == []


def test_formula_with_todays_numbers() -> None:
    hashrate = o("mining.hashrate", 1_000.0, "mempool", 60.0, "EH/s")
    lines = mining.formula(board(*inputs(), hashrate))
    text = "\n".join(lines)
    assert lines[0] == "hashprice = blocks per PH/s per day × reward per block × BTC price"
    assert "(139.70 T × 4,294,967,296) = 0.00014400" in text
    assert "= 3.16000 BTC (subsidy + fees)" in text
    assert "BTC price = $65,000 (consensus)" in text
    assert "= $29.58 /PH/s/day (record low < $32)" in text
    assert "÷ 1,000,000 PH/s = $29.58 (from the 7-day hashrate estimate)" in lines[-1]


def test_formula_marks_missing_inputs() -> None:
    lines = mining.formula(board(*inputs()[:2]))
    assert "BTC price = ?" in lines
    assert lines[-1] == "hashprice = ? (an input is missing)"
